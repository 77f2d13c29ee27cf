//! Real worker processes: woken by NOTIFY, and a `kill -9` mid-job loses nothing.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use atum_job_worker::builtin::{Noop, Sleep};
use atum_queue::enqueue::Options;
use atum_testing::{
    TestDb,
    process::{Reaped, free_addr},
};

const EXE: &str = env!("CARGO_BIN_EXE_atum-job-worker");

struct Worker;

impl Worker {
    fn start(db: &TestDb, lease_secs: u64, poll_secs: u64) -> Reaped {
        let child = Command::new(EXE)
            .env_clear()
            .env("ATUM_DATABASE_URL", &db.url)
            .env("ATUM_JOB_WORKER_LISTEN", free_addr().to_string())
            .env("ATUM_JOB_LEASE_SECS", lease_secs.to_string())
            .env("ATUM_JOB_POLL_SECS", poll_secs.to_string())
            .env("ATUM_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start atum-job-worker");
        Reaped(child)
    }
}

/// A worker connection whose last statement was a claim and which is idle now: the
/// worker has looked at the queue since it (re)connected and waits to be woken.
const CLAIMED_AND_IDLE: &str = "SELECT count(*) FROM pg_stat_activity
     WHERE datname = current_database() AND state = 'idle' AND query LIKE '%FOR UPDATE SKIP LOCKED%'";

async fn wait_for(db: &TestDb, sql: &str, timeout: Duration) -> i64 {
    atum_testing::eventually::count_until(&db.client().await, sql, timeout, |n| n > 0).await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_worker_is_woken_by_notify_long_before_its_next_poll() {
    let db = TestDb::migrated().await;
    let _worker = Worker::start(&db, 30, 60);
    // Let it connect, LISTEN and go idle.
    wait_for(
        &db,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'",
        Duration::from_secs(10),
    )
    .await;
    wait_for(&db, CLAIMED_AND_IDLE, Duration::from_secs(10)).await;

    let conn = db.pool.get().await.unwrap();
    let started = Instant::now();
    atum_queue::enqueue(&conn, &Noop {}, Options::default()).await.unwrap();
    wait_for(&db, "SELECT count(*) FROM job_queue WHERE state = 'succeeded'", Duration::from_secs(4)).await;
    // Polling alone would take up to min(60 s, the 5 s tick): this was the wake-up.
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_whose_worker_is_killed_is_rescued_and_completed_by_another() {
    let db = TestDb::migrated().await;
    let conn = db.pool.get().await.unwrap();
    let id = atum_queue::enqueue(&conn, &Sleep { ms: 1500 }, Options::default()).await.unwrap().unwrap();
    let first = Worker::start(&db, 1, 1);
    let pid = first.pid();
    wait_for(
        &db,
        &format!("SELECT count(*) FROM job_queue WHERE id = {id} AND locked_by LIKE '%:{pid}'"),
        Duration::from_secs(10),
    )
    .await;

    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGKILL).unwrap();
    drop(first);
    let killed_at: chrono::DateTime<chrono::Utc> = conn.query_one("SELECT now()", &[]).await.unwrap().get(0);
    let _second = Worker::start(&db, 1, 1);

    wait_for(
        &db,
        &format!("SELECT count(*) FROM job_queue WHERE id = {id} AND state = 'succeeded'"),
        Duration::from_secs(20),
    )
    .await;
    let row = conn
        .query_one(
            "SELECT j.attempt, (SELECT min(created_at) FROM job_events WHERE job_id = j.id AND event = 'rescued')
             FROM job_queue j WHERE j.id = $1",
            &[&id],
        )
        .await
        .unwrap();
    let (attempt, rescued_at): (i32, Option<chrono::DateTime<chrono::Utc>>) = (row.get(0), row.get(1));
    assert_eq!(attempt, 2, "the job ran again after the kill");
    let rescued_at = rescued_at.expect("a rescued event");
    let waited = (rescued_at - killed_at).num_milliseconds();
    // The lease is 1 s: rescue within two lease intervals (plus start-up of the second worker).
    assert!(waited <= 3000, "rescue took {waited} ms");
    let succeeded: i64 = conn
        .query_one("SELECT count(*) FROM job_events WHERE job_id = $1 AND event = 'succeeded'", &[&id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(succeeded, 1, "exactly one attempt succeeded");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_worker_listens_again_after_the_database_restarts() {
    use atum_core::pg_cluster::{Cluster, Durability};
    // A cluster of its own: restarting the shared test cluster would disturb other tests.
    let root = std::env::temp_dir().join(format!("atum-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let cluster = Cluster::open_or_init(&root, Durability::Ephemeral).unwrap();
    let port = cluster.start().unwrap();
    let admin_url = cluster.url(port, "postgres").unwrap();
    let (admin, conn) = tokio_postgres::connect(&admin_url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    admin.batch_execute("CREATE DATABASE atum").await.unwrap();
    let url = cluster.url(port, "atum").unwrap();
    {
        let (mut c, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(conn);
        atum_core::schema::migrate_up(&mut c, None).await.unwrap();
    }
    let metrics_addr = free_addr();
    let mut worker = Command::new(EXE)
        .env_clear()
        .env("ATUM_DATABASE_URL", &url)
        .env("ATUM_JOB_WORKER_LISTEN", metrics_addr.to_string())
        .env("ATUM_JOB_POLL_SECS", "60")
        .env("ATUM_TICK_SECS", "30")
        .env("ATUM_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    atum_testing::process::wait_for_http(metrics_addr, "/metrics", Duration::from_secs(10));

    cluster.stop().unwrap();
    cluster.start_on(port).unwrap();
    // The listener reconnects with backoff (100 ms doubling): its counter says when.
    atum_testing::eventually::eventually("the listener reconnects", Duration::from_secs(15), || async {
        let (_, body) = atum_testing::process::http_get(metrics_addr, "/metrics");
        let reconnected = body.lines().any(|l| l.starts_with("atum_listener_reconnects_total") && !l.ends_with(" 0"));
        if reconnected { Ok(()) } else { Err(body) }
    })
    .await;
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    // The reconnected worker has looked at the queue once and gone idle.
    atum_testing::eventually::count_until(&client, CLAIMED_AND_IDLE, Duration::from_secs(10), |n| n > 0).await;
    client.batch_execute("INSERT INTO job_queue (kind) VALUES ('NOOP'); NOTIFY atum_jobs, 'default'").await.unwrap();
    // Polling is every 30 s here: only a working LISTEN explains a start within 5 s.
    atum_testing::eventually::count_until(
        &client,
        "SELECT count(*) FROM job_queue WHERE state = 'succeeded'",
        Duration::from_secs(5),
        |n| n == 1,
    )
    .await;
    let _ = worker.kill();
    let _ = worker.wait();
    drop(client);
    cluster.stop().unwrap();
    let _ = std::fs::remove_dir_all(&root);
}
