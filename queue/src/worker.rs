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

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
};
use tokio::sync::{Notify, Semaphore, mpsc};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use atum_runtime::{
    Metrics, Progress,
    config::{ConfigError, Env},
    listener::Wakeup,
};

use crate::{
    JobContext, JobError, Registry, Services,
    store::{self, Claimed, Outcome},
};

/// How often each worker prunes finished jobs and old events.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// How a worker process runs its queues.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub worker_id: String,
    /// (queue, concurrency)
    pub queues: Vec<(String, usize)>,
    pub lease: Duration,
    /// Claim even without a wake-up this often (the fallback when a NOTIFY is lost).
    pub poll_interval: Duration,
    pub retention: Duration,
    /// Most jobs claimed per query (1 turns batching off).
    pub claim_batch: usize,
    /// Jobs claimed ahead of a free slot and held locally (0: claim only what can run).
    pub prefetch: usize,
    /// Record successes in batches (fewer commits under load).
    pub batch_completions: bool,
}

impl WorkerConfig {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let invalid = |var: &str, reason: String| ConfigError::Invalid { var: var.into(), reason };
        // The AI's CPU-bound jobs get their own queue, and two of them at most at
        // once, so they never hold up mail or SLA work.
        let raw = env.get("ATUM_JOB_QUEUES").unwrap_or_else(|| "default:8,ai:2,llm:4".into());
        let mut queues = Vec::new();
        for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, n) = part.split_once(':').unwrap_or((part, "8"));
            let n: usize =
                n.parse().map_err(|_| invalid("ATUM_JOB_QUEUES", format!("{part:?}: concurrency is not a number")))?;
            let valid_name =
                !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !valid_name || !(1..=256).contains(&n) {
                return Err(invalid("ATUM_JOB_QUEUES", format!("{part:?}: expected name:concurrency, e.g. default:8")));
            }
            queues.push((name.to_owned(), n));
        }
        if queues.is_empty() {
            return Err(invalid("ATUM_JOB_QUEUES", "names no queue".into()));
        }
        // uname(2), not /proc/sys: the systemd units hide /proc's non-process files.
        let host = nix::unistd::gethostname().ok().and_then(|h| h.into_string().ok()).unwrap_or_default();
        Ok(WorkerConfig {
            worker_id: format!("{}:{}", host.trim(), std::process::id()),
            queues,
            lease: env.seconds_or("ATUM_JOB_LEASE_SECS", 30)?,
            poll_interval: env.seconds_or("ATUM_JOB_POLL_SECS", 2)?,
            retention: env.seconds_or("ATUM_JOB_RETENTION_SECS", 7 * 24 * 3600)?,
            claim_batch: match env.parse_or("ATUM_JOB_CLAIM_BATCH", 50usize, "a number of jobs")? {
                n @ 1..=1000 => n,
                _ => return Err(invalid("ATUM_JOB_CLAIM_BATCH", "must be from 1 to 1000".into())),
            },
            prefetch: match env.parse_or("ATUM_JOB_PREFETCH", 0usize, "a number of jobs")? {
                n @ 0..=1000 => n,
                _ => return Err(invalid("ATUM_JOB_PREFETCH", "must be from 0 to 1000".into())),
            },
            batch_completions: env.parse_or("ATUM_JOB_BATCH_COMPLETIONS", true, "true or false")?,
        })
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindOutcome {
    kind: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueState {
    queue: String,
    state: String,
}

#[derive(Clone)]
struct JobMetrics {
    jobs: Family<KindOutcome, Counter>,
    run_seconds: Family<KindLabel, Histogram>,
    wait_seconds: Family<KindLabel, Histogram>,
    depth: Family<QueueState, Gauge>,
    rescued: Counter,
    lost_leases: Counter,
}

impl JobMetrics {
    fn register(m: &Metrics) -> Self {
        let buckets = || Histogram::new([0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0, 600.0]);
        let jm = JobMetrics {
            jobs: Family::default(),
            run_seconds: Family::new_with_constructor(buckets),
            wait_seconds: Family::new_with_constructor(buckets),
            depth: Family::default(),
            rescued: Counter::default(),
            lost_leases: Counter::default(),
        };
        m.register("jobs", "Finished job attempts by kind and outcome", jm.jobs.clone());
        m.register("job_run_duration_seconds", "How long handlers ran", jm.run_seconds.clone());
        m.register("job_wait_seconds", "From runnable (enqueued or scheduled) to started", jm.wait_seconds.clone());
        m.register("job_queue_depth", "Jobs by queue and state", jm.depth.clone());
        m.register("job_rescues", "Jobs returned to the queue after their lease expired", jm.rescued.clone());
        m.register(
            "job_lost_leases",
            "Attempts whose result was dropped because the lease was lost",
            jm.lost_leases.clone(),
        );
        jm
    }
}

/// What the claimers of one queue share.
#[derive(Clone)]
struct QueueSlots {
    /// Jobs running.
    slots: Arc<Semaphore>,
    /// Jobs claimed and not finished (running or prefetched).
    outstanding: Arc<Semaphore>,
    /// Signalled when a job finishes and frees room.
    freed: Arc<Notify>,
}

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

/// A queue's wake-up: the notify that claim loops wait on, and a count of the wake-ups
/// so far, which tells a chaining slot that jobs may have arrived ahead of its place.
#[derive(Default)]
struct Wake {
    notify: Notify,
    rung: AtomicU64,
}

impl Wake {
    fn ring(&self) {
        self.rung.fetch_add(1, Ordering::Relaxed);
        self.notify.notify_one();
    }

    fn rung(&self) -> u64 {
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
struct Chain {
    queue: String,
    kinds: Vec<&'static str>,
    shutdown: CancellationToken,
    wake: Arc<Wake>,
    /// The wake-up count at the last claim from the head, and when it was.
    rung: u64,
    from_head_at: Instant,
}

impl Chain {
    /// Where the claim that follows `done` starts: after it, or from the head.
    fn resume_after(&mut self, done: &Claimed, poll: Duration) -> Option<store::FetchPosition> {
        let rung = self.wake.rung();
        if rung != self.rung || self.from_head_at.elapsed() >= poll {
            self.rung = rung;
            self.from_head_at = Instant::now();
            return None;
        }
        Some(done.position())
    }
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

    async fn claim_loop(
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

    /// [`store::complete_and_claim`]: `Some(next job)` when the statement committed,
    /// `None` when it failed (the caller then records the outcome on its own, retrying).
    async fn record_and_claim(
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
    async fn record(&self, job: Claimed, outcome: Outcome, took: Duration) {
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
                    tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
                }
            }
        }
    }

    /// Records successes in batches: whatever has arrived while the previous batch was
    /// being written goes into the next statement.
    async fn complete_batches(self: Arc<Self>, mut done: mpsc::UnboundedReceiver<(Claimed, Duration)>) {
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
                        tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
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

    /// Extends leases every third of the lease; cancels handlers whose job was
    /// cancelled by an operator or whose lease is gone.
    async fn heartbeat(self: Arc<Self>, stop: CancellationToken) {
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

    /// Deletes what passed the retention in batches (short transactions, so vacuum can
    /// keep up) until a batch comes back short, or for at most half a lease so the
    /// rescuer, which runs in the same loop, is never late by more than a tick.
    async fn prune(&self, conn: &deadpool_postgres::Object) {
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
    async fn maintain(self: Arc<Self>, stop: CancellationToken) {
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
