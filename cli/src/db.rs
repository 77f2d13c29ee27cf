//! `atum db status|stop`: the private cluster outside of `atum up` (for example after
//! a crash, or the test cluster CI stops at the end of a run).

use std::{path::Path, process::ExitCode};

use atum_core::pg_cluster::{Cluster, Durability};
use clap::Subcommand;

#[derive(Subcommand, Clone, Copy)]
pub enum Action {
    /// Say whether the cluster runs, and on which port.
    Status,
    /// Stop the cluster if it runs.
    Stop,
}

pub fn run(action: Action, root: &Path) -> anyhow::Result<ExitCode> {
    if !root.join("data").join("PG_VERSION").exists() {
        anyhow::bail!("no PostgreSQL cluster in {}", root.display());
    }
    let cluster = Cluster::open_or_init(root, Durability::Durable)?;
    match action {
        Action::Status => match cluster.running_port() {
            Some(port) => println!("running on 127.0.0.1:{port} ({})", cluster.root().display()),
            None => println!("stopped ({})", cluster.root().display()),
        },
        Action::Stop => {
            if cluster.stop()? {
                println!("stopped {}", cluster.root().display());
            } else {
                println!("not running ({})", cluster.root().display());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
