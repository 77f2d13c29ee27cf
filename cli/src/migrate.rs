//! `atum migrate [up|down|status]` and `atum seed`.

use std::process::ExitCode;

use anyhow::Context as _;
use atum_core::schema;
use atum_runtime::config::{DatabaseConfig, Env};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum Action {
    /// Apply pending migrations (the default).
    Up {
        /// Stop after version N instead of applying everything.
        #[arg(long = "to", value_name = "N")]
        to: Option<u32>,
    },
    /// Roll back to version N (0 removes the whole schema), newest first.
    Down {
        #[arg(long = "to", value_name = "N")]
        to: u32,
    },
    /// List migrations and whether each is applied.
    Status,
}

impl Default for Action {
    fn default() -> Self {
        Action::Up { to: None }
    }
}

pub async fn connect() -> anyhow::Result<tokio_postgres::Client> {
    let cfg = DatabaseConfig::from_env(&Env::process())?;
    Ok(atum_runtime::db::connect(&cfg.pg).await?)
}

/// A pooled connection (what the domain functions take), after checking that the
/// database is reachable and at this build's schema version.
pub async fn pooled() -> anyhow::Result<atum_runtime::db::Connection> {
    let pool = pool().await?;
    Ok(atum_runtime::db::connection(&pool).await?)
}

/// A one-connection pool on ATUM_DATABASE_URL, once the schema is known to be current.
pub async fn pool() -> anyhow::Result<atum_runtime::db::DbPool> {
    let client = connect().await?;
    schema::ensure_current(&client).await?;
    drop(client);
    let mut cfg = DatabaseConfig::from_env(&Env::process())?;
    cfg.pool_size = 1;
    Ok(atum_runtime::db::pool(&cfg)?)
}

pub async fn run(action: Action) -> anyhow::Result<ExitCode> {
    let mut client = connect().await?;
    match action {
        Action::Up { to } => report_up(schema::migrate_up(&mut client, to).await?, &client).await?,
        Action::Down { to } => {
            for m in schema::migrate_down(&mut client, to).await? {
                println!("rolled back V{}__{}", m.version, m.name);
            }
            println!("schema is at version {to}");
        }
        Action::Status => {
            let current = schema::current_version(&client).await?;
            println!("schema version {current}, this build expects {}", schema::expected_version());
            for m in schema::status(&client).await? {
                let state = m.applied_on.map(|on| format!("applied {on}")).unwrap_or_else(|| "pending".into());
                println!("  V{:<4} {:<40} {state}", m.version, m.name);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn report_up(applied: Vec<schema::MigrationStatus>, client: &tokio_postgres::Client) -> anyhow::Result<()> {
    for m in &applied {
        println!("applied V{}__{}", m.version, m.name);
    }
    let current = schema::current_version(client).await?;
    if applied.is_empty() {
        println!("schema is up to date (version {current})");
    } else {
        println!("schema is at version {current}");
    }
    Ok(())
}

pub async fn seed() -> anyhow::Result<ExitCode> {
    let mut conn = pooled().await?;
    match atum_core::demo::seed(&mut conn).await.context("seeding")? {
        Some(logins) => {
            for l in logins.iter().filter(|l| l.role != "customer") {
                println!("{:<8} {:<28} {}", l.role, l.email, l.password);
            }
        }
        None => println!("the demo organisation already exists; nothing to do"),
    }
    Ok(ExitCode::SUCCESS)
}
