//! atum-api: the JSON API under `/api/v1`, plus `/metrics`.
//!
//! The HTTP server runs inside the service runtime: it stops accepting on SIGTERM and
//! gives in-flight requests the shutdown deadline to finish. A probe task checks the
//! database every tick; that is the progress the systemd watchdog watches. Handlers
//! are thin: each opens one transaction, authenticates inside it, calls `atum-core`
//! and commits.
//!
//! Layout: `routes/` holds the handlers, one file per resource (named as in
//! `atum-core`); `http/` the request plumbing every route shares (the JSON body, the
//! client's address, the CSRF origin, rate limits, request ids and metrics, the error
//! mapping); `state.rs` what handlers reach; `server.rs` the route table and the
//! server; `background.rs` the API's periodic tasks.

mod background;
pub mod feed;
mod http;
pub mod openapi;
mod routes;
mod server;
mod state;
pub mod unlocks;
pub mod web_ui;

use std::sync::Arc;

use atum_core::auth::session::SessionPolicy;
use atum_runtime::{
    BoxError, Context,
    config::{ConfigError, Env},
};

pub use http::{client_ip, error, json, rate_limit};
pub(crate) use http::{origin, request_id};
pub(crate) use routes::{auth, jobs, security};
pub(crate) use server::route_template;
pub use server::{routes, start};
pub use state::{AppState, MAX_JSON_BYTES, Security};

/// The API's own settings, read once at start with the shared ones.
pub struct Settings {
    pub security: Security,
    pub sessions: SessionPolicy,
    pub retention: atum_core::auth::housekeeping::Retention,
    /// The browser UI to serve (`ATUM_WEB_DIR`), if any.
    pub web: Option<web_ui::WebUi>,
    /// The sentence-embedding model for queries (`ATUM_EMBED_MODEL_DIR`), if any.
    pub model_dir: Option<std::path::PathBuf>,
    /// Where attachments are kept (`ATUM_ATTACHMENTS_URL`).
    pub files: atum_core::storage::Store,
}

impl Settings {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        Ok(Settings {
            security: Security::from_env(env)?,
            sessions: SessionPolicy::from_env(env)?,
            retention: atum_core::auth::housekeeping::Retention::from_env(env)?,
            web: web_ui::WebUi::from_env(env)?,
            model_dir: atum_runtime::config::embed_model_dir(env)?,
            files: atum_core::storage::Store::from_env(env)?,
        })
    }
}

pub async fn run(ctx: Context, settings: Settings) -> Result<(), BoxError> {
    let Settings { security, sessions, retention, web, model_dir, files } = settings;
    tracing::info!(store = %files.root().display(), "attachments");
    if security.key.is_none() {
        tracing::warn!("ATUM_SECRET_KEY_FILE is not set: two-factor enrolment is unavailable");
    }
    let feed =
        feed::Feed::start(ctx.pool.clone(), ctx.config.database.pg.clone(), ctx.metrics.clone(), ctx.shutdown.clone());
    if let Some(ui) = &web {
        tracing::info!(dir = %ui.dir().display(), "serving the web UI");
    }
    let retrieval = atum_ai::vectors::Retrieval::start(
        model_dir,
        ctx.config.database.pg.clone(),
        ctx.metrics.clone(),
        ctx.shutdown.clone(),
    )
    .await;
    if let Some(reason) = &retrieval.degraded {
        tracing::warn!(reason = %reason, "search without embeddings");
    }
    let state = AppState {
        pool: ctx.pool.clone(),
        sessions,
        security: Arc::new(security),
        feed,
        web: web.map(Arc::new),
        retrieval,
        files,
    };
    unlocks::start(
        ctx.pool.clone(),
        ctx.config.database.pg.clone(),
        ctx.metrics.clone(),
        state.security.clone(),
        ctx.shutdown.clone(),
    );
    let (server, addr) = start(state, ctx.metrics.clone(), ctx.config.listen, ctx.config.shutdown_timeout)?;
    tracing::info!(listen = %addr, "serving the API");
    // Bound: connections are accepted (and queued until the server runs) from now on.
    ctx.ready();
    let handle = server.handle();
    ctx.tasks.spawn(background::probe(ctx.clone()));
    ctx.tasks.spawn(background::housekeeping(ctx.clone(), retention));
    tokio::spawn({
        let shutdown = ctx.shutdown.clone();
        async move {
            shutdown.cancelled().await;
            // Graceful: stop accepting, let in-flight requests finish.
            handle.stop(true).await;
        }
    });
    server.await?;
    Ok(())
}
