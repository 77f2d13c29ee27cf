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
    error::{FieldErrors, Result},
    ids::OrgId,
    markdown,
};

/// Candidates each retriever contributes before fusion.
const CANDIDATES: i64 = 40;
pub const MAX_QUERY: usize = 1_000;
/// The most passages a full-text retriever ranks. Ranking reads each matching
/// passage, so a question made of an organisation's commonest words would rank most
/// of its index (measured over 100,000 passages: 22,000 matches took 85 ms). The
/// question's rarest lexemes are kept until the passages containing them reach this
/// (see [`choose`]); past it, the matches ranked are the first the index yields, not
/// the best.
const RANK_BUDGET: i64 = 2_000;
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

/// The lexical retrievers' rankings of one question, and the words they matched
/// (marked in the snippets).
#[derive(Debug, Default)]
pub struct Lexical {
    full_text: Vec<i64>,
    trigram: Vec<i64>,
    marked: Vec<String>,
}

/// The full-text and typo-tolerant rankings of `q` over `org`'s passages, as
/// [`use_`](Retrievers) asks. A caller that embeds the question meanwhile runs this
/// alongside: the database and the model work at the same time. The passages include
/// internal ones and solved tickets: callers are staff, or the AI working for staff.
pub async fn lexical(db: &impl GenericClient, org: OrgId, q: &str, use_: Retrievers) -> Result<Lexical> {
    let q = query(q)?;
    let mut full_text: Vec<i64> = Vec::new();
    let mut marked: Vec<String> = Vec::new();
    if use_.full_text {
        // The question's own lexemes, as far as the organisation's passages have them.
        let terms = db
            .query(
                "SELECT term, chunks FROM kb_terms
                 WHERE org_id = $1 AND chunks > 0 AND term = ANY (tsvector_to_array(to_tsvector('english', $2)))",
                &[&org, &q],
            )
            .await?
            .iter()
            .map(|r| (r.get::<_, String>(0), i64::from(r.get::<_, i32>(1))))
            .collect();
        let chosen = choose(terms, RANK_BUDGET);
        full_text = ranked(db, org, &chosen).await?;
        marked.extend(chosen.words);
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
                &[&org, &q, &NEAREST_TERMS],
            )
            .await?;
        let terms = if rows.iter().any(|r| !r.get::<_, bool>(2)) {
            rows.iter().map(|r| (r.get::<_, String>(0), i64::from(r.get::<_, i32>(1)))).collect()
        } else {
            Vec::new()
        };
        let chosen = choose(terms, RANK_BUDGET);
        trigram = ranked(db, org, &chosen).await?;
        marked.extend(chosen.words);
    }
    Ok(Lexical { full_text, trigram, marked })
}

/// The best passages among `org`'s articles and solved tickets: the lexical rankings
/// ([`lexical`]) and the dense one (passage ids of this organisation, best first;
/// empty without a model, computed by the caller, which holds the model) fused, at
/// most `limit` hits, one per source.
pub async fn fuse(
    db: &impl GenericClient,
    org: OrgId,
    lexical: Lexical,
    dense: Vec<i64>,
    limit: usize,
) -> Result<Vec<Hit>> {
    let Lexical { full_text, trigram, mut marked } = lexical;

    let fused = rrf::fuse(&[full_text, trigram, dense], rrf::K);
    if fused.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = fused.iter().map(|f| f.item).collect();
    let rows = db
        .query(
            "SELECT id, source, source_id, title, visibility FROM kb_chunks WHERE org_id = $1 AND id = ANY($2)",
            &[&org, &ids],
        )
        .await?;
    let mut seen: HashSet<(String, i64)> = HashSet::new();
    let mut out = Vec::new();
    for f in fused {
        let Some(r) = rows.iter().find(|r| r.get::<_, i64>("id") == f.item) else { continue };
        let source: String = r.get("source");
        let source_id: i64 = r.get("source_id");
        // The best passage of each source stands for it.
        if !seen.insert((source.clone(), source_id)) {
            continue;
        }
        out.push(Hit {
            source,
            id: source_id,
            chunk_id: f.item,
            title: r.get("title"),
            visibility: r.get("visibility"),
            snippet: String::new(),
            score: f.score,
            retrievers: f.found_by.iter().map(|i| RETRIEVERS[*i].to_owned()).collect(),
        });
        if out.len() == limit {
            break;
        }
    }
    // Snippets for the hits only: a headline re-reads its passage's text, and the
    // candidates are several times the hits.
    marked.sort();
    marked.dedup();
    let chosen: Vec<i64> = out.iter().map(|h| h.chunk_id).collect();
    let snippets = db
        .query(
            "SELECT id, ts_headline('english', body, $2::text::tsquery, $3) FROM kb_chunks
             WHERE org_id = $1 AND id = ANY($4)",
            &[&org, &any_of(&marked), &markdown::headline_options(), &chosen],
        )
        .await?;
    for r in snippets {
        let id: i64 = r.get(0);
        if let Some(hit) = out.iter_mut().find(|h| h.chunk_id == id) {
            hit.snippet = markdown::highlight(r.get(1));
        }
    }
    Ok(out)
}

/// The passages that match `terms`, best first (`ts_rank`: the terms' frequency, in
/// the title weighing more than in the body), of at most [`RANK_BUDGET`]. Cover
/// density (`ts_rank_cd`) cost twice the time and ranked worse on the evaluation set
/// (full-text recall@1 0.651 against 0.735).
async fn ranked(db: &impl GenericClient, org: OrgId, terms: &Terms) -> Result<Vec<i64>> {
    if terms.words.is_empty() {
        return Ok(Vec::new());
    }
    let query = if terms.all { all_of(&terms.words) } else { any_of(&terms.words) };
    Ok(db
        .query(
            "SELECT id FROM (
                 SELECT id, search FROM kb_chunks
                 WHERE org_id = $1 AND search @@ $2::text::tsquery LIMIT $4
             ) matches
             ORDER BY ts_rank(search, $2::text::tsquery) DESC, id
             LIMIT $3",
            &[&org, &query, &CANDIDATES, &RANK_BUDGET],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// The words a lexical retriever searches for: passages with any of them, or, when
/// [`all`](Terms::all), with all of them.
#[derive(Debug, PartialEq, Eq)]
struct Terms {
    words: Vec<String>,
    all: bool,
}

/// What to search for, given how many passages contain each of the question's
/// lexemes: the rarest first, as long as together they stay within `budget`
/// passages — but always the rarest one. A common word tells passages apart little
/// (it is what BM25's inverse document frequency weighs down), and leaving it out
/// keeps the ranking cheap. When even the rarest word is over the budget (a question
/// made of nothing but an organisation's everyday words), the passages must have
/// every one of them.
fn choose(mut terms: Vec<(String, i64)>, budget: i64) -> Terms {
    terms.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    terms.dedup_by(|a, b| a.0 == b.0);
    if terms.len() > 1 && terms[0].1 > budget {
        return Terms { words: terms.into_iter().map(|(t, _)| t).collect(), all: true };
    }
    let mut total = 0;
    let mut words = Vec::new();
    for (term, chunks) in terms {
        total += chunks;
        if total > budget && !words.is_empty() {
            break;
        }
        words.push(term);
    }
    Terms { words, all: false }
}

fn quoted(term: &str) -> String {
    format!("'{}'", term.replace('\\', "\\\\").replace('\'', "''"))
}

/// A tsquery matching all of `terms`, each quoted as in [`any_of`].
fn all_of(terms: &[String]) -> String {
    terms.iter().map(|t| quoted(t)).collect::<Vec<_>>().join(" & ")
}

/// A tsquery matching any of `terms`, each quoted so that whatever it contains is
/// taken as one lexeme (no operators, no stemming again); empty for no terms.
fn any_of(terms: &[String]) -> String {
    terms.iter().map(|t| quoted(t)).collect::<Vec<_>>().join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(list: &[(&str, i64)]) -> Vec<(String, i64)> {
        list.iter().map(|(t, n)| (t.to_string(), *n)).collect()
    }

    fn any(words: &[&str]) -> Terms {
        Terms { words: words.iter().map(|w| w.to_string()).collect(), all: false }
    }

    #[test]
    fn the_rarest_words_are_kept_until_their_passages_pass_the_budget() {
        let got = choose(terms(&[("order", 900), ("refund", 40), ("invoic", 60), ("help", 3000)]), 1_000);
        assert_eq!(got, any(&["refund", "invoic", "order"]));
        let got = choose(terms(&[("order", 900), ("refund", 40), ("invoic", 60)]), 500);
        assert_eq!(got, any(&["refund", "invoic"]));
    }

    #[test]
    fn when_even_the_rarest_word_is_common_the_passages_must_have_every_word() {
        let got = choose(terms(&[("order", 5000), ("help", 3000), ("want", 8000)]), 1_000);
        assert_eq!(got, Terms { words: vec!["help".into(), "order".into(), "want".into()], all: true });
        assert_eq!(choose(terms(&[("help", 3000)]), 1_000), any(&["help"]), "one word is searched for alone");
    }

    #[test]
    fn no_words_mean_no_query_and_a_word_counts_once() {
        assert_eq!(choose(Vec::new(), 1_000), any(&[]));
        assert_eq!(choose(terms(&[("a", 5), ("a", 5)]), 1_000), any(&["a"]));
    }

    #[test]
    fn every_term_is_one_quoted_lexeme_whatever_it_contains() {
        let got = any_of(&["it's".into(), "a\\b".into(), "x&y|!z".into()]);
        assert_eq!(got, "'it''s' | 'a\\\\b' | 'x&y|!z'");
        assert_eq!(all_of(&["it's".into(), "b".into()]), "'it''s' & 'b'");
        assert_eq!(any_of(&[]), "");
    }
}
