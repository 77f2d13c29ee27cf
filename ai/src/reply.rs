//! The extractive composer of draft replies: of the best-ranked retrieved passage that
//! answers at all, the run of consecutive sentences that best answers the customer's
//! question, by sentence-vector similarity to it. A run keeps an answer's own order
//! (its opening, its steps, its closing); sentences from several passages stitched
//! together read as a collage and scored worse against agents' real replies
//! (`atum-bench reply-eval`, docs/ai-evaluation.md).
//! Every quote is a passage's own text, so every word of a draft can be traced to its
//! source. A sentence naming an identifier — a long number, an e-mail address — that
//! the question does not is never quoted: in a solved ticket's reply it is another
//! customer's order number or address.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
};

use atum_core::models::{Passage, Quote};
use unicode_segmentation::UnicodeSegmentation as _;

use crate::{EmbedError, Embedder, embed::cosine};

/// Sentences read per passage and in all: a long passage's answer is at its start.
const PER_PASSAGE: usize = 40;
const CANDIDATES: usize = 160;
/// Fewer words is a greeting, a sign-off or a heading, not an answer.
const MIN_WORDS: usize = 4;
/// Without a sentence this similar to the question, nothing answers it: no draft.
pub const MIN_SIMILARITY: f32 = 0.3;
/// A sentence adds to a run by how far its similarity is above this, and takes away
/// by how far it is below: a run extends over a weaker sentence only between stronger
/// ones.
const FLOOR: f32 = 0.15;
/// The longest run quoted, in sentences.
pub const MAX_RUN: usize = 12;
/// Sentences this alike say the same thing: the second is left out.
const DUPLICATE: f32 = 0.92;
/// Digits that make a number an identifier (an order, a phone, an account).
const ID_DIGITS: usize = 5;

/// A sentence of a passage: its byte span, trimmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    passage: usize,
    /// Its position among the passage's sentences.
    index: usize,
    start: usize,
    end: usize,
}

/// The sentences of `body` from byte `from`: each line apart (lists and steps are
/// lines), each line cut at sentence bounds (Unicode UAX #29). Questions, and lines
/// of fewer than [`MIN_WORDS`] words, are left out.
fn sentences(passage: usize, body: &str, from: usize) -> Vec<Span> {
    let from = if body.is_char_boundary(from) { from } else { 0 };
    let mut out = Vec::new();
    let mut offset = from;
    for line in body[from..].split_inclusive('\n') {
        // A list's marker ("1.", "-") is a bound of its own to UAX #29: it stays with
        // the step it numbers.
        let mut marker: Option<usize> = None;
        for (at, s) in line.split_sentence_bound_indices() {
            let trimmed = s.trim();
            if trimmed.is_empty() {
                continue;
            }
            let own_start = offset + at + (s.len() - s.trim_start().len());
            if is_marker(trimmed) {
                marker.get_or_insert(own_start);
                continue;
            }
            let start = marker.take().unwrap_or(own_start);
            let end = own_start + trimmed.len();
            let trimmed = &body[start..end];
            if trimmed.split_whitespace().count() >= MIN_WORDS && !trimmed.ends_with('?') {
                out.push(Span { passage, index: 0, start, end });
            }
        }
        offset += line.len();
    }
    for (i, s) in out.iter_mut().enumerate() {
        s.index = i;
    }
    out.truncate(PER_PASSAGE);
    out
}

/// "1.", "2)", "-", "*", "•": a list item's marker.
fn is_marker(s: &str) -> bool {
    matches!(s, "-" | "*" | "•")
        || (s.len() > 1
            && (s.ends_with('.') || s.ends_with(')'))
            && s[..s.len() - 1].chars().all(|c| c.is_ascii_digit()))
}

/// The identifiers a text names: numbers of [`ID_DIGITS`] digits or more, e-mail
/// addresses; lower-cased.
pub fn identifiers(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase())
        .filter(|w| w.chars().filter(char::is_ascii_digit).count() >= ID_DIGITS || (w.contains('@') && w.contains('.')))
        .collect()
}

/// Sentence vectors already computed, by the sentence's text: the same passages
/// answer many tickets, and embedding their sentences is most of a draft's cost. The
/// encoder packs texts without padding, so a sentence's vector does not depend on
/// what it was embedded with. The oldest go first past [`SentenceCache::CAPACITY`].
#[derive(Default)]
pub struct SentenceCache {
    inner: Mutex<Held>,
}

#[derive(Default)]
struct Held {
    vectors: HashMap<String, Arc<[f32]>>,
    /// The oldest first.
    order: VecDeque<String>,
}

impl SentenceCache {
    /// 20,000 vectors of 384 dimensions: about 31 MB.
    pub const CAPACITY: usize = 20_000;

    /// The vectors of `texts`, embedding only those not held yet.
    pub fn embed(&self, embedder: &Embedder, texts: &[&str]) -> Result<Vec<Arc<[f32]>>, EmbedError> {
        let mut out: Vec<Option<Arc<[f32]>>> = {
            let held = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            texts.iter().map(|t| held.vectors.get(*t).cloned()).collect()
        };
        let missing: Vec<&str> = texts.iter().zip(&out).filter(|(_, v)| v.is_none()).map(|(t, _)| *t).collect();
        if !missing.is_empty() {
            let fresh = embedder.embed(&missing)?;
            let mut held = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            let mut fresh = missing.iter().zip(fresh);
            for slot in out.iter_mut().filter(|v| v.is_none()) {
                let Some((text, v)) = fresh.next() else { break };
                let v: Arc<[f32]> = v.into();
                if held.vectors.insert((*text).to_owned(), v.clone()).is_none() {
                    held.order.push_back((*text).to_owned());
                }
                while held.order.len() > Self::CAPACITY {
                    if let Some(old) = held.order.pop_front() {
                        held.vectors.remove(&old);
                    }
                }
                *slot = Some(v);
            }
        }
        Ok(out.into_iter().map(Option::unwrap_or_default).collect())
    }
}

/// The quotes of a draft answering `question` from `passages` (best first); empty
/// when no sentence is similar enough to it.
pub fn compose(
    embedder: &Embedder,
    cache: &SentenceCache,
    question: &str,
    passages: &[Passage],
) -> Result<Vec<Quote>, EmbedError> {
    let asked = identifiers(question);
    let mut spans: Vec<Span> = Vec::new();
    for (i, p) in passages.iter().enumerate() {
        spans.extend(
            sentences(i, &p.body, p.from)
                .into_iter()
                .filter(|s| identifiers(&p.body[s.start..s.end]).iter().all(|id| asked.contains(id))),
        );
    }
    spans.truncate(CANDIDATES);
    if spans.is_empty() {
        return Ok(Vec::new());
    }
    let q = embedder.embed(&[question])?.pop().unwrap_or_default();
    let texts: Vec<&str> = spans.iter().map(|s| &passages[s.passage].body[s.start..s.end]).collect();
    let vectors = cache.embed(embedder, &texts)?;
    let scores: Vec<f32> = vectors.iter().map(|v| cosine(&q, v)).collect();
    Ok(choose(passages, &spans, &scores, &vectors))
}

/// The choice itself, apart from the model: the best-ranked passage with a sentence
/// at [`MIN_SIMILARITY`] or more answers (the retriever ranked whole passages against
/// the whole question, which a single sentence's similarity cannot outweigh); in it,
/// the run of consecutive candidate sentences that scores most (each sentence its
/// similarity less [`FLOOR`]; at most [`MAX_RUN`] of them), less a sentence that
/// repeats one before it. Nothing when no sentence reaches [`MIN_SIMILARITY`].
fn choose<V: AsRef<[f32]>>(passages: &[Passage], spans: &[Span], scores: &[f32], vectors: &[V]) -> Vec<Quote> {
    let Some(answering) = spans
        .iter()
        .zip(scores)
        .filter(|&(_, &score)| score >= MIN_SIMILARITY)
        .map(|(s, _)| s.passage)
        .min_by_key(|&p| (passages[p].rank, p))
    else {
        return Vec::new();
    };
    // (sum, first, last) of the best run, as indexes into `spans`.
    let mut best: Option<(f32, usize, usize)> = None;
    let own: Vec<usize> = (0..spans.len()).filter(|&k| spans[k].passage == answering).collect();
    for (i, &first) in own.iter().enumerate() {
        let mut sum = 0.0;
        for &last in own.iter().skip(i).take(MAX_RUN) {
            sum += scores[last] - FLOOR;
            if best.is_none_or(|(b, ..)| sum > b + 1e-6) {
                best = Some((sum, first, last));
            }
        }
    }
    let Some((_, first, last)) = best else { return Vec::new() };
    let mut kept: Vec<usize> = Vec::new();
    for k in first..=last {
        if kept.iter().any(|&c| cosine(vectors[c].as_ref(), vectors[k].as_ref()) > DUPLICATE) {
            continue;
        }
        kept.push(k);
    }
    kept.into_iter()
        .map(|k| Quote {
            chunk_id: passages[spans[k].passage].chunk_id,
            start: spans[k].start,
            end: spans[k].end,
            score: scores[k],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passage(chunk_id: i64, rank: usize, body: &str) -> Passage {
        Passage { chunk_id, body: body.into(), from: 0, rank }
    }

    fn text<'a>(p: &'a Passage, s: &Span) -> &'a str {
        &p.body[s.start..s.end]
    }

    #[test]
    fn sentences_are_cut_at_lines_and_bounds_and_short_lines_and_questions_are_left_out() {
        let p = passage(
            1,
            0,
            "Hi Ana,\nOpen the settings page first. Then press the reset button.\n1. Wait for the green light.\nDid that help you today?\nThanks!",
        );
        let got: Vec<&str> = sentences(0, &p.body, 0).iter().map(|s| text(&p, s)).collect();
        assert_eq!(
            got,
            ["Open the settings page first.", "Then press the reset button.", "1. Wait for the green light."]
        );
    }

    #[test]
    fn a_solved_tickets_question_is_not_quoted() {
        let body = "My router keeps dropping the line.\n\nPlease restart the router and wait two minutes.";
        let from = body.find("Please").unwrap();
        let p = passage(1, 0, body);
        let got: Vec<&str> = sentences(0, body, from).iter().map(|s| text(&p, s)).collect();
        assert_eq!(got, ["Please restart the router and wait two minutes."]);
    }

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    fn one_hot(n: usize) -> Vec<Vec<f32>> {
        (0..n)
            .map(|i| {
                let mut v = vec![0.0; n];
                v[i] = 1.0;
                v
            })
            .collect()
    }

    fn quoted<'a>(passages: &'a [Passage], quotes: &[Quote]) -> Vec<(i64, &'a str)> {
        quotes
            .iter()
            .map(|q| (q.chunk_id, &passages.iter().find(|p| p.chunk_id == q.chunk_id).unwrap().body[q.start..q.end]))
            .collect()
    }

    #[test]
    fn the_best_run_of_one_passage_is_quoted_in_its_order_over_a_weaker_step_between_stronger_ones() {
        let passages = [
            passage(
                10,
                0,
                "Our office opens at nine daily. Open settings now please. Choose the reset tab. Press the reset button now. Thanks for your patience today.",
            ),
            passage(20, 1, "Reset it from the mobile app instead."),
        ];
        let mut spans = Vec::new();
        for (i, p) in passages.iter().enumerate() {
            spans.extend(sentences(i, &p.body, 0));
        }
        assert_eq!(spans.len(), 6, "{spans:?}");
        // The steps score high, the tab between them less (but it is a step), the
        // opening hours and the thanks nothing; the other passage's one good sentence
        // is less than the run.
        let scores = [0.05, 0.7, 0.25, 0.65, 0.1, 0.72];
        let quotes = choose(&passages, &spans, &scores, &one_hot(6));
        assert_eq!(
            quoted(&passages, &quotes),
            [(10, "Open settings now please."), (10, "Choose the reset tab."), (10, "Press the reset button now.")]
        );
    }

    #[test]
    fn a_sentence_naming_an_identifier_the_question_does_not_is_never_a_candidate() {
        assert_eq!(
            identifiers("Order 00123842 of ana@example.com, call 555-0100."),
            ["00123842", "ana@example.com", "555-0100"]
        );
        assert!(identifiers("Press reset twice, then wait 30 seconds.").is_empty());
    }

    #[test]
    fn nothing_similar_enough_makes_no_draft_and_a_repeat_is_quoted_once() {
        let passages = [passage(1, 0, "Restart the router first. Restart the router first!")];
        let spans = sentences(0, &passages[0].body, 0);
        let same = vec![unit(&[1.0, 0.0]), unit(&[1.0, 0.0])];
        assert!(choose(&passages, &spans, &[0.2, 0.2], &same).is_empty());
        assert_eq!(choose(&passages, &spans, &[0.6, 0.6], &same).len(), 1);
    }

    #[test]
    fn the_better_ranked_passage_answers_though_a_lower_one_has_a_closer_sentence_unless_it_has_none_close_enough() {
        let passages = [
            passage(10, 0, "Open the printer's front panel first. Pull the jammed sheet out carefully."),
            passage(20, 1, "Cancel the print job by clicking the stop button."),
            passage(30, 2, "Paper jams are rare with this printer model."),
        ];
        let mut spans = Vec::new();
        for (i, p) in passages.iter().enumerate() {
            spans.extend(sentences(i, &p.body, 0));
        }
        // The second passage's one sentence is closest to the question; the first,
        // ranked best by the retriever, still reaches the similarity floor.
        let quotes = choose(&passages, &spans, &[0.35, 0.5, 0.8, 0.2], &one_hot(4));
        assert_eq!(
            quoted(&passages, &quotes),
            [(10, "Open the printer's front panel first."), (10, "Pull the jammed sheet out carefully.")]
        );
        // When the best-ranked passage has no sentence at the floor, the next that does answers.
        let quotes = choose(&passages, &spans, &[0.2, 0.25, 0.8, 0.9], &one_hot(4));
        assert_eq!(quoted(&passages, &quotes), [(20, "Cancel the print job by clicking the stop button.")]);
    }
}
