//! `atum kb reindex [--org SLUG]`: looks at every article and ticket again and brings
//! the retrieval index in step (unchanged passages are skipped). Interrupted, it
//! resumes where it stopped: each batch moves the index's mark.

use std::process::ExitCode;

use atum_core::{orgs, retrieval::index};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Subcommand)]
pub enum Action {
    /// Re-read every article and ticket (of one organisation) into the retrieval index.
    Reindex {
        /// Only this organisation (its slug).
        #[arg(long)]
        org: Option<String>,
    },
}

pub async fn run(action: Action) -> anyhow::Result<ExitCode> {
    let Action::Reindex { org } = action;
    let pool = crate::migrate::pool().await?;
    let conn = atum_runtime::db::connection(&pool).await?;
    let org = match org {
        Some(slug) => Some(orgs::find_by_slug(&conn, &slug).await?.id),
        None => None,
    };
    index::reset(&conn, org).await?;
    let total = index::sources(&conn, org).await?;
    drop(conn);
    let bar = ProgressBar::new(total);
    bar.set_style(ProgressStyle::with_template(
        "{bar:40} {pos}/{len} sources  {msg}  [{elapsed_precise}, {eta} left]",
    )?);
    let stats = index::catch_up(&pool, org, |s| {
        bar.set_position(s.sources);
        bar.set_message(format!("{} passages written, {} removed", s.written, s.removed));
    })
    .await?;
    bar.finish();
    println!("indexed {} sources: {} passages written, {} removed", stats.sources, stats.written, stats.removed);
    Ok(ExitCode::SUCCESS)
}
