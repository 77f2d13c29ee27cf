//! Claiming: one loop per queue (or several, for small claim batches) that waits for a
//! wake-up or the poll interval and claims what its free slots can run, and the chain
//! by which a busy slot claims its next job while recording the last.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use atum_runtime::Progress;
use tokio::sync::{Notify, Semaphore};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use super::Runner;
use crate::{
    Services,
    store::{self, Claimed},
};

/// What the claimers of one queue share.
#[derive(Clone)]
pub(super) struct QueueSlots {
    /// Jobs running.
    pub(super) slots: Arc<Semaphore>,
    /// Jobs claimed and not finished (running or prefetched).
    pub(super) outstanding: Arc<Semaphore>,
    /// Signalled when a job finishes and frees room.
    pub(super) freed: Arc<Notify>,
}

/// A queue's wake-up: the notify that claim loops wait on, and a count of the wake-ups
/// so far, which tells a chaining slot that jobs may have arrived ahead of its place.
#[derive(Default)]
pub(super) struct Wake {
    pub(super) notify: Notify,
    pub(super) rung: AtomicU64,
}

impl Wake {
    pub(super) fn ring(&self) {
        self.rung.fetch_add(1, Ordering::Relaxed);
        self.notify.notify_one();
    }

    pub(super) fn rung(&self) -> u64 {
        self.rung.load(Ordering::Relaxed)
    }
}

/// What a slot needs to claim its queue's next job while recording the last one.
///
/// A chained claim resumes in fetch order after the job the slot just ran, so it does
/// not walk the index entries of every job claimed since the last vacuum (under a
/// backlog, each claim from the head walked them all again). It restarts from the
/// head when jobs may have arrived ahead of that place — a wake-up since the last
/// claim from the head, or a poll interval without one (scheduled jobs coming due, a
/// lost NOTIFY) — exactly when the claim loop would.
pub(super) struct Chain {
    pub(super) queue: String,
    pub(super) kinds: Vec<&'static str>,
    pub(super) shutdown: CancellationToken,
    pub(super) wake: Arc<Wake>,
    /// The wake-up count at the last claim from the head, and when it was.
    pub(super) rung: u64,
    pub(super) from_head_at: Instant,
}

impl Chain {
    /// Where the claim that follows `done` starts: after it, or from the head.
    pub(super) fn resume_after(&mut self, done: &Claimed, poll: Duration) -> Option<store::FetchPosition> {
        let rung = self.wake.rung();
        if rung != self.rung || self.from_head_at.elapsed() >= poll {
            self.rung = rung;
            self.from_head_at = Instant::now();
            return None;
        }
        Some(done.position())
    }
}

impl<S: Services> Runner<S> {
    pub(super) async fn claim_loop(
        self: Arc<Self>,
        queue: String,
        QueueSlots { slots, outstanding, freed }: QueueSlots,
        tracker: TaskTracker,
        shutdown: CancellationToken,
        progress: Progress,
    ) {
        let wake = self.wake[&queue].clone();
        let kinds = self.registry.kinds();
        let mut failures = 0u32;
        let mut position: Option<store::FetchPosition> = None;
        // The wake-up count and time of the last claim from the head, handed to chains.
        let mut from_head = (wake.rung(), Instant::now());
        while !shutdown.is_cancelled() {
            // Reserve room before claiming: claimers of one queue run side by side, and a
            // job claimed without room would wait unregistered while its lease runs out.
            let want = outstanding.available_permits().min(self.config.claim_batch);
            let mut reserved =
                (want > 0).then(|| outstanding.clone().try_acquire_many_owned(want as u32).ok()).flatten();
            let free = reserved.as_ref().map_or(0, |r| r.num_permits());
            let after = position.take();
            if after.is_none() && free > 0 {
                from_head = (wake.rung(), Instant::now());
            }
            let claimed = if free == 0 {
                Ok(Vec::new())
            } else {
                match self.pool.get().await {
                    Ok(conn) => store::claim(
                        &conn,
                        &queue,
                        &kinds,
                        &self.config.worker_id,
                        free as i64,
                        self.config.lease,
                        after,
                    )
                    .await
                    .map_err(|e| atum_runtime::db::root_cause(&e)),
                    Err(e) => Err(e.to_string()),
                }
            };
            let full_batch = match claimed {
                Ok(jobs) => {
                    failures = 0;
                    progress.tick();
                    let n = jobs.len();
                    // Continue after this batch only while batches come back full; a
                    // short one means the next pass starts from the head again.
                    if free == 0 {
                        position = after; // no room: nothing was asked for, keep the place
                    } else if n == free {
                        position = jobs.last().map(Claimed::position);
                    }
                    for job in jobs {
                        // One reserved permit per claimed job (never fewer: we asked for `free`).
                        let Some(held) = reserved.as_mut().and_then(|r| r.split(1)) else { break };
                        let tokens = self.hold(&job);
                        let (me, freed, slots, shutdown) =
                            (self.clone(), freed.clone(), slots.clone(), shutdown.clone());
                        let mut chain = (!self.config.batch_completions).then(|| Chain {
                            queue: queue.clone(),
                            kinds: kinds.clone(),
                            shutdown: shutdown.clone(),
                            wake: wake.clone(),
                            rung: from_head.0,
                            from_head_at: from_head.1,
                        });
                        tracker.spawn(async move {
                            // A job waiting for a slot when shutdown starts is released, not run.
                            let slot = tokio::select! {
                                s = slots.acquire_owned() => s.ok(),
                                _ = shutdown.cancelled() => None,
                            };
                            if let Some(slot) = slot {
                                // With chaining, the statement that records a job claims the
                                // next, which runs in the same slot.
                                let (mut job, mut tokens) = (job, tokens);
                                while let Some(next) = me.execute(job, tokens, chain.as_mut()).await {
                                    tokens = me.hold(&next);
                                    job = next;
                                }
                                drop(slot);
                            }
                            drop(held);
                            freed.notify_one();
                        });
                    }
                    free > 0 && n == free
                }
                Err(e) => {
                    failures += 1;
                    tracing::warn!(queue = %queue, error = %e, "claiming jobs failed");
                    false
                }
            };
            if full_batch {
                continue; // more may be waiting: claim again while there is room
            }
            let pause = if failures > 0 {
                self.config.poll_interval.min(Duration::from_secs(failures as u64))
            } else {
                self.config.poll_interval
            };
            // New jobs (a NOTIFY) or a poll restart from the head of the queue; a freed
            // slot carries on from where the last full batch ended.
            if free > 0 {
                position = None;
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = wake.notify.notified() => position = None,
                _ = freed.notified() => {}
                _ = tokio::time::sleep(pause) => position = None,
            }
        }
    }
}
