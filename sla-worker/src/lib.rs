//! atum-sla-worker records SLA warnings and breaches as their times come, and fires
//! the policies' escalations (`atum_core::sla`).
//!
//! It sleeps until the earliest `next_escalation_at` in `ticket_sla_schedule` (or at most the
//! sweep interval), then sweeps every ticket whose time has come. A ticket change
//! (NOTIFY `atum_tickets`) may bring that time forward, so each one makes it look
//! again. Clocks themselves are recomputed by the API in the writing transaction;
//! this worker only acts on time passing. Several sla-workers may run: each sweep
//! skips tickets another one holds, and a breach is recorded once either way.
//!
//! It also keeps the breach prediction fresh: the tickets named by change
//! notifications get an `SLA_PREDICT` job (one per organisation per wake-up), and every
//! `ATUM_SLA_PREDICT_SECS` each organisation with policies gets one for all its open
//! tickets (deduplicated while pending). The job worker runs them.
//!
//! Each completed sweep feeds the watchdog, so a worker that cannot reach its
//! database stops pinging systemd.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use atum_core::{
    ids::{OrgId, TicketId},
    sla::{self, prediction_job::Predict},
    tickets::events::{self, Notice},
};
use atum_runtime::{
    BoxError, Context,
    config::{ConfigError, Env},
    listener,
    listener::Wakeup,
};
use prometheus_client::metrics::{counter::Counter, histogram::Histogram};

/// Tickets refreshed per sweep transaction.
const BATCH: i64 = 500;

/// The SLA worker's own settings, read once at start with the shared ones.
pub struct Settings {
    /// Look for due tickets at least this often.
    pub sweep: Duration,
    /// Queue a breach prediction for every open ticket this often.
    pub predict_every: Duration,
    /// Connections one sweep refreshes due tickets on in parallel.
    pub lanes: usize,
}

impl Settings {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let lanes = match env.parse_or("ATUM_SLA_SWEEP_LANES", 2usize, "a number of connections")? {
            n @ 1..=16 => n,
            _ => {
                return Err(ConfigError::Invalid {
                    var: "ATUM_SLA_SWEEP_LANES".into(),
                    reason: "must be from 1 to 16".into(),
                });
            }
        };
        Ok(Settings {
            sweep: env.seconds_or("ATUM_SLA_SWEEP_SECS", 5)?,
            predict_every: env.seconds_or("ATUM_SLA_PREDICT_SECS", 900)?,
            lanes,
        })
    }
}

pub async fn run(ctx: Context, settings: Settings) -> Result<(), BoxError> {
    let interval = settings.sweep.min(ctx.tick_interval());
    let (predict_every, lanes) = (settings.predict_every, settings.lanes);
    let mut last_predict_all: Option<Instant> = None;
    let mut changed: BTreeMap<OrgId, Vec<TicketId>> = BTreeMap::new();
    let swept = Counter::<u64>::default();
    let sweep_seconds = Histogram::new([0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0]);
    ctx.metrics.register(
        "sla_swept_tickets",
        "Tickets refreshed by sweeps (their warning or deadline came)",
        swept.clone(),
    );
    ctx.metrics.register("sla_sweep_duration_seconds", "How long one sweep took", sweep_seconds.clone());

    let mut wakeups = listener::spawn(
        ctx.config.database.pg.clone(),
        vec![events::CHANNEL],
        ctx.metrics.clone(),
        ctx.shutdown.clone(),
    );
    tracing::info!(interval_s = interval.as_secs(), "sweeping SLA deadlines");
    let mut failures = 0u32;
    ctx.ready();
    loop {
        let due_all = last_predict_all.is_none_or(|t| t.elapsed() >= predict_every);
        match enqueue_predictions(&ctx, std::mem::take(&mut changed), due_all).await {
            Ok(()) if due_all => last_predict_all = Some(Instant::now()),
            Ok(()) => {}
            Err(e) => tracing::warn!(error = %e, "queueing breach predictions failed"),
        }
        let started = Instant::now();
        let next = match sweep_once(&ctx, lanes).await {
            Ok((n, next)) => {
                failures = 0;
                ctx.progress.tick();
                swept.inc_by(n as u64);
                sweep_seconds.observe(started.elapsed().as_secs_f64());
                if n > 0 {
                    tracing::info!(tickets = n, ms = started.elapsed().as_millis() as u64, "swept due tickets");
                }
                next
            }
            Err(e) => {
                failures += 1;
                tracing::warn!(error = %e, "SLA sweep failed");
                None
            }
        };
        let pause = match next {
            _ if failures > 0 => interval.min(Duration::from_secs(failures.into())),
            Some(wait) => wait.min(interval),
            None => interval,
        };
        tokio::select! {
            _ = ctx.shutdown.cancelled() => break,
            w = wakeups.recv() => {
                if let Some(Wakeup::Notification { payload, .. }) = w {
                    note_change(&mut changed, &payload);
                }
                // Let a burst of changes settle into one sweep, collecting them.
                tokio::time::sleep(Duration::from_millis(20)).await;
                while let Ok(Wakeup::Notification { payload, .. }) = wakeups.try_recv() {
                    note_change(&mut changed, &payload);
                }
            },
            _ = tokio::time::sleep(pause) => {}
        }
    }
    Ok(())
}

/// One sweep; returns the tickets refreshed and how long until the next one is due.
async fn sweep_once(ctx: &Context, lanes: usize) -> Result<(usize, Option<Duration>), BoxError> {
    let swept = sla::sweep_parallel(&ctx.pool, BATCH, lanes).await?;
    let conn = atum_runtime::db::connection(&ctx.pool).await?;
    let row = conn
        .query_one("SELECT extract(epoch FROM min(next_escalation_at) - now())::float8 FROM ticket_sla_schedule", &[])
        .await?;
    let next = row.get::<_, Option<f64>>(0).map(|s| Duration::from_secs_f64(s.max(0.0) + 0.001));
    Ok((swept.tickets, next))
}

/// Records a notice from the ticket journal.
fn note_change(changed: &mut BTreeMap<OrgId, Vec<TicketId>>, payload: &str) {
    if let Some(Notice { org_id, ticket_id, .. }) = Notice::parse(payload) {
        let ids = changed.entry(org_id).or_default();
        if !ids.contains(&ticket_id) && ids.len() < 10_000 {
            ids.push(ticket_id);
        }
    }
}

/// Queues predictions for the changed tickets, and for every organisation with SLA
/// policies when `all` is set; one transaction.
async fn enqueue_predictions(
    ctx: &Context,
    changed: BTreeMap<OrgId, Vec<TicketId>>,
    all: bool,
) -> Result<(), BoxError> {
    if changed.is_empty() && !all {
        return Ok(());
    }
    let mut conn = atum_runtime::db::connection(&ctx.pool).await?;
    let tx = conn.transaction().await?;
    let mut batch: Vec<Predict> =
        changed.into_iter().map(|(org_id, ticket_ids)| Predict { org_id, ticket_ids }).collect();
    if all {
        for r in tx.query("SELECT DISTINCT org_id FROM sla_policies", &[]).await? {
            batch.push(Predict { org_id: r.get(0), ticket_ids: Vec::new() });
        }
    }
    atum_queue::enqueue_many(&tx, &batch, Default::default()).await?;
    tx.commit().await?;
    Ok(())
}
