//! atum-sla-worker records SLA warnings and breaches as their times come, and fires
//! the policies' escalations (`atum_core::sla`).
//!
//! It sleeps until the earliest `sla_next_escalation_at` of any ticket (or at most the
//! sweep interval), then sweeps every ticket whose time has come. A ticket change
//! (NOTIFY `atum_tickets`) may bring that time forward, so each one makes it look
//! again. Clocks themselves are recomputed by the API in the writing transaction;
//! this worker only acts on time passing. Several sla-workers may run: each sweep
//! skips tickets another one holds, and a breach is recorded once either way.
//!
//! Each completed sweep feeds the watchdog, so a worker that cannot reach its
//! database stops pinging systemd.

use std::time::Duration;

use atum_core::{
    config::Env,
    runtime::{BoxError, Context, listener, listener::Wakeup},
    sla,
};
use prometheus_client::metrics::{counter::Counter, histogram::Histogram};

/// Tickets refreshed per sweep transaction.
const BATCH: i64 = 500;

pub async fn run(ctx: Context) -> Result<(), BoxError> {
    let interval = Env::process().seconds_or("ATUM_SLA_SWEEP_SECS", 5)?.min(ctx.tick_interval());
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
        vec![sla::TICKETS_CHANNEL],
        ctx.metrics.clone(),
        ctx.shutdown.clone(),
    );
    tracing::info!(interval_s = interval.as_secs(), "sweeping SLA deadlines");
    let mut failures = 0u32;
    loop {
        let started = std::time::Instant::now();
        let next = match sweep_once(&ctx).await {
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
            w = wakeups.recv() => if let Some(Wakeup::Notification { .. } | Wakeup::Connected) = w {
                // Let a burst of changes settle into one sweep.
                tokio::time::sleep(Duration::from_millis(20)).await;
            },
            _ = tokio::time::sleep(pause) => {}
        }
    }
    Ok(())
}

/// One sweep; returns the tickets refreshed and how long until the next one is due.
async fn sweep_once(ctx: &Context) -> Result<(usize, Option<Duration>), BoxError> {
    let mut conn = atum_core::db::connection(&ctx.pool).await?;
    let swept = sla::sweep(&mut conn, BATCH).await?;
    let row = conn
        .query_one(
            "SELECT extract(epoch FROM min(sla_next_escalation_at) - now())::float8 FROM tickets
             WHERE sla_next_escalation_at IS NOT NULL",
            &[],
        )
        .await?;
    let next = row.get::<_, Option<f64>>(0).map(|s| Duration::from_secs_f64(s.max(0.0) + 0.001));
    Ok((swept.tickets, next))
}
