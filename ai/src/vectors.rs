//! The dense retriever: the embedding model (memory-mapped, so every process that
//! loads it shares its pages), a query's vector, and each organisation's passage
//! vectors held in memory for a brute-force cosine scan (see docs/architecture.md for
//! when that should become an approximate index). The vectors are held as 8-bit codes
//! with a scale per vector: a quarter of the memory of f32, and a scan that reads a
//! quarter of the bytes (it is bound by memory: over 100,000 passages, 4 ms instead
//! of 14 ms, measured with `atum-bench retrieval`). A notice on `atum_kb_vectors` from
//! the retrieval worker marks an organisation's vectors as stale; the next search
//! reloads them. The API holds one for searches, the job worker one for the AI jobs.

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, RwLock},
};

use atum_core::{
    error::{Error, Result},
    ids::OrgId,
    retrieval::index::VECTORS_CHANNEL,
};
use atum_runtime::{Metrics, db::DbPool, listener, listener::Wakeup};
use futures_util::StreamExt as _;
use rayon::prelude::*;
use tokio_util::sync::CancellationToken;

use crate::{
    Embedder,
    numeric::{dot, quantise},
};

/// Passage vectors of one organisation, quantised ([`quantise`]), row-major.
struct Matrix {
    ids: Vec<i64>,
    codes: Vec<i8>,
    scales: Vec<f32>,
    dim: usize,
}

/// Rows a thread of the scan takes at least.
const PARALLEL_SCAN_ROWS: usize = 25_000;

impl Matrix {
    /// The `k` rows nearest to `q` (unit length, the matrix's width), best first.
    fn nearest(&self, q: &[f32], k: usize) -> Vec<i64> {
        let mut q_codes = Vec::with_capacity(q.len());
        let q_scale = quantise(q, &mut q_codes);
        let score = |((row, scale), id): ((&[i8], &f32), &i64)| (dot(row, &q_codes) as f32 * scale * q_scale, *id);
        let rows = self.codes.par_chunks_exact(self.dim).zip(&self.scales[..]).zip(&self.ids[..]);
        // The scan is bound by memory bandwidth, which one core does not use up: a
        // large matrix is scanned on every core (with_min_len keeps a small one on one).
        let mut scored: Vec<(f32, i64)> = rows.with_min_len(PARALLEL_SCAN_ROWS).map(score).collect();
        let k = k.min(scored.len());
        if k == 0 {
            return Vec::new();
        }
        scored.select_nth_unstable_by(k - 1, |a, b| b.0.total_cmp(&a.0));
        scored.truncate(k);
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        scored.into_iter().map(|(_, id)| id).collect()
    }
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
    /// Whether a listener keeps the cache fresh. Without one (a test, a benchmark)
    /// every search reads the vectors again: slower, never stale.
    cached: bool,
}

impl Retrieval {
    /// Lexical retrieval only, for `reason`.
    pub fn lexical(reason: impl Into<String>) -> Retrieval {
        Retrieval { embedder: None, degraded: Some(reason.into()), cache: RwLock::default(), cached: false }
    }

    /// Dense retrieval with `embedder` and no listener: the vectors are read for each
    /// search.
    pub fn uncached(embedder: Arc<Embedder>) -> Retrieval {
        Retrieval { embedder: Some(embedder), degraded: None, cache: RwLock::default(), cached: false }
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
        Retrieval::listening(Arc::new(embedder), pg, metrics, shutdown)
    }

    /// Dense retrieval with `embedder`, the cache kept fresh by the retrieval
    /// worker's notices until `shutdown`.
    pub fn listening(
        embedder: Arc<Embedder>,
        pg: tokio_postgres::Config,
        metrics: Metrics,
        shutdown: CancellationToken,
    ) -> Arc<Retrieval> {
        tracing::info!(model = embedder.id(), "embedding queries");
        let retrieval =
            Arc::new(Retrieval { embedder: Some(embedder), degraded: None, cache: RwLock::default(), cached: true });
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
                    Some(Wakeup::Notification { payload, .. }) => match payload.parse::<OrgId>() {
                        Ok(org) => watcher.invalidate(Some(org)),
                        Err(_) => watcher.invalidate(None),
                    },
                    // Reconnected: notices may have been missed.
                    Some(Wakeup::Connected) => watcher.invalidate(None),
                }
            }
        });
        retrieval
    }

    /// The sentence embedder, when there is one.
    pub fn embedder(&self) -> Option<&Arc<Embedder>> {
        self.embedder.as_ref()
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
    pub async fn nearest(&self, pool: &DbPool, org: OrgId, query: &str, k: usize) -> Result<Vec<i64>> {
        let Some(embedder) = self.embedder.clone() else { return Ok(Vec::new()) };
        let matrix = self.matrix(pool, org, embedder.id()).await?;
        if matrix.ids.is_empty() {
            return Ok(Vec::new());
        }
        let text = query.to_owned();
        // Both the model and the scan are CPU work of several milliseconds: off the
        // async threads.
        tokio::task::spawn_blocking(move || {
            let q = embedder.embed(&[text.as_str()])?.pop().unwrap_or_default();
            Ok(if matrix.dim == q.len() { matrix.nearest(&q, k) } else { Vec::new() })
        })
        .await
        .map_err(|e| Error::Internal(format!("the dense search stopped: {e}")))?
        .map_err(|e: crate::EmbedError| Error::Internal(e.to_string()))
    }

    async fn matrix(&self, pool: &DbPool, org: OrgId, model: &str) -> Result<Arc<Matrix>> {
        let generation = {
            let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
            match cache.get(&org) {
                Some(Cached { matrix: Some(m), .. }) => return Ok(m.clone()),
                Some(c) => c.generation,
                None => 0,
            }
        };
        // Streamed and coded row by row: holding every row's f32 bytes at once would
        // leave the process that much larger (the allocator keeps what it was given).
        let conn = atum_runtime::db::connection(pool).await?;
        let count: i64 = conn
            .query_one("SELECT count(*) FROM kb_chunks WHERE org_id = $1 AND model = $2", &[&org, &model])
            .await?
            .get(0);
        let rows = conn
            .query_raw(
                "SELECT id, embedding FROM kb_chunks WHERE org_id = $1 AND model = $2 ORDER BY id",
                [&org as &(dyn tokio_postgres::types::ToSql + Sync), &model],
            )
            .await?;
        let mut rows = std::pin::pin!(rows);
        let capacity = usize::try_from(count).unwrap_or(0);
        let mut m = Matrix {
            ids: Vec::with_capacity(capacity),
            codes: Vec::new(),
            scales: Vec::with_capacity(capacity),
            dim: 0,
        };
        let mut v = Vec::new();
        while let Some(r) = rows.next().await {
            let r = r?;
            let bytes: &[u8] = r.get(1);
            if !bytes.len().is_multiple_of(4) || bytes.is_empty() {
                continue;
            }
            v.clear();
            v.extend(bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])));
            if m.dim == 0 {
                m.dim = v.len();
                m.codes.reserve_exact(m.dim * capacity);
            }
            if v.len() == m.dim {
                m.ids.push(r.get(0));
                m.scales.push(quantise(&v, &mut m.codes));
            }
        }
        let m = Arc::new(m);
        if !self.cached {
            return Ok(m);
        }
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        let c = cache.entry(org).or_default();
        if c.generation == generation {
            c.matrix = Some(m.clone());
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-random unit vectors.
    fn vectors(n: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                let v: Vec<f32> = (0..dim)
                    .map(|_| {
                        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        ((x >> 33) as f32 / (1u64 << 31) as f32) - 0.5
                    })
                    .collect();
                let norm = v.iter().map(|a| a * a).sum::<f32>().sqrt();
                v.into_iter().map(|a| a / norm).collect()
            })
            .collect()
    }

    #[test]
    fn quantised_vectors_rank_neighbours_almost_as_the_exact_cosine_does() {
        let dim = 384;
        let rows = vectors(2_000, dim, 7);
        let mut m = Matrix { ids: (0..2_000).collect(), codes: Vec::new(), scales: Vec::new(), dim };
        for v in &rows {
            let s = quantise(v, &mut m.codes);
            m.scales.push(s);
        }
        let mut overlap = 0;
        for q in vectors(20, dim, 99) {
            let mut exact: Vec<(f32, i64)> =
                rows.iter().enumerate().map(|(i, r)| (r.iter().zip(&q).map(|(a, b)| a * b).sum(), i as i64)).collect();
            exact.sort_by(|a, b| b.0.total_cmp(&a.0));
            let want: Vec<i64> = exact.iter().take(10).map(|e| e.1).collect();
            let got = m.nearest(&q, 10);
            assert_eq!(got[0], want[0], "the nearest passage is the same");
            overlap += got.iter().filter(|id| want.contains(id)).count();
        }
        assert!(overlap >= 180, "top-10 overlap {overlap} of 200");
    }
}
