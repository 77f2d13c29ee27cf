//! Sentence embeddings as sentence-transformers computes them for a BERT-class model:
//! the tokenizer's word pieces, the encoder ([`crate::bert`], in f32 on the CPU), the
//! mean of each text's token vectors, then L2 normalisation — so a dot product of two
//! embeddings is their cosine similarity.
//!
//! The weights are memory-mapped: every process that loads the same file shares its
//! pages, so the API and the retrieval worker hold one copy between them.

use std::path::{Path, PathBuf};

use tokenizers::{Tokenizer, TruncationParams};

use crate::bert::{Bert, Config};
use atum_core::model_files;

/// Longest input, in word pieces (the model was trained with 256).
pub const MAX_TOKENS: usize = 256;
/// Word pieces in one pass through the encoder: enough rows for the matrix products
/// to run at full speed on every core, few enough that a pass's working memory stays
/// near 20 MB.
const PASS_TOKENS: usize = 2_048;

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("{0}")]
    Missing(String),
    #[error("the model in {dir} cannot be loaded: {reason}")]
    Load { dir: PathBuf, reason: String },
    #[error("embedding failed: {0}")]
    Run(String),
}

fn run_err(e: impl std::fmt::Display) -> EmbedError {
    EmbedError::Run(e.to_string())
}

pub struct Embedder {
    model: Bert,
    tokenizer: Tokenizer,
    id: String,
    dim: usize,
}

impl Embedder {
    /// Loads the model in `dir` (the three [`model_files::FILES`]).
    pub fn load(dir: &Path) -> Result<Embedder, EmbedError> {
        let missing = model_files::missing(dir);
        if !missing.is_empty() {
            return Err(EmbedError::Missing(model_files::how_to_fetch(dir)));
        }
        let load = |reason: String| EmbedError::Load { dir: dir.to_owned(), reason };
        let config: Config = serde_json::from_str(
            &std::fs::read_to_string(dir.join("config.json")).map_err(|e| load(format!("config.json: {e}")))?,
        )
        .map_err(|e| load(format!("config.json: {e}")))?;
        let mut tokenizer =
            Tokenizer::from_file(dir.join("tokenizer.json")).map_err(|e| load(format!("tokenizer.json: {e}")))?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS.min(config.max_position_embeddings),
                ..Default::default()
            }))
            .map_err(|e| load(format!("truncation: {e}")))?;
        let weights = dir.join("model.safetensors");
        let model = Bert::load(&weights, &config).map_err(|e| load(format!("model.safetensors: {e}")))?;
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "model".into());
        let digest = model_files::sha256(&weights).map_err(|e| load(format!("model.safetensors: {e}")))?;
        Ok(Embedder { model, tokenizer, id: format!("{name}@{}", &digest[..12]), dim: config.hidden_size })
    }

    /// The model's id, stored with each vector it made: its directory's name and the
    /// start of its weights' hash, so a different model means re-embedding.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn dimensions(&self) -> usize {
        self.dim
    }

    /// One unit-length vector per text, in order. Many texts are embedded faster than
    /// one at a time: they go through the encoder together, in passes of
    /// [`PASS_TOKENS`] word pieces.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let encodings = self.tokenizer.encode_batch(texts.to_vec(), true).map_err(run_err)?;
        let ids: Vec<&[u32]> = encodings.iter().map(|e| e.get_ids()).collect();
        let mut out = Vec::with_capacity(ids.len());
        let mut start = 0;
        while start < ids.len() {
            let mut end = start + 1;
            let mut tokens = ids[start].len();
            while end < ids.len() && tokens + ids[end].len() <= PASS_TOKENS {
                tokens += ids[end].len();
                end += 1;
            }
            out.extend(self.pass(&ids[start..end]));
            start = end;
        }
        Ok(out)
    }

    /// One pass through the encoder: each text's mean token vector, at unit length.
    fn pass(&self, texts: &[&[u32]]) -> Vec<Vec<f32>> {
        let hidden = self.model.forward(texts);
        let h = self.dim;
        let mut row = 0;
        texts
            .iter()
            .map(|t| {
                let mut mean = vec![0f32; h];
                for token in hidden[row * h..(row + t.len()) * h].chunks(h) {
                    mean.iter_mut().zip(token).for_each(|(m, x)| *m += x);
                }
                row += t.len();
                // sentence-transformers divides by the count, then normalises; the
                // count cancels out, but an empty text (no tokens at all) stays zero.
                let norm = mean.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
                mean.iter_mut().for_each(|x| *x /= norm);
                mean
            })
            .collect()
    }
}

/// The dot product of two unit vectors: their cosine similarity.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
