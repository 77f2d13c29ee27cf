//! `atum-bench retrieval`: the speed and memory of retrieval on this machine.
//!
//! 1. Embedding, in this process with the product's `atum_ai::Embedder`: short texts
//!    (customer questions from the dataset) one at a time — the query path, whose
//!    latencies give the query-embedding p50 — and in calls of 32 (the embedder cuts
//!    each call into passes of similar length), in arrival order and sorted by length
//!    first; then passages (agent replies) in calls of 32 sorted by length.
//! 2. A corpus of `ATUM_BENCH_CHUNKS` (100,000) passages in one organisation: articles
//!    of four sections each, written once through `atum_core::kb::write` and kept for
//!    later runs. Its lexical index is rebuilt from nothing by the release
//!    `atum kb reindex --org rag` (time and peak RSS).
//! 3. Vectors: each distinct section text is embedded once here and stored for every
//!    passage made of it; the release `atum-rag-worker` then embeds a sample of
//!    `ATUM_BENCH_WORKER_SAMPLE` (1,000) passages whose vectors were cleared — its
//!    own throughput and peak RSS with the model — from which the time of a full
//!    re-embedding is projected.
//! 4. The release `atum-api` with the model: its RSS with the organisation's vectors
//!    loaded, and `GET /api/v1/kb/search` with questions the corpus was not built
//!    from, each retriever alone and all fused, at concurrency 1 and 8.
//!
//! Figures go to `target/bench/retrieval.json`.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail};
use atum_ai::Embedder;
use atum_core::{
    auth::{Principal, Role},
    ids::OrgId,
    kb::write::{self, NewArticle},
    orgs,
    pg_cluster::Cluster,
    retrieval::{chunk, index},
    users::{self, NewUser},
};
use atum_runtime::config::{DatabaseConfig, Env, Service, parse_database_url};
use rand::{RngExt as _, SeedableRng as _, rngs::StdRng, seq::SliceRandom as _};
use serde_json::{Value, json};

use crate::load::{self, Call, round};

const SLUG: &str = "rag";
const PASSWORD: &str = "rag-admin-password";
const SECTIONS: usize = 4;
const BATCH: usize = 32;
/// Distinct replies the corpus's sections are drawn from (each embedded once here).
const POOL: usize = 1_000;

struct Sample {
    instruction: String,
    response: String,
}

pub fn run(cluster: &Cluster, port: u16, exe_dir: &Path, root: &Path) -> anyhow::Result<()> {
    let env = Env::process();
    let chunks: usize = env.parse_or("ATUM_BENCH_CHUNKS", 100_000, "a number of passages")?;
    let worker_sample: usize = env.parse_or("ATUM_BENCH_WORKER_SAMPLE", 1_000, "a number of passages")?;
    let seconds: u64 = env.parse_or("ATUM_BENCH_SECONDS", 10, "a number of seconds")?;
    // `keep` repeats the search figures over the index as it is (rebuilding it and
    // embedding the worker's sample takes about 7 minutes).
    let rebuild = match env.get("ATUM_BENCH_INDEX").as_deref() {
        None | Some("rebuild") => true,
        Some("keep") => false,
        Some(other) => bail!("ATUM_BENCH_INDEX must be rebuild or keep, not {other:?}"),
    };
    let dataset = env.get("ATUM_BENCH_DATASET").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets/bitext-customer-support-sample.csv")
    });
    let mut samples = read_dataset(&dataset)?;
    samples.shuffle(&mut StdRng::seed_from_u64(20261201));
    let model_dir = crate::model_dir()?;
    let model_env = ("ATUM_EMBED_MODEL_DIR", model_dir.display().to_string());

    // The questions the search is asked are kept out of the corpus and the timing sets.
    let (questions, rest) = samples.split_at(500.min(samples.len() / 4));
    let mut report = serde_json::Map::new();

    println!("embedding in this process ({})", model_dir.display());
    let embedder = Embedder::load(&model_dir)?;
    // Replies that make one passage as they are, in the form the chunker leaves them.
    let pool: Vec<String> = dedup(rest.iter().map(|s| s.response.as_str()))
        .into_iter()
        .filter_map(|r| match chunk::article("-", r).as_slice() {
            [one] if !one.body.is_empty() => Some(one.body.clone()),
            _ => None,
        })
        .take(POOL)
        .collect();
    let pool: Vec<&str> = pool.iter().map(String::as_str).collect();
    let (embedding, pool_vectors) = measure_embedding(&embedder, rest, &pool)?;
    report.insert("embedding".into(), embedding);
    let model = embedder.id().to_owned();
    drop(embedder);

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let url = cluster.url(port, "atum_rag")?;
    let org = runtime.block_on(corpus(cluster, port, &url, chunks, rest, &pool))?;

    let indexed = if rebuild {
        (|| -> anyhow::Result<i64> {
            println!("rebuilding the lexical index of {chunks} passages with `atum kb reindex --org {SLUG}`");
            runtime.block_on(async {
                let client = atum_runtime::db::connect(&parse_database_url("bench", &url)?).await?;
                client.execute("DELETE FROM kb_chunks WHERE org_id = $1", &[&org]).await?;
                client.execute("VACUUM ANALYZE kb_chunks", &[]).await?;
                anyhow::Ok(())
            })?;
            let started = Instant::now();
            let mut cli = Command::new(exe_dir.join("atum"))
                .args(["kb", "reindex", "--org", SLUG])
                .env("ATUM_DATABASE_URL", &url)
                .stdout(Stdio::null())
                .spawn()
                .context("starting `atum kb reindex` (build it with `cargo build --release -p atum-cli`)")?;
            let peak = peak_rss_until(cli.id(), || Ok(cli.try_wait()?.is_some()))?;
            let took = started.elapsed().as_secs_f64();
            if !cli.wait()?.success() {
                bail!("`atum kb reindex` failed");
            }
            let indexed: i64 =
                runtime.block_on(count(&url, "SELECT count(*) FROM kb_chunks WHERE org_id = $1", org))?;
            println!("  {indexed} passages in {took:.1} s ({:.0}/s), peak RSS {peak:.1} MB", indexed as f64 / took);
            report.insert(
            "lexical_reindex".into(),
            json!({"passages": indexed, "seconds": round(took), "per_second": round(indexed as f64 / took), "peak_rss_mb": round(peak)}),
        );

            println!("storing the vectors of {} distinct passages for all {indexed}", pool.len());
            let cleared =
                runtime.block_on(store_pool_vectors(&url, org, &model, &pool, &pool_vectors, worker_sample))?;

            println!("atum-rag-worker embeds {cleared} passages");
            let started = Instant::now();
            let (mut worker, _) =
                crate::start_service(exe_dir, Service::RagWorker, &url, 2, std::slice::from_ref(&model_env))?;
            let sql = "SELECT count(*) FROM kb_chunks WHERE org_id = $1 AND model IS DISTINCT FROM (SELECT model FROM kb_chunks WHERE org_id = $1 AND model IS NOT NULL LIMIT 1)";
            let peak = peak_rss_until(worker.id(), || Ok(runtime.block_on(count(&url, sql, org))? == 0));
            let took = started.elapsed().as_secs_f64();
            let idle = crate::rss_mb(worker.id()).unwrap_or(f64::NAN);
            stop(&mut worker);
            let peak = peak?;
            let rate = cleared as f64 / took;
            println!(
                "  {cleared} in {took:.1} s ({rate:.1}/s, model load included), peak RSS {peak:.1} MB; a full re-embedding of {indexed}: ~{:.0} min",
                indexed as f64 / rate / 60.0
            );
            report.insert(
                "rag_worker".into(),
                json!({
                    "passages": cleared, "seconds": round(took), "per_second": round(rate),
                    "peak_rss_mb": round(peak), "rss_after_mb": round(idle),
                    "projected_full_embedding_minutes": round(indexed as f64 / rate / 60.0),
                }),
            );
            Ok(indexed)
        })()?
    } else {
        let indexed = runtime.block_on(count(&url, "SELECT count(*) FROM kb_chunks WHERE org_id = $1", org))?;
        println!("keeping the index of {indexed} passages (ATUM_BENCH_INDEX=keep)");
        indexed
    };

    let (mut api, listen) = crate::start_service(exe_dir, Service::Api, &url, 16, &[model_env])?;
    let outcome = (|| -> anyhow::Result<Value> {
        let base = format!("http://{listen}");
        crate::wait_for(&base)?;
        let rss_started = crate::rss_mb(api.id())?;
        let token = crate::login_as(&base, SLUG, "admin@rag.test", PASSWORD)?;
        let paths: Vec<String> = questions
            .iter()
            .map(|q| format!("/api/v1/kb/search?limit=10&q={}", crate::retrieval::url_encode(&q.instruction)))
            .collect();
        // The first search loads the organisation's vectors.
        let t = Instant::now();
        ureq::get(&format!("{base}{}", paths[0])).set("Authorization", &format!("Bearer {token}")).call()?;
        let first = t.elapsed().as_secs_f64() * 1000.0;
        let rss_loaded = crate::rss_mb(api.id())?;
        println!(
            "atum-api RSS {rss_started:.1} MB started, {rss_loaded:.1} MB with the vectors; first search {first:.0} ms"
        );
        let mut points = Vec::new();
        let duration = Duration::from_secs(seconds);
        for (name, retrievers, concurrency) in [
            ("full_text", Some("full_text"), 1),
            ("trigram", Some("trigram"), 1),
            ("dense", Some("dense"), 1),
            ("hybrid", None, 1),
            ("hybrid", None, 8),
        ] {
            let calls: Vec<String> = paths
                .iter()
                .map(|p| match retrievers {
                    Some(r) => format!("{p}&retrievers={r}"),
                    None => p.clone(),
                })
                .collect();
            let o = load::run(name, &base, &token, &Call::Rotate(calls), concurrency, duration);
            println!(
                "  {name:<10} c={concurrency}  {:>6.1} req/s  p50 {:>6.2} ms  p95 {:>6.2} ms  p99 {:>6.2} ms  errors {}",
                o.rps, o.p50_ms, o.p95_ms, o.p99_ms, o.errors
            );
            points.push(o.to_json());
        }
        let rss_end = crate::rss_mb(api.id())?;
        Ok(json!({
            "rss_started_mb": round(rss_started), "rss_with_vectors_mb": round(rss_loaded), "rss_end_mb": round(rss_end),
            "first_search_ms": round(first), "search": points,
        }))
    })();
    stop(&mut api);
    report.insert("api".into(), outcome?);
    report.insert("passages".into(), json!(indexed));
    report.insert("when".into(), json!(chrono::Utc::now().to_rfc3339()));
    let path = root.join("retrieval.json");
    std::fs::write(&path, serde_json::to_string_pretty(&Value::Object(report))?)?;
    println!("wrote {}", path.display());
    Ok(())
}

fn read_dataset(path: &Path) -> anyhow::Result<Vec<Sample>> {
    let mut reader = csv::Reader::from_path(path)
        .with_context(|| format!("reading {} (set ATUM_BENCH_DATASET to the Bitext sample)", path.display()))?;
    let headers = reader.headers()?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name).with_context(|| format!("no column {name}"));
    let (i, r) = (col("instruction")?, col("response")?);
    let mut out = Vec::new();
    for row in reader.records() {
        let row = row?;
        out.push(Sample { instruction: row[i].trim().to_owned(), response: row[r].trim().to_owned() });
    }
    Ok(out)
}

fn dedup<'a>(texts: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = std::collections::HashSet::new();
    texts.filter(|t| !t.is_empty() && seen.insert(*t)).collect()
}

fn per_second(n: usize, took: Duration) -> f64 {
    n as f64 / took.as_secs_f64()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// Throughput of the product's embedder on short texts and on passages; returns the
/// figures and the vectors of `pool`.
fn measure_embedding(embedder: &Embedder, samples: &[Sample], pool: &[&str]) -> anyhow::Result<(Value, Vec<Vec<f32>>)> {
    let short: Vec<&str> = dedup(samples.iter().map(|s| s.instruction.as_str())).into_iter().take(2_000).collect();
    embedder.embed(&short[..8])?;
    let mut latencies = Vec::new();
    let started = Instant::now();
    for t in &short[..300] {
        let t0 = Instant::now();
        embedder.embed(&[t])?;
        latencies.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    let single = per_second(300, started.elapsed());
    latencies.sort_by(f64::total_cmp);
    let started = Instant::now();
    for batch in short.chunks(BATCH) {
        embedder.embed(batch)?;
    }
    let batched = per_second(short.len(), started.elapsed());
    let mut sorted = short.clone();
    sorted.sort_by_key(|t| t.len());
    let started = Instant::now();
    for batch in sorted.chunks(BATCH) {
        embedder.embed(batch)?;
    }
    let batched_sorted = per_second(short.len(), started.elapsed());
    println!(
        "  short texts: one at a time {single:.1}/s (p50 {:.2} ms, p95 {:.2} ms); calls of {BATCH} in arrival order {batched:.1}/s, of similar length {batched_sorted:.1}/s",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.95)
    );

    let mut order: Vec<usize> = (0..pool.len()).collect();
    order.sort_by_key(|&i| pool[i].len());
    let mut vectors = vec![Vec::new(); pool.len()];
    let started = Instant::now();
    for batch in order.chunks(BATCH) {
        let texts: Vec<&str> = batch.iter().map(|&i| pool[i]).collect();
        for (&i, v) in batch.iter().zip(embedder.embed(&texts)?) {
            vectors[i] = v;
        }
    }
    let passages = per_second(pool.len(), started.elapsed());
    let words = pool.iter().map(|p| p.split_whitespace().count()).sum::<usize>() as f64 / pool.len() as f64;
    println!("  passages (~{words:.0} words): calls of {BATCH} of similar length {passages:.1}/s");
    Ok((
        json!({
            "threads": std::thread::available_parallelism().map(usize::from).unwrap_or(1),
            "short_texts": short.len(),
            "short_words_mean": round(short.iter().map(|t| t.split_whitespace().count()).sum::<usize>() as f64 / short.len() as f64),
            "single_per_second": round(single),
            "query_p50_ms": round(percentile(&latencies, 0.5)),
            "query_p95_ms": round(percentile(&latencies, 0.95)),
            "batched_per_second": round(batched),
            "batched_sorted_per_second": round(batched_sorted),
            "passages": pool.len(),
            "passage_words_mean": round(words),
            "passages_batched_sorted_per_second": round(passages),
        }),
        vectors,
    ))
}

/// The benchmark organisation with at least `chunks / SECTIONS` published articles
/// (created here the first time, through the product's article writes).
async fn corpus(
    cluster: &Cluster,
    port: u16,
    url: &str,
    chunks: usize,
    samples: &[Sample],
    pool: &[&str],
) -> anyhow::Result<OrgId> {
    let admin = atum_runtime::db::connect(&parse_database_url("bench", &cluster.url(port, "postgres")?)?).await?;
    if admin.query_opt("SELECT 1 FROM pg_database WHERE datname = 'atum_rag'", &[]).await?.is_none() {
        admin.batch_execute("CREATE DATABASE atum_rag").await?;
    }
    let mut client = atum_runtime::db::connect(&parse_database_url("bench", url)?).await?;
    atum_core::schema::migrate_up(&mut client, None).await?;
    let db = atum_runtime::db::pool(&DatabaseConfig { pg: parse_database_url("bench", url)?, pool_size: 1 })?;
    let mut conn = atum_runtime::db::connection(&db).await?;
    let org = match orgs::find_by_slug(&conn, SLUG).await {
        Ok(o) => o.id,
        Err(_) => {
            let user = NewUser {
                email: "admin@rag.test".into(),
                display_name: "Retrieval Admin".into(),
                role: Role::Admin,
                password: Some(PASSWORD.into()),
            };
            let hash = users::hash_for(&user)?.context("password")?;
            let tx = conn.transaction().await?;
            let (org, _) = orgs::create_with_admin(&tx, SLUG, "Retrieval benchmark", &user, hash).await?;
            tx.commit().await?;
            org.id
        }
    };
    let admin_id: i64 =
        conn.query_one("SELECT id FROM users WHERE org_id = $1 AND role = 'admin' LIMIT 1", &[&org]).await?.get(0);
    let who =
        Principal { session_id: 0, user_id: admin_id.into(), org_id: org, role: Role::Admin, must_enrol_mfa: false };
    let have: i64 = conn.query_one("SELECT count(*) FROM kb_articles WHERE org_id = $1", &[&org]).await?.get(0);
    let want = chunks.div_ceil(SECTIONS) as i64;
    if have < want {
        println!("writing {} articles of {SECTIONS} sections (once; kept for later runs)", want - have);
        let mut rng = StdRng::seed_from_u64(have as u64);
        let mut left = want - have;
        while left > 0 {
            let tx = conn.transaction().await?;
            for _ in 0..left.min(500) {
                let title = &samples[rng.random_range(0..samples.len())].instruction;
                let mut body = String::new();
                for s in 0..SECTIONS {
                    let heading = &samples[rng.random_range(0..samples.len())].instruction;
                    body.push_str(&format!(
                        "## {} {}\n\n{}\n\n",
                        s + 1,
                        heading,
                        pool[rng.random_range(0..pool.len())]
                    ));
                }
                let new = NewArticle {
                    title: title.chars().take(200).collect(),
                    body,
                    visibility: Some("internal".into()),
                    tags: Vec::new(),
                    publish: true,
                    attachment_ids: Vec::new(),
                };
                write::create(&tx, &who, &new).await?;
            }
            tx.commit().await?;
            left -= 500.min(left);
        }
        conn.execute("VACUUM ANALYZE kb_articles", &[]).await?;
    }
    Ok(org)
}

/// Gives every passage the vector of its reply text from `pool` (one embedding per
/// distinct text: the corpus repeats them), then clears the vectors of a random
/// `sample` for the worker to make; returns how many were cleared.
async fn store_pool_vectors(
    url: &str,
    org: OrgId,
    model: &str,
    pool: &[&str],
    vectors: &[Vec<f32>],
    sample: usize,
) -> anyhow::Result<usize> {
    let mut client = atum_runtime::db::connect(&parse_database_url("bench", url)?).await?;
    let by_text: HashMap<&str, &Vec<f32>> = pool.iter().copied().zip(vectors).collect();
    let rows = client.query("SELECT id, body FROM kb_chunks WHERE org_id = $1", &[&org]).await?;
    let tx = client.transaction().await?;
    let update = tx.prepare("UPDATE kb_chunks SET embedding = $2, model = $3 WHERE id = $1").await?;
    for r in &rows {
        let body: &str = r.get(1);
        let v = by_text.get(body).map(|v| v.as_slice()).unwrap_or(&[]);
        if v.is_empty() {
            continue;
        }
        tx.execute(&update, &[&r.get::<_, i64>(0), &index::to_bytes(v), &model]).await?;
    }
    let cleared = tx
        .execute(
            "UPDATE kb_chunks SET embedding = NULL, model = NULL
             WHERE id IN (SELECT id FROM kb_chunks WHERE org_id = $1 ORDER BY random() LIMIT $2)",
            &[&org, &(sample as i64)],
        )
        .await?;
    let missing: i64 =
        tx.query_one("SELECT count(*) FROM kb_chunks WHERE org_id = $1 AND embedding IS NULL", &[&org]).await?.get(0);
    tx.commit().await?;
    client.execute("VACUUM ANALYZE kb_chunks", &[]).await?;
    Ok(missing.max(cleared as i64) as usize)
}

async fn count(url: &str, sql: &str, org: OrgId) -> anyhow::Result<i64> {
    let client = atum_runtime::db::connect(&parse_database_url("bench", url)?).await?;
    Ok(client.query_one(sql, &[&org]).await?.get(0))
}

/// Samples the RSS of `pid` every 200 ms until `done`; the peak in MB.
pub(crate) fn peak_rss_until(pid: u32, mut done: impl FnMut() -> anyhow::Result<bool>) -> anyhow::Result<f64> {
    let mut peak = 0f64;
    let started = Instant::now();
    loop {
        if let Ok(mb) = crate::rss_mb(pid) {
            peak = peak.max(mb);
        }
        if done()? {
            return Ok(peak);
        }
        if started.elapsed() > Duration::from_secs(4 * 3600) {
            bail!("gave up after four hours");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn stop(child: &mut std::process::Child) {
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let _ = child.wait();
}
