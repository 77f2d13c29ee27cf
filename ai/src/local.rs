//! The AI jobs' models, in this process: the sentence embedder, triage models read
//! from the database, sentiment and language. The job worker builds one at start and
//! hands it to the jobs as `atum_core::models::Models`.

use atum_core::ids::TicketId;
use std::{
    collections::VecDeque,
    path::Path,
    sync::{Arc, Mutex},
};

use atum_core::{
    ids::OrgId,
    models::{
        Alternative, BoxFuture, Guess, Labelled, Language, Models, Neighbour, Passage, Quote, Sentiment, TrainFailure,
        Trained,
    },
};
use atum_runtime::{Metrics, db::DbPool};
use tokio_util::sync::CancellationToken;

use crate::{
    EmbedError, Embedder, language, reply, sentiment,
    triage::{self, Example, Model, TrainError},
    vectors::Retrieval,
};

/// Triage models kept in memory: a few organisations' two fields. Each is at most
/// the voters' 8-bit vectors (19 MB at the 50,000-ticket cap) plus its weights.
const LOADED: usize = 8;

pub struct LocalModels {
    embedder: Arc<Embedder>,
    sentiment: sentiment::Analyzer,
    /// The most recently used last.
    loaded: Mutex<VecDeque<(i64, Arc<Model>)>>,
    /// The dense retriever over the organisations' passages.
    retrieval: Arc<Retrieval>,
    /// The vectors of passage sentences drafts were composed from.
    sentences: reply::SentenceCache,
}

impl LocalModels {
    /// The models in `model_dir`, with a dense retriever that reads an organisation's
    /// passage vectors for each search (see [`LocalModels::listening`]).
    pub fn load(model_dir: &Path) -> Result<LocalModels, EmbedError> {
        Ok(LocalModels::new(Embedder::load(model_dir)?))
    }

    pub fn new(embedder: Embedder) -> LocalModels {
        let embedder = Arc::new(embedder);
        LocalModels {
            retrieval: Arc::new(Retrieval::uncached(embedder.clone())),
            embedder,
            sentiment: sentiment::Analyzer::default(),
            loaded: Mutex::default(),
            sentences: reply::SentenceCache::default(),
        }
    }

    /// The models over a dense retriever already running (the API's), sharing its
    /// embedder and its passage vectors; `None` when it has no embedder.
    pub fn over(retrieval: Arc<Retrieval>) -> Option<LocalModels> {
        let embedder = retrieval.embedder()?.clone();
        Some(LocalModels {
            embedder,
            sentiment: sentiment::Analyzer::default(),
            loaded: Mutex::default(),
            retrieval,
            sentences: reply::SentenceCache::default(),
        })
    }

    /// The same models with the passage vectors held in memory, kept fresh by the
    /// retrieval worker's notices until `shutdown` (a long-running worker).
    pub fn listening(self, pg: tokio_postgres::Config, metrics: Metrics, shutdown: CancellationToken) -> LocalModels {
        let retrieval = Retrieval::listening(self.embedder.clone(), pg, metrics, shutdown);
        LocalModels { retrieval, ..self }
    }

    fn get(&self, model_id: i64) -> Option<Arc<Model>> {
        let mut loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        let at = loaded.iter().position(|(id, _)| *id == model_id)?;
        let entry = loaded.remove(at)?;
        let model = entry.1.clone();
        loaded.push_back(entry);
        Some(model)
    }
}

impl Models for LocalModels {
    fn embedder(&self) -> &str {
        self.embedder.id()
    }

    fn format(&self) -> i32 {
        triage::FORMAT as i32
    }

    fn max_examples(&self) -> usize {
        triage::MAX_EXAMPLES
    }

    fn train(&self, examples: &[Labelled], seed: u64) -> Result<Trained, TrainFailure> {
        let examples: Vec<Example<'_>> =
            examples.iter().map(|e| Example { id: e.ticket_id.0, text: &e.text, label: &e.label }).collect();
        let (model, evaluation) = triage::train_and_evaluate(&self.embedder, &examples, seed).map_err(|e| match e {
            TrainError::TooLittle { have, need } => TrainFailure::TooLittle { have, need },
            other => TrainFailure::Failed(other.to_string()),
        })?;
        let bytes = model.to_bytes().map_err(TrainFailure::Failed)?;
        Ok(Trained { model: bytes, format: self.format(), labels: model.labels, evaluation })
    }

    fn is_loaded(&self, model_id: i64) -> bool {
        self.loaded.lock().unwrap_or_else(|p| p.into_inner()).iter().any(|(id, _)| *id == model_id)
    }

    fn load(&self, model_id: i64, bytes: &[u8]) -> Result<(), String> {
        let model = Arc::new(Model::from_bytes(bytes)?);
        let mut loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        loaded.retain(|(id, _)| *id != model_id);
        if loaded.len() == LOADED {
            loaded.pop_front();
        }
        loaded.push_back((model_id, model));
        Ok(())
    }

    fn predict(&self, model_id: i64, text: &str) -> Result<Guess, String> {
        let model = self.get(model_id).ok_or_else(|| format!("triage model {model_id} is not loaded"))?;
        let p = model.predict(&self.embedder, &[text]).map_err(|e| e.to_string())?.pop().ok_or("no prediction")?;
        Ok(Guess {
            value: p.label,
            confidence: p.confidence,
            alternatives: p
                .alternatives
                .into_iter()
                .map(|(value, confidence)| Alternative { value, confidence })
                .collect(),
            neighbours: p
                .neighbours
                .into_iter()
                .map(|n| Neighbour { ticket_id: TicketId(n.id), value: n.label, similarity: n.similarity })
                .collect(),
        })
    }

    fn sentiment(&self, text: &str) -> Sentiment {
        self.sentiment.score(text)
    }

    fn language(&self, text: &str) -> Option<Language> {
        language::detect(text)
    }

    fn nearest<'a>(
        &'a self,
        pool: &'a DbPool,
        org: OrgId,
        text: &'a str,
        k: usize,
    ) -> BoxFuture<'a, atum_core::error::Result<Vec<i64>>> {
        Box::pin(self.retrieval.nearest(pool, org, text, k))
    }

    fn compose(&self, question: &str, passages: &[Passage]) -> Result<Vec<Quote>, String> {
        reply::compose(&self.embedder, &self.sentences, question, passages).map_err(|e| e.to_string())
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, String> {
        self.embedder.embed(texts).map_err(|e| e.to_string())
    }
}
