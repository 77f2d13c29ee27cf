//! atum-rag-worker keeps the retrieval index (`kb_chunks`) in step with the published
//! articles and solved tickets (`atum_core::retrieval::index`): a pass on every change
//! it hears of (`atum_kb` for articles, `atum_tickets` for tickets), and one on every
//! tick to catch what a lost notification or a restart left behind. With a model
//! (`ATUM_EMBED_MODEL_DIR`) it then embeds the passages that have no vector from it
//! — new ones, changed ones, or all of them after the model changed. It reports chunk
//! counts and index lag per organisation on `/metrics`.

use std::{
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use atum_core::retrieval::index;
use atum_runtime::{
    BoxError, Context,
    config::{ConfigError, Env},
    listener,
    listener::Wakeup,
};
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{family::Family, gauge::Gauge},
};

/// The retrieval worker's own settings.
pub struct Settings {
    /// The sentence-embedding model's directory (`ATUM_EMBED_MODEL_DIR`); without it
    /// the index is lexical only.
    pub model_dir: Option<PathBuf>,
}

impl Settings {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        Ok(Settings { model_dir: atum_runtime::config::embed_model_dir(env)? })
    }
}

/// Passages fetched for one call of the embedder (which cuts them into passes of
/// similar length).
const EMBED_BATCH: i64 = 64;
/// How long one pass may spend embedding before it lets the loop look around.
const EMBED_BUDGET: Duration = Duration::from_secs(10);

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OrgLabel {
    org_id: i64,
}

#[derive(Clone, Default)]
struct IndexMetrics {
    chunks: Family<OrgLabel, Gauge>,
    lag: Family<OrgLabel, Gauge<f64, std::sync::atomic::AtomicU64>>,
}

pub async fn run(ctx: Context, settings: Settings) -> Result<(), BoxError> {
    let embedder = match settings.model_dir {
        None => {
            tracing::warn!("ATUM_EMBED_MODEL_DIR is not set: the index is lexical only (full text and trigrams)");
            None
        }
        Some(dir) => match tokio::task::spawn_blocking(move || atum_ai::Embedder::load(&dir)).await? {
            Ok(e) => {
                tracing::info!(model = e.id(), "embedding passages");
                Some(Arc::new(e))
            }
            Err(e) => {
                tracing::warn!(error = %e, "no embeddings: the index is lexical only");
                None
            }
        },
    };
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
                pass(&ctx, &metrics, embedder.as_ref()).await;
            }
            _ = ticker.tick() => pass(&ctx, &metrics, embedder.as_ref()).await,
        }
    }
    Ok(())
}

/// One catch-up pass and the metrics after it; the watchdog is fed only when it worked.
async fn pass(ctx: &Context, metrics: &IndexMetrics, embedder: Option<&Arc<atum_ai::Embedder>>) {
    let work = async {
        let stats = index::catch_up(&ctx.pool, None, |_| {}).await?;
        if let Some(embedder) = embedder {
            let embedded = embed_pending(ctx, embedder).await?;
            if embedded > 0 {
                tracing::info!(passages = embedded, "embedded");
            }
        }
        let conn = atum_runtime::db::connection(&ctx.pool).await?;
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
        Ok(Err(e)) => {
            tracing::warn!(error = %atum_runtime::db::describe(&*e), "indexing failed; the next tick tries again")
        }
        Err(_) => tracing::warn!("an indexing pass took over 300 s; the next tick goes on from where it stopped"),
    }
    ctx.metrics.observe_pool(&ctx.pool);
}

/// Embeds passages without a vector from this model, a batch at a time (each batch
/// feeds the watchdog), until none is left, the budget is spent or shutdown starts.
async fn embed_pending(ctx: &Context, embedder: &Arc<atum_ai::Embedder>) -> Result<u64, BoxError> {
    let started = Instant::now();
    let mut done = 0u64;
    let mut conn = atum_runtime::db::connection(&ctx.pool).await?;
    while started.elapsed() < EMBED_BUDGET && !ctx.shutdown.is_cancelled() {
        let pending = index::pending_vectors(&conn, embedder.id(), EMBED_BATCH).await?;
        if pending.is_empty() {
            break;
        }
        let model = embedder.clone();
        let texts: Vec<String> = pending.iter().map(|(_, _, t)| t.clone()).collect();
        let vectors = tokio::task::spawn_blocking(move || {
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            model.embed(&refs)
        })
        .await??;
        let rows: Vec<_> = pending.into_iter().zip(vectors).map(|((id, org, _), v)| (id, org, v)).collect();
        let tx = conn.transaction().await?;
        index::store_vectors(&tx, embedder.id(), &rows).await?;
        tx.commit().await?;
        done += rows.len() as u64;
        ctx.progress.tick();
    }
    Ok(done)
}
