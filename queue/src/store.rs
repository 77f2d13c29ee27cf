//! The queue's SQL: claim, heartbeat, complete, release, rescue and prune.
//!
//! Every statement that ends an attempt matches `locked_by` and `attempt`, so a worker
//! whose lease expired (and whose job was rescued and claimed again) changes nothing.
//!
//! An attempt's events are written when it ends, by the same statement: its `started`
//! event (dated at the claim, with the worker that held it) and how it ended. A claim
//! therefore writes nothing but the job row — the hot path is one row per job, as in
//! queues that keep no history — while every attempt, including one whose worker was
//! killed (the rescuer writes it), still appears in `job_events`. The attempt in
//! progress is on the job row itself (`state = 'running'`, `started_at`, `locked_by`).

use std::{sync::LazyLock, time::Duration};

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde_json::Value;

use crate::Result;

/// A claimed job, ready to run.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub kind: String,
    pub payload: Value,
    pub attempt: i32,
    pub max_attempts: i32,
    /// When it became runnable (enqueue time, or its scheduled time).
    pub ready_at: DateTime<Utc>,
    pub started_at: DateTime<Utc>,
    pub priority: i16,
}

impl Claimed {
    /// This job's place in fetch order.
    pub fn position(&self) -> FetchPosition {
        (self.priority, self.ready_at, self.id)
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Where the previous claim of a loop stopped in fetch order: (priority, run_at, id).
pub type FetchPosition = (i16, DateTime<Utc>, i64);

/// The claim as two CTEs, `next` (the jobs, locked) and `claimed` (them, now running
/// under a lease), with the placeholders of its parameters given by the caller, so
/// that it can stand alone or share a statement with a completion.
/// Index: job_queue_fetch_idx.
struct ClaimSql<'a> {
    queue: &'a str,
    kinds: &'a str,
    worker: &'a str,
    limit: &'a str,
    lease: &'a str,
    /// `(priority, run_at, id)` placeholders to resume after, if any.
    after: Option<&'a str>,
    /// A CTE of the same statement that must have run in full before any job is locked.
    wait_for: Option<&'a str>,
}

impl ClaimSql<'_> {
    fn ctes(&self) -> String {
        let ClaimSql { queue, kinds, worker, limit, lease, after, wait_for } = self;
        // A plain row comparison rather than `$n IS NULL OR …`: only that lets the planner
        // start the index scan at the position instead of filtering from the head.
        let resume = after.map(|a| format!("AND (priority, run_at, id) > ({a})")).unwrap_or_default();
        // An uncorrelated subquery in the filter is evaluated before the scan returns its
        // first row, so the other CTE has run in full before `FOR UPDATE` locks anything.
        let first = wait_for.map(|c| format!("AND (SELECT count(*) FROM {c}) >= 0")).unwrap_or_default();
        format!(
            "next AS (
                 SELECT id FROM job_queue
                 WHERE state = 'available' AND queue = {queue} AND run_at <= now() AND kind = ANY({kinds})
                       {resume} {first}
                 ORDER BY priority, run_at, id
                 LIMIT {limit}
                 FOR UPDATE SKIP LOCKED
             ), claimed AS (
                 UPDATE job_queue j
                 SET state = 'running', attempt = j.attempt + 1, locked_by = {worker}, started_at = now(),
                     lease_expires_at = now() + make_interval(secs => {lease})
                 FROM next WHERE j.id = next.id
                 RETURNING j.id, j.kind, j.payload, j.attempt, j.max_attempts, j.run_at, j.started_at, j.priority
             )"
        )
    }
}

/// The columns of `claimed` that make a [`Claimed`], from `offset` on.
const CLAIMED_COLUMNS: &str = "id, kind, payload, attempt, max_attempts, run_at, started_at, priority";

fn claimed_from(r: &tokio_postgres::Row, offset: usize) -> Claimed {
    Claimed {
        id: r.get(offset),
        kind: r.get(offset + 1),
        payload: r.get(offset + 2),
        attempt: r.get(offset + 3),
        max_attempts: r.get(offset + 4),
        ready_at: r.get(offset + 5),
        started_at: r.get(offset + 6),
        priority: r.get(offset + 7),
    }
}

/// Claims up to `limit` runnable jobs of `queue` for `worker` under a lease, in fetch
/// order after `after` when given. Index: job_queue_fetch_idx.
///
/// Starting after the previous claim skips the index entries of jobs already taken
/// and not yet vacuumed, which otherwise every claim walks again from the head (the
/// cost grows with the backlog). Callers restart from the head (`None`) whenever a
/// claim comes back short or a wake-up arrives, so jobs that sort earlier (a more
/// urgent new job, one skipped while locked) are found on the next pass.
pub async fn claim(
    db: &impl GenericClient,
    queue: &str,
    kinds: &[&str],
    worker: &str,
    limit: i64,
    lease: Duration,
    after: Option<FetchPosition>,
) -> Result<Vec<Claimed>> {
    // Statement texts built once (from the head, resuming), not on every claim.
    static SQL: LazyLock<[String; 2]> = LazyLock::new(|| {
        [None, Some("$6, $7, $8")].map(|after| {
            let sql =
                ClaimSql { queue: "$1", kinds: "$2", worker: "$3", limit: "$4", lease: "$5", after, wait_for: None };
            format!("WITH {} SELECT {CLAIMED_COLUMNS} FROM claimed ORDER BY priority, run_at, id", sql.ctes())
        })
    });
    let stmt = db.prepare_cached(&SQL[usize::from(after.is_some())]).await?;
    let kinds: Vec<String> = kinds.iter().map(|k| k.to_string()).collect();
    let lease = secs(lease);
    let rows = match &after {
        Some((p, r, i)) => db.query(&stmt, &[&queue, &kinds, &worker, &limit, &lease, p, r, i]).await?,
        None => db.query(&stmt, &[&queue, &kinds, &worker, &limit, &lease]).await?,
    };
    Ok(rows.iter().map(|r| claimed_from(r, 0)).collect())
}

/// What a heartbeat learned about the jobs it extended.
#[derive(Debug, Default)]
pub struct Beat {
    /// Still ours: lease extended, unless the row was locked at that moment (the next
    /// beat extends it; a lease lasts three beats).
    pub held: Vec<i64>,
    /// Still ours, but someone asked to cancel it.
    pub cancel: Vec<i64>,
}

/// Extends the leases of `jobs` (id, attempt) that this worker still holds.
///
/// The heartbeat never waits for a row lock: rows another statement holds at that
/// moment (this worker's batched completion of the same jobs, a claim that briefly
/// locked a row it then passed over, an operator's cancel) are skipped this beat. A
/// waiting heartbeat could deadlock with a batched completion, each holding some of
/// the rows the other wants. Whether a job is still ours is read without a lock, so a
/// skipped job is not mistaken for a lost lease.
pub async fn heartbeat(db: &impl GenericClient, worker: &str, jobs: &[(i64, i32)], lease: Duration) -> Result<Beat> {
    if jobs.is_empty() {
        return Ok(Beat::default());
    }
    let (ids, attempts): (Vec<i64>, Vec<i32>) = jobs.iter().copied().unzip();
    let stmt = db
        .prepare_cached(
            "WITH ours AS (
                 SELECT j.id, j.cancel_requested_at IS NOT NULL AS cancel
                 FROM job_queue j, unnest($2::bigint[], $3::int[]) AS t(id, attempt)
                 WHERE j.id = t.id AND j.attempt = t.attempt AND j.locked_by = $1 AND j.state = 'running'
             ), free AS (
                 SELECT j.id FROM job_queue j, ours
                 WHERE j.id = ours.id AND j.locked_by = $1 AND j.state = 'running'
                 FOR UPDATE OF j SKIP LOCKED
             ), extended AS (
                 UPDATE job_queue j SET lease_expires_at = now() + make_interval(secs => $4)
                 FROM free WHERE j.id = free.id
             )
             SELECT id, cancel FROM ours",
        )
        .await?;
    let rows = db.query(&stmt, &[&worker, &ids, &attempts, &secs(lease)]).await?;
    let mut beat = Beat::default();
    for r in rows {
        beat.held.push(r.get(0));
        if r.get::<_, bool>(1) {
            beat.cancel.push(r.get(0));
        }
    }
    Ok(beat)
}

/// The end of an attempt as two CTEs: `done` (the job row, fenced by worker and attempt)
/// and `events` (its `started` event, dated at the claim, and how it ended).
/// Parameters: $1 id, $2 attempt, $3 worker, $4 new state, $5 error, $6 retry delay in
/// seconds, $7 duration in ms.
const COMPLETION_CTES: &str = "done AS (
         UPDATE job_queue SET
             state = $4,
             locked_by = NULL, lease_expires_at = NULL,
             finished_at = CASE WHEN $4 = 'available' THEN NULL ELSE now() END,
             run_at = CASE WHEN $4 = 'available' THEN now() + make_interval(secs => $6) ELSE run_at END,
             errors = CASE WHEN $5::text IS NULL THEN errors
                      ELSE errors || jsonb_build_object('attempt', attempt, 'at', now(), 'error', $5::text) END
         WHERE id = $1 AND attempt = $2 AND locked_by = $3 AND state = 'running'
         RETURNING id, kind, attempt, started_at
     ), events AS (
         INSERT INTO job_events (job_id, kind, event, worker_id, attempt, duration_ms, error, created_at)
         SELECT id, kind, e.event, $3, attempt,
                CASE WHEN e.event = 'started' THEN NULL ELSE $7::int END,
                CASE WHEN e.event = 'started' THEN NULL ELSE $5::text END,
                CASE WHEN e.event = 'started' THEN started_at ELSE now() END
         FROM done,
              unnest(CASE $4 WHEN 'succeeded' THEN ARRAY['started', 'succeeded']
                             WHEN 'cancelled' THEN ARRAY['started', 'cancelled']
                             WHEN 'discarded' THEN ARRAY['started', 'failed', 'discarded']
                             ELSE ARRAY['started', 'failed', 'retry_scheduled'] END) WITH ORDINALITY AS e(event, n)
         ORDER BY e.n
     )";

/// The parameters $1–$7 of [`COMPLETION_CTES`] for `job` ending with `outcome`.
struct Completion<'a> {
    state: &'static str,
    error: Option<&'a str>,
    retry_in: Option<f64>,
    ms: i32,
}

impl<'a> Completion<'a> {
    fn new(job: &Claimed, outcome: &'a Outcome, duration: Duration) -> Self {
        let ms = duration.as_millis().min(i32::MAX as u128) as i32;
        let (state, error, retry_in) = match outcome {
            Outcome::Succeeded => ("succeeded", None, None),
            Outcome::Cancelled => ("cancelled", Some("cancelled"), None),
            Outcome::Discarded(e) => ("discarded", Some(e.as_str()), None),
            Outcome::Failed(e) if job.attempt >= job.max_attempts => ("discarded", Some(e.as_str()), None),
            Outcome::Failed(e) => ("available", Some(e.as_str()), Some(super::backoff(job.attempt).as_secs_f64())),
        };
        Completion { state, error, retry_in, ms }
    }
}

/// How an attempt ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    Succeeded,
    /// Retry later unless out of attempts (then discard).
    Failed(String),
    /// Discard now (e.g. an unreadable payload).
    Discarded(String),
    Cancelled,
}

/// Records the end of an attempt, fenced by worker and attempt. Returns false when the
/// job was no longer ours (lease lost): nothing was changed.
pub async fn complete(
    db: &impl GenericClient,
    worker: &str,
    job: &Claimed,
    outcome: &Outcome,
    duration: Duration,
) -> Result<bool> {
    let c = Completion::new(job, outcome, duration);
    static SQL: LazyLock<String> = LazyLock::new(|| format!("WITH {COMPLETION_CTES} SELECT id FROM done"));
    let stmt = db.prepare_cached(&SQL).await?;
    let rows = db.query(&stmt, &[&job.id, &job.attempt, &worker, &c.state, &c.error, &c.retry_in, &c.ms]).await?;
    Ok(!rows.is_empty())
}

/// Records the end of an attempt and claims the next runnable job of `queue` (in fetch
/// order after `after`, as in [`claim`]), in one statement: one round trip and one
/// commit where [`complete`] then [`claim`] would take two of each (four round trips
/// in an explicit transaction). The completion is fenced exactly as in [`complete`];
/// returns whether it was recorded, and the job claimed, if any.
///
/// Both halves read one snapshot, which is safe: the claim only takes `available` jobs,
/// and the job being completed is `running`.
#[allow(clippy::too_many_arguments)]
pub async fn complete_and_claim(
    db: &impl GenericClient,
    worker: &str,
    job: &Claimed,
    outcome: &Outcome,
    duration: Duration,
    queue: &str,
    kinds: &[&str],
    lease: Duration,
    after: Option<FetchPosition>,
) -> Result<(bool, Option<Claimed>)> {
    // Statement texts built once (from the head, resuming): this runs for every job.
    // The completion runs before the claim locks anything. The other order deadlocks:
    // a claim may lock a row it then finds taken (`FOR UPDATE` keeps the lock of a row
    // that fails its recheck) — another worker's running job, which that worker is
    // completing in the same statement as its own claim, which may hold ours.
    static SQL: LazyLock<[String; 2]> = LazyLock::new(|| {
        [None, Some("$11, $12, $13")].map(|after| {
            let claim = ClaimSql {
                queue: "$8",
                kinds: "$9",
                worker: "$3",
                limit: "1",
                lease: "$10",
                after,
                wait_for: Some("done"),
            }
            .ctes();
            format!(
                "WITH {COMPLETION_CTES}, {claim}
                 SELECT EXISTS (SELECT FROM done), {CLAIMED_COLUMNS}
                 FROM (VALUES (1)) AS one LEFT JOIN claimed ON true"
            )
        })
    });
    let c = Completion::new(job, outcome, duration);
    let stmt = db.prepare_cached(&SQL[usize::from(after.is_some())]).await?;
    let kinds: Vec<String> = kinds.iter().map(|k| k.to_string()).collect();
    let lease = secs(lease);
    let mut params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
        vec![&job.id, &job.attempt, &worker, &c.state, &c.error, &c.retry_in, &c.ms, &queue, &kinds, &lease];
    if let Some((p, r, i)) = &after {
        params.extend([p as &(dyn tokio_postgres::types::ToSql + Sync), r, i]);
    }
    let row = db.query_one(&stmt, &params).await?;
    let next = row.get::<_, Option<i64>>(1).is_some().then(|| claimed_from(&row, 1));
    Ok((row.get(0), next))
}

/// Records many successes in one statement (the completer batches them), fenced like
/// [`complete`]. `jobs` is (id, attempt, duration_ms); returns the ids recorded.
pub async fn complete_succeeded(db: &impl GenericClient, worker: &str, jobs: &[(i64, i32, i32)]) -> Result<Vec<i64>> {
    let ids: Vec<i64> = jobs.iter().map(|j| j.0).collect();
    let attempts: Vec<i32> = jobs.iter().map(|j| j.1).collect();
    let ms: Vec<i32> = jobs.iter().map(|j| j.2).collect();
    let stmt = db
        .prepare_cached(
            "WITH input AS (
                 SELECT * FROM unnest($2::bigint[], $3::int[], $4::int[]) AS t(id, attempt, ms)
             ), done AS (
                 UPDATE job_queue j SET state = 'succeeded', locked_by = NULL, lease_expires_at = NULL, finished_at = now()
                 FROM input
                 WHERE j.id = input.id AND j.attempt = input.attempt AND j.locked_by = $1 AND j.state = 'running'
                 RETURNING j.id, j.kind, j.attempt, j.started_at, input.ms
             ), events AS (
                 INSERT INTO job_events (job_id, kind, event, worker_id, attempt, duration_ms, created_at)
                 SELECT id, kind, e.event, $1, attempt,
                        CASE WHEN e.started THEN NULL ELSE ms END, CASE WHEN e.started THEN started_at ELSE now() END
                 FROM done, (VALUES ('started', true), ('succeeded', false)) AS e(event, started)
                 ORDER BY id, e.started DESC
             )
             SELECT id FROM done",
        )
        .await?;
    let rows = db.query(&stmt, &[&worker, &ids, &attempts, &ms]).await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Puts jobs this worker still holds back in the queue without using up an attempt
/// (graceful shutdown that ran out of time).
pub async fn release(db: &impl GenericClient, worker: &str, jobs: &[(i64, i32)]) -> Result<u64> {
    if jobs.is_empty() {
        return Ok(0);
    }
    let (ids, attempts): (Vec<i64>, Vec<i32>) = jobs.iter().copied().unzip();
    let rows = db
        .query(
            "WITH released AS (
                 UPDATE job_queue j SET state = 'available', attempt = j.attempt - 1, locked_by = NULL,
                        lease_expires_at = NULL, run_at = now()
                 FROM unnest($2::bigint[], $3::int[]) AS t(id, attempt)
                 WHERE j.id = t.id AND j.attempt = t.attempt AND j.locked_by = $1 AND j.state = 'running'
                 RETURNING j.id, j.kind, j.attempt + 1 AS attempt, j.started_at
             )
             INSERT INTO job_events (job_id, kind, event, worker_id, attempt, created_at)
             SELECT id, kind, e.event, $1, attempt, CASE WHEN e.started THEN started_at ELSE now() END
             FROM released, (VALUES ('started', true), ('released', false)) AS e(event, started)
             ORDER BY id, e.started DESC
             RETURNING job_id",
            &[&worker, &ids, &attempts],
        )
        .await?;
    if !rows.is_empty() {
        crate::wake(db, crate::Wake::All).await?;
    }
    Ok(rows.len() as u64)
}

/// Returns running jobs whose lease expired (their worker died or hung) to the queue,
/// or discards them when that was their last attempt. Returns (id, queue) of each.
/// Index: job_queue_lease_idx.
pub async fn rescue(db: &impl GenericClient) -> Result<Vec<(i64, String)>> {
    let rows = db
        .query(
            "WITH expired AS (
                 SELECT id, locked_by, started_at FROM job_queue WHERE state = 'running' AND lease_expires_at < now()
                 FOR UPDATE SKIP LOCKED
             ), rescued AS (
                 UPDATE job_queue j SET
                     state = CASE WHEN j.attempt >= j.max_attempts THEN 'discarded' ELSE 'available' END,
                     finished_at = CASE WHEN j.attempt >= j.max_attempts THEN now() END,
                     locked_by = NULL, lease_expires_at = NULL, run_at = now(),
                     errors = j.errors || jsonb_build_object('attempt', j.attempt, 'at', now(),
                              'error', 'lease expired: worker ' || j.locked_by || ' stopped heartbeating')
                 FROM expired WHERE j.id = expired.id
                 RETURNING j.id, j.kind, j.queue, j.attempt, j.state, expired.locked_by, expired.started_at
             ), events AS (
                 INSERT INTO job_events (job_id, kind, event, worker_id, attempt, error, created_at)
                 SELECT id, kind, e.event, locked_by, attempt, e.error,
                        CASE WHEN e.started THEN started_at ELSE now() END
                 FROM rescued, LATERAL (VALUES ('started', true, NULL),
                     (CASE state WHEN 'discarded' THEN 'discarded' ELSE 'rescued' END, false, 'lease expired'))
                     AS e(event, started, error)
                 ORDER BY id, e.started DESC
             )
             SELECT id, queue FROM rescued",
            &[],
        )
        .await?;
    let rescued: Vec<(i64, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    let mut queues: Vec<&str> = rescued.iter().map(|(_, q)| q.as_str()).collect();
    queues.sort_unstable();
    queues.dedup();
    for q in queues {
        crate::wake(db, crate::Wake::Queue(q)).await?;
    }
    Ok(rescued)
}

/// Deletes up to `batch` finished jobs and up to `batch` events older than `retention`;
/// returns (jobs, events). Callers repeat while a batch comes back full. Rows another
/// worker is pruning at the same moment are skipped, not waited for.
/// Index: job_queue_finished_idx, job_events_created_idx.
pub async fn prune(db: &impl GenericClient, retention: Duration, batch: i64) -> Result<(u64, u64)> {
    let jobs = db
        .execute(
            "DELETE FROM job_queue WHERE id IN (
                 SELECT id FROM job_queue
                 WHERE state IN ('succeeded', 'discarded', 'cancelled') AND finished_at < now() - make_interval(secs => $1)
                 LIMIT $2 FOR UPDATE SKIP LOCKED)",
            &[&secs(retention), &batch],
        )
        .await?;
    let events = db
        .execute(
            "DELETE FROM job_events WHERE id IN (
                 SELECT id FROM job_events WHERE created_at < now() - make_interval(secs => $1)
                 LIMIT $2 FOR UPDATE SKIP LOCKED)",
            &[&secs(retention), &batch],
        )
        .await?;
    Ok((jobs, events))
}

/// Jobs waiting (`available`, scheduled ones included) and `running`, per queue, for
/// metrics. Finished jobs are history, not depth; counting them would scan the whole
/// retention on every refresh. Each half reads only its partial index.
pub async fn depth(db: &impl GenericClient) -> Result<Vec<(String, String, i64)>> {
    let rows = db
        .query(
            "SELECT queue, 'available', count(*) FROM job_queue WHERE state = 'available' GROUP BY queue
             UNION ALL
             SELECT queue, 'running', count(*) FROM job_queue WHERE state = 'running' GROUP BY queue",
            &[],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect())
}
