//! What the help desk asks of the AI models, and what they answer: the seam that
//! `atum-ai` implements ([`Models`]) and its types. The models run on the CPU in
//! `atum-ai`, which links this crate; the jobs that use them (`assist`, `copilot`)
//! reach them through their services.

use crate::ids::TicketId;
use std::{future::Future, pin::Pin};

use serde::{Deserialize, Serialize};

use crate::ids::OrgId;
use atum_runtime::db::DbPool;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A ticket an agent labelled, as a model learns from it.
#[derive(Debug, Clone)]
pub struct Labelled {
    pub ticket_id: TicketId,
    pub text: String,
    pub label: String,
}

/// A model fitted to an organisation's history, and how it did on the slice of that
/// history it never saw.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The stored form, opaque to this crate.
    pub model: Vec<u8>,
    pub format: i32,
    pub labels: Vec<String>,
    pub evaluation: Evaluation,
}

/// How a model did on the slice of the organisation's tickets held back from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Evaluation {
    /// Held-back tickets it was scored on.
    pub examples: usize,
    pub accuracy: f64,
    pub macro_f1: f64,
    /// The most common label of the training tickets: always answering it scores
    /// `majority_accuracy`, the baseline to beat.
    pub majority_label: String,
    pub majority_accuracy: f64,
    /// Expected calibration error: the mean gap between confidence and accuracy.
    pub ece: f64,
    /// What answering only at or above each confidence would cover and get right.
    pub tiers: Vec<TierFigure>,
    /// Confidence bins: answers, their mean confidence and how many were right.
    pub reliability: Vec<ReliabilityBin>,
    pub labels: Vec<String>,
    /// `confusion[truth][predicted]`, in the order of `labels`.
    pub confusion: Vec<Vec<usize>>,
    /// Tickets the model learnt from, and those it was calibrated on.
    pub trained_on: usize,
    pub calibrated_on: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TierFigure {
    pub threshold: f32,
    pub coverage: f64,
    pub accuracy: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReliabilityBin {
    pub from: f32,
    pub to: f32,
    pub count: usize,
    pub confidence: f64,
    pub accuracy: f64,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum TrainFailure {
    #[error("too little history: {have} labelled tickets, {need} more needed")]
    TooLittle { have: usize, need: usize },
    #[error("{0}")]
    Failed(String),
}

/// What a triage model says about one text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Guess {
    pub value: String,
    /// Calibrated: of the answers given at 0.9, about nine in ten were right on the
    /// organisation's held-back tickets.
    pub confidence: f32,
    /// The next most likely values.
    pub alternatives: Vec<Alternative>,
    /// The most similar labelled tickets, which voted: the answer's reasons.
    pub neighbours: Vec<Neighbour>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Alternative {
    pub value: String,
    pub confidence: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Neighbour {
    #[schema(value_type = i64)]
    pub ticket_id: TicketId,
    pub value: String,
    pub similarity: f32,
}

/// Tone of a customer's message: `score` from -1 (most negative) to 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sentiment {
    pub score: f32,
    pub label: SentimentLabel,
}

crate::named_enum! {
    pub enum SentimentLabel {
        Negative,
        Neutral,
        Positive,
    }
}

/// A text's language as an ISO 639-3 code (`eng`, `deu`, …), with a confidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Language {
    pub code: String,
    pub confidence: f32,
}

/// The models the AI jobs run. Implemented in `atum-ai`; every method but
/// [`Models::nearest`] (which reads the database) is CPU-bound and is called off the
/// async runtime.
pub trait Models: Send + Sync + 'static {
    /// The sentence embedder's id. A triage model trained with another embedder is
    /// not used: its neighbours and weights mean nothing to this one.
    fn embedder(&self) -> &str;
    /// The stored layout this build reads; a model of another layout is retrained.
    fn format(&self) -> i32;
    /// The most labelled tickets a training uses (the newest).
    fn max_examples(&self) -> usize;
    /// Fits a model to `examples` (newest first) and evaluates it on a held-back
    /// slice of them, deterministically for a `seed`.
    fn train(&self, examples: &[Labelled], seed: u64) -> Result<Trained, TrainFailure>;
    /// Whether the stored model `model_id` is in memory. Stored models never change,
    /// so an id names one model for good and the job reads its bytes only once.
    fn is_loaded(&self, model_id: i64) -> bool;
    /// Reads a stored model into memory (a few may be kept; the least recent goes).
    fn load(&self, model_id: i64, model: &[u8]) -> Result<(), String>;
    /// The answer of the loaded model `model_id` for `text`.
    fn predict(&self, model_id: i64, text: &str) -> Result<Guess, String>;
    fn sentiment(&self, text: &str) -> Sentiment;
    /// `None` when the text is too short or mixed to tell.
    fn language(&self, text: &str) -> Option<Language>;
    /// The ids of `org`'s `k` passages whose sentence vectors are nearest to `text`'s,
    /// best first (the dense retriever; the lexical ones run in the database).
    fn nearest<'a>(
        &'a self,
        pool: &'a DbPool,
        org: OrgId,
        text: &'a str,
        k: usize,
    ) -> BoxFuture<'a, crate::error::Result<Vec<i64>>>;
    /// The spans of `passages` that answer `question`, in the order a reply should
    /// give them; empty when none answers it closely enough. Extractive: every span
    /// is a passage's own text.
    fn compose(&self, question: &str, passages: &[Passage]) -> Result<Vec<Quote>, String>;
    /// The sentence vectors of `texts` (the copilot's scope check compares them).
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, String>;
}

/// A retrieved passage a draft reply may quote.
#[derive(Debug, Clone)]
pub struct Passage {
    pub chunk_id: i64,
    pub body: String,
    /// Where the quotable text starts (a byte offset of `body`): a solved ticket's
    /// passage opens with the customer's question, which is no answer.
    pub from: usize,
    /// Its rank among the retrieved passages, best first, from 0.
    pub rank: usize,
}

/// A span of a passage a draft uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Quote {
    pub chunk_id: i64,
    /// Byte offsets into the passage's body.
    pub start: usize,
    pub end: usize,
    /// How closely it answers the question (cosine similarity, -1 to 1).
    pub score: f32,
}
