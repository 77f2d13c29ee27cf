//! The second gate: does the question, as a whole, ask one of the three things the
//! copilot answers? The rules of [`super::plan`] read cue words; a question can hold
//! the cue and the reference and still be about something else ("how do I raise
//! money for this startup?"). Here the question's sentence vector is compared with
//! agent questions we wrote for each intent; an intent whose nearest example is
//! below [`FLOOR`] is dropped, and a run left with none is refused before any tool
//! runs. The scores and the floor are stored as the run's `scope` step, so a refusal
//! says why.
//!
//! The floor is fitted by `atum-bench copilot-eval` on held-out questions (ours, and
//! the Python FAQ's) and evaluated on others (ours, and the Debian FAQ's); see
//! docs/ai-evaluation.md.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock},
};

use serde::Serialize;

use super::plan::Intent;
use crate::models::Models;

pub const SCOPE_CHECK: &str = "examples-1";

/// The least cosine similarity between the question and its intent's nearest example.
pub const FLOOR: f32 = 0.435;

/// Questions an agent asks for each intent (ours). They name no product or topic, so
/// the nearest one measures what is asked, not what the ticket is about.
const RESOLVE: &[&str] = &[
    "How do I resolve this?",
    "How do I fix this for the customer?",
    "What should I reply to this customer?",
    "How can I solve the customer's problem?",
    "What steps should the customer follow?",
    "Is there an article that answers this?",
    "What is the workaround for this issue?",
    "How should I answer this ticket?",
    "What do I tell the customer to do?",
    "Suggest a reply to this request.",
    "How was this solved for others?",
];
const HISTORY: &[&str] = &[
    "Has this customer had this problem before?",
    "Did the customer contact us about this before?",
    "What other tickets has this customer opened?",
    "Is this a recurring issue for them?",
    "Show the customer's previous tickets.",
    "Has this happened to this customer already?",
    "How many times has the customer asked about this?",
    "What happened last time they wrote to us?",
];
const SLA: &[&str] = &[
    "When is this ticket due?",
    "When does the SLA breach?",
    "How much time is left before the deadline?",
    "Is this ticket overdue?",
    "When must I reply by?",
    "What is the resolution target for this ticket?",
    "Will we miss the SLA on this?",
    "How long until the first response is due?",
];

fn examples(intent: Intent) -> &'static [&'static str] {
    match intent {
        Intent::Resolve => RESOLVE,
        Intent::History => HISTORY,
        Intent::Sla => SLA,
    }
}

const INTENTS: [Intent; 3] = [Intent::Resolve, Intent::History, Intent::Sla];

/// The verdict, as stored in the run's `scope` step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scope {
    /// Each intent's score: the cosine of the question with its nearest example.
    pub scores: HashMap<&'static str, f32>,
    pub floor: f32,
    /// The planned intents whose score reaches the floor.
    pub kept: Vec<Intent>,
    /// The planned intents below it.
    pub dropped: Vec<Intent>,
}

impl Scope {
    /// The question's score for `intent`.
    pub fn score(&self, intent: Intent) -> f32 {
        self.scores.get(intent_name(intent)).copied().unwrap_or(0.0)
    }
}

fn intent_name(i: Intent) -> &'static str {
    match i {
        Intent::Resolve => "resolve",
        Intent::History => "history",
        Intent::Sla => "sla",
    }
}

type Vectors = Arc<Vec<(Intent, Vec<f32>)>>;

/// The examples' vectors, embedded once per embedder.
fn example_vectors(models: &dyn Models) -> Result<Vectors, String> {
    static CACHE: OnceLock<Mutex<HashMap<String, Vectors>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().map_err(|e| e.to_string())?.get(models.embedder()) {
        return Ok(v.clone());
    }
    let texts: Vec<(Intent, &str)> = INTENTS.iter().flat_map(|&i| examples(i).iter().map(move |t| (i, *t))).collect();
    let vectors = models.embed(&texts.iter().map(|(_, t)| *t).collect::<Vec<_>>())?;
    let v: Vectors = Arc::new(texts.iter().map(|(i, _)| *i).zip(vectors).collect());
    cache.lock().map_err(|e| e.to_string())?.insert(models.embedder().to_owned(), v.clone());
    Ok(v)
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 { 0.0 } else { dot / (na * nb) }
}

/// Scores `question` against every intent and keeps the planned ones that reach the
/// floor. CPU-bound (one embedding, and the examples' once): call it off the runtime.
pub fn check(models: &dyn Models, question: &str, planned: &[Intent]) -> Result<Scope, String> {
    let examples = example_vectors(models)?;
    let q = models.embed(&[question])?.pop().ok_or("the embedder returned nothing")?;
    let mut scores = HashMap::new();
    for intent in INTENTS {
        let best = examples.iter().filter(|(i, _)| *i == intent).map(|(_, v)| cosine(&q, v)).fold(f32::MIN, f32::max);
        scores.insert(intent_name(intent), (best * 1000.0).round() / 1000.0);
    }
    let (kept, dropped) = planned.iter().partition(|i| scores[intent_name(**i)] >= FLOOR);
    Ok(Scope { scores, floor: FLOOR, kept, dropped })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_intent_has_enough_examples_and_a_zero_vector_scores_nothing() {
        for intent in INTENTS {
            assert!(examples(intent).len() >= 8, "{intent:?}");
        }
        assert!((cosine(&[1.0, 0.0], &[1.0, 0.0]) - 1.0).abs() < 1e-6);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
    }
}
