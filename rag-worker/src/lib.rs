//! atum-rag-worker chunks and embeds knowledge-base articles and resolved tickets for retrieval. Retrieval arrives with its own issue; until then the worker
//! is a full service: it listens on its channel, proves every tick that it reaches
//! the database (the systemd watchdog depends on it), serves `/metrics` and
//! `/health`, and shuts down gracefully.

use atum_core::{
    config::{ConfigError, Env},
    runtime::{BoxError, Context, idle},
};

/// The retrieval worker's own settings (none yet; the model's arrive with retrieval).
pub struct Settings;

impl Settings {
    pub fn from_env(_env: &Env<'_>) -> Result<Self, ConfigError> {
        Ok(Settings)
    }
}

pub async fn run(ctx: Context, _settings: Settings) -> Result<(), BoxError> {
    idle::run(ctx).await
}
