//! Recording how jobs ended: a failure or a cancellation at once, successes many to a
//! statement by one task; or, without batching, a slot's end and its next claim in one
//! statement.

use std::{sync::Arc, time::Duration};

use tokio::sync::mpsc;

use super::{Runner, claim::Chain};
use crate::{
    Services,
    store::{self, Claimed, Outcome},
};

impl<S: Services> Runner<S> {
    /// [`store::complete_and_claim`]: `Some(next job)` when the statement committed,
    /// `None` when it failed (the caller then records the outcome on its own, retrying).
    pub(super) async fn record_and_claim(
        &self,
        job: &Claimed,
        outcome: &Outcome,
        took: Duration,
        chain: &mut Chain,
    ) -> Option<Option<Claimed>> {
        let after = chain.resume_after(job, self.config.poll_interval);
        let conn = self.pool.get().await.ok()?;
        match store::complete_and_claim(
            &conn,
            &self.config.worker_id,
            job,
            outcome,
            took,
            &chain.queue,
            &chain.kinds,
            self.config.lease,
            after,
        )
        .await
        {
            Ok((recorded, next)) => {
                if !recorded {
                    self.metrics.lost_leases.inc();
                    tracing::warn!(
                        job.id = job.id,
                        job.attempt = job.attempt,
                        "lease was lost; this attempt's result is dropped"
                    );
                }
                Some(next)
            }
            Err(e) => {
                tracing::warn!(job.id = job.id, error = %atum_runtime::db::root_cause(&e), "recording the job's outcome failed; retrying");
                None
            }
        }
    }

    /// Records one attempt's end; completion must land even if the database blips, so
    /// it is retried a few times.
    pub(super) async fn record(&self, job: Claimed, outcome: Outcome, took: Duration) {
        for attempt in 0..5 {
            let done = async {
                let conn = self.pool.get().await.map_err(|e| e.to_string())?;
                store::complete(&conn, &self.config.worker_id, &job, &outcome, took)
                    .await
                    .map_err(|e| atum_runtime::db::root_cause(&e))
            };
            match done.await {
                Ok(true) => return,
                Ok(false) => {
                    self.metrics.lost_leases.inc();
                    tracing::warn!(
                        job.id = job.id,
                        job.attempt = job.attempt,
                        "lease was lost; this attempt's result is dropped"
                    );
                    return;
                }
                Err(e) => {
                    tracing::warn!(job.id = job.id, error = %e, "recording the job's outcome failed; retrying");
                    tokio::time::sleep(crate::backoff::RECORD.delay(attempt)).await;
                }
            }
        }
    }

    /// Records successes in batches: whatever has arrived while the previous batch was
    /// being written goes into the next statement.
    pub(super) async fn complete_batches(self: Arc<Self>, mut done: mpsc::UnboundedReceiver<(Claimed, Duration)>) {
        while let Some(first) = done.recv().await {
            let mut batch = vec![first];
            while batch.len() < 1000 {
                match done.try_recv() {
                    Ok(more) => batch.push(more),
                    Err(_) => break,
                }
            }
            let rows: Vec<(i64, i32, i32)> = batch
                .iter()
                .map(|(j, took)| (j.id, j.attempt, took.as_millis().min(i32::MAX as u128) as i32))
                .collect();
            let mut recorded = None;
            for attempt in 0..5 {
                let write = async {
                    let conn = self.pool.get().await.map_err(|e| e.to_string())?;
                    store::complete_succeeded(&conn, &self.config.worker_id, &rows)
                        .await
                        .map_err(|e| atum_runtime::db::root_cause(&e))
                };
                match write.await {
                    Ok(ids) => {
                        recorded = Some(ids);
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, jobs = rows.len(), "recording finished jobs failed; retrying");
                        tokio::time::sleep(crate::backoff::RECORD.delay(attempt)).await;
                    }
                }
            }
            let Some(ids) = recorded else { continue };
            for (job, _) in batch.iter().filter(|(j, _)| !ids.contains(&j.id)) {
                self.metrics.lost_leases.inc();
                tracing::warn!(
                    job.id = job.id,
                    job.attempt = job.attempt,
                    "lease was lost; this attempt's result is dropped"
                );
            }
        }
    }
}
