//! The queue benchmark: atum-job-worker beside graphile-worker 0.17.3 (npm, driven by
//! `bench/graphile/worker.js` through its public API) on the same cluster, same
//! workload (trivial jobs), same number of processes and concurrency.

use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail};
use atum_core::pg_cluster::Cluster;
use atum_runtime::config::parse_database_url;
use serde_json::{Value, json};
use tokio_postgres::Client;

use crate::load::round;

mod chaos;
mod steady;

const PROCESSES: usize = 2;
const CONCURRENCY: usize = 8;
const SINGLE_ROUNDS: usize = 3;
const BACKLOG_ROUNDS: usize = 3;
/// Connections per ATUM worker process. A job costs ATUM one statement, so slots share
/// connections; on two cores more backends than that add context switches, not work
/// (scenario 2 with 12 connections ran ~15% slower than with 4). graphile-worker keeps
/// its recommended pool of concurrency + 2: smaller pools slowed it down (about 1,660
/// jobs/s with 3 connections, 1,900 with 5, 2,200 with 10 in one test).
const ATUM_POOL: usize = 4;

/// The median (sorts `v`).
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() { 0.0 } else { v[v.len() / 2] }
}

pub struct Setup<'a> {
    pub cluster: &'a Cluster,
    pub port: u16,
    pub exe_dir: &'a Path,
    pub graphile_dir: &'a Path,
    pub backlog: i64,
    /// Scenarios to run (`ATUM_BENCH_ONLY`, comma-separated); empty runs them all.
    pub only: Vec<String>,
}

impl Setup<'_> {
    fn wants(&self, scenario: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|s| s == scenario)
    }
}

/// One burn-down: its rate (jobs over the time from the start of the insert to the
/// last job done), how long the insert itself took, and how many checkpoints the
/// cluster started meanwhile: what a figure that moves between rounds is made of.
#[derive(Debug, Clone, Copy)]
struct Burn {
    rate: f64,
    insert_s: f64,
    checkpoints: i64,
}

impl Burn {
    fn to_json(self) -> Value {
        json!({"jobs_per_s": round(self.rate), "insert_s": round(self.insert_s), "checkpoints": self.checkpoints})
    }
}

async fn checkpoints(client: &Client) -> anyhow::Result<i64> {
    Ok(client.query_one("SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter", &[]).await?.get(0))
}

async fn connect(url: &str) -> anyhow::Result<Client> {
    Ok(atum_runtime::db::connect(&parse_database_url("bench", url)?).await?)
}

async fn fresh_db(setup: &Setup<'_>, name: &str) -> anyhow::Result<String> {
    let admin = connect(&setup.cluster.url(setup.port, "postgres")?).await?;
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await?;
    admin.batch_execute(&format!("CREATE DATABASE {name}")).await?;
    Ok(setup.cluster.url(setup.port, name)?)
}

struct Procs(Vec<Child>);

impl Drop for Procs {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = Command::new("kill").arg(c.id().to_string()).status();
        }
        for c in &mut self.0 {
            let deadline = Instant::now() + Duration::from_secs(10);
            while c.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Starts one `atum-job-worker` on `url` with `default:{CONCURRENCY}` and `env` on top.
fn spawn_atum(setup: &Setup<'_>, url: &str, env: &[(&str, String)]) -> anyhow::Result<Child> {
    let exe = setup.exe_dir.join("atum-job-worker");
    if !exe.is_file() {
        bail!("{} is missing: cargo build --release -p atum-job-worker", exe.display());
    }
    let listen = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let mut cmd = Command::new(&exe);
    cmd.env("ATUM_DATABASE_URL", url)
        .env("ATUM_JOB_WORKER_LISTEN", listen.to_string())
        .env("ATUM_JOB_QUEUES", format!("default:{CONCURRENCY}"))
        .env("ATUM_DATABASE_POOL_SIZE", ATUM_POOL.to_string())
        .env("ATUM_LOG", "warn")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    Ok(cmd.spawn()?)
}

/// `batch` > 1 turns on ATUM's batching (claims of up to `batch`, as many prefetched,
/// batched completions), the counterpart of graphile-worker's local queue of 250.
fn atum_workers(setup: &Setup<'_>, url: &str, n: usize, batch: usize) -> anyhow::Result<Procs> {
    let env = [
        ("ATUM_JOB_CLAIM_BATCH", batch.to_string()),
        ("ATUM_JOB_PREFETCH", if batch > 1 { batch.to_string() } else { "0".into() }),
        ("ATUM_JOB_BATCH_COMPLETIONS", (batch > 1).to_string()),
    ];
    Ok(Procs((0..n).map(|_| spawn_atum(setup, url, &env)).collect::<anyhow::Result<_>>()?))
}

fn graphile_workers(setup: &Setup<'_>, url: &str, n: usize, mode: &str) -> anyhow::Result<Procs> {
    let mut procs = Vec::new();
    for _ in 0..n {
        procs.push(
            Command::new("node")
                .arg(setup.graphile_dir.join("worker.js"))
                .arg(mode)
                .env("DATABASE_URL", url)
                .env("CONCURRENCY", CONCURRENCY.to_string())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .spawn()
                .context("starting node (graphile-worker)")?,
        );
    }
    Ok(Procs(procs))
}

async fn wait_until_zero(client: &Client, sql: &str, timeout: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let n: i64 = client.query_one(sql, &[]).await?.get(0);
        if n == 0 {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{n} left after {timeout:?}: {sql}");
        }
        // Each poll is a query on the machine being measured: often enough to time a run
        // of seconds to within 1%, rarely enough to cost the workers little.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until every worker process has connected (its LISTEN is visible).
async fn wait_listening(client: &Client, n: i64) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let listening: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
                &[],
            )
            .await?
            .get(0);
        if listening >= n {
            tokio::time::sleep(Duration::from_millis(500)).await;
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("only {listening} of {n} workers are listening");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Jobs per second to burn down `count` jobs inserted in one transaction into idle workers.
/// `sync_commit: false` sets `synchronous_commit = off` for every session of the run's
/// database (the workers' claims and completions), to show how much of a figure is
/// the WAL flush per commit rather than the queue.
async fn atum_burn(
    setup: &Setup<'_>,
    count: i64,
    batch: usize,
    hold_snapshot: bool,
    sync_commit: bool,
) -> anyhow::Result<Burn> {
    let url = fresh_db(setup, "atum_queue").await?;
    let mut client = connect(&url).await?;
    atum_core::schema::migrate_up(&mut client, None).await?;
    if !sync_commit {
        client.batch_execute("ALTER DATABASE atum_queue SET synchronous_commit = off").await?;
    }
    let _procs = atum_workers(setup, &url, PROCESSES, batch)?;
    wait_listening(&client, PROCESSES as i64).await?;
    // A long REPEATABLE READ transaction pins the xmin horizon: dead rows cannot be
    // vacuumed while it is open (the bloat scenario).
    let snapshot = if hold_snapshot {
        let c = connect(&url).await?;
        c.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM job_queue;").await?;
        Some(c)
    } else {
        None
    };
    let checkpoints_before = checkpoints(&client).await?;
    let started = Instant::now();
    client
        .batch_execute(&format!(
            "INSERT INTO job_queue (kind) SELECT 'NOOP' FROM generate_series(1, {count}); NOTIFY atum_jobs, 'default';"
        ))
        .await?;
    let insert_s = started.elapsed().as_secs_f64();
    // Pending and running jobs are counted from their small partial indexes; the
    // whole table, finished jobs and all, is read once at the end.
    wait_until_zero(
        &client,
        "SELECT count(*) FROM job_queue WHERE state IN ('available', 'running')",
        Duration::from_secs(900),
    )
    .await?;
    let rate = count as f64 / started.elapsed().as_secs_f64();
    let checkpoints = checkpoints(&client).await? - checkpoints_before;
    let succeeded: i64 =
        client.query_one("SELECT count(*) FROM job_queue WHERE state = 'succeeded'", &[]).await?.get(0);
    if succeeded != count {
        bail!("{succeeded} of {count} jobs succeeded");
    }
    drop(snapshot);
    Ok(Burn { rate, insert_s, checkpoints })
}

async fn graphile_burn(setup: &Setup<'_>, count: i64, mode: &str, sync_commit: bool) -> anyhow::Result<Burn> {
    let url = fresh_db(setup, "graphile_queue").await?;
    let status = Command::new("node")
        .arg(setup.graphile_dir.join("worker.js"))
        .arg("migrate")
        .env("DATABASE_URL", &url)
        .status()?;
    if !status.success() {
        bail!("graphile-worker migrations failed");
    }
    let client = connect(&url).await?;
    if !sync_commit {
        client.batch_execute("ALTER DATABASE graphile_queue SET synchronous_commit = off").await?;
    }
    let _procs = graphile_workers(setup, &url, PROCESSES, mode)?;
    wait_listening(&client, PROCESSES as i64).await?;
    let checkpoints_before = checkpoints(&client).await?;
    let started = Instant::now();
    client
        .batch_execute(&format!(
            "SELECT count(*) FROM graphile_worker.add_jobs(ARRAY(
                 SELECT json_populate_record(NULL::graphile_worker.job_spec, '{{\"identifier\": \"noop\"}}')
                 FROM generate_series(1, {count})))"
        ))
        .await?;
    let insert_s = started.elapsed().as_secs_f64();
    // Whether any job is left, not how many: counting a shrinking table full of dead
    // rows every 100 ms would take CPU from the workers being measured.
    wait_until_zero(
        &client,
        "SELECT count(*) FROM (SELECT 1 FROM graphile_worker._private_jobs LIMIT 1) left_over",
        Duration::from_secs(900),
    )
    .await?;
    let rate = count as f64 / started.elapsed().as_secs_f64();
    Ok(Burn { rate, insert_s, checkpoints: checkpoints(&client).await? - checkpoints_before })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// Enqueue-to-start latency of `n` sequential jobs into one idle worker process.
async fn atum_latency(setup: &Setup<'_>, n: usize) -> anyhow::Result<(f64, f64)> {
    let url = fresh_db(setup, "atum_queue").await?;
    let mut client = connect(&url).await?;
    atum_core::schema::migrate_up(&mut client, None).await?;
    let _procs = atum_workers(setup, &url, 1, 50)?;
    wait_listening(&client, 1).await?;
    let enqueue = client
        .prepare("WITH j AS (INSERT INTO job_queue (kind) VALUES ('NOOP') RETURNING id) SELECT pg_notify('atum_jobs', 'default'), (SELECT id FROM j)")
        .await?;
    let done = client.prepare("SELECT state = 'succeeded' FROM job_queue WHERE id = $1").await?;
    for _ in 0..n {
        let id: i64 = client.query_one(&enqueue, &[]).await?.get(1);
        while !client.query_one(&done, &[&id]).await?.get::<_, bool>(0) {
            tokio::time::sleep(Duration::from_micros(500)).await;
        }
    }
    let mut ms: Vec<f64> = client
        .query("SELECT extract(epoch FROM started_at - created_at)::float8 * 1000 FROM job_queue", &[])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    ms.sort_by(f64::total_cmp);
    Ok((percentile(&ms, 0.5), percentile(&ms, 0.99)))
}

async fn graphile_latency(setup: &Setup<'_>, n: usize) -> anyhow::Result<(f64, f64)> {
    let url = fresh_db(setup, "graphile_queue").await?;
    Command::new("node").arg(setup.graphile_dir.join("worker.js")).arg("migrate").env("DATABASE_URL", &url).status()?;
    let client = connect(&url).await?;
    client.batch_execute("CREATE TABLE bench_latency (ms float8)").await?;
    let _procs = graphile_workers(setup, &url, 1, "single")?;
    wait_listening(&client, 1).await?;
    let enqueue =
        client.prepare("SELECT graphile_worker.add_job('lat', json_build_object('t', clock_timestamp()))").await?;
    let count = client.prepare("SELECT count(*) FROM bench_latency").await?;
    for i in 0..n as i64 {
        client.query_one(&enqueue, &[]).await?;
        while client.query_one(&count, &[]).await?.get::<_, i64>(0) <= i {
            tokio::time::sleep(Duration::from_micros(500)).await;
        }
    }
    let mut ms: Vec<f64> = client.query("SELECT ms FROM bench_latency", &[]).await?.iter().map(|r| r.get(0)).collect();
    ms.sort_by(f64::total_cmp);
    Ok((percentile(&ms, 0.5), percentile(&ms, 0.99)))
}

pub async fn run(setup: &Setup<'_>) -> anyhow::Result<Value> {
    let n = setup.backlog;
    let single_n = (n / 4).max(1000);
    let mut atum = json!({});
    let mut graphile = json!({"version": "0.17.3"});
    let mut report = json!({
        "processes": PROCESSES,
        "concurrency_per_process": CONCURRENCY,
        "backlog_jobs": n,
        "single_tx_jobs": single_n,
        "ratios": {},
        "bloat_ratio": null,
        "chaos": null,
        "steady": null,
    });
    if setup.wants("backlog") {
        // Alternated rounds and medians, as for (2): a single pair once put the ratio
        // anywhere from 1.2x to 3.3x. Each round also says how long its insert took and
        // whether a checkpoint ran during it, the two things that move a burn-down.
        println!(
            "backlog burn-down: {n} jobs, {PROCESSES} processes x {CONCURRENCY}, {BACKLOG_ROUNDS} alternated rounds"
        );
        let (mut a_runs, mut g_runs) = (Vec::new(), Vec::new());
        for round in 1..=BACKLOG_ROUNDS {
            let a = atum_burn(setup, n, 250, false, true).await?;
            let g = graphile_burn(setup, n, "batched", true).await?;
            println!(
                "  round {round}: atum {:>7.0} jobs/s (insert {:.2} s, {} checkpoints), graphile-worker {:>7.0} jobs/s \
                 (insert {:.2} s, {} checkpoints), ratio {:.2}",
                a.rate,
                a.insert_s,
                a.checkpoints,
                g.rate,
                g.insert_s,
                g.checkpoints,
                a.rate / g.rate
            );
            a_runs.push(a);
            g_runs.push(g);
        }
        let (a, g) = (
            median(&mut a_runs.iter().map(|b| b.rate).collect::<Vec<_>>()),
            median(&mut g_runs.iter().map(|b| b.rate).collect::<Vec<_>>()),
        );
        println!("  medians: atum {a:.0}, graphile-worker {g:.0} (ratio {:.2})", a / g);
        atum["backlog_jobs_per_s"] = json!(round(a));
        graphile["backlog_jobs_per_s"] = json!(round(g));
        atum["backlog_rounds"] = json!(a_runs.iter().map(|b| b.to_json()).collect::<Vec<_>>());
        graphile["backlog_rounds"] = json!(g_runs.iter().map(|b| b.to_json()).collect::<Vec<_>>());
        report["ratios"]["backlog"] = json!(round(a / g));
    }
    if setup.wants("single") {
        // Alternated rounds, medians compared: on this kind of machine one side's figure
        // can move by 2x between consecutive runs (commit latency varies), which a single
        // pair of runs would turn into a verdict.
        println!("one claim and one completion per transaction: {single_n} jobs, {SINGLE_ROUNDS} alternated rounds");
        let (mut a_runs, mut g_runs) = (Vec::new(), Vec::new());
        for round in 1..=SINGLE_ROUNDS {
            let a = atum_burn(setup, single_n, 1, false, true).await?.rate;
            let g = graphile_burn(setup, single_n, "single", true).await?.rate;
            println!("  round {round}: atum {a:>7.0} jobs/s, graphile-worker {g:>7.0} jobs/s (ratio {:.2})", a / g);
            a_runs.push(a);
            g_runs.push(g);
        }
        let (a, g) = (median(&mut a_runs), median(&mut g_runs));
        println!("  medians: atum {a:.0}, graphile-worker {g:.0} (ratio {:.2})", a / g);
        atum["single_tx_jobs_per_s"] = json!(round(a));
        graphile["single_tx_jobs_per_s"] = json!(round(g));
        atum["single_tx_rounds"] = json!(a_runs.iter().map(|v| round(*v)).collect::<Vec<_>>());
        graphile["single_tx_rounds"] = json!(g_runs.iter().map(|v| round(*v)).collect::<Vec<_>>());
        report["ratios"]["single_tx"] = json!(round(a / g));
    }
    if setup.wants("single_async") {
        println!("the same with synchronous_commit = off on both sides: {single_n} jobs");
        let a = atum_burn(setup, single_n, 1, false, false).await?.rate;
        println!("  atum            {a:>9.0} jobs/s");
        let g = graphile_burn(setup, single_n, "single", false).await?.rate;
        println!("  graphile-worker {g:>9.0} jobs/s  (ratio {:.2})", a / g);
        atum["single_tx_async_commit_jobs_per_s"] = json!(round(a));
        graphile["single_tx_async_commit_jobs_per_s"] = json!(round(g));
        report["ratios"]["single_tx_async_commit"] = json!(round(a / g));
    }
    if setup.wants("latency") {
        println!("enqueue-to-start latency: 1000 sequential jobs into an idle worker");
        let (a50, a99) = atum_latency(setup, 1000).await?;
        println!("  atum            p50 {a50:.2} ms  p99 {a99:.2} ms");
        let (g50, g99) = graphile_latency(setup, 1000).await?;
        println!("  graphile-worker p50 {g50:.2} ms  p99 {g99:.2} ms");
        atum["latency_p50_ms"] = json!(round(a50));
        atum["latency_p99_ms"] = json!(round(a99));
        graphile["latency_p50_ms"] = json!(round(g50));
        graphile["latency_p99_ms"] = json!(round(g99));
    }
    if setup.wants("chaos") {
        let chaos = chaos::run(setup, 20_000).await?;
        println!("  {chaos}");
        report["chaos"] = chaos;
    }
    if setup.wants("bloat") {
        println!("bloat: burn-down of {single_n} jobs while a REPEATABLE READ transaction stays open");
        let normal = atum_burn(setup, single_n, 250, false, true).await?.rate;
        let pinned = atum_burn(setup, single_n, 250, true, true).await?.rate;
        println!(
            "  atum            {normal:>9.0} jobs/s normally, {pinned:>9.0} jobs/s pinned ({:.2})",
            pinned / normal
        );
        report["bloat_ratio"] = json!(round(pinned / normal));
    }
    if setup.wants("steady") {
        let steady = steady::run(setup).await?;
        println!("  {steady}");
        report["steady"] = steady;
    }
    report["atum"] = atum;
    report["graphile_worker"] = graphile;
    Ok(report)
}
