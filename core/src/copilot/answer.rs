//! The extractive answerer: an answer made only of quotes of the passages this run's
//! tools returned, each cited.

use std::sync::Arc;

use unicode_segmentation::UnicodeSegmentation;

use super::{
    gate::Citation,
    plan::Intent,
    tools::{Passage, Provenance},
};
use crate::{
    error::{Error, Result},
    models::Models,
};

pub const ANSWERER: &str = "extractive-1";

/// The sentences of a desk-stated passage (SLA, history), each cited.
fn quote_all(answer: &mut String, citations: &mut Vec<Citation>, p: &Passage) {
    for (at, sentence) in p.text.split_sentence_bound_indices() {
        let trimmed = sentence.trim_end();
        if trimmed.is_empty() {
            continue;
        }
        push_quote(answer, citations, p, at, at + trimmed.len());
    }
}

fn push_quote(answer: &mut String, citations: &mut Vec<Citation>, p: &Passage, start: usize, end: usize) {
    // Offsets from the composer are the passage's own sentence bounds; anything else is
    // no quote.
    let Some(quote) = p.text.get(start..end) else { return };
    if !answer.is_empty() {
        let joined = citations.last().is_some_and(|c| c.source_id == p.source_id && c.quote_end <= start);
        answer.push_str(if joined { " " } else { "\n\n" });
    }
    let at = answer.len();
    answer.push_str(quote);
    citations.push(Citation {
        start: at,
        end: answer.len(),
        source_id: p.source_id.clone(),
        source: p.source.clone(),
        id: p.id,
        title: p.title.clone(),
        provenance: p.provenance,
        quote_start: start,
        quote_end: end,
        content_hash: p.content_hash.clone(),
    });
}

/// The extractive answer: for each intent, the quotes that answer it.
pub(super) async fn answer(
    models: &Arc<dyn Models>,
    intents: &[Intent],
    passages: &[Passage],
    topic: &str,
) -> Result<(String, Vec<Citation>, Vec<Intent>)> {
    let (mut text, mut citations, mut unanswered) = (String::new(), Vec::new(), Vec::new());
    for intent in intents {
        let before = citations.len();
        match intent {
            Intent::Sla => {
                for p in passages.iter().filter(|p| p.source == "sla") {
                    quote_all(&mut text, &mut citations, p);
                }
            }
            Intent::History => {
                for p in passages.iter().filter(|p| p.source == "history") {
                    quote_all(&mut text, &mut citations, p);
                }
            }
            Intent::Resolve => {
                let usable: Vec<&Passage> = passages
                    .iter()
                    .filter(|p| matches!(p.provenance, Provenance::Kb | Provenance::SolvedTicket))
                    .collect();
                let candidates: Vec<crate::models::Passage> = usable
                    .iter()
                    .enumerate()
                    .map(|(i, p)| crate::models::Passage { chunk_id: i as i64, body: p.text.clone(), from: 0, rank: i })
                    .collect();
                let quotes = {
                    let (models, topic) = (models.clone(), topic.to_owned());
                    tokio::task::spawn_blocking(move || models.compose(&topic, &candidates))
                        .await
                        .map_err(|e| Error::Internal(format!("answering stopped: {e}")))?
                        .map_err(Error::Internal)?
                };
                for q in quotes {
                    if let Some(p) = usable.get(q.chunk_id as usize) {
                        push_quote(&mut text, &mut citations, p, q.start, q.end);
                    }
                }
            }
        }
        if citations.len() == before {
            unanswered.push(*intent);
        }
    }
    Ok((text, citations, unanswered))
}
