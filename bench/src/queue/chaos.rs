//! Chaos: jobs run while worker processes are SIGKILLed and restarted at random.
//!
//! Every attempt leaves a `started` event (dated at its claim, naming its worker) and
//! an end event; a killed worker's attempts end when the bench killed it (the rescuer
//! writes their events later). Two attempts of one job overlap when the later one
//! started before the earlier one ended. Every bound is taken on the wide side: an
//! attempt is counted from its claim and, when it succeeded, until its success was
//! committed; an attempt that neither ended nor was killed counts as never ending.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use rand::RngExt as _;
use serde_json::{Value, json};

use super::{PROCESSES, Procs, Setup, connect, fresh_db, spawn_atum, wait_listening};
use crate::load::round;

/// Short, so that a test of rescue does not take minutes: heartbeats every third of
/// it, the rescuer every half.
const LEASE_SECS: u64 = 2;

pub async fn run(setup: &Setup<'_>, jobs: i64) -> anyhow::Result<Value> {
    println!("chaos: {jobs} jobs while worker processes are SIGKILLed and restarted at random (lease {LEASE_SECS} s)");
    let url = fresh_db(setup, "atum_chaos").await?;
    let mut client = connect(&url).await?;
    atum_core::schema::migrate_up(&mut client, None).await?;
    client
        .batch_execute("CREATE TABLE bench_kills (worker_id text PRIMARY KEY, killed_at timestamptz NOT NULL)")
        .await?;
    let env = [("ATUM_JOB_LEASE_SECS", LEASE_SECS.to_string())];
    let mut workers = Procs((0..PROCESSES).map(|_| spawn_atum(setup, &url, &env)).collect::<anyhow::Result<_>>()?);
    wait_listening(&client, PROCESSES as i64).await?;
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").context("hostname")?;
    let host = host.trim();

    // Sleeps of 5-40 ms: long enough that kills land mid-job, short enough for 20k jobs.
    client
        .batch_execute(&format!(
            "INSERT INTO job_queue (kind, payload)
             SELECT 'SLEEP', jsonb_build_object('ms', 5 + (random() * 35)::int) FROM generate_series(1, {jobs});
             NOTIFY atum_jobs, 'default';"
        ))
        .await?;
    let started = Instant::now();
    let mut rng = rand::rng();
    let mut kills = 0;
    let left = client.prepare("SELECT count(*) FROM job_queue WHERE state <> 'succeeded'").await?;
    while client.query_one(&left, &[]).await?.get::<_, i64>(0) > 0 && started.elapsed() < Duration::from_secs(600) {
        tokio::time::sleep(Duration::from_millis(rng.random_range(300..1500))).await;
        let victim = rng.random_range(0..workers.0.len());
        let pid = workers.0[victim].id();
        workers.0[victim].kill()?; // SIGKILL: no release, no completion flush
        workers.0[victim].wait()?;
        client.execute("INSERT INTO bench_kills VALUES ($1, clock_timestamp())", &[&format!("{host}:{pid}")]).await?;
        workers.0[victim] = spawn_atum(setup, &url, &env)?;
        kills += 1;
    }
    let elapsed = started.elapsed().as_secs_f64();
    drop(workers);

    let row = client
        .query_one(
            "WITH attempts AS (
                 SELECT s.job_id, s.attempt, s.created_at AS started,
                        COALESCE((SELECT min(e.created_at) FROM job_events e
                                  WHERE e.job_id = s.job_id AND e.attempt = s.attempt AND e.worker_id = s.worker_id
                                    AND e.event IN ('succeeded', 'failed', 'cancelled', 'discarded', 'released')),
                                 (SELECT k.killed_at FROM bench_kills k WHERE k.worker_id = s.worker_id),
                                 'infinity') AS ended
                 FROM job_events s WHERE s.event = 'started'
             )
             SELECT
                 $1 - (SELECT count(*) FROM job_queue WHERE state = 'succeeded'),
                 (SELECT count(DISTINCT a.job_id) FROM attempts a JOIN attempts b
                      ON a.job_id = b.job_id AND a.attempt < b.attempt AND b.started < a.ended),
                 (SELECT coalesce(max(extract(epoch FROM r.created_at - k.killed_at)), 0)::float8
                      FROM job_events r JOIN bench_kills k ON k.worker_id = r.worker_id
                      WHERE r.error = 'lease expired'),
                 (SELECT count(*) FROM job_events WHERE error = 'lease expired'),
                 (SELECT count(*) FROM (SELECT job_id FROM job_events WHERE event = 'succeeded'
                                        GROUP BY job_id HAVING count(*) > 1) d),
                 (SELECT count(*) FROM job_queue WHERE attempt > 1)",
            &[&jobs],
        )
        .await?;
    let (lost, overlapped, max_rescue, rescued, double_success, rerun): (i64, i64, f64, i64, i64, i64) =
        (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4), row.get(5));
    Ok(json!({
        "jobs": jobs,
        "lost": lost,
        "overlapped": overlapped,
        "max_rescue_s": round(max_rescue),
        "lease_s": LEASE_SECS,
        "kills": kills,
        "rescued_attempts": rescued,
        "jobs_run_more_than_once": rerun,
        "jobs_recorded_succeeded_twice": double_success,
        "seconds": round(elapsed),
    }))
}
