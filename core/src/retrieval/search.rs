//! Hybrid search over `kb_chunks`: full text (the question's words) and typo-tolerant
//! full text (the question's words replaced by the nearest words of the
//! organisation's vocabulary, by trigram similarity), each a ranked list, fused with
//! the dense retriever's by reciprocal rank ([`super::rrf`]); the best passage of each
//! source is kept.

use std::collections::HashSet;

use deadpool_postgres::GenericClient;
use serde::Serialize;

use super::rrf;
use crate::{
    auth::Principal,
    error::{FieldErrors, Result},
    kb::render,
};

/// Candidates each retriever contributes before fusion.
const CANDIDATES: i64 = 40;
pub const MAX_QUERY: usize = 1_000;
/// About how many passages a full-text retriever ranks at most. Ranking is per
/// matching passage, so a question made of an organisation's commonest words would
/// rank most of its index; the question's rarest lexemes are kept until the passages
/// containing them reach this (see [`within_budget`]).
const RANK_BUDGET: i64 = 4_000;
/// Vocabulary words that may stand for one word of the question (typos).
const NEAREST_TERMS: i64 = 3;
/// How alike (pg_trgm similarity, 0 to 1) a vocabulary word must be to a question's.
const TERM_SIMILARITY: f64 = 0.4;

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
    let mut marked: Vec<String> = Vec::new();
    if use_.full_text {
        // The question's own lexemes, as far as the organisation's passages have them.
        let terms = db
            .query(
                "SELECT term, chunks FROM kb_terms
                 WHERE org_id = $1 AND chunks > 0 AND term = ANY (tsvector_to_array(to_tsvector('english', $2)))",
                &[&who.org_id, &q],
            )
            .await?
            .iter()
            .map(|r| (r.get::<_, String>(0), i64::from(r.get::<_, i32>(1))))
            .collect();
        let chosen = within_budget(terms, RANK_BUDGET);
        full_text = ranked(db, who, &chosen).await?;
        marked.extend(chosen);
    }
    let mut trigram: Vec<i64> = Vec::new();
    if use_.trigram {
        db.execute("SELECT set_config('pg_trgm.similarity_threshold', $1, true)", &[&TERM_SIMILARITY.to_string()])
            .await?;
        // Each word of the question as it is when the vocabulary has it, else the
        // nearest words the vocabulary has. A question with no unknown word is left
        // to the full-text retriever: this one would only repeat it.
        let rows = db
            .query(
                "SELECT DISTINCT t.term, t.chunks, t.exact
                 FROM unnest(tsvector_to_array(to_tsvector('english', $2))) AS w (word),
                 LATERAL (
                     SELECT term, chunks, true AS exact FROM kb_terms
                     WHERE org_id = $1 AND chunks > 0 AND term = w.word
                     UNION ALL
                     (SELECT term, chunks, false FROM kb_terms
                      WHERE org_id = $1 AND chunks > 0 AND term % w.word
                        AND NOT EXISTS (SELECT 1 FROM kb_terms e WHERE e.org_id = $1 AND e.term = w.word AND e.chunks > 0)
                      ORDER BY similarity(term, w.word) DESC, term LIMIT $3)
                 ) t",
                &[&who.org_id, &q, &NEAREST_TERMS],
            )
            .await?;
        let terms = if rows.iter().any(|r| !r.get::<_, bool>(2)) {
            rows.iter().map(|r| (r.get::<_, String>(0), i64::from(r.get::<_, i32>(1)))).collect()
        } else {
            Vec::new()
        };
        let chosen = within_budget(terms, RANK_BUDGET);
        trigram = ranked(db, who, &chosen).await?;
        marked.extend(chosen);
    }
    let dense = if use_.dense { dense } else { Vec::new() };

    let fused = rrf::fuse(&[full_text, trigram, dense], rrf::K);
    if fused.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = fused.iter().map(|f| f.item).collect();
    marked.sort();
    marked.dedup();
    let rows = db
        .query(
            "SELECT id, source, source_id, title, visibility, ts_headline('english', body, $2::text::tsquery, $3)
             FROM kb_chunks WHERE org_id = $1 AND id = ANY($4)",
            &[&who.org_id, &any_of(&marked), &render::headline_options(), &ids],
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

/// The passages with any of `terms`, best first (`ts_rank_cd`: more of the terms,
/// closer together, in the title rather than the body).
async fn ranked(db: &impl GenericClient, who: &Principal, terms: &[String]) -> Result<Vec<i64>> {
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    Ok(db
        .query(
            "SELECT id FROM kb_chunks
             WHERE org_id = $1 AND search @@ $2::text::tsquery
             ORDER BY ts_rank_cd(search, $2::text::tsquery) DESC, id
             LIMIT $3",
            &[&who.org_id, &any_of(terms), &CANDIDATES],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// The lexemes to search for, given how many passages contain each: the rarest
/// first, as long as together they stay within `budget` passages — but always the
/// rarest one. A common word tells passages apart little (it is what BM25's inverse
/// document frequency weighs down), and leaving it out keeps the ranking cheap.
pub fn within_budget(mut terms: Vec<(String, i64)>, budget: i64) -> Vec<String> {
    terms.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    terms.dedup_by(|a, b| a.0 == b.0);
    let mut total = 0;
    let mut out = Vec::new();
    for (term, chunks) in terms {
        total += chunks;
        if total > budget && !out.is_empty() {
            break;
        }
        out.push(term);
    }
    out
}

/// A tsquery matching any of `terms`, each quoted so that whatever it contains is
/// taken as one lexeme (no operators, no stemming again); empty for no terms.
pub fn any_of(terms: &[String]) -> String {
    terms.iter().map(|t| format!("'{}'", t.replace('\\', "\\\\").replace('\'', "''"))).collect::<Vec<_>>().join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(list: &[(&str, i64)]) -> Vec<(String, i64)> {
        list.iter().map(|(t, n)| (t.to_string(), *n)).collect()
    }

    #[test]
    fn the_rarest_words_are_kept_until_their_passages_pass_the_budget() {
        let got = within_budget(terms(&[("order", 900), ("refund", 40), ("invoic", 60), ("help", 3000)]), 1_000);
        assert_eq!(got, ["refund", "invoic", "order"]);
        let got = within_budget(terms(&[("order", 900), ("refund", 40), ("invoic", 60)]), 500);
        assert_eq!(got, ["refund", "invoic"]);
    }

    #[test]
    fn the_rarest_word_is_kept_even_over_the_budget_and_no_words_mean_no_query() {
        assert_eq!(within_budget(terms(&[("help", 3000), ("order", 5000)]), 1_000), ["help"]);
        assert!(within_budget(Vec::new(), 1_000).is_empty());
        assert_eq!(within_budget(terms(&[("a", 5), ("a", 5)]), 1_000), ["a"], "a word counts once");
    }

    #[test]
    fn every_term_is_one_quoted_lexeme_whatever_it_contains() {
        let got = any_of(&["it's".into(), "a\\b".into(), "x&y|!z".into()]);
        assert_eq!(got, "'it''s' | 'a\\\\b' | 'x&y|!z'");
        assert_eq!(any_of(&[]), "");
    }
}
