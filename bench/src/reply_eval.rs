//! `atum-bench reply-eval`: smart replies through the product's own path, and how
//! long they take.
//!
//! A fresh database; the 27 articles of `bench/retrieval/retrieval-set.json` written
//! and published through the API, chunked and embedded by the release
//! `atum-rag-worker`; then each of the set's 324 held-back customer messages filed as
//! a ticket through the API. The release `atum-job-worker` (with the model) runs the
//! ticket's `SMART_REPLY` as it does for every ticket. Each stored draft is compared
//! with the agent's real reply to that message in the Bitext data:
//!
//! - ROUGE-L F1 (longest common subsequence of lower-cased words);
//! - the cosine similarity of the two texts' sentence vectors (the product's embedder).
//!
//! The baseline is retrieval alone: the best single passage the same hybrid search
//! returns for the same message (`GET /api/v1/kb/search?limit=1`), whole. Latency:
//! the first `ATUM_BENCH_REPLY_PACED` (100) tickets are filed one a second, and each
//! one's creation → stored draft is read from the database's clock (p50, p95); the
//! drafting job's own time is reported beside it. Figures go to
//! `target/bench/reply-eval.json`.

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail};
use atum_ai::{Embedder, embed::cosine};
use atum_core::pg_cluster::Cluster;
use atum_runtime::config::{Env, Service, parse_database_url};
use serde_json::{Value, json};

use crate::retrieval::{PASSWORD, fresh_database, get, post, url_encode, wait_embedded};

const DATABASE: &str = "atum_reply_eval";
const PACE_PER_SECOND: f64 = 1.0;

pub fn run(cluster: &Cluster, port: u16, exe_dir: &Path, root: &Path) -> anyhow::Result<()> {
    let paced_n: usize = Env::process().parse_or("ATUM_BENCH_REPLY_PACED", 100, "a number of tickets")?;
    let set_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("retrieval/retrieval-set.json");
    let set: Value = serde_json::from_str(&std::fs::read_to_string(&set_path)?)?;
    let model_dir = crate::model_dir()?;
    let model_env = ("ATUM_EMBED_MODEL_DIR", model_dir.display().to_string());
    let embedder = Embedder::load(&model_dir)?;

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let url = cluster.url(port, DATABASE)?;
    runtime.block_on(fresh_database(cluster, port, &url, DATABASE))?;
    let db = runtime.block_on(atum_runtime::db::connect(&parse_database_url("bench", &url)?))?;

    let services = [Service::RagWorker, Service::JobWorker, Service::Api];
    let mut children = Vec::new();
    let mut listen = None;
    for service in services {
        let (child, addr) = crate::start_service(exe_dir, service, &url, 4, std::slice::from_ref(&model_env))?;
        children.push(crate::triage_worker::Stopped(child));
        listen = Some(addr);
    }
    let base = format!("http://{}", listen.context("the API's address")?);
    crate::wait_for(&base)?;
    let token = crate::login_as(&base, "eval", "admin@eval.test", PASSWORD)?;

    let articles = set["articles"].as_array().context("articles")?;
    crate::retrieval::publish(&base, &token, articles, "intent")?;
    runtime.block_on(wait_embedded(&url, articles.len() as i64, Duration::from_secs(600)))?;
    println!("{} articles indexed and embedded", articles.len());

    let queries: Vec<&Value> =
        set["queries"].as_array().context("queries")?.iter().filter(|q| q["typo"] != true).collect();
    let mut tickets: Vec<(i64, &Value)> = Vec::new();
    println!("filing {} tickets: the first {paced_n} at {PACE_PER_SECOND}/s, the rest at once", queries.len());
    for (i, q) in queries.iter().enumerate() {
        let start = Instant::now();
        let text = q["text"].as_str().unwrap_or("");
        let subject: String = text.chars().take(120).collect();
        let res = post(&base, &token, "/api/v1/tickets", &json!({"subject": subject, "description": text}))?;
        tickets.push((res["id"].as_i64().context("ticket id")?, q));
        if i < paced_n {
            let gap = Duration::from_secs_f64(1.0 / PACE_PER_SECOND);
            std::thread::sleep(gap.saturating_sub(start.elapsed()));
        }
    }
    let started = Instant::now();
    loop {
        let drafted: i64 =
            runtime.block_on(db.query_one("SELECT count(DISTINCT ticket_id) FROM ai_suggestions", &[]))?.get(0);
        if drafted as usize >= tickets.len() {
            break;
        }
        if started.elapsed() > Duration::from_secs(1800) {
            bail!("{drafted} of {} tickets drafted after 30 minutes", tickets.len());
        }
        std::thread::sleep(Duration::from_millis(200));
    }

    let paced_ids: Vec<i64> = tickets.iter().take(paced_n).map(|(id, _)| *id).collect();
    let latency = runtime.block_on(db.query_one(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms), percentile_cont(0.95) WITHIN GROUP (ORDER BY ms),
                percentile_cont(0.5) WITHIN GROUP (ORDER BY job), percentile_cont(0.95) WITHIN GROUP (ORDER BY job)
           FROM (SELECT (extract(epoch FROM s.created_at - t.created_at) * 1000)::float8 AS ms,
                        s.duration_ms::float8 AS job
                   FROM tickets t JOIN ai_suggestions s ON s.ticket_id = t.id WHERE t.id = ANY($1)) l",
        &[&paced_ids],
    ))?;
    let (p50, p95, job50, job95): (f64, f64, f64, f64) =
        (latency.get(0), latency.get(1), latency.get(2), latency.get(3));
    println!(
        "create → draft stored: p50 {p50:.0} ms, p95 {p95:.0} ms (the drafting job itself: p50 {job50:.0} ms, p95 {job95:.0} ms)"
    );

    let mut draft_scores = Scores::default();
    let mut baseline_scores = Scores::default();
    let (mut empty, mut citations, mut citations_ok, mut quotes) = (0usize, 0usize, 0usize, 0usize);
    // Texts naming an identifier (a long number, an e-mail address) the customer did
    // not: in a reply, someone else's order number.
    let (mut draft_leaks, mut baseline_leaks) = (0usize, 0usize);
    let foreign = |text: &str, question: &str| {
        let asked = atum_ai::reply::identifiers(question);
        atum_ai::reply::identifiers(text).iter().any(|id| !asked.contains(id))
    };
    let mut examples = Vec::new();
    for (id, q) in &tickets {
        let reference = q["reply"].as_str().unwrap_or("");
        let row = runtime.block_on(db.query_one(
            "SELECT body, citations::text FROM ai_suggestions WHERE ticket_id = $1 ORDER BY id DESC LIMIT 1",
            &[id],
        ))?;
        let (body, cited): (String, String) = (row.get(0), row.get(1));
        let cited: Vec<Value> = serde_json::from_str(&cited)?;
        // The draft without its greeting: the reference has its own.
        let draft = body.split_once("\n\n").map(|(_, rest)| rest).unwrap_or("");
        if draft.is_empty() {
            empty += 1;
        }
        quotes += cited.len();
        for c in &cited {
            citations += 1;
            let chunk = c["chunk_id"].as_i64().unwrap_or(0);
            let passage: Option<String> = runtime
                .block_on(db.query_opt("SELECT body FROM kb_chunks WHERE id = $1", &[&chunk]))?
                .map(|r| r.get(0));
            let span = |v: &Value, a: &str, b: &str| {
                (v[a].as_u64().unwrap_or(0) as usize, v[b].as_u64().unwrap_or(0) as usize)
            };
            let ((s, e), (qs, qe)) = (span(c, "start", "end"), span(c, "quote_start", "quote_end"));
            if let Some(p) = passage
                && body.get(s..e).is_some()
                && body.get(s..e) == p.get(qs..qe)
                && c["content_hash"].as_str() == Some(atum_core::assist::citation::content_hash(&p).as_str())
            {
                citations_ok += 1;
            }
        }
        let text = q["text"].as_str().unwrap_or("");
        let subject: String = text.chars().take(120).collect();
        let question = format!("{subject}\n\n{text}");
        let hits = get(&base, &token, &format!("/api/v1/kb/search?limit=1&q={}", url_encode(&question)))?;
        let best = match hits["items"][0]["chunk_id"].as_i64() {
            Some(chunk) => runtime
                .block_on(db.query_one("SELECT body FROM kb_chunks WHERE id = $1", &[&chunk]))?
                .get::<_, String>(0),
            None => String::new(),
        };
        draft_leaks += usize::from(foreign(draft, &question));
        baseline_leaks += usize::from(foreign(&best, &question));
        let vectors = embedder.embed(&[reference, draft, &best])?;
        draft_scores.push(rouge_l(draft, reference), cosine(&vectors[0], &vectors[1]), words(draft).len());
        baseline_scores.push(rouge_l(&best, reference), cosine(&vectors[0], &vectors[2]), words(&best).len());
        if examples.len() < 3 {
            examples.push(json!({"message": text, "draft": body, "reference": reference}));
        }
    }
    let n = tickets.len();
    println!(
        "drafts: ROUGE-L F1 {:.3}, similarity {:.3}, {:.0} words · best single passage: ROUGE-L F1 {:.3}, similarity {:.3}, {:.0} words",
        draft_scores.rouge(),
        draft_scores.similarity(),
        draft_scores.words(),
        baseline_scores.rouge(),
        baseline_scores.similarity(),
        baseline_scores.words()
    );
    println!(
        "{} of {n} tickets got a draft; {citations_ok} of {citations} citations resolve to their passage's text and hash",
        n - empty
    );
    println!("naming an identifier the customer did not: {draft_leaks} drafts, {baseline_leaks} best passages");
    let reference_words =
        tickets.iter().map(|(_, q)| words(q["reply"].as_str().unwrap_or("")).len()).sum::<usize>() as f64 / n as f64;
    let report = json!({
        "set": "bench/retrieval/retrieval-set.json",
        "articles": articles.len(),
        "tickets": n,
        "drafted": n - empty,
        "quotes_per_draft": round(quotes as f64 / (n - empty).max(1) as f64),
        "citations": citations,
        "citations_resolving": citations_ok,
        "draft": draft_scores.to_json(),
        "best_single_passage": baseline_scores.to_json(),
        "foreign_identifiers": {"drafts": draft_leaks, "best_single_passages": baseline_leaks},
        "reference_words": round(reference_words),
        "latency": {"paced_tickets": paced_ids.len(), "per_second": PACE_PER_SECOND,
                    "create_to_draft_p50_ms": round(p50), "create_to_draft_p95_ms": round(p95),
                    "job_p50_ms": round(job50), "job_p95_ms": round(job95)},
        "examples": examples,
        "note": "Bitext's replies are templated and each article is three replies of its intent: optimistic for real tickets",
        "when": chrono::Utc::now().to_rfc3339(),
    });
    drop(children);
    let path = root.join("reply-eval.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
    println!("wrote {}", path.display());
    Ok(())
}

/// Lower-cased words (letters and digits).
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// ROUGE-L F1 (β = 1) of `candidate` against `reference`: the longest common
/// subsequence of their words, as precision and recall, harmonically averaged.
fn rouge_l(candidate: &str, reference: &str) -> f64 {
    let (c, r) = (words(candidate), words(reference));
    if c.is_empty() || r.is_empty() {
        return 0.0;
    }
    let mut prev = vec![0usize; r.len() + 1];
    let mut row = vec![0usize; r.len() + 1];
    for a in &c {
        for (j, b) in r.iter().enumerate() {
            row[j + 1] = if a == b { prev[j] + 1 } else { row[j].max(prev[j + 1]) };
        }
        std::mem::swap(&mut prev, &mut row);
    }
    let lcs = prev[r.len()] as f64;
    let (p, rec) = (lcs / c.len() as f64, lcs / r.len() as f64);
    if lcs == 0.0 { 0.0 } else { 2.0 * p * rec / (p + rec) }
}

#[derive(Default)]
struct Scores {
    rouge: Vec<f64>,
    similarity: Vec<f64>,
    words: Vec<usize>,
}

impl Scores {
    fn push(&mut self, rouge: f64, similarity: f32, words: usize) {
        self.rouge.push(rouge);
        self.similarity.push(f64::from(similarity));
        self.words.push(words);
    }
    fn rouge(&self) -> f64 {
        mean(&self.rouge)
    }
    fn similarity(&self) -> f64 {
        mean(&self.similarity)
    }
    fn words(&self) -> f64 {
        self.words.iter().sum::<usize>() as f64 / self.words.len().max(1) as f64
    }
    fn to_json(&self) -> Value {
        json!({"rouge_l_f1": round(self.rouge()), "similarity": round(self.similarity()), "words": round(self.words())})
    }
}

/// Three decimals: the drafts and the baseline differ in the third.
fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rouge_l_is_the_f1_of_the_longest_common_subsequence_of_words() {
        // LCS "the cat on the mat" = 5 of 6 and 5 of 7 words.
        let got = rouge_l("The cat sat on the mat", "the cat was lying on the mat");
        let (p, r) = (5.0 / 6.0, 5.0 / 7.0);
        assert!((got - 2.0 * p * r / (p + r)).abs() < 1e-9, "{got}");
        assert_eq!(rouge_l("same words", "Same, words!"), 1.0);
        assert_eq!(rouge_l("", "anything"), 0.0);
        assert_eq!(rouge_l("nothing shared", "at all"), 0.0);
    }
}
