//! Hybrid search over `kb_chunks`: full text (what a person types, in web-search
//! syntax) and trigram word similarity (typos), each a ranked list, fused by
//! reciprocal rank ([`super::rrf`]); the best passage of each source is kept.

use std::collections::HashSet;

use deadpool_postgres::GenericClient;
use serde::Serialize;

use super::rrf;
use crate::{
    auth::Principal,
    error::{FieldErrors, Result},
    kb::render,
};

/// The full-text query: any of the question's words (stemmed, stop words dropped), so
/// a passage that answers a long question without repeating every word of it is still
/// found; `ts_rank_cd` ranks passages with more of the words, closer together, first.
/// (All the words, as `websearch_to_tsquery` asks, found a sixth of the evaluation
/// set's questions: docs/ai-evaluation.md.)
const ANY_WORD: &str = "replace(plainto_tsquery('english', $2)::text, ' & ', ' | ')::tsquery";

/// Candidates each retriever contributes before fusion.
const CANDIDATES: i64 = 40;
pub const MAX_QUERY: usize = 1_000;
/// How alike a query and a run of words must be for the trigram retriever (0 to 1).
const WORD_SIMILARITY: f64 = 0.45;

/// The retrievers, in the order their lists are fused.
pub const RETRIEVERS: [&str; 3] = ["full_text", "trigram", "dense"];

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Hit {
    /// `article` or `ticket`.
    pub source: String,
    /// The article's or the ticket's id.
    pub id: i64,
    pub chunk_id: i64,
    /// The passage's title (the article's, with its section; the ticket's subject).
    pub title: String,
    /// The passage, as HTML: escaped, matches in `<mark>`.
    pub snippet: String,
    /// `public` or `internal`.
    pub visibility: String,
    /// The fused score (reciprocal rank fusion, k = 60): higher is better.
    pub score: f64,
    /// Which retrievers found it: `full_text`, `trigram`, `dense`.
    pub retrievers: Vec<String>,
}

/// Which retrievers a search uses (all, unless asked otherwise: the evaluation
/// measures each alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retrievers {
    pub full_text: bool,
    pub trigram: bool,
    pub dense: bool,
}

impl Default for Retrievers {
    fn default() -> Self {
        Retrievers { full_text: true, trigram: true, dense: true }
    }
}

impl Retrievers {
    /// A comma-separated list of [`RETRIEVERS`]; `None` for all of them.
    pub fn parse(raw: Option<&str>) -> Result<Retrievers> {
        let Some(raw) = raw else { return Ok(Retrievers::default()) };
        let mut r = Retrievers { full_text: false, trigram: false, dense: false };
        for name in raw.split(',').map(str::trim) {
            match name {
                "full_text" => r.full_text = true,
                "trigram" => r.trigram = true,
                "dense" => r.dense = true,
                _ => {
                    return Err(FieldErrors::single(
                        "retrievers",
                        format!("must list some of {} (comma-separated)", RETRIEVERS.join(", ")),
                    ));
                }
            }
        }
        Ok(r)
    }
}

/// The query as searched, or why it cannot be.
pub fn query(q: &str) -> Result<&str> {
    let q = q.trim();
    if q.is_empty() {
        return Err(FieldErrors::single("q", "must say what to look for"));
    }
    if q.chars().count() > MAX_QUERY || q.contains('\0') {
        return Err(FieldErrors::single("q", format!("must be at most {MAX_QUERY} characters of text")));
    }
    Ok(q)
}

/// The best passages for `q` among the caller's organisation's articles and solved
/// tickets (staff), at most `limit`, one per source. `dense` is the dense retriever's
/// ranking (passage ids of this organisation, best first; empty without a model),
/// computed by the caller, which holds the model.
pub async fn search(
    db: &impl GenericClient,
    who: &Principal,
    q: &str,
    limit: usize,
    use_: Retrievers,
    dense: Vec<i64>,
) -> Result<Vec<Hit>> {
    who.require_staff()?;
    let q = query(q)?;
    let mut full_text: Vec<i64> = Vec::new();
    if use_.full_text {
        full_text = db
            .query(
                &format!(
                    "SELECT id FROM kb_chunks
                     WHERE org_id = $1 AND search @@ {ANY_WORD}
                     ORDER BY ts_rank_cd(search, {ANY_WORD}) DESC, id
                     LIMIT $3"
                ),
                &[&who.org_id, &q, &CANDIDATES],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
    }
    let mut trigram: Vec<i64> = Vec::new();
    if use_.trigram {
        db.execute("SELECT set_config('pg_trgm.word_similarity_threshold', $1, true)", &[&WORD_SIMILARITY.to_string()])
            .await?;
        trigram = db
            .query(
                "SELECT id FROM kb_chunks
                 WHERE org_id = $1 AND $2 <% (title || ' ' || body)
                 ORDER BY $2 <<-> (title || ' ' || body), id
                 LIMIT $3",
                &[&who.org_id, &q, &CANDIDATES],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
    }
    let dense = if use_.dense { dense } else { Vec::new() };

    let fused = rrf::fuse(&[full_text, trigram, dense], rrf::K);
    if fused.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = fused.iter().map(|f| f.item).collect();
    let rows = db
        .query(
            &format!(
                "SELECT id, source, source_id, title, visibility,
                    ts_headline('english', body, {ANY_WORD}, $3)
             FROM kb_chunks WHERE org_id = $1 AND id = ANY($4)"
            ),
            &[&who.org_id, &q, &render::headline_options(), &ids],
        )
        .await?;
    let mut seen: HashSet<(String, i64)> = HashSet::new();
    let mut out = Vec::new();
    for f in fused {
        let Some(r) = rows.iter().find(|r| r.get::<_, i64>(0) == f.item) else { continue };
        let source: String = r.get(1);
        let source_id: i64 = r.get(2);
        // The best passage of each source stands for it.
        if !seen.insert((source.clone(), source_id)) {
            continue;
        }
        out.push(Hit {
            source,
            id: source_id,
            chunk_id: f.item,
            title: r.get(3),
            visibility: r.get(4),
            snippet: render::highlight(r.get(5)),
            score: f.score,
            retrievers: f.found_by.iter().map(|i| RETRIEVERS[*i].to_owned()).collect(),
        });
        if out.len() == limit {
            break;
        }
    }
    Ok(out)
}
