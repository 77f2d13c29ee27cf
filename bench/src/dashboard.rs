//! The dashboard benchmark: how long one snapshot of the million-ticket organisation
//! takes, and whether taking snapshots slows ticket writes — both in one run.
//!
//! Writes are real ticket creations through `atum_core::tickets::write::create` (the
//! API's path: validation, numbering, history, SLA refresh) from `WRITERS` concurrent
//! tasks, first alone, then while snapshots are taken back to back on another
//! connection. Figures go to `target/bench/dashboard.json`.

use std::time::{Duration, Instant};

use atum_core::{
    auth::{Principal, Role},
    dashboard::snapshots,
    desk::create_ticket as create,
    pg_cluster::Cluster,
    tickets::write::NewTicket,
};
use atum_runtime::config::{DatabaseConfig, parse_database_url};
use serde_json::{Value, json};
use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use crate::{load::round, seed};

const WRITERS: usize = 4;
const SNAPSHOTS: usize = 7;
const ROUNDS: usize = 3;

pub struct Setup<'a> {
    pub cluster: &'a Cluster,
    pub port: u16,
    pub tickets: i64,
    pub seconds: u64,
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// Creates tickets from `WRITERS` tasks for `duration`; returns each creation's latency in ms.
async fn write_load(pool: &atum_runtime::db::DbPool, who: Principal, duration: Duration) -> anyhow::Result<Vec<f64>> {
    let deadline = Instant::now() + duration;
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut i = 0u64;
            while Instant::now() < deadline {
                let started = Instant::now();
                let mut conn = pool.get().await?;
                let tx = conn.transaction().await?;
                let new = NewTicket {
                    subject: format!("Dashboard bench write {w}-{i}"),
                    description: "written while the dashboard is measured".into(),
                    ..Default::default()
                };
                create(&tx, &who, &new).await?;
                tx.commit().await?;
                latencies.push(started.elapsed().as_secs_f64() * 1000.0);
                i += 1;
            }
            Ok::<_, anyhow::Error>(latencies)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    all.sort_by(f64::total_cmp);
    Ok(all)
}

fn summary(latencies: &[f64], duration: Duration) -> Value {
    json!({
        "creates_per_s": round(latencies.len() as f64 / duration.as_secs_f64()),
        "p50_ms": round(quantile(latencies, 0.5)),
        "p99_ms": round(quantile(latencies, 0.99)),
        "max_ms": round(quantile(latencies, 1.0)),
    })
}

pub async fn run(setup: &Setup<'_>) -> anyhow::Result<Value> {
    let url = setup.cluster.url(setup.port, "atum_bench")?;
    let admin =
        atum_runtime::db::connect(&parse_database_url("bench", &setup.cluster.url(setup.port, "postgres")?)?).await?;
    if admin.query_opt("SELECT 1 FROM pg_database WHERE datname = 'atum_bench'", &[]).await?.is_none() {
        admin.batch_execute("CREATE DATABASE atum_bench").await?;
    }
    let mut client = atum_runtime::db::connect(&parse_database_url("bench", &url)?).await?;
    atum_core::schema::migrate_up(&mut client, None).await?;
    let pool = atum_runtime::db::pool(&DatabaseConfig { pg: parse_database_url("bench", &url)?, pool_size: 8 })?;
    let org = {
        let mut conn = atum_runtime::db::connection(&pool).await?;
        println!("seeding {} tickets (once; kept for later runs)", setup.tickets);
        seed::ensure(&mut conn, setup.tickets).await?
    };
    let admin_id: i64 =
        client.query_one("SELECT id FROM users WHERE org_id = $1 AND role = 'admin' LIMIT 1", &[&org]).await?.get(0);
    let who = Principal {
        session_id: 0,
        user_id: admin_id.into(),
        org_id: org.into(),
        role: Role::Admin,
        must_enrol_mfa: false,
    };
    let (tickets, open): (i64, i64) = {
        let r = client
            .query_one(
                "SELECT count(*), count(*) FILTER (WHERE status IN ('new','open','pending','on_hold')) FROM tickets WHERE org_id = $1",
                &[&org],
            )
            .await?;
        (r.get(0), r.get(1))
    };
    println!("organisation: {tickets} tickets, {open} open");
    client.batch_execute("DELETE FROM metrics_snapshots").await?;
    client.batch_execute("VACUUM ANALYZE tickets").await?;

    // 1. Snapshot time: the bench organisation's share of each pass.
    let mut took = Vec::new();
    {
        let mut conn = pool.get().await?;
        for _ in 0..SNAPSHOTS {
            let now = atum_core::sla::db_now(&conn).await?;
            let taken = snapshots::take_all(&mut conn, Duration::from_secs(60), now).await?;
            let ms = taken.iter().find(|t| t.org_id == org).map(|t| t.took.as_secs_f64() * 1000.0).unwrap_or(0.0);
            println!("  snapshot of {tickets} tickets: {ms:.0} ms");
            took.push(ms);
        }
    }
    took.sort_by(f64::total_cmp);

    // 2. Writes alone and writes while snapshots run back to back, alternated over
    //    several rounds so that the machine's drift (fsync times vary a lot here) falls
    //    on both sides alike.
    let duration = Duration::from_secs(setup.seconds);
    let (mut alone, mut during, mut passes) = (Vec::new(), Vec::new(), 0u32);
    for round in 1..=ROUNDS {
        println!("round {round}/{ROUNDS}: ticket writes, {WRITERS} writers, {} s alone", setup.seconds);
        alone.extend(write_load(&pool, who, duration).await?);
        let stop = Arc::new(AtomicBool::new(false));
        let snapper = {
            let (pool, stop) = (pool.clone(), stop.clone());
            tokio::spawn(async move {
                let mut n = 0u32;
                let mut conn = pool.get().await?;
                while !stop.load(Ordering::Relaxed) {
                    let now = atum_core::sla::db_now(&conn).await?;
                    snapshots::take_all(&mut conn, Duration::from_secs(60), now).await?;
                    n += 1;
                }
                Ok::<_, anyhow::Error>(n)
            })
        };
        println!("round {round}/{ROUNDS}: the same while snapshots run back to back");
        during.extend(write_load(&pool, who, duration).await?);
        stop.store(true, Ordering::Relaxed);
        passes += snapper.await??;
    }
    alone.sort_by(f64::total_cmp);
    during.sort_by(f64::total_cmp);
    let duration = duration * ROUNDS as u32;
    let a = summary(&alone, duration);
    let d = summary(&during, duration);
    let ratio = |k: &str| round(d[k].as_f64().unwrap_or(0.0) / a[k].as_f64().unwrap_or(1.0).max(1e-9));
    let report = json!({
        "tickets": tickets,
        "open_tickets": open,
        "snapshot_ms": {
            "median": round(quantile(&took, 0.5)),
            "max": round(quantile(&took, 1.0)),
            "runs": took.iter().map(|v| round(*v)).collect::<Vec<_>>(),
        },
        "writes": {
            "writers": WRITERS,
            "seconds_per_phase": setup.seconds,
            "rounds": ROUNDS,
            "alone": a,
            "during_snapshots": d,
            "snapshot_passes_during": passes,
            "throughput_ratio": ratio("creates_per_s"),
            "p99_ratio": ratio("p99_ms"),
        },
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    // The benchmark's writes are not part of the seeded organisation.
    client.execute("DELETE FROM tickets WHERE org_id = $1 AND subject LIKE 'Dashboard bench write %'", &[&org]).await?;
    Ok(report)
}
