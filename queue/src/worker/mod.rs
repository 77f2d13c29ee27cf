//! Running jobs: one claim loop per queue, a shared wake-up, a heartbeat that keeps
//! leases alive (and notices cancellations and lost leases), and the maintenance that
//! rescues jobs of dead workers and prunes finished ones.
//!
//! Two ways to spend fewer commits per job. With batched completions (the default),
//! successes are recorded many to a statement by one task. Without them, each slot
//! records its job's end and claims the queue's next job in one statement (still one
//! claim and one completion per transaction) and runs that job itself, so a busy slot
//! costs one round trip and one commit per job instead of two of each; the claim loop
//! fills slots that go idle.

mod claim;
mod complete;
mod config;
mod heartbeat;
mod maintenance;
mod metrics;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use atum_runtime::{Metrics, Progress, listener::Wakeup};
use tokio::sync::{Notify, Semaphore, mpsc};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use claim::{Chain, QueueSlots, Wake};
pub use config::WorkerConfig;
use metrics::{JobMetrics, KindLabel, KindOutcome};

use crate::{
    JobContext, JobError, Registry, Services,
    store::{self, Claimed, Outcome},
};

/// A job being run by this process.
struct Running {
    attempt: i32,
    /// Asks the handler to stop at its next check (an operator cancelled the job).
    cancel: CancellationToken,
    /// Stops the handler now: the lease is lost, or shutdown ran out of time.
    abort: CancellationToken,
}

type InFlight = Arc<Mutex<HashMap<i64, Running>>>;

fn held(in_flight: &InFlight) -> Vec<(i64, i32)> {
    in_flight.lock().unwrap_or_else(|e| e.into_inner()).iter().map(|(id, r)| (*id, r.attempt)).collect()
}

pub struct Runner<S> {
    pool: deadpool_postgres::Pool,
    registry: Registry<S>,
    config: WorkerConfig,
    metrics: JobMetrics,
    in_flight: InFlight,
    wake: HashMap<String, Arc<Wake>>,
    /// Successes go here; one task records them in batches (fewer commits).
    done: Mutex<Option<mpsc::UnboundedSender<(Claimed, Duration)>>>,
}

impl<S: Services> Runner<S> {
    pub fn new(pool: deadpool_postgres::Pool, registry: Registry<S>, config: WorkerConfig, metrics: &Metrics) -> Self {
        let wake = config.queues.iter().map(|(q, _)| (q.clone(), Arc::default())).collect();
        Runner {
            pool,
            registry,
            config,
            metrics: JobMetrics::register(metrics),
            in_flight: Arc::default(),
            wake,
            done: Mutex::new(None),
        }
    }

    /// Runs until `shutdown`; then waits up to `deadline` for in-flight jobs and
    /// releases whatever is still running back to the queue.
    pub async fn run(
        self,
        mut wakeups: mpsc::Receiver<Wakeup>,
        shutdown: CancellationToken,
        progress: Progress,
        deadline: Duration,
    ) {
        let me = Arc::new(self);
        let tracker = TaskTracker::new();
        let stop_background = CancellationToken::new();

        // One wake-up per queue, shared by everything in this process.
        let wake = me.wake.clone();
        let dispatcher = tokio::spawn(async move {
            while let Some(w) = wakeups.recv().await {
                match w {
                    Wakeup::Notification { payload, .. } => match wake.get(&payload) {
                        Some(w) => w.ring(),
                        None => wake.values().for_each(|w| w.ring()),
                    },
                    Wakeup::Connected => wake.values().for_each(|w| w.ring()),
                }
            }
        });
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        *me.done.lock().unwrap_or_else(|e| e.into_inner()) = Some(done_tx);
        let completer = tokio::spawn(me.clone().complete_batches(done_rx));
        let heart = tokio::spawn(me.clone().heartbeat(stop_background.clone()));
        let maintenance = tokio::spawn(me.clone().maintain(stop_background.clone()));

        // Small claim batches need several claimers per queue, so that claims (each a
        // commit) overlap as the slots do; big batches need one.
        let mut loops = Vec::new();
        for (queue, n) in &me.config.queues {
            let shared = QueueSlots {
                slots: Arc::new(Semaphore::new(*n)),
                // Claimed but unfinished jobs: running ones plus up to `prefetch` waiting
                // locally for a slot (their leases are extended like the running ones').
                outstanding: Arc::new(Semaphore::new(n + me.config.prefetch)),
                freed: Arc::new(Notify::new()),
            };
            for _ in 0..n.div_ceil(me.config.claim_batch).clamp(1, *n) {
                loops.push(tokio::spawn(me.clone().claim_loop(
                    queue.clone(),
                    shared.clone(),
                    tracker.clone(),
                    shutdown.clone(),
                    progress.clone(),
                )));
            }
        }
        for l in loops {
            let _ = l.await;
        }

        // Shutdown: no more claims; give running jobs until the deadline.
        tracker.close();
        let finished = tokio::time::timeout(deadline, tracker.wait()).await.is_ok();
        // Prefetched jobs that never got a slot, and (past the deadline) running ones:
        // taken before aborting, since aborted handlers unregister themselves.
        let left = held(&me.in_flight);
        if !finished {
            for r in me.in_flight.lock().unwrap_or_else(|e| e.into_inner()).values() {
                r.abort.cancel();
            }
        }
        if !left.is_empty() {
            match me.pool.get().await {
                Ok(conn) => match store::release(&conn, &me.config.worker_id, &left).await {
                    Ok(n) => {
                        tracing::warn!(released = n, "in-flight jobs did not finish before the deadline; released them")
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "cannot release in-flight jobs; the rescuer will return them")
                    }
                },
                Err(e) => tracing::error!(error = %e, "cannot release in-flight jobs; the rescuer will return them"),
            }
        }
        // Flush the successes still waiting to be recorded.
        me.done.lock().unwrap_or_else(|e| e.into_inner()).take();
        let _ = completer.await;
        stop_background.cancel();
        let _ = heart.await;
        let _ = maintenance.await;
        dispatcher.abort();
    }

    /// Runs every job that is due, in this task, one after another, until none is
    /// left (jobs scheduled later, such as a retry after backoff, stay queued). For
    /// tests and tools that need background work done now and deterministically —
    /// no worker process, no polling. Returns how many jobs ran.
    pub async fn run_until_empty(&self) -> crate::Result<usize> {
        let kinds = self.registry.kinds();
        let mut ran = 0;
        loop {
            let mut claimed = Vec::new();
            for (queue, _) in &self.config.queues {
                let conn = atum_runtime::db::connection(&self.pool).await?;
                let batch = store::claim(
                    &conn,
                    queue,
                    &kinds,
                    &self.config.worker_id,
                    self.config.claim_batch as i64,
                    self.config.lease,
                    None,
                )
                .await?;
                claimed.extend(batch);
            }
            if claimed.is_empty() {
                return Ok(ran);
            }
            for job in claimed {
                let tokens = self.hold(&job);
                // Without a chain, execute records the outcome and claims nothing more.
                self.execute(job, tokens, None).await;
                ran += 1;
            }
        }
    }

    /// Registers a claimed job for heartbeats; returns its (cancel, abort) tokens.
    fn hold(&self, job: &Claimed) -> (CancellationToken, CancellationToken) {
        let (cancel, abort) = (CancellationToken::new(), CancellationToken::new());
        let entry = Running { attempt: job.attempt, cancel: cancel.clone(), abort: abort.clone() };
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner()).insert(job.id, entry);
        (cancel, abort)
    }

    /// Runs one job and records how it ended. With `chain`, the recording statement
    /// also claims the queue's next job, which is returned to run next.
    async fn execute(
        &self,
        job: Claimed,
        (cancel, abort): (CancellationToken, CancellationToken),
        chain: Option<&mut Chain>,
    ) -> Option<Claimed> {
        let waited = (job.started_at - job.ready_at).to_std().unwrap_or_default();
        self.metrics.wait_seconds.get_or_create(&KindLabel { kind: job.kind.clone() }).observe(waited.as_secs_f64());

        let started = Instant::now();
        let outcome = match self.registry.get(&job.kind) {
            None => Outcome::Discarded(format!("no handler for kind {}", job.kind)),
            Some(handler) => {
                let services = self.registry.services().clone();
                let ctx = JobContext::new(self.pool.clone(), services, job.id, job.attempt, cancel);
                // Its own task, so a panicking handler fails its job, not the worker.
                let run = tokio::spawn(handler(job.payload.clone(), ctx));
                let run_abort = run.abort_handle();
                let result = tokio::select! {
                    r = run => Ok(r),
                    // Lease lost (or shutdown past the deadline): stop the handler.
                    _ = abort.cancelled() => { run_abort.abort(); Err(()) }
                };
                // Aborted: the lease is gone (the new holder decides) or shutdown releases
                // the job; either way this attempt records nothing.
                let Ok(result) = result else {
                    self.in_flight.lock().unwrap_or_else(|e| e.into_inner()).remove(&job.id);
                    tracing::warn!(
                        job.id = job.id,
                        job.attempt = job.attempt,
                        "job stopped: lease lost or shutdown deadline passed"
                    );
                    return None;
                };
                match result {
                    Ok(Ok(())) => Outcome::Succeeded,
                    Ok(Err(JobError::Cancelled)) => Outcome::Cancelled,
                    Ok(Err(JobError::Permanent(e))) => Outcome::Discarded(e),
                    Ok(Err(JobError::Retry(e))) => Outcome::Failed(e),
                    Err(e) if e.is_panic() => Outcome::Failed("the handler panicked".into()),
                    Err(_) => Outcome::Cancelled,
                }
            }
        };
        let took = started.elapsed();
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner()).remove(&job.id);
        let label = match &outcome {
            Outcome::Succeeded => "succeeded",
            Outcome::Failed(_) if job.attempt >= job.max_attempts => "discarded",
            Outcome::Failed(_) => "failed",
            Outcome::Discarded(_) => "discarded",
            Outcome::Cancelled => "cancelled",
        };
        self.metrics.jobs.get_or_create(&KindOutcome { kind: job.kind.clone(), outcome: label }).inc();
        self.metrics.run_seconds.get_or_create(&KindLabel { kind: job.kind.clone() }).observe(took.as_secs_f64());
        if let Outcome::Failed(e) | Outcome::Discarded(e) = &outcome {
            tracing::warn!(job.id = job.id, job.kind = %job.kind, job.attempt = job.attempt, error = %e, "job failed");
        }
        if matches!(outcome, Outcome::Succeeded) && self.config.batch_completions {
            let sender = self.done.lock().unwrap_or_else(|e| e.into_inner()).clone();
            if let Some(tx) = sender {
                match tx.send((job, took)) {
                    Ok(()) => return None,
                    Err(mpsc::error::SendError((back, _))) => {
                        self.record(back, outcome, took).await;
                        return None;
                    }
                }
            }
        }
        if let Some(chain) = chain.filter(|c| !c.shutdown.is_cancelled())
            && let Some(next) = self.record_and_claim(&job, &outcome, took, chain).await
        {
            return next;
        }
        self.record(job, outcome, took).await;
        None
    }
}
