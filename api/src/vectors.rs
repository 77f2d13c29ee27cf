//! The dense retriever's side of the API: the embedding model (memory-mapped, so it
//! shares its pages with the retrieval worker's copy), the query's vector, and each
//! organisation's passage vectors held in memory for a brute-force cosine scan (see
//! docs/architecture.md for when that should become an approximate index). A notice
//! on `atum_kb_vectors` from the worker marks an organisation's vectors as stale; the
//! next search reloads them.

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, RwLock},
};

use atum_ai::Embedder;
use atum_core::{
    db::DbPool,
    ids::OrgId,
    retrieval::index::{self, VECTORS_CHANNEL},
    runtime::{Metrics, listener, listener::Wakeup},
};
use tokio_util::sync::CancellationToken;

use crate::error::ApiError;

/// Passage vectors of one organisation, row-major.
struct Matrix {
    ids: Vec<i64>,
    data: Vec<f32>,
    dim: usize,
}

#[derive(Default)]
struct Cached {
    /// Bumped by every notice: a load that began before it must not be kept.
    generation: u64,
    matrix: Option<Arc<Matrix>>,
}

pub struct Retrieval {
    embedder: Option<Arc<Embedder>>,
    /// Why there is no dense retriever, for `/health`.
    pub degraded: Option<String>,
    cache: RwLock<HashMap<OrgId, Cached>>,
}

impl Retrieval {
    /// Lexical retrieval only, for `reason`.
    pub fn lexical(reason: impl Into<String>) -> Retrieval {
        Retrieval { embedder: None, degraded: Some(reason.into()), cache: RwLock::default() }
    }

    /// Loads the model in `dir` (or says why not) and, with a model, starts listening
    /// for new vectors.
    pub async fn start(
        dir: Option<PathBuf>,
        pg: tokio_postgres::Config,
        metrics: Metrics,
        shutdown: CancellationToken,
    ) -> Arc<Retrieval> {
        let Some(dir) = dir else {
            return Arc::new(Retrieval::lexical(
                "ATUM_EMBED_MODEL_DIR is not set: search uses full text and trigrams only (`atum models fetch`, then set it)",
            ));
        };
        let loaded = tokio::task::spawn_blocking(move || Embedder::load(&dir)).await;
        let embedder = match loaded {
            Ok(Ok(e)) => e,
            Ok(Err(e)) => return Arc::new(Retrieval::lexical(e.to_string())),
            Err(e) => return Arc::new(Retrieval::lexical(format!("loading the model failed: {e}"))),
        };
        tracing::info!(model = embedder.id(), "embedding queries");
        let retrieval =
            Arc::new(Retrieval { embedder: Some(Arc::new(embedder)), degraded: None, cache: RwLock::default() });
        let mut wakeups = listener::spawn(pg, vec![VECTORS_CHANNEL], metrics, shutdown.clone());
        let watcher = retrieval.clone();
        tokio::spawn(async move {
            loop {
                let wakeup = tokio::select! {
                    _ = shutdown.cancelled() => return,
                    w = wakeups.recv() => w,
                };
                match wakeup {
                    None => return,
                    Some(Wakeup::Notification { payload, .. }) => match payload.parse::<i64>() {
                        Ok(org) => watcher.invalidate(Some(OrgId(org))),
                        Err(_) => watcher.invalidate(None),
                    },
                    // Reconnected: notices may have been missed.
                    Some(Wakeup::Connected) => watcher.invalidate(None),
                }
            }
        });
        retrieval
    }

    /// The model's id, when there is one.
    pub fn model(&self) -> Option<&str> {
        self.embedder.as_deref().map(Embedder::id)
    }

    /// Forgets the vectors of `org` (of every organisation with `None`).
    pub fn invalidate(&self, org: Option<OrgId>) {
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        match org {
            Some(org) => {
                let c = cache.entry(org).or_default();
                c.generation += 1;
                c.matrix = None;
            }
            None => {
                for c in cache.values_mut() {
                    c.generation += 1;
                    c.matrix = None;
                }
            }
        }
    }

    /// The ids of the `k` passages of `org` nearest to `query`, best first; empty
    /// without a model.
    pub async fn nearest(&self, pool: &DbPool, org: OrgId, query: &str, k: usize) -> Result<Vec<i64>, ApiError> {
        let Some(embedder) = self.embedder.clone() else { return Ok(Vec::new()) };
        let text = query.to_owned();
        let model = embedder.clone();
        let q = actix_web::web::block(move || model.embed(&[text.as_str()]))
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)?
            .pop()
            .unwrap_or_default();
        let matrix = self.matrix(pool, org, embedder.id()).await?;
        if matrix.dim != q.len() || matrix.ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut scored: Vec<(f32, i64)> = matrix
            .data
            .chunks_exact(matrix.dim)
            .zip(&matrix.ids)
            .map(|(row, id)| (row.iter().zip(&q).map(|(a, b)| a * b).sum(), *id))
            .collect();
        let k = k.min(scored.len());
        if k == 0 {
            return Ok(Vec::new());
        }
        scored.select_nth_unstable_by(k - 1, |a, b| b.0.total_cmp(&a.0));
        scored.truncate(k);
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        Ok(scored.into_iter().map(|(_, id)| id).collect())
    }

    async fn matrix(&self, pool: &DbPool, org: OrgId, model: &str) -> Result<Arc<Matrix>, ApiError> {
        let generation = {
            let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
            match cache.get(&org) {
                Some(Cached { matrix: Some(m), .. }) => return Ok(m.clone()),
                Some(c) => c.generation,
                None => 0,
            }
        };
        let conn = atum_core::db::connection(pool).await?;
        let rows = conn
            .query("SELECT id, embedding FROM kb_chunks WHERE org_id = $1 AND model = $2 ORDER BY id", &[&org, &model])
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let mut m = Matrix { ids: Vec::with_capacity(rows.len()), data: Vec::new(), dim: 0 };
        for r in &rows {
            let Some(v) = index::from_bytes(r.get(1)) else { continue };
            if m.dim == 0 {
                m.dim = v.len();
                m.data.reserve(v.len() * rows.len());
            }
            if v.len() == m.dim {
                m.ids.push(r.get(0));
                m.data.extend(v);
            }
        }
        let m = Arc::new(m);
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        let c = cache.entry(org).or_default();
        if c.generation == generation {
            c.matrix = Some(m.clone());
        }
        Ok(m)
    }
}
