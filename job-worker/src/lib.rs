//! atum-job-worker runs queued background jobs (AI triage, smart replies, SLA prediction, email). The queue engine arrives with its own issue; until then the worker
//! is a full service: it listens on its channel, proves every tick that it reaches
//! the database (the systemd watchdog depends on it), serves `/metrics` and
//! `/health`, and shuts down gracefully.

use atum_core::runtime::{BoxError, Context, idle};

pub async fn run(ctx: Context) -> Result<(), BoxError> {
    idle::run(ctx).await
}
