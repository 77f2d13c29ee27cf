//! atum-bench: the API under load against a million-ticket organisation, beside a raw
//! PostgreSQL baseline (pgbench running the statements a create runs) on the same
//! cluster in the same run, with the create's statements from `pg_stat_statements`
//! and the API's memory. Prints the figures and writes them to `target/bench/api.json`.
//!
//! Run: `cargo build --release -p atum-api -p atum-bench && target/release/atum-bench`
//! (`ATUM_BENCH_TICKETS`, `ATUM_BENCH_SECONDS` to change the size and duration).
//!
//! `atum-bench queue` runs the job-queue benchmark against graphile-worker instead
//! (needs `npm ci --prefix bench/graphile` and a release `atum-job-worker`); figures go
//! to `target/bench/queue.json`.
//!
//! `atum-bench sla` runs the SLA benchmark (business-time arithmetic, a sweep over
//! `ATUM_BENCH_TICKETS` open tickets of which 1% are due, recomputing
//! `ATUM_BENCH_RECOMPUTE` tickets after a calendar change); figures go to
//! `target/bench/sla.json`. `atum-bench sla-eval` evaluates the breach prediction on
//! synthetic history (no database) and writes `target/bench/sla-prediction.json`.
//!
//! `atum-bench dashboard` times a dashboard snapshot of the million-ticket
//! organisation and ticket writes with and without snapshots running; figures go to
//! `target/bench/dashboard.json`.
//!
//! `atum-bench sse` opens `ATUM_BENCH_CLIENTS` (1,000) event streams on one release
//! `atum-api` and measures its CPU and memory idle and while `ATUM_BENCH_RATE` (50)
//! ticket changes a second flow, against the same process with no stream; figures go
//! to `target/bench/sse.json`.
//!
//! `atum-bench retrieval-eval` loads `bench/retrieval/retrieval-set.json` into a fresh
//! database through the API, lets the release `atum-rag-worker` index and embed it, and
//! asks the API's search with each retriever alone and all fused: recall@1, recall@5
//! and MRR@10 go to `target/bench/retrieval-eval.json`.
//!
//! `atum-bench reply-eval` files the same set's held-back messages as tickets and
//! compares each draft reply the job worker writes (`SMART_REPLY`) with the agent's
//! real reply (ROUGE-L, embedding similarity) beside the best single passage, and
//! times creation → stored draft (`bench/src/reply_eval.rs`); figures go to
//! `target/bench/reply-eval.json`.
//!
//! `atum-bench copilot-eval` asks the copilot (offline) about tickets filed from the
//! same set: the answered rate and citation checks on answerable ones, the refusal rate
//! out of scope, and tickets with planted instructions (`bench/src/copilot_eval.rs`);
//! figures go to `target/bench/copilot-eval.json`.
//!
//! `atum-bench triage` trains the triage model on histories of 10,000 and 100,000
//! labelled tickets with the release `atum ai eval` and records time and peak memory
//! (`bench/src/triage.rs`); figures go to `target/bench/triage-train.json`.
//! `atum-bench triage-worker` runs auto-triage end to end through the product: import,
//! training and triage on the job worker, tickets filed through the API
//! (`bench/src/triage_worker.rs`); figures go to `target/bench/triage-worker.json`.
//!
//! `atum-bench retrieval` measures embedding throughput, a full re-index of
//! `ATUM_BENCH_CHUNKS` (100,000) passages, the retrieval worker's and the API's memory
//! with the model, and search latency at concurrency 1 and 8 (`bench/src/rag.rs`);
//! figures go to `target/bench/retrieval.json`.

mod copilot_eval;
mod dashboard;
mod load;
mod queue;
mod rag;
mod reply_eval;
mod retrieval;
mod seed;
mod sla;
mod sla_eval;
mod sse;
mod statements;
mod triage;
mod triage_worker;

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Duration,
};

use anyhow::{Context as _, bail};
use atum_core::pg_cluster::{Cluster, Durability};
use atum_runtime::config::{DatabaseConfig, Env, parse_database_url};
use load::{Call, Outcome, round};
use serde_json::{Value, json};

const CONCURRENCY: [usize; 3] = [1, 16, 64];

fn main() -> anyhow::Result<()> {
    let env = Env::process();
    let tickets: i64 = env.parse_or("ATUM_BENCH_TICKETS", 1_000_000, "a number of tickets")?;
    let seconds: u64 = env.parse_or("ATUM_BENCH_SECONDS", 5, "a number of seconds")?;
    let duration = Duration::from_secs(seconds);
    let exe_dir = std::env::current_exe()?.parent().map(Path::to_path_buf).context("exe dir")?;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&root)?;
    let root = root.canonicalize()?;

    let mode = std::env::args().nth(1).unwrap_or_else(|| "api".into());
    const MODES: [&str; 12] = [
        "api",
        "queue",
        "sla",
        "sla-eval",
        "dashboard",
        "sse",
        "retrieval",
        "retrieval-eval",
        "reply-eval",
        "copilot-eval",
        "triage",
        "triage-worker",
    ];
    if !MODES.contains(&mode.as_str()) {
        bail!("usage: atum-bench [{}]", MODES.join("|"));
    }
    if mode == "triage" {
        // The CLI trains from files: no cluster needed.
        return triage::run(&exe_dir, &root);
    }
    if mode == "sla-eval" {
        // Pure computation on synthetic history: no cluster needed.
        let mut report = sla_eval::run();
        report["when"] = json!(chrono::Utc::now().to_rfc3339());
        let path = root.join("sla-prediction.json");
        std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
        println!("wrote {}", path.display());
        return Ok(());
    }
    println!("cluster: {}", root.join("pg").display());
    let cluster = Cluster::open_or_init(&root.join("pg"), Durability::Durable)?;
    let port = cluster.start()?;
    let result = match mode.as_str() {
        "api" => run(&cluster, port, &exe_dir, &root, tickets, duration),
        "queue" => run_queue(&cluster, port, &exe_dir, &root),
        "dashboard" => run_dashboard(&cluster, port, &root, tickets, seconds.max(10)),
        "sse" => run_sse(&cluster, port, &exe_dir, &root, tickets, seconds.max(10)),
        "retrieval-eval" => retrieval::run(&cluster, port, &exe_dir, &root),
        "reply-eval" => reply_eval::run(&cluster, port, &exe_dir, &root),
        "copilot-eval" => copilot_eval::run(&cluster, port, &exe_dir, &root),
        "retrieval" => rag::run(&cluster, port, &exe_dir, &root),
        "triage-worker" => triage_worker::run(&cluster, port, &exe_dir, &root),
        _ => run_sla(&cluster, port, &root, tickets),
    };
    cluster.stop()?;
    result
}

fn run_queue(cluster: &Cluster, port: u16, exe_dir: &Path, root: &Path) -> anyhow::Result<()> {
    let graphile_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("graphile").canonicalize()?;
    if !graphile_dir.join("node_modules/graphile-worker").is_dir() {
        bail!("graphile-worker is not installed: run `npm ci --prefix {}`", graphile_dir.display());
    }
    let backlog: i64 = Env::process().parse_or("ATUM_BENCH_JOBS", 200_000, "a number of jobs")?;
    let only = std::env::var("ATUM_BENCH_ONLY").unwrap_or_default();
    let only = only.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect();
    let setup = queue::Setup { cluster, port, exe_dir, graphile_dir: &graphile_dir, backlog, only };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let mut report = runtime.block_on(queue::run(&setup))?;
    report["when"] = json!(chrono::Utc::now().to_rfc3339());
    let path = root.join("queue.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
    println!("wrote {}", path.display());
    Ok(())
}

fn run_dashboard(cluster: &Cluster, port: u16, root: &Path, tickets: i64, seconds: u64) -> anyhow::Result<()> {
    let setup = dashboard::Setup { cluster, port, tickets, seconds };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let mut report = runtime.block_on(dashboard::run(&setup))?;
    report["when"] = json!(chrono::Utc::now().to_rfc3339());
    let path = root.join("dashboard.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
    println!("wrote {}", path.display());
    Ok(())
}

fn run_sse(
    cluster: &Cluster,
    port: u16,
    exe_dir: &Path,
    root: &Path,
    tickets: i64,
    seconds: u64,
) -> anyhow::Result<()> {
    let env = Env::process();
    let clients: usize = env.parse_or("ATUM_BENCH_CLIENTS", 1_000, "a number of event-stream clients")?;
    let rate: u32 = env.parse_or("ATUM_BENCH_RATE", 50, "a number of changes a second")?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let (url, _org) = runtime.block_on(bench_database(cluster, port, tickets))?;
    let (mut api, listen) = start_api(exe_dir, &url, 16)?;
    let outcome = (|| -> anyhow::Result<Value> {
        let base = format!("http://{listen}");
        wait_for(&base)?;
        let token = login(&base)?;
        sse::run(&sse::Setup { api_pid: api.id(), listen, token, clients, rate, seconds })
    })();
    let _ = Command::new("kill").arg(api.id().to_string()).status();
    let _ = api.wait();
    let mut report = outcome?;
    report["when"] = json!(chrono::Utc::now().to_rfc3339());
    let path = root.join("sse.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
    println!("wrote {}", path.display());
    Ok(())
}

fn run_sla(cluster: &Cluster, port: u16, root: &Path, tickets: i64) -> anyhow::Result<()> {
    let recompute: i64 = Env::process().parse_or("ATUM_BENCH_RECOMPUTE", 100_000, "a number of tickets")?;
    let setup = sla::Setup { cluster, port, tickets, recompute };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let mut report = runtime.block_on(sla::run(&setup))?;
    report["when"] = json!(chrono::Utc::now().to_rfc3339());
    let path = root.join("sla.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
    println!("wrote {}", path.display());
    Ok(())
}

fn run(
    cluster: &Cluster,
    port: u16,
    exe_dir: &Path,
    root: &Path,
    tickets: i64,
    duration: Duration,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(statements::ensure_loaded(cluster, port))?;
    let (url, org) = runtime.block_on(bench_database(cluster, port, tickets))?;
    let (mut api, listen) = start_api(exe_dir, &url, 32)?;
    let outcome = (|| -> anyhow::Result<Value> {
        let base = format!("http://{listen}");
        wait_for(&base)?;
        let memory_at_start = memory(api.id())?;
        let token = login(&base)?;
        let (deep_cursor, some_id) = runtime.block_on(deep_cursor(&url, org, tickets))?;

        let scenarios = [
            (
                "create",
                Call::Post(
                    "/api/v1/tickets".into(),
                    json!({"subject": "Benchmark ticket", "description": "Load test", "priority": "normal"}),
                ),
            ),
            ("list_open_first_page", Call::Get("/api/v1/tickets?status=open&limit=50".into())),
            ("list_open_deep_page", Call::Get(format!("/api/v1/tickets?status=open&limit=50&cursor={deep_cursor}"))),
            ("get_ticket", Call::Get(format!("/api/v1/tickets/{some_id}"))),
        ];
        // Warm caches and connections before measuring.
        for (name, call) in &scenarios {
            load::run(name, &base, &token, call, 4, Duration::from_secs(1));
        }
        let mut outcomes: Vec<Outcome> = Vec::new();
        for (name, call) in &scenarios {
            for c in CONCURRENCY {
                let o = load::run(name, &base, &token, call, c, duration);
                println!(
                    "{:<22} c={:<3} {:>8.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  errors {}",
                    o.name, o.concurrency, o.rps, o.p50_ms, o.p99_ms, o.errors
                );
                outcomes.push(o);
            }
        }
        // A pass of creates at c=1 with the statement statistics cleared before it.
        runtime.block_on(statements::reset(&url))?;
        let pass = load::run("create", &base, &token, &scenarios[0].1, 1, duration);
        let profile = runtime.block_on(statements::per(&url, pass.requests, "create"))?;
        println!(
            "a create ran {} statements, {} ms of execution in PostgreSQL (p50 of the pass {:.2} ms):",
            profile["statements_per_create"], profile["exec_ms_per_create"], pass.p50_ms
        );
        statements::print(&profile, "create");
        let session_hash = atum_core::auth::session::hash_token(&token);
        let mut baseline = serde_json::Map::new();
        for c in CONCURRENCY {
            let tps = pgbench(cluster, port, org, &session_hash, c, duration)?;
            println!("{:<22} c={:<3} {:>8.0} tx/s (pgbench, the create's statements)", "raw_insert", c, tps);
            baseline.insert(c.to_string(), json!(round(tps)));
        }
        let ratio: serde_json::Map<String, Value> = CONCURRENCY
            .iter()
            .map(|c| {
                let api =
                    outcomes.iter().find(|o| o.name == "create" && o.concurrency == *c).map(|o| o.rps).unwrap_or(0.0);
                let raw = baseline[&c.to_string()].as_f64().unwrap_or(f64::NAN);
                (c.to_string(), json!(round(api / raw)))
            })
            .collect();
        let memory_at_end = memory(api.id())?;
        println!("create / raw insert: {}", Value::Object(ratio.clone()));
        println!("atum-api memory at the start: {memory_at_start}");
        println!("atum-api memory at the end: {memory_at_end}");
        Ok(json!({
            "when": chrono::Utc::now().to_rfc3339(),
            "tickets_in_org": tickets,
            "seconds_per_scenario": duration.as_secs(),
            "api_pool_size": 32,
            "scenarios": outcomes.iter().map(Outcome::to_json).collect::<Vec<_>>(),
            "raw_insert_tps": baseline,
            "create_to_raw_insert_ratio": ratio,
            "api_rss_mb": memory_at_end["rss_mb"],
            "api_memory": {"start": memory_at_start, "end": memory_at_end},
            "create_statements": profile,
        }))
    })();
    let _ = Command::new("kill").arg(api.id().to_string()).status();
    let _ = api.wait();
    let report = outcome?;
    let path = root.join("api.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
    println!("wrote {}", path.display());
    Ok(())
}

/// The benchmark database, migrated and seeded with `tickets` tickets (kept between
/// runs): its URL and the organisation's id.
async fn bench_database(cluster: &Cluster, port: u16, tickets: i64) -> anyhow::Result<(String, i64)> {
    let url = cluster.url(port, "atum_bench")?;
    let admin = atum_runtime::db::connect(&parse_database_url("bench", &cluster.url(port, "postgres")?)?).await?;
    if admin.query_opt("SELECT 1 FROM pg_database WHERE datname = 'atum_bench'", &[]).await?.is_none() {
        admin.batch_execute("CREATE DATABASE atum_bench").await?;
    }
    let mut client = atum_runtime::db::connect(&parse_database_url("bench", &url)?).await?;
    atum_core::schema::migrate_up(&mut client, None).await?;
    let pool = atum_runtime::db::pool(&DatabaseConfig { pg: parse_database_url("bench", &url)?, pool_size: 1 })?;
    let mut conn = atum_runtime::db::connection(&pool).await?;
    println!("seeding {tickets} tickets (once; kept for later runs)");
    let org = seed::ensure(&mut conn, tickets).await?;
    Ok((url, org))
}

/// Starts the release `atum-api` beside this program on a free port.
fn start_api(exe_dir: &Path, url: &str, pool_size: u32) -> anyhow::Result<(std::process::Child, std::net::SocketAddr)> {
    start_service(exe_dir, atum_runtime::config::Service::Api, url, pool_size, &[])
}

/// Starts a release binary of the suite beside this program, listening on a free port.
pub(crate) fn start_service(
    exe_dir: &Path,
    service: atum_runtime::config::Service,
    url: &str,
    pool_size: u32,
    env: &[(&str, String)],
) -> anyhow::Result<(std::process::Child, std::net::SocketAddr)> {
    let listen = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let exe = exe_dir.join(service.binary());
    if !exe.is_file() {
        bail!("{} is missing: build it with `cargo build --release -p {}`", exe.display(), service.binary());
    }
    let child = Command::new(&exe)
        .env("ATUM_DATABASE_URL", url)
        .env(service.listen_var(), listen.to_string())
        .env("ATUM_DATABASE_POOL_SIZE", pool_size.to_string())
        .env("ATUM_LOG", "warn")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", service.binary()))?;
    Ok((child, listen))
}

/// The embedding model's directory under `var/` (fetched when missing), absolute: the
/// services the benches start read it from `ATUM_EMBED_MODEL_DIR`.
pub(crate) fn model_dir() -> anyhow::Result<PathBuf> {
    Ok(atum_core::model_files::ensure(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../var"), &mut |m| {
        println!("{m}")
    })?
    .canonicalize()?)
}

pub(crate) fn wait_for(base: &str) -> anyhow::Result<()> {
    for _ in 0..100 {
        if ureq::get(&format!("{base}/api/v1/health")).call().is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("atum-api did not come up")
}

fn login(base: &str) -> anyhow::Result<String> {
    login_as(base, seed::SLUG, "admin@bench.test", seed::PASSWORD)
}

/// A session token for `email` of organisation `org`.
pub(crate) fn login_as(base: &str, org: &str, email: &str, password: &str) -> anyhow::Result<String> {
    let body = json!({"org": org, "email": email, "password": password}).to_string();
    let res: Value = serde_json::from_str(
        &ureq::post(&format!("{base}/api/v1/auth/login"))
            .set("Content-Type", "application/json")
            .send_string(&body)?
            .into_string()?,
    )?;
    res["token"].as_str().map(str::to_owned).context("no token in the login response")
}

/// A cursor 90% of the way down the open tickets, and a ticket id to fetch.
async fn deep_cursor(url: &str, org: i64, tickets: i64) -> anyhow::Result<(String, i64)> {
    let client = atum_runtime::db::connect(&parse_database_url("bench", url)?).await?;
    let offset = (tickets / 6) * 9 / 10;
    let row = client
        .query_one(
            "SELECT created_at, id FROM tickets WHERE org_id = $1 AND status = 'open'
             ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 1",
            &[&org, &offset],
        )
        .await?;
    let some: i64 = client
        .query_one("SELECT id FROM tickets WHERE org_id = $1 ORDER BY id OFFSET $2 LIMIT 1", &[&org, &(tickets / 2)])
        .await?
        .get(0);
    Ok((atum_core::tickets::list::cursor_after(row.get(0), row.get(1)), some))
}

/// Transactions per second of what the API's ticket create does in the database, done
/// directly by pgbench: the statements `create_statements` lists (the session lookup
/// with the benchmark's own session, the organisation's SLA policies, the numbered
/// insert, the journal entry and its notice, the AI's three jobs with their events and
/// wake-up in one statement), in one transaction, without the API between them.
fn pgbench(
    cluster: &Cluster,
    port: u16,
    org: i64,
    session_hash: &[u8],
    clients: usize,
    duration: Duration,
) -> anyhow::Result<f64> {
    let script = std::env::temp_dir().join("atum-bench-insert.sql");
    let hash: String = session_hash.iter().map(|b| format!("{b:02x}")).collect();
    let jobs = ["('TRIAGE_TICKET', 3)", "('KB_SUGGEST', 3)", "('SMART_REPLY', 4)"].join(", ");
    std::fs::write(
        &script,
        format!(
            "BEGIN;
SELECT s.id, s.org_id, s.user_id, u.role, s.last_seen_at < now() - interval '1 minute',
       o.require_mfa AND u.role IN ('admin', 'agent') AND NOT EXISTS (
           SELECT 1 FROM user_totp t WHERE t.user_id = u.id AND t.confirmed_at IS NOT NULL),
       NOT EXISTS (SELECT 1 FROM org_ip_allowlist a WHERE a.org_id = s.org_id)
       OR EXISTS (SELECT 1 FROM org_ip_allowlist a WHERE a.org_id = s.org_id AND '127.0.0.1'::inet <<= a.cidr)
  FROM sessions s JOIN users u ON u.org_id = s.org_id AND u.id = s.user_id JOIN organizations o ON o.id = s.org_id
 WHERE s.token_hash = '\\x{hash}' AND s.revoked_at IS NULL AND s.expires_at > now()
   AND s.last_seen_at > now() - interval '2 hours' AND u.is_active;
SELECT p.id, p.name, p.priorities, p.categories, p.first_response_minutes, p.next_response_minutes,
       p.resolution_minutes, p.pause_statuses, p.warn_before_minutes, p.escalate_priority,
       p.escalate_assignee_id, p.escalate_notify, c.timezone, c.hours, c.holidays, p.escalate_group_id
  FROM sla_policies p LEFT JOIN sla_calendars c ON c.org_id = p.org_id AND c.id = p.calendar_id
 WHERE p.org_id = {org} ORDER BY p.position, p.id;
WITH n AS (UPDATE organizations SET last_ticket_number = last_ticket_number + 1 WHERE id = {org} RETURNING last_ticket_number)
INSERT INTO tickets (org_id, number, subject, description, priority, category, tags, requester_id, assignee_id, channel)
SELECT {org}, n.last_ticket_number, 'Benchmark ticket', 'Load test', 'normal', NULL, '{{}}',
       (SELECT id FROM users WHERE org_id = {org} AND role = 'admin' ORDER BY id LIMIT 1), NULL, 'web' FROM n
RETURNING *;
WITH e AS (
  INSERT INTO ticket_events (org_id, ticket_id, actor_id, actor_kind, event_type, before, after)
  VALUES ({org}, currval('tickets_id_seq'), (SELECT id FROM users WHERE org_id = {org} AND role = 'admin' ORDER BY id LIMIT 1),
          'user', 'created', NULL, '{{\"subject\": \"Benchmark ticket\", \"priority\": \"normal\", \"status\": \"open\"}}')
  RETURNING id)
SELECT pg_notify('atum_tickets', '{org}:' || currval('tickets_id_seq') || ':' || id) FROM e;
WITH inserted AS (
  INSERT INTO job_queue (kind, queue, priority, max_attempts, run_at, payload, unique_key, org_id)
  SELECT j.kind, 'ai', j.priority, 10, now(),
         jsonb_build_object('org_id', {org}, 'ticket_id', currval('tickets_id_seq'), 'after_comment', 0),
         currval('tickets_id_seq') || ':0', {org}
    FROM (VALUES {jobs}) AS j(kind, priority)
  ON CONFLICT (kind, unique_key) WHERE unique_key IS NOT NULL AND state IN ('available', 'running') DO NOTHING
  RETURNING id, kind, queue
), events AS (INSERT INTO job_events (job_id, kind, event) SELECT id, kind, 'enqueued' FROM inserted)
SELECT id FROM inserted, LATERAL (SELECT pg_notify('atum_jobs', queue)) wake;
COMMIT;
"
        ),
    )?;
    let url = cluster.url(port, "atum_bench")?;
    let bin = atum_core::pg_cluster::locate_binaries()?;
    let out = Command::new(bin.join("pgbench"))
        .args([
            "-n",
            "-M",
            "prepared",
            "-j",
            "2",
            "-c",
            &clients.to_string(),
            "-T",
            &duration.as_secs().to_string(),
            "-f",
        ])
        .arg(&script)
        .arg(&url)
        .output()
        .context("running pgbench")?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("tps = ")?.split_whitespace().next()?.parse().ok())
        .with_context(|| format!("no tps in pgbench's output: {text}{}", String::from_utf8_lossy(&out.stderr)))
}

/// A field of `/proc/<pid>/status` (kB for the memory ones).
fn proc_status(pid: u32, name: &str) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':')?.split_whitespace().next()?.parse().ok())
        .with_context(|| format!("{name} in /proc/{pid}/status"))
}

/// Where a process's resident memory is: the heap and stacks (anonymous), the mapped
/// binary and libraries (file), and its threads, in MB.
pub(crate) fn memory(pid: u32) -> anyhow::Result<Value> {
    let mb = |name: &str| proc_status(pid, name).map(|kb| round(kb / 1024.0));
    Ok(json!({
        "rss_mb": mb("VmRSS")?,
        "anon_mb": mb("RssAnon")?,
        "file_mb": mb("RssFile")?,
        "threads": proc_status(pid, "Threads")?,
    }))
}

pub(crate) fn rss_mb(pid: u32) -> anyhow::Result<f64> {
    Ok(proc_status(pid, "VmRSS")? / 1024.0)
}
