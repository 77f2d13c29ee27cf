//! The job queue against a real PostgreSQL, with in-process workers.

use std::time::Duration;

use atum_core::jobs::{JobContext, Registry};
use atum_queue::{
    Job, JobError, admin,
    enqueue::Options,
    store::{self, Outcome},
    worker::{Runner, WorkerConfig},
};
use atum_runtime::{Metrics, Progress, config::Service, listener};
use atum_testing::TestDb;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

/// Records each run's start and end, so overlaps are visible in SQL.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    n: i64,
}

impl Job for Record {
    type Services = atum_core::jobs::Services;
    const KIND: &'static str = "RECORD";

    async fn run(self, ctx: JobContext) -> Result<(), JobError> {
        let conn = ctx.pool.get().await.map_err(|e| JobError::Retry(e.to_string()))?;
        conn.execute(
            "INSERT INTO runs (job_id, n, started) VALUES ($1, $2, clock_timestamp())",
            &[&ctx.job_id, &self.n],
        )
        .await?;
        // The work itself: a run lasts a moment, as real work does, so that two runs of
        // one job would overlap in `runs` and several workers share a batch. Not a
        // wait for anything (tests wait with `eventually` or drain the queue).
        tokio::time::sleep(Duration::from_millis(2)).await;
        conn.execute(
            "UPDATE runs SET finished = clock_timestamp() WHERE job_id = $1 AND finished IS NULL",
            &[&ctx.job_id],
        )
        .await?;
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Flaky;

impl Job for Flaky {
    type Services = atum_core::jobs::Services;
    const KIND: &'static str = "FLAKY";
    const MAX_ATTEMPTS: i32 = 3;

    async fn run(self, _ctx: JobContext) -> Result<(), JobError> {
        Err(JobError::Retry("the upstream said no".into()))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Keyed {
    ticket: i64,
}

impl Job for Keyed {
    type Services = atum_core::jobs::Services;
    const KIND: &'static str = "KEYED";

    fn unique_key(&self) -> Option<String> {
        Some(format!("ticket:{}", self.ticket))
    }

    async fn run(self, _ctx: JobContext) -> Result<(), JobError> {
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Wait {
    ms: u64,
}

impl Job for Wait {
    type Services = atum_core::jobs::Services;
    const KIND: &'static str = "WAIT";

    async fn run(self, ctx: JobContext) -> Result<(), JobError> {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(self.ms)) => Ok(()),
            _ = ctx.cancelled() => Err(JobError::Cancelled),
        }
    }
}

fn registry() -> Registry {
    Registry::default().register::<Record>().register::<Flaky>().register::<Keyed>().register::<Wait>()
}

fn config(id: &str) -> WorkerConfig {
    WorkerConfig {
        worker_id: id.into(),
        queues: vec![("default".into(), 4)],
        lease: Duration::from_secs(3),
        poll_interval: Duration::from_millis(200),
        retention: Duration::from_secs(3600),
        claim_batch: 50,
        prefetch: 0,
        batch_completions: true,
    }
}

/// A worker running in this process until the returned token is cancelled.
fn start_worker(db: &TestDb, id: &str) -> (CancellationToken, tokio::task::JoinHandle<()>) {
    start_worker_with(db, config(id))
}

fn start_worker_with(db: &TestDb, config: WorkerConfig) -> (CancellationToken, tokio::task::JoinHandle<()>) {
    let shutdown = CancellationToken::new();
    let metrics = Metrics::new(Service::JobWorker);
    let wakeups = listener::spawn(db.config.pg.clone(), vec![atum_queue::CHANNEL], metrics.clone(), shutdown.clone());
    let runner = Runner::new(db.pool.clone(), registry(), config, &metrics);
    let handle = tokio::spawn(runner.run(wakeups, shutdown.clone(), Progress::default(), Duration::from_secs(5)));
    (shutdown, handle)
}

async fn count(db: &TestDb, sql: &str) -> i64 {
    db.client().await.query_one(sql, &[]).await.unwrap().get(0)
}

async fn wait_until(db: &TestDb, sql: &str, expected: i64, timeout: Duration) {
    atum_testing::eventually::count_until(&db.client().await, sql, timeout, |n| n == expected).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rolled_back_transaction_leaves_no_job_and_a_committed_one_does() {
    let db = TestDb::migrated().await;
    let mut client = db.pool.get().await.unwrap();
    let tx = client.transaction().await.unwrap();
    atum_queue::enqueue(&tx, &Record { n: 1 }, Options::default()).await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(count(&db, "SELECT count(*) FROM job_queue").await, 0);

    let tx = client.transaction().await.unwrap();
    let id = atum_queue::enqueue(&tx, &Record { n: 2 }, Options::default()).await.unwrap();
    tx.commit().await.unwrap();
    assert!(id.is_some());
    assert_eq!(count(&db, "SELECT count(*) FROM job_events WHERE event = 'enqueued'").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_enqueues_with_one_unique_key_make_one_job() {
    let db = TestDb::migrated().await;
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let pool = db.pool.clone();
            tokio::spawn(async move {
                let mut conn = pool.get().await.unwrap();
                let tx = conn.transaction().await.unwrap();
                let id = atum_queue::enqueue(&tx, &Keyed { ticket: 7 }, Options::default()).await;
                tx.commit().await.unwrap();
                id.unwrap()
            })
        })
        .collect();
    let mut created = 0;
    for t in tasks {
        created += t.await.unwrap().is_some() as i32;
    }
    assert_eq!(created, 1);
    assert_eq!(count(&db, "SELECT count(*) FROM job_queue WHERE kind = 'KEYED'").await, 1);
    // Another key, and a batch with a duplicate inside it.
    let conn = db.pool.get().await.unwrap();
    let ids = atum_queue::enqueue_many(
        &conn,
        &[Keyed { ticket: 8 }, Keyed { ticket: 8 }, Keyed { ticket: 7 }],
        Options::default(),
    )
    .await
    .unwrap();
    assert!(ids[0].is_some() && ids[1].is_none() && ids[2].is_none(), "{ids:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_of_several_kinds_keeps_each_jobs_own_settings_and_keys() {
    let db = TestDb::migrated().await;
    let conn = db.pool.get().await.unwrap();
    atum_queue::enqueue(&conn, &Keyed { ticket: 1 }, Options::default()).await.unwrap().unwrap();
    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    let mut batch = atum_queue::Batch::default();
    batch.push(&Keyed { ticket: 1 }, Options::default()).unwrap(); // already waiting
    batch.push(&Flaky, Options { priority: Some(2), run_at: None }).unwrap();
    batch.push(&Keyed { ticket: 2 }, Options::default()).unwrap();
    batch.push(&Wait { ms: 5 }, Options { priority: None, run_at: Some(later) }).unwrap();
    batch.push(&Keyed { ticket: 2 }, Options::default()).unwrap(); // earlier in this batch
    let ids = batch.enqueue(&conn).await.unwrap();
    assert!(ids[0].is_none() && ids[4].is_none(), "{ids:?}");
    let (flaky, keyed, wait) = (ids[1].unwrap(), ids[2].unwrap(), ids[3].unwrap());
    assert!(flaky < keyed && keyed < wait, "ids follow the order of the batch: {ids:?}");
    let row = |id: i64| {
        let conn = &conn;
        async move {
            conn.query_one(
                "SELECT kind::text, priority::int, max_attempts::int, run_at > now() + interval '59 minutes',
                        (SELECT count(*) FROM job_events e WHERE e.job_id = q.id AND e.event = 'enqueued')
                   FROM job_queue q WHERE id = $1",
                &[&id],
            )
            .await
            .unwrap()
        }
    };
    let f = row(flaky).await;
    assert_eq!((f.get::<_, String>(0), f.get::<_, i32>(1), f.get::<_, i32>(2)), ("FLAKY".into(), 2, 3));
    assert!(!f.get::<_, bool>(3));
    let k = row(keyed).await;
    assert_eq!((k.get::<_, String>(0), k.get::<_, i32>(2)), ("KEYED".into(), Keyed::MAX_ATTEMPTS));
    let w = row(wait).await;
    assert_eq!(w.get::<_, String>(0), "WAIT");
    assert!(w.get::<_, bool>(3), "the wait job runs an hour from now");
    for r in [&f, &k, &w] {
        assert_eq!(r.get::<_, i64>(4), 1, "one enqueued event per job");
    }
    assert_eq!(count(&db, "SELECT count(*) FROM job_queue").await, 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_back_off_exponentially_and_end_discarded_with_every_error_kept() {
    let db = TestDb::migrated().await;
    let conn = db.pool.get().await.unwrap();
    let id = atum_queue::enqueue(&conn, &Flaky, Options::default()).await.unwrap().unwrap();
    for attempt in 1..=3 {
        let claimed =
            store::claim(&conn, "default", &["FLAKY"], "w1", 10, Duration::from_secs(30), None).await.unwrap();
        assert_eq!(claimed.len(), 1, "attempt {attempt}");
        assert_eq!(claimed[0].attempt, attempt);
        let recorded =
            store::complete(&conn, "w1", &claimed[0], &Outcome::Failed(format!("boom {attempt}")), Duration::ZERO)
                .await
                .unwrap();
        assert!(recorded);
        let row = conn
            .query_one("SELECT state, extract(epoch FROM run_at - now())::float8 FROM job_queue WHERE id = $1", &[&id])
            .await
            .unwrap();
        let (state, delay): (String, f64) = (row.get(0), row.get(1));
        if attempt < 3 {
            let base = 2f64.powi(attempt);
            assert_eq!(state, "available");
            assert!(delay > base * 0.7 && delay <= base * 1.25 + 0.1, "attempt {attempt}: retry in {delay}s");
            // Not claimable before its time.
            assert!(
                store::claim(&conn, "default", &["FLAKY"], "w1", 10, Duration::from_secs(30), None)
                    .await
                    .unwrap()
                    .is_empty()
            );
            conn.execute("UPDATE job_queue SET run_at = now() WHERE id = $1", &[&id]).await.unwrap();
        } else {
            assert_eq!(state, "discarded");
        }
    }
    let (job, events) = admin::get(&conn, None, id).await.unwrap();
    let errors: Vec<&str> = job.errors.as_array().unwrap().iter().map(|e| e["error"].as_str().unwrap()).collect();
    assert_eq!(errors, ["boom 1", "boom 2", "boom 3"]);
    let kinds: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "retry_scheduled").count(), 2);
    assert_eq!(kinds.last(), Some(&"discarded"));

    // An operator retries it: one more attempt, history kept.
    let retried = admin::retry(&conn, None, id).await.unwrap();
    assert_eq!((retried.state.as_str(), retried.max_attempts), ("available", 4));
    assert_eq!(retried.errors.as_array().unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn three_workers_run_every_job_exactly_once_and_never_concurrently() {
    exactly_once_across_three_workers(config).await;
}

/// Unbatched: one claim and one completion per transaction, each slot claiming its next
/// job in the transaction that records the last.
#[tokio::test(flavor = "multi_thread")]
async fn chained_claims_also_run_every_job_exactly_once_and_never_concurrently() {
    exactly_once_across_three_workers(|id| WorkerConfig { claim_batch: 1, batch_completions: false, ..config(id) })
        .await;
}

async fn exactly_once_across_three_workers(config: fn(&str) -> WorkerConfig) {
    let db = TestDb::migrated().await;
    db.client()
        .await
        .batch_execute("CREATE TABLE runs (job_id bigint, n bigint, started timestamptz, finished timestamptz)")
        .await
        .unwrap();
    let workers: Vec<_> = ["w1", "w2", "w3"].iter().map(|id| start_worker_with(&db, config(id))).collect();
    let conn = db.pool.get().await.unwrap();
    let batch: Vec<Record> = (0..300).map(|n| Record { n }).collect();
    atum_queue::enqueue_many(&conn, &batch, Options::default()).await.unwrap();

    wait_until(&db, "SELECT count(*) FROM job_queue WHERE state = 'succeeded'", 300, Duration::from_secs(60)).await;
    assert_eq!(count(&db, "SELECT count(*) FROM runs").await, 300, "a job ran twice or not at all");
    assert_eq!(count(&db, "SELECT count(DISTINCT job_id) FROM runs").await, 300);
    let workers_used = count(&db, "SELECT count(DISTINCT worker_id) FROM job_events WHERE event = 'started'").await;
    assert!(workers_used >= 2, "only {workers_used} worker did the work");
    for (shutdown, handle) in workers {
        shutdown.cancel();
        handle.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_payload_that_does_not_fit_its_kind_is_discarded_and_the_worker_goes_on() {
    let db = TestDb::migrated().await;
    db.client()
        .await
        .batch_execute("CREATE TABLE runs (job_id bigint, n bigint, started timestamptz, finished timestamptz)")
        .await
        .unwrap();
    db.client()
        .await
        .batch_execute("INSERT INTO job_queue (kind, payload) VALUES ('RECORD', '{\"n\": \"not a number\"}')")
        .await
        .unwrap();
    let conn = db.pool.get().await.unwrap();
    atum_queue::enqueue(&conn, &Record { n: 1 }, Options::default()).await.unwrap();
    let (shutdown, handle) = start_worker(&db, "w1");
    wait_until(
        &db,
        "SELECT count(*) FROM job_queue WHERE state IN ('succeeded', 'discarded')",
        2,
        Duration::from_secs(20),
    )
    .await;
    let error: String = db
        .client()
        .await
        .query_one("SELECT errors->0->>'error' FROM job_queue WHERE state = 'discarded'", &[])
        .await
        .unwrap()
        .get(0);
    assert!(error.starts_with("invalid payload for RECORD"), "{error}");
    assert_eq!(count(&db, "SELECT count(*) FROM job_queue WHERE state = 'succeeded'").await, 1);
    shutdown.cancel();
    handle.await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn pending_and_running_jobs_can_be_cancelled() {
    let db = TestDb::migrated().await;
    let conn = db.pool.get().await.unwrap();
    let later = Options { run_at: Some(chrono::Utc::now() + chrono::Duration::hours(1)), ..Options::default() };
    let pending = atum_queue::enqueue(&conn, &Wait { ms: 10 }, later).await.unwrap().unwrap();
    assert_eq!(admin::cancel(&conn, None, pending).await.unwrap().state, "cancelled");
    assert!(matches!(admin::cancel(&conn, None, pending).await, Err(atum_queue::Error::InvalidState(_))));

    let running = atum_queue::enqueue(&conn, &Wait { ms: 60_000 }, Options::default()).await.unwrap().unwrap();
    let (shutdown, handle) = start_worker(&db, "w1");
    wait_until(
        &db,
        &format!("SELECT count(*) FROM job_queue WHERE id = {running} AND state = 'running'"),
        1,
        Duration::from_secs(10),
    )
    .await;
    admin::cancel(&conn, None, running).await.unwrap();
    // The next heartbeat (a third of the 3 s lease) tells the handler, which stops.
    wait_until(
        &db,
        &format!("SELECT count(*) FROM job_queue WHERE id = {running} AND state = 'cancelled'"),
        1,
        Duration::from_secs(5),
    )
    .await;
    shutdown.cancel();
    handle.await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_lease_is_rescued_and_the_old_worker_cannot_overwrite_the_new_attempt() {
    let db = TestDb::migrated().await;
    let conn = db.pool.get().await.unwrap();
    let id = atum_queue::enqueue(&conn, &Wait { ms: 1 }, Options::default()).await.unwrap().unwrap();
    let dead =
        store::claim(&conn, "default", &["WAIT"], "dead-worker", 1, Duration::from_secs(30), None).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert!(store::rescue(&conn).await.unwrap().is_empty(), "rescued before the lease expired");
    // The worker stops renewing: its lease runs out (back-dated rather than waited for).
    conn.execute("UPDATE job_queue SET lease_expires_at = now() - interval '1 second' WHERE id = $1", &[&id])
        .await
        .unwrap();
    assert_eq!(store::rescue(&conn).await.unwrap(), vec![(id, "default".to_owned())]);

    let alive =
        store::claim(&conn, "default", &["WAIT"], "live-worker", 1, Duration::from_secs(30), None).await.unwrap();
    assert_eq!(alive[0].attempt, 2);
    // The first worker comes back from the dead and reports success: refused.
    assert!(!store::complete(&conn, "dead-worker", &dead[0], &Outcome::Succeeded, Duration::ZERO).await.unwrap());
    let state: String = conn.query_one("SELECT state FROM job_queue WHERE id = $1", &[&id]).await.unwrap().get(0);
    assert_eq!(state, "running");
    assert!(store::complete(&conn, "live-worker", &alive[0], &Outcome::Succeeded, Duration::ZERO).await.unwrap());
    let (_, events) = admin::get(&conn, None, id).await.unwrap();
    assert!(events.iter().any(|e| e.event == "rescued"));
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_releases_jobs_that_outlive_the_deadline_without_using_an_attempt() {
    let db = TestDb::migrated().await;
    let conn = db.pool.get().await.unwrap();
    let quick = atum_queue::enqueue(&conn, &Wait { ms: 200 }, Options::default()).await.unwrap().unwrap();
    let slow = atum_queue::enqueue(&conn, &Wait { ms: 600_000 }, Options::default()).await.unwrap().unwrap();
    let shutdown = CancellationToken::new();
    let metrics = Metrics::new(Service::JobWorker);
    let wakeups = listener::spawn(db.config.pg.clone(), vec![atum_queue::CHANNEL], metrics.clone(), shutdown.clone());
    let runner = Runner::new(db.pool.clone(), registry(), config("w1"), &metrics);
    let handle = tokio::spawn(runner.run(wakeups, shutdown.clone(), Progress::default(), Duration::from_millis(800)));
    wait_until(&db, "SELECT count(*) FROM job_queue WHERE state = 'running'", 2, Duration::from_secs(10)).await;
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), handle).await.expect("the runner stops within the deadline").unwrap();
    let state = |id: i64| {
        let conn = &conn;
        async move {
            let r = conn.query_one("SELECT state, attempt FROM job_queue WHERE id = $1", &[&id]).await.unwrap();
            (r.get::<_, String>(0), r.get::<_, i32>(1))
        }
    };
    assert_eq!(state(quick).await, ("succeeded".into(), 1), "the quick job was allowed to finish");
    assert_eq!(state(slow).await, ("available".into(), 0), "the slow job went back without using an attempt");
}

#[tokio::test(flavor = "multi_thread")]
async fn pruning_removes_only_finished_jobs_and_events_past_the_retention() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    client
        .batch_execute(
            "INSERT INTO job_queue (kind, state, finished_at) VALUES
                 ('OLD', 'succeeded', now() - interval '2 days'),
                 ('OLD', 'discarded', now() - interval '2 days'),
                 ('NEW', 'succeeded', now() - interval '1 minute');
             INSERT INTO job_queue (kind, state, run_at) VALUES ('WAITING', 'available', now() - interval '3 days');
             INSERT INTO job_events (job_id, kind, event, created_at) VALUES
                 (1, 'OLD', 'enqueued', now() - interval '2 days'), (3, 'NEW', 'enqueued', now());",
        )
        .await
        .unwrap();
    let conn = db.pool.get().await.unwrap();
    let (jobs, events) = store::prune(&conn, Duration::from_secs(24 * 3600), 1000).await.unwrap();
    assert_eq!((jobs, events), (2, 1));
    let left: Vec<String> =
        client.query("SELECT kind FROM job_queue ORDER BY id", &[]).await.unwrap().iter().map(|r| r.get(0)).collect();
    assert_eq!(left, ["NEW", "WAITING"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn prefetched_jobs_that_never_got_a_slot_are_released_at_shutdown() {
    let db = TestDb::migrated().await;
    let conn = db.pool.get().await.unwrap();
    let batch: Vec<Wait> = (0..5).map(|_| Wait { ms: 400 }).collect();
    atum_queue::enqueue_many(&conn, &batch, Options::default()).await.unwrap();
    let shutdown = CancellationToken::new();
    let metrics = Metrics::new(Service::JobWorker);
    let wakeups = listener::spawn(db.config.pg.clone(), vec![atum_queue::CHANNEL], metrics.clone(), shutdown.clone());
    let config = WorkerConfig { queues: vec![("default".into(), 1)], prefetch: 10, ..config("w1") };
    let runner = Runner::new(db.pool.clone(), registry(), config, &metrics);
    let handle = tokio::spawn(runner.run(wakeups, shutdown.clone(), Progress::default(), Duration::from_secs(5)));
    // All five are claimed at once (one runs, four wait locally under lease).
    wait_until(&db, "SELECT count(*) FROM job_queue WHERE state = 'running'", 5, Duration::from_secs(10)).await;
    shutdown.cancel();
    handle.await.unwrap();
    assert_eq!(count(&db, "SELECT count(*) FROM job_queue WHERE state = 'succeeded'").await, 1);
    assert_eq!(count(&db, "SELECT count(*) FROM job_queue WHERE state = 'available' AND attempt = 0").await, 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_claim_can_continue_after_the_previous_one_and_a_fresh_pass_finds_urgent_jobs() {
    let db = TestDb::migrated().await;
    let conn = db.pool.get().await.unwrap();
    let ids = atum_queue::enqueue_many(&conn, &[Wait { ms: 1 }, Wait { ms: 1 }, Wait { ms: 1 }], Options::default())
        .await
        .unwrap();
    let lease = Duration::from_secs(30);
    let first = store::claim(&conn, "default", &["WAIT"], "w", 1, lease, None).await.unwrap();
    assert_eq!(first[0].id, ids[0].unwrap());
    let urgent =
        atum_queue::enqueue(&conn, &Wait { ms: 1 }, Options { priority: Some(0), ..Options::default() }).await.unwrap();
    // Continuing after the first claim walks on in order and does not see the urgent job...
    let next = store::claim(&conn, "default", &["WAIT"], "w", 1, lease, Some(first[0].position())).await.unwrap();
    assert_eq!(next[0].id, ids[1].unwrap());
    // ...which the next pass from the head (after a wake-up) takes first.
    let fresh = store::claim(&conn, "default", &["WAIT"], "w", 1, lease, None).await.unwrap();
    assert_eq!(fresh[0].id, urgent.unwrap());
}

/// A chained slot resumes after the job it just ran, so it must go back to the head of
/// the queue when a job is announced that may sort before its place. The poll interval
/// is a minute here: only the wake-up can bring the urgent job forward.
#[tokio::test(flavor = "multi_thread")]
async fn a_chained_slot_takes_an_urgent_job_as_soon_as_it_is_announced() {
    let db = TestDb::migrated().await;
    let conn = db.pool.get().await.unwrap();
    let backlog: Vec<Wait> = (0..200).map(|_| Wait { ms: 25 }).collect();
    atum_queue::enqueue_many(&conn, &backlog, Options::default()).await.unwrap();
    let config = WorkerConfig {
        queues: vec![("default".into(), 2)],
        poll_interval: Duration::from_secs(60),
        claim_batch: 1,
        batch_completions: false,
        ..config("chain")
    };
    let (shutdown, handle) = start_worker_with(&db, config);
    wait_until(&db, "SELECT least(count(*), 10) FROM job_queue WHERE state = 'succeeded'", 10, Duration::from_secs(30))
        .await;

    let urgent = atum_queue::enqueue(&conn, &Wait { ms: 1 }, Options { priority: Some(0), ..Options::default() })
        .await
        .unwrap()
        .unwrap();
    wait_until(
        &db,
        &format!("SELECT count(*) FROM job_queue WHERE id = {urgent} AND state = 'succeeded'"),
        1,
        Duration::from_secs(30),
    )
    .await;
    // Backlog jobs claimed between the enqueue and the urgent job's start: the claims
    // already on their way when the wake-up arrived, a few per slot on a busy machine
    // (without the wake-up, the whole backlog: 177 of 200 in one run).
    let overtaken = count(
        &db,
        &format!(
            "SELECT count(*) FROM job_queue j, job_queue u
             WHERE u.id = {urgent} AND j.id <> u.id AND j.started_at > u.created_at AND j.started_at < u.started_at"
        ),
    )
    .await;
    let left = count(&db, "SELECT count(*) FROM job_queue WHERE state = 'available'").await;
    assert!(overtaken <= 6, "{overtaken} backlog jobs started before the announced urgent job");
    assert!(left > 50, "the backlog ran out first ({left} left): the test proves nothing");
    shutdown.cancel();
    handle.await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn one_statement_records_an_attempt_and_claims_the_next_job_and_a_stale_worker_records_nothing() {
    let db = TestDb::migrated().await;
    let conn = db.pool.get().await.unwrap();
    let ids = atum_queue::enqueue_many(&conn, &[Wait { ms: 1 }, Wait { ms: 1 }, Wait { ms: 1 }], Options::default())
        .await
        .unwrap();
    let lease = Duration::from_secs(30);
    let first = store::claim(&conn, "default", &["WAIT"], "w", 1, lease, None).await.unwrap().remove(0);

    let (recorded, next) = store::complete_and_claim(
        &conn,
        "w",
        &first,
        &Outcome::Succeeded,
        Duration::from_millis(7),
        "default",
        &["WAIT"],
        lease,
        None,
    )
    .await
    .unwrap();
    assert!(recorded);
    let next = next.expect("a job was waiting");
    assert_eq!(next.id, ids[1].unwrap());
    let states: Vec<String> =
        conn.query("SELECT state FROM job_queue ORDER BY id", &[]).await.unwrap().iter().map(|r| r.get(0)).collect();
    assert_eq!(states, ["succeeded", "running", "available"]);
    let (_, events) = admin::get(&conn, None, first.id).await.unwrap();
    let names: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(names, ["enqueued", "started", "succeeded"]);
    assert_eq!(events[2].duration_ms, Some(7));

    // Another worker presenting the same attempt is fenced out, and its claim resumes
    // after the position it gives (the third job), finding nothing beyond it.
    let (recorded, beyond) = store::complete_and_claim(
        &conn,
        "impostor",
        &next,
        &Outcome::Failed("not mine".into()),
        Duration::ZERO,
        "default",
        &["WAIT"],
        lease,
        Some(store::claim(&conn, "default", &["WAIT"], "w", 1, lease, None).await.unwrap()[0].position()),
    )
    .await
    .unwrap();
    assert!(!recorded);
    assert!(beyond.is_none());
    let (job, _) = admin::get(&conn, None, next.id).await.unwrap();
    assert_eq!(job.state, "running");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_row_with_a_malformed_kind_queue_priority_or_limit_is_refused_on_insert_and_update() {
    let db = TestDb::migrated().await;
    let conn = db.pool.get().await.unwrap();
    for bad in [
        "INSERT INTO job_queue (kind) VALUES ('not_screaming')",
        "INSERT INTO job_queue (kind, queue) VALUES ('NOOP', 'Bad Queue')",
        "INSERT INTO job_queue (kind, priority) VALUES ('NOOP', 10)",
        "INSERT INTO job_queue (kind, max_attempts) VALUES ('NOOP', 0)",
        "INSERT INTO job_queue (kind, unique_key) VALUES ('NOOP', repeat('k', 201))",
    ] {
        let e = conn.batch_execute(bad).await.expect_err(bad);
        assert_eq!(e.code(), Some(&tokio_postgres::error::SqlState::CHECK_VIOLATION), "{bad}: {e}");
    }
    let id = atum_queue::enqueue(&conn, &Wait { ms: 1 }, Options::default()).await.unwrap().unwrap();
    for bad in ["kind = 'lower'", "queue = ''", "priority = -1", "max_attempts = 1001"] {
        let sql = format!("UPDATE job_queue SET {bad} WHERE id = {id}");
        let e = conn.batch_execute(&sql).await.expect_err(&sql);
        assert_eq!(e.code(), Some(&tokio_postgres::error::SqlState::CHECK_VIOLATION), "{sql}: {e}");
    }
    assert_eq!(count(&db, "SELECT count(*) FROM job_queue").await, 1);
}

/// A worker's heartbeat and batched completions each update many of its jobs at once,
/// on their own connections; the heartbeat never waits for a row, so whatever order
/// they take the jobs in, they cannot deadlock.
#[tokio::test(flavor = "multi_thread")]
async fn statements_on_many_jobs_of_one_worker_do_not_deadlock_whatever_their_order() {
    let db = TestDb::migrated().await;
    let conn = db.pool.get().await.unwrap();
    let backlog: Vec<Wait> = (0..300).map(|_| Wait { ms: 1 }).collect();
    atum_queue::enqueue_many(&conn, &backlog, Options::default()).await.unwrap();
    let lease = Duration::from_secs(30);
    let claimed = store::claim(&conn, "default", &["WAIT"], "w", 300, lease, None).await.unwrap();
    let forward: Vec<(i64, i32)> = claimed.iter().map(|j| (j.id, j.attempt)).collect();
    let backward: Vec<(i64, i32)> = forward.iter().rev().copied().collect();
    for _ in 0..20 {
        let (a, b) = (db.pool.get().await.unwrap(), db.pool.get().await.unwrap());
        // Sent at the same moment: locking in the order given, one would take the jobs
        // from the front and the other from the back until each waits for the other.
        let (one, two) =
            tokio::join!(store::heartbeat(&a, "w", &forward, lease), store::heartbeat(&b, "w", &backward, lease));
        assert_eq!(one.expect("a heartbeat failed").held.len(), 300);
        assert_eq!(two.expect("a heartbeat failed").held.len(), 300);
    }
    let rows: Vec<(i64, i32, i32)> = backward.iter().map(|(id, attempt)| (*id, *attempt, 1)).collect();
    let (beat, done) = tokio::join!(store::heartbeat(&conn, "w", &forward, lease), async {
        store::complete_succeeded(&db.pool.get().await.unwrap(), "w", &rows).await
    });
    beat.unwrap();
    assert_eq!(done.unwrap().len(), 300);
}
