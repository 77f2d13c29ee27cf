//! Steady load: jobs arrive at a fixed rate for a long time while two workers run them
//! and prune what passed a short retention. Samples the queue table's live and dead
//! tuples, its size and the enqueue-to-start latency, to show whether the table stays
//! small and fast (no bloat creeping up) rather than only how fast a backlog burns.

use std::time::{Duration, Instant};

use atum_runtime::config::Env;
use serde_json::{Value, json};

use super::{PROCESSES, Procs, Setup, connect, fresh_db, spawn_atum, wait_listening};
use crate::load::round;

const SAMPLE_EVERY: Duration = Duration::from_secs(10);
const RETENTION_SECS: u64 = 60;

pub async fn run(setup: &Setup<'_>) -> anyhow::Result<Value> {
    let env = Env::process();
    let seconds: u64 = env.parse_or("ATUM_BENCH_STEADY_SECS", 600, "a number of seconds")?;
    let rate: u64 = env.parse_or("ATUM_BENCH_STEADY_RATE", 500, "jobs per second")?;
    println!("steady load: {rate} jobs/s for {seconds} s, retention {RETENTION_SECS} s, sampled every 10 s");
    let url = fresh_db(setup, "atum_steady").await?;
    let mut client = connect(&url).await?;
    atum_core::schema::migrate_up(&mut client, None).await?;
    let env = [("ATUM_JOB_RETENTION_SECS", RETENTION_SECS.to_string())];
    let _workers = Procs((0..PROCESSES).map(|_| spawn_atum(setup, &url, &env)).collect::<anyhow::Result<_>>()?);
    wait_listening(&client, PROCESSES as i64).await?;

    // One transaction (and one NOTIFY) every 100 ms.
    let per_tick = (rate / 10).max(1) as i64;
    let enqueue = client
        .prepare(
            "WITH j AS (INSERT INTO job_queue (kind) SELECT 'NOOP' FROM generate_series(1, $1::bigint) RETURNING 1)
             SELECT pg_notify('atum_jobs', 'default'), (SELECT count(*) FROM j)",
        )
        .await?;
    let sample = client
        .prepare(
            "SELECT coalesce(s.n_live_tup, 0), coalesce(s.n_dead_tup, 0),
                    pg_total_relation_size('job_queue'), pg_relation_size('job_queue_fetch_idx'),
                    pg_total_relation_size('job_events'),
                    (SELECT count(*) FROM job_queue WHERE state = 'available'),
                    (SELECT coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM started_at - created_at)), 0)
                     FROM job_queue WHERE started_at > now() - make_interval(secs => $1))::float8 * 1000,
                    coalesce(s.autovacuum_count, 0)
             FROM pg_stat_user_tables s WHERE s.relname = 'job_queue'",
        )
        .await?;
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut next_sample = started + SAMPLE_EVERY;
    let mut samples = Vec::new();
    let mut enqueued = 0i64;
    while started.elapsed() < Duration::from_secs(seconds) {
        tick.tick().await;
        enqueued += client.query_one(&enqueue, &[&per_tick]).await?.get::<_, i64>(1);
        if Instant::now() >= next_sample {
            next_sample += SAMPLE_EVERY;
            let r = client.query_one(&sample, &[&SAMPLE_EVERY.as_secs_f64()]).await?;
            let s = json!({
                "t_s": started.elapsed().as_secs(),
                "live_tuples": r.get::<_, i64>(0),
                "dead_tuples": r.get::<_, i64>(1),
                "table_mb": round(r.get::<_, i64>(2) as f64 / 1048576.0),
                "fetch_index_kb": r.get::<_, i64>(3) / 1024,
                "events_mb": round(r.get::<_, i64>(4) as f64 / 1048576.0),
                "waiting": r.get::<_, i64>(5),
                "wait_p99_ms": round(r.get::<_, f64>(6)),
                "autovacuums": r.get::<_, i64>(7),
            });
            println!("  {s}");
            samples.push(s);
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    // The steady state is the second half: the first minute fills the retention window.
    let half = &samples[samples.len() / 2..];
    let max = |key: &str, of: &[Value]| of.iter().filter_map(|s| s[key].as_f64()).fold(0.0, f64::max);
    let first_full = samples.iter().find(|s| s["t_s"].as_u64().unwrap_or(0) >= 2 * RETENTION_SECS);
    Ok(json!({
        "seconds": round(elapsed),
        "offered_jobs_per_s": rate,
        "enqueued": enqueued,
        "retention_s": RETENTION_SECS,
        "max_dead_tuples": max("dead_tuples", &samples),
        "max_dead_tuples_second_half": max("dead_tuples", half),
        "table_mb_after_2_retentions": first_full.map(|s| s["table_mb"].clone()),
        "table_mb_max_second_half": max("table_mb", half),
        "table_mb_end": samples.last().map(|s| s["table_mb"].clone()),
        "fetch_index_kb_max_second_half": max("fetch_index_kb", half),
        "wait_p99_ms_max_second_half": max("wait_p99_ms", half),
        "waiting_max_second_half": max("waiting", half),
        "samples": samples,
    }))
}
