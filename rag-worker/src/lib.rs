//! atum-rag-worker chunks and embeds knowledge-base articles and resolved tickets for retrieval. Retrieval arrives with its own issue; until then the worker
//! is a full service: it listens on its channel, proves every tick that it reaches
//! the database (the systemd watchdog depends on it), serves `/metrics` and
//! `/health`, and shuts down gracefully.

use atum_core::runtime::{BoxError, Context, idle};

pub async fn run(ctx: Context) -> Result<(), BoxError> {
    idle::run(ctx).await
}
