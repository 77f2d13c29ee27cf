//! Sentence embeddings as sentence-transformers computes them for a BERT-class model:
//! the tokenizer's word pieces, the encoder (candle's BERT, in f32 on the CPU), the
//! mean of the token vectors under the attention mask, then L2 normalisation — so a
//! dot product of two embeddings is their cosine similarity.
//!
//! The weights are memory-mapped: every process that loads the same file shares its
//! pages, so the API and the retrieval worker hold one copy between them.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{Encoding, Tokenizer, TruncationParams};

use atum_core::model_files;

/// Longest input, in word pieces (the model was trained with 256).
pub const MAX_TOKENS: usize = 256;
/// Word pieces (padding included) in one pass through the encoder. Texts go through
/// in passes of similar length, so little is spent on padding, and a pass of long
/// passages stays small: attention's memory grows with the square of the length.
const PASS_TOKENS: usize = 2_048;
/// Texts in one pass, however short.
const PASS_TEXTS: usize = 128;

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
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
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
            .with_truncation(Some(TruncationParams { max_length: MAX_TOKENS, ..Default::default() }))
            .map_err(|e| load(format!("truncation: {e}")))?;
        let device = Device::Cpu;
        let weights = dir.join("model.safetensors");
        // The one unsafe block of the workspace: mapping a file is unsafe because the
        // file could change under the map. `atum models fetch` never rewrites a model
        // file in place (it writes a new file and renames it over the old one), so a
        // mapped file keeps its contents; the sharing between processes is the point.
        #[allow(unsafe_code)]
        // SAFETY: see above; the map is read-only and the file is replaced, not changed.
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[&weights], DType::F32, &device) }
            .map_err(|e| load(format!("model.safetensors: {e}")))?;
        let model = BertModel::load(vb, &config).map_err(|e| load(format!("weights: {e}")))?;
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "model".into());
        let digest = model_files::sha256(&weights).map_err(|e| load(format!("model.safetensors: {e}")))?;
        Ok(Embedder { model, tokenizer, device, id: format!("{name}@{}", &digest[..12]), dim: config.hidden_size })
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
    /// one at a time: they go through the encoder in passes of similar length.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let encodings = self.tokenizer.encode_batch(texts.to_vec(), true).map_err(run_err)?;
        let mut order: Vec<usize> = (0..encodings.len()).collect();
        order.sort_by_key(|&i| encodings[i].len());
        let mut out = vec![Vec::new(); encodings.len()];
        let mut start = 0;
        while start < order.len() {
            // Sorted by length, so the last text of a pass is its longest.
            let mut end = start + 1;
            while end < order.len()
                && end - start < PASS_TEXTS
                && (end - start + 1) * encodings[order[end]].len() <= PASS_TOKENS
            {
                end += 1;
            }
            let pass: Vec<&Encoding> = order[start..end].iter().map(|&i| &encodings[i]).collect();
            for (&i, v) in order[start..end].iter().zip(self.pass(&pass)?) {
                out[i] = v;
            }
            start = end;
        }
        Ok(out)
    }

    /// One pass through the encoder, padded to its longest text.
    fn pass(&self, encodings: &[&Encoding]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let len = encodings.iter().map(|e| e.len()).max().unwrap_or(0);
        let n = encodings.len();
        let mut ids = Vec::with_capacity(n * len);
        let mut mask = Vec::with_capacity(n * len);
        for e in encodings {
            ids.extend(e.get_ids().iter().copied());
            mask.extend(e.get_attention_mask().iter().copied());
            // Padding: token 0 ([PAD] in BERT vocabularies), masked out.
            ids.extend(std::iter::repeat_n(0, len - e.len()));
            mask.extend(std::iter::repeat_n(0, len - e.len()));
        }
        let ids = Tensor::from_vec(ids, (n, len), &self.device).map_err(run_err)?;
        let mask = Tensor::from_vec(mask, (n, len), &self.device).map_err(run_err)?;
        let types = ids.zeros_like().map_err(run_err)?;
        let hidden = self.model.forward(&ids, &types, Some(&mask)).map_err(run_err)?;
        // Mean over the real tokens: padding is masked out of the sum and the count.
        let mask = mask.to_dtype(DType::F32).map_err(run_err)?.unsqueeze(2).map_err(run_err)?;
        let summed = hidden.broadcast_mul(&mask).map_err(run_err)?.sum(1).map_err(run_err)?;
        let counts = mask.sum(1).map_err(run_err)?.clamp(1e-9, f64::MAX).map_err(run_err)?;
        let mean = summed.broadcast_div(&counts).map_err(run_err)?;
        let norm = mean.sqr().map_err(run_err)?.sum_keepdim(1).map_err(run_err)?.sqrt().map_err(run_err)?;
        let unit = mean.broadcast_div(&norm.clamp(1e-12, f64::MAX).map_err(run_err)?).map_err(run_err)?;
        unit.to_vec2::<f32>().map_err(run_err)
    }
}

/// The dot product of two unit vectors: their cosine similarity.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
