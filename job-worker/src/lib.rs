//! atum-job-worker: runs queued jobs (`atum_core::jobs`) on the service runtime.
//!
//! Its main loop is the queue's claim loop: the watchdog is fed by successful claims,
//! so a worker that can no longer reach its database stops pinging systemd. On
//! SIGTERM it stops claiming, lets running jobs finish until shortly before the
//! shutdown deadline and releases the rest back to the queue.
//!
//! Registered kinds: the built-in diagnostics (`NOOP`, `SLEEP`), and the SLA's
//! `SLA_RECOMPUTE` (after a policy or calendar change), `SLA_NOTIFY` (escalation
//! notifications) and `SLA_PREDICT` (breach prediction), `SEND_EMAIL` (account
//! mail, `atum_core::mail`), and — when the embedding model is there
//! (`ATUM_EMBED_MODEL_DIR`) — the AI's `TRAIN_TRIAGE`, `TRIAGE_TICKET`, `KB_SUGGEST`
//! and `SMART_REPLY` (`atum_core::assist`) on the `ai` queue. Without the model those
//! jobs wait in the queue for a worker that has it. `WORD_REPLY` (a draft worded by an
//! organisation's language model) needs no model here and runs on the `llm` queue.

pub mod builtin;

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use atum_ai::LocalModels;
use atum_core::{
    assist::{reply, suggest, training, triage},
    attachments::sweep::Sweep,
    jobs::{Need, Registry, Services},
    mailer::{MailConfig, Mailer},
    models::Models as _,
    secret_key::SecretKey,
    storage::Store,
};
use atum_queue::worker::{Runner, WorkerConfig};
use atum_runtime::{
    BoxError, Context,
    config::{ConfigError, Env},
    listener,
};

pub fn registry() -> Registry {
    Registry::default()
        .register::<builtin::Noop>()
        .register::<builtin::Sleep>()
        .register::<atum_core::sla::Recompute>()
        .register::<atum_core::sla::refresh::NotifyEscalation>()
        .register::<atum_core::sla::prediction_job::Predict>()
        .register::<atum_core::mail::SendEmail>()
        .register::<atum_core::assist::reword::WordReply>()
        .register::<atum_core::attachments::sweep::Sweep>()
}

/// The kinds that need the AI models, added to a registry whose services have them.
pub fn with_ai(registry: Registry) -> Registry {
    registry
        .register::<training::TrainTriage>()
        .register::<triage::TriageTicket>()
        .register::<suggest::KbSuggest>()
        .register::<reply::SmartReply>()
}

/// The job worker's own settings, read once at start with the shared ones.
pub struct Settings {
    pub worker: WorkerConfig,
    pub mail: MailConfig,
    /// The sentence-embedding model's directory (`ATUM_EMBED_MODEL_DIR`); without it
    /// this worker runs no AI jobs.
    pub model_dir: Option<PathBuf>,
    /// Opens a language model's stored API key (`ATUM_SECRET_KEY_FILE`).
    pub secret_key: Option<SecretKey>,
    /// Where attachments are kept (`ATUM_ATTACHMENTS_URL`): the sweep removes what
    /// nothing refers to.
    pub files: Store,
}

impl Settings {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        Ok(Settings {
            worker: WorkerConfig::from_env(env)?,
            mail: MailConfig::from_env(env)?,
            model_dir: atum_runtime::config::embed_model_dir(env)?,
            secret_key: SecretKey::from_env(env)?,
            files: Store::from_env(env)?,
        })
    }
}

/// The services this worker's jobs use, built once.
pub fn services(
    ctx: &Context,
    mail: &MailConfig,
    model_dir: Option<&Path>,
    secret_key: Option<SecretKey>,
    files: Store,
) -> Result<Services, BoxError> {
    tracing::info!(mail = ?mail, "mail delivery");
    tracing::info!(store = %files.root().display(), "attachments");
    let mut services = Services::builder().mail(Mailer::new(mail)?).secret_key(secret_key).attachments(files);
    match model_dir {
        Some(dir) => {
            let models = LocalModels::load(dir)
                .map_err(|e| format!("ATUM_EMBED_MODEL_DIR={}: {e}", dir.display()))?
                .listening(ctx.config.database.pg.clone(), ctx.metrics.clone(), ctx.shutdown.clone());
            tracing::info!(embedder = models.embedder(), "AI jobs run here");
            services = services.models(Arc::new(models));
        }
        None => tracing::warn!(
            "ATUM_EMBED_MODEL_DIR is not set: this worker runs no AI jobs (triage waits in the queue); `atum models fetch`, then set it"
        ),
    }
    Ok(services.build())
}

/// How often the attachment sweep is queued.
const SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// Queues the periodic jobs: the attachment sweep, at start and then every hour. Its
/// unique key keeps one queued at a time, however many workers ask.
async fn housekeeping(pool: deadpool_postgres::Pool, shutdown: tokio_util::sync::CancellationToken) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let queued = async {
            let conn = pool.get().await.map_err(|e| e.to_string())?;
            atum_queue::enqueue(&conn, &Sweep::default(), Default::default()).await.map_err(|e| e.to_string())
        };
        if let Err(e) = queued.await {
            tracing::warn!(error = %e, "could not queue the attachment sweep; trying again at the next tick");
        }
    }
}

pub async fn run(ctx: Context, settings: Settings) -> Result<(), BoxError> {
    let Settings { worker: mut config, mail, model_dir, secret_key, files } = settings;
    let services = services(&ctx, &mail, model_dir.as_deref(), secret_key, files)?;
    let registry =
        if atum_queue::Services::provides(&services, Need::Models) { with_ai(registry()) } else { registry() };
    let registry = registry.with_services(services);
    registry.check()?;
    // Claims double as the watchdog's proof of progress, so poll at least that often.
    config.poll_interval = config.poll_interval.min(ctx.tick_interval());
    tracing::info!(worker = %config.worker_id, queues = ?config.queues, kinds = ?registry.kinds(), "running jobs");
    let wakeups = listener::spawn(
        ctx.config.database.pg.clone(),
        vec![atum_queue::CHANNEL],
        ctx.metrics.clone(),
        ctx.shutdown.clone(),
    );
    let runner = Runner::new(ctx.pool.clone(), registry, config, &ctx.metrics);
    tokio::spawn(housekeeping(ctx.pool.clone(), ctx.shutdown.clone()));
    ctx.ready();
    // Leave a second of the shutdown budget for releasing what did not finish.
    let deadline = ctx.config.shutdown_timeout.saturating_sub(Duration::from_secs(1));
    runner.run(wakeups, ctx.shutdown.clone(), ctx.progress.clone(), deadline).await;
    Ok(())
}
