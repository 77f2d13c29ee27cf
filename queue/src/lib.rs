//! atum-queue: the PostgreSQL job queue — typed jobs, transactional enqueue, leases,
//! retries — knowing nothing of tickets, mail or AI.
//!
//! Delivery is at-least-once: a handler may run again after a crash, so handlers are
//! idempotent. What the engine promises:
//! - a job enqueued in a transaction exists exactly when that transaction commits;
//! - one job is never run by two workers at the same time while their leases hold, and
//!   a worker that lost its lease cannot overwrite the newer attempt's result (every
//!   completion is fenced by worker id and attempt);
//! - a job whose worker died is back in the queue one lease interval later (rescuer);
//! - failures retry with exponential backoff and jitter up to `max_attempts`, then the
//!   job is discarded with its whole error history kept.
//!
//! A job declares the services its handler needs ([`Job::NEEDS`]); the binary that runs
//! it builds them once and hands them to the [`Registry`] (as crates.io's worker hands
//! its jobs a context). The tables (`job_queue`, `job_events`) are created by the
//! suite's migrations in `sql/`.

pub mod admin;
mod backoff;
pub mod enqueue;
mod error;
mod job;
pub mod store;
pub mod worker;

pub use backoff::backoff;
pub use enqueue::{Batch, Options, enqueue, enqueue_many};
pub use error::{Error, Result};
pub use job::{Job, JobContext, JobError, MissingService, Registry, Services};
pub use worker::{Runner, WorkerConfig};

/// The NOTIFY channel that wakes job workers; the payload is the queue name.
pub const CHANNEL: &str = "atum_jobs";

/// What a wake-up on [`CHANNEL`] names: one queue's workers, or every queue's (a
/// payload no worker knows as a queue rings them all).
#[derive(Debug, Clone, Copy)]
pub enum Wake<'a> {
    Queue(&'a str),
    All,
}

/// Wakes the job workers, in the caller's transaction (delivered at commit).
pub async fn wake(db: &impl deadpool_postgres::GenericClient, wake: Wake<'_>) -> Result<()> {
    let payload = match wake {
        Wake::Queue(q) => q,
        Wake::All => "*",
    };
    db.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &payload]).await?;
    Ok(())
}

/// What an admin sees in place of a payload's `text` when the payload is marked
/// `"sensitive": true` (a mail carrying a one-time sign-in link, say); the job that
/// owns the payload writes it there too once the secret has served.
pub const REDACTED: &str = "(removed: this message carried a one-time link)";
