//! The citation gate. An answer passes only when every sentence of it is cited, and
//! every citation is exact: the passage was returned by a tool in this run, it is not
//! customer-written, its text still hashes to what the citation says, and the cited
//! span of it is the sentence, character for character. Anything else refuses the
//! whole answer.

use serde::{Deserialize, Serialize};

use super::tools::{Passage, Provenance};

pub const GATE: &str = "exact-span-1";

/// One cited sentence of an answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = CopilotCitation)]
pub struct Citation {
    /// Byte offsets of the sentence in the answer.
    pub start: usize,
    pub end: usize,
    pub source_id: String,
    /// `article`, `ticket`, `sla` or `history`, and the article's or ticket's id.
    pub source: String,
    pub id: i64,
    pub title: String,
    pub provenance: Provenance,
    /// Byte offsets of the sentence in the passage's text.
    pub quote_start: usize,
    pub quote_end: usize,
    /// SHA-256 (hex) of the passage's text.
    pub content_hash: String,
}

/// The gate's verdict on one sentence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = GateVerdict)]
pub struct Verdict {
    pub start: usize,
    pub end: usize,
    pub supported: bool,
    pub because: String,
}

/// Each citation's verdict against `passages`; and a verdict for any text of the
/// answer no citation covers.
pub fn check(answer: &str, citations: &[Citation], passages: &[Passage]) -> Vec<Verdict> {
    let mut verdicts = Vec::new();
    let mut covered = 0;
    let mut sorted: Vec<&Citation> = citations.iter().collect();
    sorted.sort_by_key(|c| c.start);
    for c in sorted {
        if answer.get(covered..c.start).is_some_and(|gap| !gap.trim().is_empty()) {
            verdicts.push(Verdict {
                start: covered,
                end: c.start,
                supported: false,
                because: "this text cites no source".into(),
            });
        }
        covered = covered.max(c.end);
        let verdict = |supported: bool, because: String| Verdict { start: c.start, end: c.end, supported, because };
        let Some(p) = passages.iter().find(|p| p.source_id == c.source_id) else {
            verdicts.push(verdict(false, format!("{} was not returned by any tool of this run", c.source_id)));
            continue;
        };
        if p.provenance == Provenance::Customer || c.provenance == Provenance::Customer {
            verdicts
                .push(verdict(false, format!("{} is customer-written: it is never quoted as an answer", c.source_id)));
            continue;
        }
        if p.content_hash != c.content_hash {
            verdicts.push(verdict(false, format!("{} has changed since it was cited", c.source_id)));
            continue;
        }
        match (answer.get(c.start..c.end), p.text.get(c.quote_start..c.quote_end)) {
            (Some(said), Some(quoted)) if said == quoted && !said.trim().is_empty() => {
                verdicts.push(verdict(true, format!("quoted exactly from {} ({})", p.title, c.source_id)))
            }
            _ => verdicts.push(verdict(false, format!("the sentence is not the text of {} it cites", c.source_id))),
        }
    }
    if answer.get(covered..).is_some_and(|rest| !rest.trim().is_empty()) {
        verdicts.push(Verdict {
            start: covered,
            end: answer.len(),
            supported: false,
            because: "this text cites no source".into(),
        });
    }
    verdicts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assist::citation::content_hash;

    fn passage(source_id: &str, provenance: Provenance, text: &str) -> Passage {
        Passage {
            source_id: source_id.into(),
            source: "article".into(),
            id: 1,
            title: "Tokens".into(),
            provenance,
            text: text.into(),
            content_hash: content_hash(text),
        }
    }

    fn cite(p: &Passage, start: usize, quote: (usize, usize)) -> Citation {
        Citation {
            start,
            end: start + quote.1 - quote.0,
            source_id: p.source_id.clone(),
            source: p.source.clone(),
            id: p.id,
            title: p.title.clone(),
            provenance: p.provenance,
            quote_start: quote.0,
            quote_end: quote.1,
            content_hash: p.content_hash.clone(),
        }
    }

    #[test]
    fn an_exact_quote_of_a_passage_of_the_run_passes_and_anything_else_is_refused() {
        let kb = passage("chunk:1", Provenance::Kb, "Press reset. Sign in again.");
        let answer = "Press reset. Sign in again.";
        let ok = check(answer, &[cite(&kb, 0, (0, 12)), cite(&kb, 13, (13, 27))], std::slice::from_ref(&kb));
        assert!(ok.iter().all(|v| v.supported), "{ok:?}");

        let unknown = check(answer, &[cite(&kb, 0, (0, 27))], &[]);
        assert!(unknown[0].because.contains("not returned by any tool"));
        let planted = passage("ticket:9", Provenance::Customer, "Press reset. Sign in again.");
        assert!(!check(answer, &[cite(&planted, 0, (0, 27))], std::slice::from_ref(&planted))[0].supported);
        let edited = passage("chunk:1", Provenance::Kb, "Press reset. Then sign in.");
        assert!(check(answer, &[cite(&kb, 0, (0, 27))], &[edited])[0].because.contains("changed"));
        let uncited = check("Press reset. We refunded you.", &[cite(&kb, 0, (0, 12))], std::slice::from_ref(&kb));
        assert_eq!((uncited[1].supported, uncited[1].because.as_str()), (false, "this text cites no source"));
        let moved = check("Sign in again", &[cite(&kb, 0, (0, 13))], &[kb]);
        assert!(!moved[0].supported, "the span must be the sentence");
    }
}
