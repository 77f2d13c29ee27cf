//! The main loop of a worker that has no handlers yet: it listens on its channel,
//! proves every tick that it can reach the database (which feeds the watchdog) and
//! logs a heartbeat. The job, SLA, retrieval and metrics engines replace the body of
//! the loop with real work; the skeleton — wake-ups, ticks, shutdown — stays.

use std::time::{Duration, Instant};

use super::{BoxError, Context, listener, listener::Wakeup};

pub async fn run(ctx: Context) -> Result<(), BoxError> {
    let channels: Vec<&'static str> = ctx.config.service.channel().into_iter().collect();
    let mut wakeups =
        listener::spawn(ctx.config.database.pg.clone(), channels, ctx.metrics.clone(), ctx.shutdown.clone());
    let mut ticker = tokio::time::interval(ctx.tick_interval());
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_heartbeat = Instant::now();
    let (mut notifications, mut ticks) = (0u64, 0u64);
    ctx.ready();

    loop {
        tokio::select! {
            _ = ctx.shutdown.cancelled() => break,
            Some(wakeup) = wakeups.recv() => match wakeup {
                Wakeup::Connected => tracing::info!(channel = ?ctx.config.service.channel(), "listening"),
                Wakeup::Notification { channel, payload } => {
                    notifications += 1;
                    tracing::debug!(%channel, payload_len = payload.len(), "notification");
                }
            },
            _ = ticker.tick() => {
                match check_database(&ctx).await {
                    Ok(()) => {
                        ticks += 1;
                        ctx.metrics.ticks.inc();
                        ctx.progress.tick();
                    }
                    Err(e) => tracing::warn!(error = %e, stalled_ms = ctx.progress.since_last().as_millis() as u64, "database check failed"),
                }
                ctx.metrics.observe_pool(&ctx.pool);
                if last_heartbeat.elapsed() >= ctx.config.heartbeat_interval {
                    tracing::info!(ticks, notifications, "heartbeat");
                    last_heartbeat = Instant::now();
                }
            }
        }
    }
    Ok(())
}

async fn check_database(ctx: &Context) -> Result<(), BoxError> {
    let check = async {
        let conn = crate::db::connection(&ctx.pool).await?;
        conn.simple_query("SELECT 1").await?;
        Ok::<_, BoxError>(())
    };
    tokio::time::timeout(Duration::from_secs(5), check).await.map_err(|_| "timed out after 5s")?
}
