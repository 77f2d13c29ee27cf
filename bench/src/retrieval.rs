//! `atum-bench retrieval-eval`: retrieval quality through the product's own path.
//!
//! A fresh database; the articles of `bench/retrieval/retrieval-set.json` written and
//! published through the API; the release `atum-rag-worker` chunks and embeds them;
//! then every query goes to `GET /api/v1/kb/search` with one retriever at a time and
//! with all of them fused. A query is answered when the article of its intent comes
//! back; recall@1, recall@5 and MRR@10 (the reciprocal rank of that article within
//! the first ten results, 0 beyond) are reported for all queries and for the typo set.

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail};
use atum_core::{
    auth::Role,
    orgs,
    pg_cluster::Cluster,
    users::{self, NewUser},
};
use atum_runtime::config::{Service, parse_database_url};
use serde_json::{Value, json};

use crate::load::round;

pub(crate) const PASSWORD: &str = "eval-admin-password";
const CONFIGS: [(&str, &str); 5] = [
    ("full_text", "full_text"),
    ("trigram", "trigram"),
    ("dense", "dense"),
    ("text+dense", "full_text,dense"),
    ("hybrid", "full_text,trigram,dense"),
];

pub fn run(cluster: &Cluster, port: u16, exe_dir: &Path, root: &Path) -> anyhow::Result<()> {
    let set_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("retrieval/retrieval-set.json");
    let set: Value = serde_json::from_str(&std::fs::read_to_string(&set_path)?)?;
    let model_env = ("ATUM_EMBED_MODEL_DIR", crate::model_dir()?.display().to_string());

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let url = cluster.url(port, "atum_eval")?;
    runtime.block_on(fresh_database(cluster, port, &url, "atum_eval"))?;

    let (mut worker, _) = crate::start_service(exe_dir, Service::RagWorker, &url, 4, std::slice::from_ref(&model_env))?;
    let (mut api, listen) = crate::start_service(exe_dir, Service::Api, &url, 8, &[model_env])?;
    let outcome = (|| -> anyhow::Result<Value> {
        let base = format!("http://{listen}");
        crate::wait_for(&base)?;
        let token = crate::login_as(&base, "eval", "admin@eval.test", PASSWORD)?;
        let intent_of: std::collections::HashMap<i64, String> =
            publish(&base, &token, set["articles"].as_array().context("articles")?, "intent")?
                .into_iter()
                .map(|(intent, id)| (id, intent))
                .collect();
        let started = Instant::now();
        runtime.block_on(wait_embedded(&url, intent_of.len() as i64, Duration::from_secs(600)))?;
        println!("{} articles indexed and embedded in {:.1} s", intent_of.len(), started.elapsed().as_secs_f64());

        let queries = set["queries"].as_array().context("queries")?;
        let mut report = serde_json::Map::new();
        for (name, retrievers) in CONFIGS {
            let mut all = Ranks::default();
            let mut typos = Ranks::default();
            for q in queries {
                let text = q["text"].as_str().unwrap_or("");
                let path = format!("/api/v1/kb/search?limit=10&retrievers={retrievers}&q={}", url_encode(text));
                let res = get(&base, &token, &path)?;
                let want = q["intent"].as_str().unwrap_or("");
                let rank = res["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .position(|h| {
                        h["source"] == "article"
                            && h["id"].as_i64().and_then(|id| intent_of.get(&id)).is_some_and(|i| i == want)
                    })
                    .map(|p| p + 1);
                if q["typo"].as_bool() == Some(true) { typos.push(rank) } else { all.push(rank) }
            }
            println!(
                "{name:<10} recall@1 {:.3}  recall@5 {:.3}  MRR@10 {:.3}   typos: recall@1 {:.3}  recall@5 {:.3}  MRR@10 {:.3}",
                all.recall(1),
                all.recall(5),
                all.mrr(),
                typos.recall(1),
                typos.recall(5),
                typos.mrr()
            );
            report.insert(name.into(), json!({"queries": all.to_json(), "typo_queries": typos.to_json()}));
        }
        Ok(json!({
            "set": "bench/retrieval/retrieval-set.json",
            "articles": intent_of.len(),
            "queries": queries.iter().filter(|q| q["typo"] != true).count(),
            "typo_queries": queries.iter().filter(|q| q["typo"] == true).count(),
            "retrievers": Value::Object(report),
            "note": "Bitext's wording is templated: these figures are optimistic for real tickets",
        }))
    })();
    for child in [&mut api, &mut worker] {
        let _ = std::process::Command::new("kill").arg(child.id().to_string()).status();
        let _ = child.wait();
    }
    let mut report = outcome?;
    report["when"] = json!(chrono::Utc::now().to_rfc3339());
    let path = root.join("retrieval-eval.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
    println!("wrote {}", path.display());
    Ok(())
}

/// The rank (1-based) at which each query found its article, if within ten.
#[derive(Default)]
struct Ranks(Vec<Option<usize>>);

impl Ranks {
    fn push(&mut self, r: Option<usize>) {
        self.0.push(r);
    }
    fn recall(&self, k: usize) -> f64 {
        self.0.iter().filter(|r| r.is_some_and(|r| r <= k)).count() as f64 / self.0.len().max(1) as f64
    }
    fn mrr(&self) -> f64 {
        self.0.iter().map(|r| r.map_or(0.0, |r| 1.0 / r as f64)).sum::<f64>() / self.0.len().max(1) as f64
    }
    fn to_json(&self) -> Value {
        json!({"n": self.0.len(), "recall_at_1": round(self.recall(1)), "recall_at_5": round(self.recall(5)), "mrr_at_10": round(self.mrr())})
    }
}

/// A new database `name` at `url` with the organisation `eval` and its admin.
pub(crate) async fn fresh_database(cluster: &Cluster, port: u16, url: &str, name: &str) -> anyhow::Result<()> {
    let admin = atum_runtime::db::connect(&parse_database_url("bench", &cluster.url(port, "postgres")?)?).await?;
    // Two statements: CREATE DATABASE cannot share an (implicit) transaction.
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await?;
    admin.batch_execute(&format!("CREATE DATABASE {name}")).await?;
    let mut client = atum_runtime::db::connect(&parse_database_url("bench", url)?).await?;
    atum_core::schema::migrate_up(&mut client, None).await?;
    let user = NewUser {
        email: "admin@eval.test".into(),
        display_name: "Eval Admin".into(),
        role: Role::Admin,
        password: Some(PASSWORD.into()),
    };
    let hash = users::hash_for(&user)?.context("password")?;
    let pool = atum_runtime::db::pool(&atum_runtime::config::DatabaseConfig {
        pg: parse_database_url("bench", url)?,
        pool_size: 1,
    })?;
    let mut conn = atum_runtime::db::connection(&pool).await?;
    let tx = conn.transaction().await?;
    orgs::create_with_admin(&tx, "eval", "Evaluation", &user, hash).await?;
    tx.commit().await?;
    Ok(())
}

/// Waits until every article is in the index and every passage has a vector.
pub(crate) async fn wait_embedded(url: &str, articles: i64, limit: Duration) -> anyhow::Result<()> {
    let client = atum_runtime::db::connect(&parse_database_url("bench", url)?).await?;
    let started = Instant::now();
    loop {
        let row = client
            .query_one(
                "SELECT count(*), count(*) FILTER (WHERE embedding IS NULL), count(DISTINCT source_id) FROM kb_chunks",
                &[],
            )
            .await?;
        let (chunks, pending, sources): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
        if sources == articles && pending == 0 {
            return Ok(());
        }
        if started.elapsed() > limit {
            bail!("{pending} of {chunks} passages ({sources} of {articles} articles) without a vector after {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub(crate) fn post(base: &str, token: &str, path: &str, body: &Value) -> anyhow::Result<Value> {
    Ok(serde_json::from_str(
        &ureq::post(&format!("{base}{path}"))
            .set("Authorization", &format!("Bearer {token}"))
            .set("Content-Type", "application/json")
            .send_string(&body.to_string())?
            .into_string()?,
    )?)
}

/// Writes and publishes each of `articles` (`title`, `body`) as a public article through
/// the API: each one's `key` field (its intent, its flow) with the id it got.
pub(crate) fn publish(base: &str, token: &str, articles: &[Value], key: &str) -> anyhow::Result<Vec<(String, i64)>> {
    articles
        .iter()
        .map(|a| {
            let made = post(
                base,
                token,
                "/api/v1/kb/articles",
                &json!({"title": a["title"], "body": a["body"], "visibility": "public", "publish": true}),
            )?;
            Ok((a[key].as_str().unwrap_or("").to_owned(), made["id"].as_i64().context("article id")?))
        })
        .collect()
}

pub(crate) fn get(base: &str, token: &str, path: &str) -> anyhow::Result<Value> {
    Ok(serde_json::from_str(
        &ureq::get(&format!("{base}{path}")).set("Authorization", &format!("Bearer {token}")).call()?.into_string()?,
    )?)
}

pub(crate) fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
