//! The heartbeat: extends the leases of the jobs this process holds, and notices the
//! ones an operator cancelled and the ones whose lease was lost.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::{Runner, held};
use crate::{Services, store};

impl<S: Services> Runner<S> {
    /// Extends leases every third of the lease; cancels handlers whose job was
    /// cancelled by an operator or whose lease is gone.
    pub(super) async fn heartbeat(self: Arc<Self>, stop: CancellationToken) {
        let mut tick = tokio::time::interval(self.config.lease / 3);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            let jobs = held(&self.in_flight);
            if jobs.is_empty() {
                continue;
            }
            let beat = match self.pool.get().await {
                Ok(conn) => store::heartbeat(&conn, &self.config.worker_id, &jobs, self.config.lease).await,
                Err(e) => {
                    tracing::warn!(error = %e, "heartbeat failed");
                    continue;
                }
            };
            match beat {
                Ok(beat) => {
                    let map = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
                    // Only jobs of the snapshot: one claimed since was not part of the beat.
                    for (id, attempt) in &jobs {
                        let Some(r) = map.get(id).filter(|r| r.attempt == *attempt) else { continue };
                        if beat.cancel.contains(id) {
                            r.cancel.cancel();
                        }
                        if !beat.held.contains(id) {
                            r.abort.cancel();
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "heartbeat failed"),
            }
        }
    }
}
