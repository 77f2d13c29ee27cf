//! `atum jobs list|show|retry|cancel`: the operator's instance-wide view of the queue.

use std::process::ExitCode;

use atum_queue::admin::{self, JobRecord};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum Action {
    /// Newest jobs first.
    List {
        #[arg(long)]
        state: Option<String>,
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        queue: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// One job with its errors and events.
    Show { id: i64 },
    /// Run a discarded or cancelled job again.
    Retry { id: i64 },
    /// Cancel a pending job, or ask a running one to stop.
    Cancel { id: i64 },
}

fn line(j: &JobRecord) -> String {
    format!(
        "{:>8}  {:<10} {:<20} {:<10} attempt {}/{}  run_at {}",
        j.id,
        j.state,
        j.kind,
        j.queue,
        j.attempt,
        j.max_attempts,
        j.run_at.format("%Y-%m-%d %H:%M:%S")
    )
}

pub async fn run(action: Action) -> anyhow::Result<ExitCode> {
    let conn = crate::migrate::pooled().await?;
    match action {
        Action::List { state, kind, queue, limit } => {
            let jobs =
                admin::list(&conn, None, state.as_deref(), kind.as_deref(), queue.as_deref(), None, limit).await?;
            for j in &jobs {
                println!("{}", line(j));
            }
            if jobs.is_empty() {
                println!("no jobs");
            }
        }
        Action::Show { id } => {
            let (job, events) = admin::get(&conn, None, id).await?;
            println!("{}", line(&job));
            println!("payload {}", job.payload);
            for e in job.errors.as_array().into_iter().flatten() {
                println!("error   attempt {}: {}", e["attempt"], e["error"].as_str().unwrap_or(""));
            }
            for e in events {
                println!(
                    "event   {} {:<16} attempt {:<3} {}{}",
                    e.created_at.format("%H:%M:%S%.3f"),
                    e.event,
                    e.attempt.map(|a| a.to_string()).unwrap_or_default(),
                    e.worker_id.map(|w| format!("worker {w} ")).unwrap_or_default(),
                    e.duration_ms.map(|d| format!("{d} ms")).unwrap_or_default()
                );
            }
        }
        Action::Retry { id } => println!("{}", line(&admin::retry(&conn, None, id).await?)),
        Action::Cancel { id } => {
            let job = admin::cancel(&conn, None, id).await?;
            if job.state == "running" {
                println!("cancellation requested; the worker stops it at its next heartbeat");
            }
            println!("{}", line(&job));
        }
    }
    Ok(ExitCode::SUCCESS)
}
