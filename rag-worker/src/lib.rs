//! atum-rag-worker keeps the retrieval index (`kb_chunks`) in step with the published
//! articles and solved tickets (`atum_core::retrieval::index`): a pass on every change
//! it hears of (`atum_kb` for articles, `atum_tickets` for tickets), and one on every
//! tick to catch what a lost notification or a restart left behind. It reports chunk
//! counts and index lag per organisation on `/metrics`.

use std::time::Duration;

use atum_core::{
    config::{ConfigError, Env},
    retrieval::index,
    runtime::{BoxError, Context, listener, listener::Wakeup},
};
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{family::Family, gauge::Gauge},
};

/// The retrieval worker's own settings (none yet; the model's arrive with embeddings).
pub struct Settings;

impl Settings {
    pub fn from_env(_env: &Env<'_>) -> Result<Self, ConfigError> {
        Ok(Settings)
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OrgLabel {
    org_id: i64,
}

#[derive(Clone, Default)]
struct IndexMetrics {
    chunks: Family<OrgLabel, Gauge>,
    lag: Family<OrgLabel, Gauge<f64, std::sync::atomic::AtomicU64>>,
}

pub async fn run(ctx: Context, _settings: Settings) -> Result<(), BoxError> {
    let metrics = IndexMetrics::default();
    ctx.metrics.register("kb_chunks", "Passages in the retrieval index, per organisation", metrics.chunks.clone());
    ctx.metrics.register(
        "kb_index_lag_seconds",
        "How far the retrieval index trails the newest change to its sources, per organisation",
        metrics.lag.clone(),
    );
    let channels = vec![atum_core::kb::CHANNEL, atum_core::tickets::events::CHANNEL];
    let mut wakeups =
        listener::spawn(ctx.config.database.pg.clone(), channels, ctx.metrics.clone(), ctx.shutdown.clone());
    let mut ticker = tokio::time::interval(ctx.tick_interval());
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ctx.ready();

    loop {
        tokio::select! {
            _ = ctx.shutdown.cancelled() => break,
            Some(wakeup) = wakeups.recv() => {
                if matches!(wakeup, Wakeup::Connected) {
                    tracing::info!("listening for changes to articles and tickets");
                }
                // Everything waiting is covered by one pass.
                while wakeups.try_recv().is_ok() {}
                pass(&ctx, &metrics).await;
            }
            _ = ticker.tick() => pass(&ctx, &metrics).await,
        }
    }
    Ok(())
}

/// One catch-up pass and the metrics after it; the watchdog is fed only when it worked.
async fn pass(ctx: &Context, metrics: &IndexMetrics) {
    let work = async {
        let stats = index::catch_up(&ctx.pool, None, |_| {}).await?;
        let conn = atum_core::db::connection(&ctx.pool).await?;
        for (org, chunks, lag) in index::health(&conn).await? {
            let label = OrgLabel { org_id: org.get() };
            metrics.chunks.get_or_create(&label).set(chunks);
            metrics.lag.get_or_create(&label).set(lag);
        }
        Ok::<_, BoxError>(stats)
    };
    match tokio::time::timeout(Duration::from_secs(300), work).await {
        Ok(Ok(stats)) => {
            if stats.written > 0 || stats.removed > 0 {
                tracing::info!(sources = stats.sources, written = stats.written, removed = stats.removed, "indexed");
            }
            ctx.metrics.ticks.inc();
            ctx.progress.tick();
        }
        Ok(Err(e)) => tracing::warn!(error = %e, "indexing failed; the next tick tries again"),
        Err(_) => tracing::warn!("an indexing pass took over 300 s; the next tick goes on from where it stopped"),
    }
    ctx.metrics.observe_pool(&ctx.pool);
}
