//! The API's periodic work beside serving requests.

use std::time::Duration;

use atum_runtime::Context;

/// Prunes spent sign-in rows (attempts past retention, dead challenges, tokens and
/// sessions) and presence long expired, once an hour. Several API processes may do it at once: the deletes are
/// idempotent.
pub(crate) async fn housekeeping(ctx: Context, retention: atum_core::auth::housekeeping::Retention) {
    let mut ticker =
        tokio::time::interval_at(tokio::time::Instant::now() + Duration::from_secs(60), Duration::from_secs(3600));
    loop {
        tokio::select! {
            _ = ctx.shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let run = async {
            let conn = atum_runtime::db::connection(&ctx.pool).await.map_err(|e| e.to_string())?;
            let pruned = atum_core::auth::housekeeping::prune(&conn, retention).await.map_err(|e| e.to_string())?;
            atum_core::tickets::presence::prune(&conn).await.map_err(|e| e.to_string())?;
            Ok::<_, String>(pruned)
        };
        match run.await {
            Ok(pruned) => tracing::info!(?pruned, "pruned spent sign-in records"),
            Err(e) => tracing::warn!(error = %e, "pruning sign-in records failed"),
        }
    }
}

/// Ticks progress while the database answers, so a wedged or cut-off API stops
/// feeding the watchdog.
pub(crate) async fn probe(ctx: Context) {
    let mut ticker = tokio::time::interval(ctx.tick_interval());
    loop {
        tokio::select! {
            _ = ctx.shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let check = async {
            let conn = atum_runtime::db::connection(&ctx.pool).await.map_err(|e| e.to_string())?;
            conn.simple_query("SELECT 1").await.map_err(|e| e.to_string())
        };
        match tokio::time::timeout(Duration::from_secs(5), check).await {
            Ok(Ok(_)) => {
                ctx.metrics.ticks.inc();
                ctx.progress.tick();
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "database check failed"),
            Err(_) => tracing::warn!("database check timed out after 5s"),
        }
        ctx.metrics.observe_pool(&ctx.pool);
    }
}
