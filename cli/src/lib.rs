//! `atum`, the operator's command line.
//!
//! Every failure ends in one line on stderr (`atum: …`) and a non-zero exit; clap's
//! own usage errors exit with 2.

mod admin;
mod ai;
mod db;
mod health;
mod jobs;
mod kb;
mod migrate;
pub mod models;
mod tickets;
mod up;
pub mod web_build;

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "atum", version, about = "ATUM Desk operator tool")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole suite on this machine: a private PostgreSQL (unless
    /// ATUM_DATABASE_URL is set), migrations, demo data and all five binaries.
    Up(up::UpArgs),
    /// Apply, roll back or list schema migrations (database from ATUM_DATABASE_URL).
    Migrate {
        #[command(subcommand)]
        action: Option<migrate::Action>,
    },
    /// Manage organisations (tenants).
    Org {
        #[command(subcommand)]
        action: admin::OrgAction,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        action: admin::UserAction,
    },
    /// Look at and steer background jobs (instance-wide).
    Jobs {
        #[command(subcommand)]
        action: jobs::Action,
    },
    /// The knowledge base's retrieval index.
    Kb {
        #[command(subcommand)]
        action: kb::Action,
    },
    /// Tickets: load an organisation's history from another help desk.
    Tickets {
        #[command(subcommand)]
        action: tickets::Action,
    },
    /// The AI models trained on an organisation's data, measured on yours.
    Ai {
        #[command(subcommand)]
        action: ai::Action,
    },
    /// The models that run on this machine's CPU.
    Models {
        #[command(subcommand)]
        action: models::Action,
    },
    /// Check that every binary answers on its listener; optionally restart the ones
    /// that do not (the self-healing timer runs `atum health --restart-failed`).
    Health(health::HealthArgs),
    /// Seed the demo organisation into ATUM_DATABASE_URL (once; later runs do nothing).
    Seed,
    /// Manage the private PostgreSQL cluster that `atum up` and the tests start.
    Db {
        #[command(subcommand)]
        action: db::Action,
        /// The cluster's directory.
        #[arg(long, global = true, default_value = "var/pg")]
        root: PathBuf,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // One thread: `atum up` relies on its children's parent-death signal, which Linux
    // ties to the thread that spawned them.
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(&anyhow::anyhow!("cannot start the async runtime: {e}")),
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Up(args) => up::run(args).await,
            Command::Migrate { action } => migrate::run(action.unwrap_or_default()).await,
            Command::Seed => migrate::seed().await,
            Command::Jobs { action } => jobs::run(action).await,
            Command::Kb { action } => kb::run(action).await,
            Command::Models { action } => models::run(action),
            Command::Ai { action } => ai::run(action),
            Command::Tickets { action } => tickets::run(action).await,
            Command::Org { action } => admin::org(action).await,
            Command::User { action } => admin::user(action).await,
            Command::Db { action, root } => db::run(action, &root),
            Command::Health(args) => health::run(args),
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => fail(&e),
    }
}

fn fail(e: &anyhow::Error) -> ExitCode {
    // `{:#}` joins the context chain on one line.
    eprintln!("atum: {e:#}");
    // A bad setting exits like the services do (78, EX_CONFIG), so scripts can tell a
    // typo in the environment from a failure.
    if e.chain().any(|c| c.downcast_ref::<atum_runtime::config::ConfigError>().is_some()) {
        ExitCode::from(atum_runtime::EXIT_CONFIG)
    } else {
        ExitCode::FAILURE
    }
}
