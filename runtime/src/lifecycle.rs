//! The lifecycle of a binary.
//!
//! [`launch`] is the whole of a binary's `main`: it loads the typed configuration,
//! starts tracing, connects the pool, refuses a schema of another version, serves
//! `/metrics`, tells systemd it is ready, runs the binary's main loop, and on SIGTERM or
//! SIGINT stops taking work, gives in-flight work `ATUM_SHUTDOWN_TIMEOUT_SECS` to
//! finish, tells systemd it is stopping and closes the pool.

use std::{future::Future, pin::Pin, process::ExitCode, time::Duration};

use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{
    config::{ConfigError, Env, Service, ServiceConfig},
    metrics::{self, Metrics},
    signals,
    systemd::{self, Progress},
};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How a binary makes sure, before it takes any work, that the database holds the
/// schema it was built for; returns the version found. The schema belongs to the
/// domain (`atum_core::schema::check`), so the runtime is handed the check.
pub type SchemaCheck =
    for<'a> fn(&'a tokio_postgres::Client) -> Pin<Box<dyn Future<Output = Result<u32, BoxError>> + Send + 'a>>;

/// Exit status for a configuration error (sysexits' EX_CONFIG), so a unit can be told
/// not to restart in a loop on it (`RestartPreventExitStatus=78`).
pub const EXIT_CONFIG: u8 = 78;

/// What a binary's `run` receives.
#[derive(Clone)]
pub struct Context {
    pub config: ServiceConfig,
    pub pool: deadpool_postgres::Pool,
    pub metrics: Metrics,
    /// Cancelled when shutdown starts: stop taking new work.
    pub shutdown: CancellationToken,
    /// Tick after each iteration of the main loop that did real work (or reached the
    /// database); the watchdog pings only while it is fresh.
    pub progress: Progress,
    /// Spawn in-flight work here; shutdown waits for it up to the deadline.
    pub tasks: TaskTracker,
    /// The watchdog interval under systemd, if any.
    pub watchdog: Option<Duration>,
}

impl Context {
    /// Tells systemd the service is ready (READY=1). Every binary's `run` calls it once
    /// it can do its work; the lifecycle test of each binary waits for it.
    pub fn ready(&self) {
        systemd::ready();
    }

    /// How often the main loop should prove it is alive: the configured tick, but at
    /// least three times per watchdog interval.
    pub fn tick_interval(&self) -> Duration {
        match self.watchdog {
            Some(limit) => self.config.tick_interval.min(limit / 3),
            None => self.config.tick_interval,
        }
    }

    /// How long without progress counts as stalled, for health checks.
    pub fn stall_limit(&self) -> Duration {
        self.watchdog.unwrap_or(self.tick_interval() * 3).max(self.tick_interval() * 2)
    }
}

/// Runs a binary: the entire body of its `main`. Every setting — the shared ones and
/// the binary's own (`settings`) — is read here, once, before anything starts; a
/// missing or malformed one ends the process with status 78 and one line naming the
/// variable (the units' `RestartPreventExitStatus=78` keeps systemd from retrying a
/// typo).
pub fn launch<S, L, F, Fut>(service: Service, schema: SchemaCheck, settings: L, run: F) -> ExitCode
where
    L: FnOnce(&Env<'_>) -> Result<S, ConfigError>,
    F: FnOnce(Context, S) -> Fut,
    Fut: Future<Output = Result<(), BoxError>>,
{
    let env = Env::process();
    let loaded = ServiceConfig::from_env(service, &env).and_then(|config| Ok((config, settings(&env)?)));
    let (config, settings) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("{}: {e}", service.binary());
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let run = move |ctx| run(ctx, settings);
    crate::telemetry::init(&config.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(config, schema, run)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "{} stopped", service.binary());
            ExitCode::FAILURE
        }
    }
}

/// The lifecycle behind [`launch`], for callers that already have a runtime.
pub async fn serve<F, Fut>(config: ServiceConfig, schema: SchemaCheck, run: F) -> Result<(), BoxError>
where
    F: FnOnce(Context) -> Fut,
    Fut: Future<Output = Result<(), BoxError>>,
{
    let service = config.service;
    let shutdown = CancellationToken::new();
    signals::cancel_on_signals(shutdown.clone())?;

    let pool = crate::db::pool(&config.database)?;
    {
        let conn = crate::db::connection(&pool).await?;
        let version = schema(&conn).await?;
        tracing::info!(schema.version = version, database = %crate::config::describe(&config.database.pg), "database ready");
    }

    let ctx = Context {
        metrics: Metrics::new(service),
        pool: pool.clone(),
        shutdown: shutdown.clone(),
        progress: Progress::default(),
        tasks: TaskTracker::new(),
        watchdog: systemd::watchdog_limit(),
        config,
    };
    ctx.progress.tick();

    let metrics_server = if service == Service::Api {
        None
    } else {
        let (handle, addr) =
            metrics::serve(ctx.config.listen, ctx.metrics.clone(), ctx.progress.clone(), ctx.stall_limit())?;
        tracing::info!(listen = %addr, "serving /metrics and /health");
        Some(handle)
    };

    let watchdog_stop = CancellationToken::new();
    if let Some(limit) = ctx.watchdog {
        tokio::spawn(systemd::run_watchdog(limit, ctx.progress.clone(), watchdog_stop.clone()));
    }
    // Tell systemd as soon as shutdown starts, not after the drain.
    tokio::spawn({
        let shutdown = shutdown.clone();
        let watchdog_stop = watchdog_stop.clone();
        async move {
            shutdown.cancelled().await;
            watchdog_stop.cancel();
            systemd::stopping();
        }
    });

    let tasks = ctx.tasks.clone();
    let deadline = ctx.config.shutdown_timeout;
    // READY=1 is the binary's to say (`Context::ready`), when it truly is: the API once
    // its listener is bound, so systemd starts nothing that depends on it (nginx) before
    // it accepts connections; a worker as its main loop begins.
    tracing::info!(service = service.binary(), version = env!("CARGO_PKG_VERSION"), "started");

    let result = run(ctx).await;
    shutdown.cancel();
    let drained = drain(&tasks, deadline).await;
    if let Some(handle) = metrics_server {
        handle.stop(true).await;
    }
    pool.close();
    tracing::info!(service = service.binary(), "stopped");
    result.and(drained)
}

/// Waits for in-flight work to finish, up to `deadline`.
pub async fn drain(tasks: &TaskTracker, deadline: Duration) -> Result<(), BoxError> {
    tasks.close();
    if tasks.is_empty() {
        return Ok(());
    }
    tracing::info!(in_flight = tasks.len(), deadline_ms = deadline.as_millis() as u64, "waiting for in-flight work");
    match tokio::time::timeout(deadline, tasks.wait()).await {
        Ok(()) => Ok(()),
        Err(_) => {
            Err(format!("{} in-flight task(s) did not finish within {deadline:?} of the shutdown request", tasks.len())
                .into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn drain_waits_for_in_flight_work_that_finishes_in_time() {
        let tasks = TaskTracker::new();
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = done.clone();
        tasks.spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        drain(&tasks, Duration::from_secs(5)).await.unwrap();
        assert!(done.load(std::sync::atomic::Ordering::SeqCst), "drain returned before the task finished");
    }

    #[tokio::test]
    async fn drain_gives_up_at_the_deadline_and_says_how_much_was_left() {
        let tasks = TaskTracker::new();
        tasks.spawn(tokio::time::sleep(Duration::from_secs(60)));
        let started = std::time::Instant::now();
        let err = drain(&tasks, Duration::from_millis(100)).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(err.to_string(), "1 in-flight task(s) did not finish within 100ms of the shutdown request");
    }
}
