//! The extractive composer of draft replies: the sentences of the retrieved passages
//! that answer the customer's question, chosen by sentence-vector similarity to it,
//! kept together where they are steps of one answer, and put in order. Every quote is
//! a passage's own text, so every word of a draft can be traced to its source.

use atum_core::assist::{Passage, Quote};
use unicode_segmentation::UnicodeSegmentation as _;

use crate::{EmbedError, Embedder, embed::cosine};

/// Sentences read per passage and in all: a long passage's answer is at its start.
const PER_PASSAGE: usize = 40;
const CANDIDATES: usize = 160;
/// Fewer words is a greeting, a sign-off or a heading, not an answer.
const MIN_WORDS: usize = 4;
/// Quotes a draft keeps at most, before gaps between them are filled.
pub const MAX_QUOTES: usize = 5;
/// A sentence less similar to the question than this answers nothing in it.
pub const MIN_SIMILARITY: f32 = 0.3;
/// …nor one this far below the best sentence: it belongs to another answer.
const MARGIN: f32 = 0.2;
/// Passages a draft quotes at most: more reads as a collage.
const MAX_PASSAGES: usize = 2;
/// Sentences this alike say the same thing (passages often repeat each other).
const DUPLICATE: f32 = 0.9;
/// Unchosen sentences between two chosen ones of a passage that are taken too: a
/// step between two steps is part of the answer.
const GAP: usize = 1;

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

/// The quotes of a draft answering `question` from `passages` (best first); empty
/// when no sentence is similar enough to it.
pub fn compose(embedder: &Embedder, question: &str, passages: &[Passage]) -> Result<Vec<Quote>, EmbedError> {
    let mut spans: Vec<Span> = Vec::new();
    for (i, p) in passages.iter().enumerate() {
        spans.extend(sentences(i, &p.body, p.from));
    }
    spans.truncate(CANDIDATES);
    if spans.is_empty() {
        return Ok(Vec::new());
    }
    let mut texts: Vec<&str> = vec![question];
    texts.extend(spans.iter().map(|s| &passages[s.passage].body[s.start..s.end]));
    let vectors = embedder.embed(&texts)?;
    let (q, vectors) = vectors.split_first().expect("the question's vector");
    let scores: Vec<f32> = vectors.iter().map(|v| cosine(q, v)).collect();
    Ok(choose(passages, &spans, &scores, vectors))
}

/// The choice itself, apart from the model: the best sentences by `scores`, within
/// [`MARGIN`] of the best and above [`MIN_SIMILARITY`], no two alike, from at most
/// [`MAX_PASSAGES`] passages; gaps of [`GAP`] sentences filled; the best passage first,
/// each passage's quotes in its own order.
fn choose(passages: &[Passage], spans: &[Span], scores: &[f32], vectors: &[Vec<f32>]) -> Vec<Quote> {
    let mut order: Vec<usize> = (0..spans.len()).collect();
    // Best first; between equals, the better-ranked passage, then the earlier sentence.
    order.sort_by(|&a, &b| {
        scores[b]
            .total_cmp(&scores[a])
            .then(passages[spans[a].passage].rank.cmp(&passages[spans[b].passage].rank))
            .then(spans[a].start.cmp(&spans[b].start))
    });
    let best = scores[order[0]];
    let mut chosen: Vec<usize> = Vec::new();
    let mut used: Vec<usize> = Vec::new();
    for i in order {
        if chosen.len() == MAX_QUOTES || scores[i] < MIN_SIMILARITY || scores[i] < best - MARGIN {
            break;
        }
        let p = spans[i].passage;
        if !used.contains(&p) && used.len() == MAX_PASSAGES {
            continue;
        }
        if chosen.iter().any(|&c| cosine(&vectors[c], &vectors[i]) > DUPLICATE) {
            continue;
        }
        if !used.contains(&p) {
            used.push(p);
        }
        chosen.push(i);
    }
    // Fill the gaps: a sentence between two chosen ones of its passage, at most GAP
    // away from each, is part of the same answer.
    let mut filled = chosen.clone();
    for (i, s) in spans.iter().enumerate() {
        if filled.contains(&i) {
            continue;
        }
        let near = |d: isize| {
            chosen.iter().any(|&c| {
                let gap = spans[c].index as isize - s.index as isize;
                spans[c].passage == s.passage && gap.signum() == d.signum() && gap.abs() <= GAP as isize + 1
            })
        };
        if near(-1) && near(1) {
            filled.push(i);
        }
    }
    filled.sort_by(|&a, &b| {
        let pa = used.iter().position(|&p| p == spans[a].passage);
        let pb = used.iter().position(|&p| p == spans[b].passage);
        pa.cmp(&pb).then(spans[a].start.cmp(&spans[b].start))
    });
    filled
        .into_iter()
        .map(|i| Quote {
            chunk_id: passages[spans[i].passage].chunk_id,
            start: spans[i].start,
            end: spans[i].end,
            score: scores[i],
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

    #[test]
    fn the_best_sentences_are_chosen_from_two_passages_at_most_and_put_in_their_order() {
        let passages = [
            passage(10, 0, "Open settings now please. Choose the reset tab. Press the reset button now."),
            passage(20, 1, "Our office opens at nine daily. Call us if it fails."),
            passage(30, 2, "Reset it from the app instead."),
        ];
        let mut spans = Vec::new();
        for (i, p) in passages.iter().enumerate() {
            spans.extend(sentences(i, &p.body, 0));
        }
        assert_eq!(spans.len(), 6, "{spans:?}");
        // Scores: steps 1 and 3 of the first passage, then the third passage's only
        // sentence; the step between them is filled in; the office hours answer nothing.
        let scores = [0.8, 0.25, 0.75, 0.1, 0.1, 0.7];
        let vectors: Vec<Vec<f32>> = (0..6)
            .map(|i| {
                let mut v = vec![0.0; 6];
                v[i] = 1.0;
                v
            })
            .collect();
        let quotes = choose(&passages, &spans, &scores, &vectors);
        let got: Vec<(i64, &str)> = quotes
            .iter()
            .map(|q| (q.chunk_id, &passages.iter().find(|p| p.chunk_id == q.chunk_id).unwrap().body[q.start..q.end]))
            .collect();
        assert_eq!(
            got,
            [
                (10, "Open settings now please."),
                (10, "Choose the reset tab."),
                (10, "Press the reset button now."),
                (30, "Reset it from the app instead.")
            ]
        );
    }

    #[test]
    fn nothing_similar_enough_makes_no_draft_and_a_repeat_is_quoted_once() {
        let passages = [passage(1, 0, "Restart the router first. Restart the router first!")];
        let spans = sentences(0, &passages[0].body, 0);
        let same = vec![unit(&[1.0, 0.0]), unit(&[1.0, 0.0])];
        assert!(choose(&passages, &spans, &[0.2, 0.2], &same).is_empty());
        assert_eq!(choose(&passages, &spans, &[0.6, 0.6], &same).len(), 1);
    }
}
