//! `atum-bench triage-worker`: auto-triage end to end through the product, release
//! builds on the bench cluster. An organisation's history of 10,000 labelled tickets
//! goes in with `atum tickets import`; `atum-job-worker` (with the model) trains on it
//! (`TRAIN_TRIAGE`: time, and the worker's peak memory); then tickets are filed
//! through the API as a customer files them, and each one's `TRIAGE_TICKET` runs on
//! the worker:
//!
//! - latency: tickets filed one at a time at a steady pace well under capacity; per
//!   ticket, from its creation to its stored triage, both read from the database's
//!   clock (p50, p95);
//! - throughput: a burst filed by 8 clients at once, from the first creation to the
//!   last stored triage.
//!
//! The baseline is the same models answering the same texts in this process, without
//! the queue, the database or the API: the ratio is what the path around the model
//! costs. `ATUM_BENCH_TRIAGE_HISTORY` and `ATUM_BENCH_TRIAGE_TICKETS` change the sizes.
//! Figures go to `target/bench/triage-worker.json`.

use std::{
    path::Path,
    process::{Command, Stdio},
    sync::{Arc, atomic::AtomicUsize},
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail};
use atum_ai::LocalModels;
use atum_core::{
    auth::Role,
    models::Models as _,
    orgs,
    pg_cluster::Cluster,
    users::{self, NewUser},
};
use atum_runtime::config::{DatabaseConfig, Env, Service, parse_database_url};
use serde_json::{Value, json};

use crate::{load::round, rag::peak_rss_until};

const SLUG: &str = "triage";
const DATABASE: &str = "atum_triage";
const PASSWORD: &str = "triage-bench-password";
/// Tickets a second during the latency phase: well under what the worker keeps up with.
const PACE_PER_SECOND: f64 = 4.0;
const BURST_CLIENTS: usize = 8;

pub fn run(cluster: &Cluster, port: u16, exe_dir: &Path, root: &Path) -> anyhow::Result<()> {
    let env = Env::process();
    let history: usize = env.parse_or("ATUM_BENCH_TRIAGE_HISTORY", 10_000, "a number of tickets")?;
    let tickets: usize = env.parse_or("ATUM_BENCH_TRIAGE_TICKETS", 400, "a number of tickets")?;
    let model_dir = crate::model_dir()?;
    let model_env = ("ATUM_EMBED_MODEL_DIR", model_dir.display().to_string());
    let texts = test_texts()?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let url = cluster.url(port, DATABASE)?;
    runtime.block_on(fresh_database(cluster, port, &url))?;
    let mut report = serde_json::Map::new();

    let file = root.join("triage-worker-history.csv");
    crate::triage::write_history(&file, history)?;
    println!("importing a history of {history} labelled tickets with `atum tickets import`");
    let started = Instant::now();
    let out = Command::new(exe_dir.join("atum"))
        .args(["tickets", "import", "--org", SLUG, "--body-column", "text"])
        .arg(&file)
        .env("ATUM_DATABASE_URL", &url)
        .stderr(Stdio::inherit())
        .output()
        .context("starting `atum tickets import` (build it with `cargo build --release -p atum-cli`)")?;
    if !out.status.success() {
        bail!("`atum tickets import` failed");
    }
    let took = started.elapsed().as_secs_f64();
    println!("  {took:.1} s ({:.0} tickets/s)", history as f64 / took);
    report.insert("import".into(), json!({"tickets": history, "seconds": round(took)}));
    std::fs::remove_file(&file).ok();

    let (worker, _) = crate::start_service(exe_dir, Service::JobWorker, &url, 4, std::slice::from_ref(&model_env))?;
    let worker = Stopped(worker);
    let outcome = (|| -> anyhow::Result<()> {
        println!("atum-job-worker trains the organisation's models (TRAIN_TRIAGE)");
        let started = Instant::now();
        let done = "SELECT count(*) FROM job_queue WHERE kind = 'TRAIN_TRIAGE' AND state IN ('available', 'running')";
        let peak = peak_rss_until(worker.0.id(), || Ok(runtime.block_on(count(&url, done))? == 0))?;
        let took = started.elapsed().as_secs_f64();
        let trained = runtime.block_on(training(&url))?;
        println!("  {took:.1} s with the worker's start, peak RSS {peak:.0} MB: {trained}");
        report.insert(
            "training".into(),
            json!({"history": history, "seconds": round(took), "peak_rss_mb": round(peak), "models": trained}),
        );

        let (api, listen) = crate::start_service(exe_dir, Service::Api, &url, 8, &[])?;
        let _api = Stopped(api);
        (|| -> anyhow::Result<()> {
            let base = format!("http://{listen}");
            crate::wait_for(&base)?;
            let token = crate::login_as(&base, SLUG, "customer@triage.test", PASSWORD)?;
            let (paced, burst) = texts.split_at(tickets.min(texts.len() / 2));
            let burst = &burst[..tickets.min(burst.len())];

            println!("filing {} tickets at {PACE_PER_SECOND}/s, one at a time", paced.len());
            let first = runtime.block_on(max_id(&url))?;
            for (i, text) in paced.iter().enumerate() {
                let due = Duration::from_secs_f64(i as f64 / PACE_PER_SECOND);
                let start = Instant::now();
                file_ticket(&base, &token, text)?;
                std::thread::sleep(due.saturating_sub(start.elapsed()).min(Duration::from_secs(1)));
            }
            runtime.block_on(all_triaged(&url, first, paced.len()))?;
            let latency = runtime.block_on(latencies(&url, first))?;
            println!(
                "  create → triage stored: p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms",
                latency[0], latency[1], latency[2]
            );

            println!("filing a burst of {} tickets with {BURST_CLIENTS} clients", burst.len());
            let first = runtime.block_on(max_id(&url))?;
            let next = Arc::new(AtomicUsize::new(0));
            std::thread::scope(|s| -> anyhow::Result<()> {
                let handles: Vec<_> = (0..BURST_CLIENTS)
                    .map(|_| {
                        let next = next.clone();
                        let (base, token) = (&base, &token);
                        s.spawn(move || -> anyhow::Result<()> {
                            loop {
                                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                let Some(text) = burst.get(i) else { return Ok(()) };
                                file_ticket(base, token, text)?;
                            }
                        })
                    })
                    .collect();
                for h in handles {
                    h.join().map_err(|_| anyhow::anyhow!("a client panicked"))??;
                }
                Ok(())
            })?;
            runtime.block_on(all_triaged(&url, first, burst.len()))?;
            let span = runtime.block_on(span_seconds(&url, first))?;
            let rate = burst.len() as f64 / span;
            println!("  {} triaged in {span:.1} s from the first creation: {rate:.1} tickets/s", burst.len());

            println!("baseline: the same models on the same texts in this process");
            let models = LocalModels::load(&model_dir)?;
            let (category_model, bytes) = runtime.block_on(model_bytes(&url))?;
            models.load(category_model, &bytes).map_err(anyhow::Error::msg)?;
            let started = Instant::now();
            for text in burst {
                models.predict(category_model, text).map_err(anyhow::Error::msg)?;
                models.sentiment(text);
                models.language(text);
            }
            let in_process = burst.len() as f64 / started.elapsed().as_secs_f64();
            println!(
                "  {in_process:.1} tickets/s on one core; through the worker {:.2}× of that (the worker runs 2 at once)",
                rate / in_process
            );
            report.insert(
                "triage".into(),
                json!({
                    "paced": {"tickets": paced.len(), "per_second": PACE_PER_SECOND,
                              "p50_ms": round(latency[0]), "p95_ms": round(latency[1]), "max_ms": round(latency[2])},
                    "burst": {"tickets": burst.len(), "clients": BURST_CLIENTS, "seconds": round(span),
                              "per_second": round(rate)},
                    "in_process_per_second": round(in_process),
                    "ratio_worker_to_in_process": round(rate / in_process),
                }),
            );
            Ok(())
        })()
    })();
    drop(worker);
    outcome?;
    report.insert("when".into(), json!(chrono::Utc::now().to_rfc3339()));
    let path = root.join("triage-worker.json");
    std::fs::write(&path, serde_json::to_string_pretty(&Value::Object(report))?)?;
    println!("wrote {}", path.display());
    Ok(())
}

/// A child process stopped when this goes, a failed or panicking run included (its
/// output would otherwise hold the caller's pipe open).
pub(crate) struct Stopped(pub(crate) std::process::Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

/// The fixed split's test texts: tickets the model never learnt from.
fn test_texts() -> anyhow::Result<Vec<String>> {
    let split = Path::new(env!("CARGO_MANIFEST_DIR")).join("triage/test.csv");
    let mut reader = csv::Reader::from_path(split)?;
    Ok(reader.records().map(|r| r.map(|r| r[0].to_owned())).collect::<Result<_, _>>()?)
}

fn file_ticket(base: &str, token: &str, text: &str) -> anyhow::Result<()> {
    let subject: String = text.chars().take(120).collect();
    ureq::post(&format!("{base}/api/v1/tickets"))
        .set("Authorization", &format!("Bearer {token}"))
        .set("Content-Type", "application/json")
        .send_string(&json!({"subject": subject, "description": text}).to_string())?;
    Ok(())
}

/// A new database for each run: the history, the models and the queue start empty.
async fn fresh_database(cluster: &Cluster, port: u16, url: &str) -> anyhow::Result<()> {
    let admin = atum_runtime::db::connect(&parse_database_url("bench", &cluster.url(port, "postgres")?)?).await?;
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")).await?;
    admin.batch_execute(&format!("CREATE DATABASE {DATABASE}")).await?;
    let mut client = atum_runtime::db::connect(&parse_database_url("bench", url)?).await?;
    atum_core::schema::migrate_up(&mut client, None).await?;
    let db = atum_runtime::db::pool(&DatabaseConfig { pg: parse_database_url("bench", url)?, pool_size: 1 })?;
    let mut conn = atum_runtime::db::connection(&db).await?;
    let admin = NewUser {
        email: "admin@triage.test".into(),
        display_name: "Triage Admin".into(),
        role: Role::Admin,
        password: Some(PASSWORD.into()),
    };
    let hash = users::hash_for(&admin)?.context("password")?;
    let tx = conn.transaction().await?;
    let (org, _) = orgs::create_with_admin(&tx, SLUG, "Triage benchmark", &admin, hash).await?;
    let customer = NewUser {
        email: "customer@triage.test".into(),
        display_name: "Carla Customer".into(),
        role: Role::Customer,
        password: Some(PASSWORD.into()),
    };
    let hash = users::hash_for(&customer)?;
    users::insert(&tx, org.id, &customer, hash).await?;
    tx.commit().await?;
    Ok(())
}

async fn client(url: &str) -> anyhow::Result<tokio_postgres::Client> {
    Ok(atum_runtime::db::connect(&parse_database_url("bench", url)?).await?)
}

async fn count(url: &str, sql: &str) -> anyhow::Result<i64> {
    Ok(client(url).await?.query_one(sql, &[]).await?.get(0))
}

async fn max_id(url: &str) -> anyhow::Result<i64> {
    count(url, "SELECT coalesce(max(id), 0) FROM tickets").await
}

/// What each field's training made.
async fn training(url: &str) -> anyhow::Result<Value> {
    let rows = client(url)
        .await?
        .query(
            "SELECT field, status, examples, duration_ms, (evaluation->>'accuracy')::float8,
                    (evaluation->>'majority_accuracy')::float8, (evaluation->>'ece')::float8, needed
               FROM triage_models ORDER BY field",
            &[],
        )
        .await?;
    Ok(Value::Array(
        rows.iter()
            .map(|r| {
                json!({
                    "field": r.get::<_, String>(0), "status": r.get::<_, String>(1), "examples": r.get::<_, i32>(2),
                    "train_ms": r.get::<_, i32>(3), "accuracy": r.get::<_, Option<f64>>(4),
                    "majority_accuracy": r.get::<_, Option<f64>>(5), "ece": r.get::<_, Option<f64>>(6),
                    "needed": r.get::<_, Option<i32>>(7),
                })
            })
            .collect(),
    ))
}

async fn all_triaged(url: &str, after: i64, n: usize) -> anyhow::Result<()> {
    let started = Instant::now();
    let sql = format!("SELECT count(*) FROM ticket_ai_triage WHERE ticket_id > {after}");
    while count(url, &sql).await? < n as i64 {
        if started.elapsed() > Duration::from_secs(1800) {
            bail!("the triage of {n} tickets did not finish in 30 minutes");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// p50, p95 and max of creation → stored triage, in milliseconds.
async fn latencies(url: &str, after: i64) -> anyhow::Result<[f64; 3]> {
    let row = client(url)
        .await?
        .query_one(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms), percentile_cont(0.95) WITHIN GROUP (ORDER BY ms),
                    max(ms)
               FROM (SELECT (extract(epoch FROM a.created_at - t.created_at) * 1000)::float8 AS ms
                       FROM tickets t JOIN ticket_ai_triage a ON a.ticket_id = t.id WHERE t.id > $1) l",
            &[&after],
        )
        .await?;
    Ok([row.get(0), row.get(1), row.get::<_, f64>(2)])
}

async fn span_seconds(url: &str, after: i64) -> anyhow::Result<f64> {
    Ok(client(url)
        .await?
        .query_one(
            "SELECT extract(epoch FROM max(a.created_at) - min(t.created_at))::float8
               FROM tickets t JOIN ticket_ai_triage a ON a.ticket_id = t.id WHERE t.id > $1",
            &[&after],
        )
        .await?
        .get(0))
}

async fn model_bytes(url: &str) -> anyhow::Result<(i64, Vec<u8>)> {
    let row = client(url)
        .await?
        .query_one(
            "SELECT id, model FROM triage_models WHERE field = 'category' AND status = 'ready' ORDER BY id DESC LIMIT 1",
            &[],
        )
        .await?;
    Ok((row.get(0), row.get(1)))
}
