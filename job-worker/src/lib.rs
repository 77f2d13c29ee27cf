//! atum-job-worker: runs queued jobs (`atum_core::jobs`) on the service runtime.
//!
//! Its main loop is the queue's claim loop: the watchdog is fed by successful claims,
//! so a worker that can no longer reach its database stops pinging systemd. On
//! SIGTERM it stops claiming, lets running jobs finish until shortly before the
//! shutdown deadline and releases the rest back to the queue.
//!
//! Registered kinds: the built-in diagnostics (`NOOP`, `SLEEP`), and the SLA's
//! `SLA_RECOMPUTE` (after a policy or calendar change), `SLA_NOTIFY` (escalation
//! notifications) and `SLA_PREDICT` (breach prediction), and `SEND_EMAIL` (account
//! mail, `atum_core::mail`). The AI jobs register here as they arrive.

pub mod builtin;

use std::time::Duration;

use atum_core::{
    config::{ConfigError, Env},
    jobs::{
        self, Registry, Services,
        worker::{Runner, WorkerConfig},
    },
    mail::{MailConfig, Mailer},
    runtime::{BoxError, Context, listener},
};

pub fn registry() -> Registry {
    Registry::default()
        .register::<builtin::Noop>()
        .register::<builtin::Sleep>()
        .register::<atum_core::sla::Recompute>()
        .register::<atum_core::sla::refresh::NotifyEscalation>()
        .register::<atum_core::sla::prediction_job::Predict>()
        .register::<atum_core::mail::SendEmail>()
}

/// The job worker's own settings, read once at start with the shared ones.
pub struct Settings {
    pub worker: WorkerConfig,
    pub mail: MailConfig,
}

impl Settings {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        Ok(Settings { worker: WorkerConfig::from_env(env)?, mail: MailConfig::from_env(env)? })
    }
}

/// The services this worker's jobs use, built once.
pub fn services(mail: &MailConfig) -> Result<Services, BoxError> {
    tracing::info!(mail = ?mail, "mail delivery");
    Ok(Services::builder().mail(Mailer::new(mail)?).build())
}

pub async fn run(ctx: Context, settings: Settings) -> Result<(), BoxError> {
    let Settings { worker: mut config, mail } = settings;
    let registry = registry().with_services(services(&mail)?);
    registry.check()?;
    // Claims double as the watchdog's proof of progress, so poll at least that often.
    config.poll_interval = config.poll_interval.min(ctx.tick_interval());
    tracing::info!(worker = %config.worker_id, queues = ?config.queues, kinds = ?registry.kinds(), "running jobs");
    let wakeups =
        listener::spawn(ctx.config.database.pg.clone(), vec![jobs::CHANNEL], ctx.metrics.clone(), ctx.shutdown.clone());
    let runner = Runner::new(ctx.pool.clone(), registry, config, &ctx.metrics);
    ctx.ready();
    // Leave a second of the shutdown budget for releasing what did not finish.
    let deadline = ctx.config.shutdown_timeout.saturating_sub(Duration::from_secs(1));
    runner.run(wakeups, ctx.shutdown.clone(), ctx.progress.clone(), deadline).await;
    Ok(())
}
