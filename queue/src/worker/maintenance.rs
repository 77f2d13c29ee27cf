//! Housekeeping every worker does: rescue the jobs of dead workers, prune finished
//! jobs and old events, and report the queues' depth.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use tokio_util::sync::CancellationToken;

use super::{Runner, metrics::QueueState};
use crate::{Services, store};

/// How often each worker prunes finished jobs and old events.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

impl<S: Services> Runner<S> {
    /// Deletes what passed the retention in batches (short transactions, so vacuum can
    /// keep up) until a batch comes back short, or for at most half a lease so the
    /// rescuer, which runs in the same loop, is never late by more than a tick.
    pub(super) async fn prune(&self, conn: &deadpool_postgres::Object) {
        const BATCH: i64 = 5_000;
        let started = Instant::now();
        let (mut jobs, mut events) = (0, 0);
        while started.elapsed() < self.config.lease / 2 {
            match store::prune(conn, self.config.retention, BATCH).await {
                Ok((j, e)) => {
                    jobs += j;
                    events += e;
                    if j < BATCH as u64 && e < BATCH as u64 {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "pruning failed");
                    break;
                }
            }
        }
        if jobs + events > 0 {
            tracing::info!(jobs, events, "pruned finished jobs and old events");
        }
    }

    /// Rescues expired leases (every half lease), prunes old rows and refreshes the
    /// queue-depth gauge.
    pub(super) async fn maintain(self: Arc<Self>, stop: CancellationToken) {
        let mut tick = tokio::time::interval(self.config.lease / 2);
        let mut last_prune = Instant::now() - Duration::from_secs(3600);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            let Ok(conn) = self.pool.get().await else { continue };
            match store::rescue(&conn).await {
                Ok(rescued) if !rescued.is_empty() => {
                    self.metrics.rescued.inc_by(rescued.len() as u64);
                    tracing::warn!(count = rescued.len(), "rescued jobs whose worker stopped heartbeating");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "rescue failed"),
            }
            if last_prune.elapsed() >= PRUNE_EVERY {
                last_prune = Instant::now();
                self.prune(&conn).await;
            }
            if let Ok(depth) = store::depth(&conn).await {
                self.metrics.depth.clear();
                for (queue, state, n) in depth {
                    self.metrics.depth.get_or_create(&QueueState { queue, state }).set(n);
                }
            }
        }
    }
}
