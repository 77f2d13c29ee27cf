//! Auto-triage: which label (a category, a priority) a ticket should get, learned
//! from an organisation's own labelled tickets, with a confidence that means what it
//! says.
//!
//! Two views of a ticket are combined. A multinomial logistic regression (`linfa`)
//! reads its sentence vector and its hashed words, word pairs and character trigrams
//! ([`features`]); a vote of its nearest labelled tickets reads the sentence vector
//! alone, and names the tickets it found (the reasons an agent sees). A stratified
//! fifth of the history is held back from both: on it, the mix of the two and a
//! temperature are fitted so that the log-loss is least, which is what makes
//! "confidence 0.9" right about nine times in ten on tickets the model has not seen.

pub mod features;
pub mod metrics;

use atum_core::models::Evaluation;
use linfa::prelude::*;
use linfa_logistic::MultiLogisticRegression;
use ndarray::{Array1, Array2};
use rand::{SeedableRng, rngs::StdRng, seq::SliceRandom};
use serde::{Deserialize, Serialize};

use crate::{
    EmbedError, Embedder,
    numeric::{dot, quantise, softmax},
};
use features::{LEXICAL_DIM, lexical};

/// Labelled tickets below which no model is trained.
pub const MIN_EXAMPLES: usize = 30;
/// Examples of a label it takes for the label to be learnt at all.
pub const MIN_PER_LABEL: usize = 2;
/// The most examples a model is trained on (the first given: callers pass the newest
/// first). The linear model holds its whole training matrix in memory: 50,000 rows
/// of 1,408 columns is 280 MB.
pub const MAX_EXAMPLES: usize = 50_000;
/// Share of each label's examples held back for the mix and the temperature.
const CALIBRATION_SHARE: f64 = 0.2;
/// Neighbours that vote.
const NEIGHBOURS: usize = 10;
/// How sharply a neighbour's vote falls with its distance (cosine units).
const VOTE_SCALE: f32 = 0.05;
/// L2 penalty of the linear model, and its iterations (L-BFGS).
const ALPHA: f32 = 0.1;
const ITERATIONS: u64 = 100;
/// Share of each label's examples an organisation's training holds back to evaluate
/// the model ([`train_and_evaluate`]); never seen by the model or its calibration.
const TEST_SHARE: f64 = 0.2;
/// Labelled tickets an organisation needs: enough that what is left after holding
/// back the test slice still reaches [`MIN_EXAMPLES`].
pub const MIN_HISTORY: usize = 40;
/// Texts embedded per call while training.
const EMBED_BATCH: usize = 256;
/// The stored model's layout; a model of another version is retrained, not read.
pub const FORMAT: u32 = 1;

/// One labelled ticket. `id` is carried into a prediction's reasons.
#[derive(Debug, Clone, Copy)]
pub struct Example<'a> {
    pub id: i64,
    pub text: &'a str,
    pub label: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// `have` usable labelled tickets (of labels seen at least twice); `need` more are
    /// needed, and at least two different labels among them.
    #[error(
        "too little history to learn from: {have} labelled tickets; {need} more are needed, with at least two different labels"
    )]
    TooLittle { have: usize, need: usize },
    #[error(transparent)]
    Embed(#[from] EmbedError),
    #[error("the linear model could not be fitted: {0}")]
    Fit(String),
}

/// A trained model, as stored (serde) with the embedder's id it was trained with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Model {
    pub format: u32,
    /// The embedder's id; vectors of another model mean nothing to this one.
    pub embedder: String,
    pub labels: Vec<String>,
    /// The linear model: `[features, labels]`, row-major, and one intercept a label.
    weights: Vec<f32>,
    intercept: Vec<f32>,
    /// The voters: 8-bit codes of their sentence vectors, with a scale each.
    voter_codes: Vec<i8>,
    voter_scales: Vec<f32>,
    voter_labels: Vec<u32>,
    voter_ids: Vec<i64>,
    dim: usize,
    /// The linear model's share of the mix (the voters have the rest).
    pub mix: f32,
    /// Probabilities are raised to 1 / temperature and renormalised.
    pub temperature: f32,
    pub trained_on: usize,
    pub calibrated_on: usize,
}

/// A labelled ticket that voted for a prediction.
#[derive(Debug, Clone, Serialize)]
pub struct Neighbour {
    pub id: i64,
    pub label: String,
    pub similarity: f32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Prediction {
    pub label: String,
    pub confidence: f32,
    /// The next most likely labels, with their probabilities.
    pub alternatives: Vec<(String, f32)>,
    /// The nearest labelled tickets, most similar first.
    pub neighbours: Vec<Neighbour>,
}

/// The learner's view of a text: its sentence vector and its hashed features, kept
/// sparse (a ticket sets a hundred or so of the 1,024): a training holds one for every
/// labelled ticket, and dense they were a third of its memory.
struct Seen {
    vector: Vec<f32>,
    lexical: Vec<(u16, f32)>,
}

fn sparse(dense: Vec<f32>) -> Vec<(u16, f32)> {
    dense.into_iter().enumerate().filter(|(_, x)| *x != 0.0).map(|(i, x)| (i as u16, x)).collect()
}

fn see(embedder: &Embedder, texts: &[&str]) -> Result<Vec<Seen>, EmbedError> {
    let mut out = Vec::with_capacity(texts.len());
    for batch in texts.chunks(EMBED_BATCH) {
        for (text, vector) in batch.iter().zip(embedder.embed(batch)?) {
            out.push(Seen { vector, lexical: sparse(lexical(text)) });
        }
    }
    Ok(out)
}

/// `p` raised to `1 / t`, renormalised: a temperature over probabilities.
fn temper(p: &[f32], t: f32) -> Vec<f32> {
    let mut z: Vec<f32> = p.iter().map(|x| x.max(1e-12).ln() / t).collect();
    softmax(&mut z);
    z
}

/// Mean negative log-likelihood of the true labels.
fn log_loss(dists: &[Vec<f32>], truth: &[usize]) -> f64 {
    let sum: f64 = dists.iter().zip(truth).map(|(p, &t)| -f64::from(p[t].max(1e-12)).ln()).sum();
    sum / truth.len().max(1) as f64
}

/// Trains a model on `examples` (the first [`MAX_EXAMPLES`]), deterministically for a
/// given `seed`.
pub fn train(embedder: &Embedder, examples: &[Example<'_>], seed: u64) -> Result<Model, TrainError> {
    let examples = &examples[..examples.len().min(MAX_EXAMPLES)];
    let mut labels: Vec<String> = Vec::new();
    let mut counts: Vec<usize> = Vec::new();
    for e in examples {
        match labels.iter().position(|l| l == e.label) {
            Some(i) => counts[i] += 1,
            None => {
                labels.push(e.label.to_owned());
                counts.push(1);
            }
        }
    }
    // A label seen once cannot be both learnt and checked; it is left out.
    let kept: Vec<String> =
        labels.iter().zip(&counts).filter(|(_, n)| **n >= MIN_PER_LABEL).map(|(l, _)| l.clone()).collect();
    let mut labels = kept;
    labels.sort();
    let usable: Vec<&Example<'_>> = examples.iter().filter(|e| labels.iter().any(|l| l == e.label)).collect();
    if usable.len() < MIN_EXAMPLES || labels.len() < 2 {
        return Err(TrainError::TooLittle { have: usable.len(), need: MIN_EXAMPLES.saturating_sub(usable.len()) });
    }
    let label_of = |l: &str| labels.iter().position(|x| x == l).expect("a kept label");

    // Stratified: each label gives a fifth of its examples (at least one) to calibration.
    let mut rng = StdRng::seed_from_u64(seed);
    let mut fit_idx = Vec::new();
    let mut cal_idx = Vec::new();
    for label in &labels {
        let mut mine: Vec<usize> = (0..usable.len()).filter(|&i| usable[i].label == label).collect();
        mine.shuffle(&mut rng);
        let held = ((mine.len() as f64 * CALIBRATION_SHARE).round() as usize).clamp(1, mine.len() - 1);
        cal_idx.extend_from_slice(&mine[..held]);
        fit_idx.extend_from_slice(&mine[held..]);
    }
    fit_idx.sort_unstable();
    cal_idx.sort_unstable();

    let texts: Vec<&str> = usable.iter().map(|e| e.text).collect();
    let seen = see(embedder, &texts)?;
    let dim = embedder.dimensions() + LEXICAL_DIM;
    let mut x = Array2::<f32>::zeros((fit_idx.len(), dim));
    let dense = embedder.dimensions();
    for (r, &i) in fit_idx.iter().enumerate() {
        for (c, v) in seen[i].vector.iter().enumerate() {
            x[[r, c]] = *v;
        }
        for &(c, v) in &seen[i].lexical {
            x[[r, dense + c as usize]] = v;
        }
    }
    let y: Array1<usize> = fit_idx.iter().map(|&i| label_of(usable[i].label)).collect();
    let fitted = MultiLogisticRegression::default()
        .alpha(ALPHA)
        .max_iterations(ITERATIONS)
        .fit(&Dataset::new(x, y))
        .map_err(|e| TrainError::Fit(e.to_string()))?;
    let k = labels.len();
    // The fitted model's own label order, mapped onto ours.
    let order: Vec<usize> = fitted.classes().to_vec();
    let params = fitted.params();
    let (rows, cols) = params.dim();
    if rows != dim || cols != order.len() {
        return Err(TrainError::Fit(format!("parameters of shape {rows}×{cols}, expected {dim}×{}", order.len())));
    }
    let mut weights = vec![0f32; dim * k];
    let mut intercept = vec![-1e4f32; k];
    for (col, &label) in order.iter().enumerate() {
        for f in 0..dim {
            weights[f * k + label] = params[[f, col]];
        }
        intercept[label] = fitted.intercept()[col];
    }

    let mut model = Model {
        format: FORMAT,
        embedder: embedder.id().to_owned(),
        labels: labels.clone(),
        weights,
        intercept,
        voter_codes: Vec::with_capacity(fit_idx.len() * embedder.dimensions()),
        voter_scales: Vec::with_capacity(fit_idx.len()),
        voter_labels: Vec::with_capacity(fit_idx.len()),
        voter_ids: Vec::with_capacity(fit_idx.len()),
        dim,
        mix: 1.0,
        temperature: 1.0,
        trained_on: fit_idx.len(),
        calibrated_on: cal_idx.len(),
    };
    for &i in &fit_idx {
        let scale = quantise(&seen[i].vector, &mut model.voter_codes);
        model.voter_scales.push(scale);
        model.voter_labels.push(label_of(usable[i].label) as u32);
        model.voter_ids.push(usable[i].id);
    }

    // The mix, then the temperature, that fit the held-back examples best.
    let truth: Vec<usize> =
        cal_idx.iter().map(|&i| model.labels.iter().position(|l| l == usable[i].label).unwrap_or(0)).collect();
    let parts: Vec<(Vec<f32>, Vec<f32>)> =
        cal_idx.iter().map(|&i| (model.linear(&seen[i]), model.vote(&seen[i].vector).0)).collect();
    let mixed = |w: f32| -> Vec<Vec<f32>> {
        parts.iter().map(|(a, b)| a.iter().zip(b).map(|(x, y)| w * x + (1.0 - w) * y).collect()).collect()
    };
    let mut best = (f64::INFINITY, 1.0f32);
    for step in 0..=10 {
        let w = step as f32 / 10.0;
        let loss = log_loss(&mixed(w), &truth);
        if loss < best.0 {
            best = (loss, w);
        }
    }
    model.mix = best.1;
    let dists = mixed(model.mix);
    let loss_at = |t: f32| log_loss(&dists.iter().map(|p| temper(p, t)).collect::<Vec<_>>(), &truth);
    model.temperature = golden_min(loss_at, 0.05, 20.0);
    Ok(model)
}

/// The most common label of `examples` (ties: the first in name order).
pub fn majority<'a>(examples: impl IntoIterator<Item = &'a str>) -> String {
    let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for l in examples {
        *counts.entry(l).or_default() += 1;
    }
    counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(l, _)| (*l).to_owned())
        .unwrap_or_default()
}

/// `model`'s predictions for `test` and their scores. A test label the model never
/// learnt counts as a wrong answer; `majority` is the baseline's constant answer.
pub fn evaluate(
    model: &Model,
    embedder: &Embedder,
    test: &[Example<'_>],
    majority: &str,
) -> Result<(Vec<Prediction>, Evaluation), EmbedError> {
    let texts: Vec<&str> = test.iter().map(|e| e.text).collect();
    let predicted = model.predict(embedder, &texts)?;
    let mut labels = model.labels.clone();
    for e in test {
        if !labels.iter().any(|l| l == e.label) {
            labels.push(e.label.to_owned());
        }
    }
    let index = |l: &str| labels.iter().position(|x| x == l).unwrap_or(0);
    let truth: Vec<usize> = test.iter().map(|e| index(e.label)).collect();
    let answers: Vec<usize> = predicted.iter().map(|p| index(&p.label)).collect();
    let confidence: Vec<f32> = predicted.iter().map(|p| p.confidence).collect();
    let report = metrics::report(&labels, &truth, &answers, &confidence, majority);
    Ok((predicted, Evaluation { trained_on: model.trained_on, calibrated_on: model.calibrated_on, ..report }))
}

/// An organisation's training: a stratified [`TEST_SHARE`] of `examples` is held
/// back, the model learns from the rest, and is scored on what was held back. The
/// model returned is that one — its report describes exactly it.
pub fn train_and_evaluate(
    embedder: &Embedder,
    examples: &[Example<'_>],
    seed: u64,
) -> Result<(Model, Evaluation), TrainError> {
    let examples = &examples[..examples.len().min(MAX_EXAMPLES)];
    let mut by_label: std::collections::BTreeMap<&str, Vec<usize>> = std::collections::BTreeMap::new();
    for (i, e) in examples.iter().enumerate() {
        by_label.entry(e.label).or_default().push(i);
    }
    let usable: usize = by_label.values().filter(|v| v.len() >= MIN_PER_LABEL).map(Vec::len).sum();
    let kinds = by_label.values().filter(|v| v.len() >= MIN_PER_LABEL).count();
    if usable < MIN_HISTORY || kinds < 2 {
        return Err(TrainError::TooLittle { have: usable, need: MIN_HISTORY.saturating_sub(usable).max(1) });
    }
    let mut rng = StdRng::seed_from_u64(seed ^ 0x7e57);
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for idx in by_label.values_mut() {
        idx.shuffle(&mut rng);
        // A label too rare to give one to the test and keep two to learn stays whole.
        let held = if idx.len() < 3 { 0 } else { ((idx.len() as f64 * TEST_SHARE).round() as usize).max(1) };
        test.extend(idx[..held].iter().map(|&i| examples[i]));
        train.extend(idx[held..].iter().map(|&i| examples[i]));
    }
    let model = self::train(embedder, &train, seed)?;
    let majority = majority(train.iter().map(|e| e.label));
    let (_, report) = evaluate(&model, embedder, &test, &majority)?;
    Ok((model, report))
}

/// The minimum of a unimodal `f` on `[lo, hi]` (golden-section search, in log space:
/// a temperature of 0.1 is as far from 1 as 10 is).
fn golden_min(f: impl Fn(f32) -> f64, lo: f32, hi: f32) -> f32 {
    let phi = (5f64.sqrt() - 1.0) / 2.0;
    let (mut a, mut b) = (f64::from(lo).ln(), f64::from(hi).ln());
    let g = |x: f64| f(x.exp() as f32);
    let mut c = b - phi * (b - a);
    let mut d = a + phi * (b - a);
    let (mut fc, mut fd) = (g(c), g(d));
    for _ in 0..40 {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - phi * (b - a);
            fc = g(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + phi * (b - a);
            fd = g(d);
        }
    }
    ((a + b) / 2.0).exp() as f32
}

impl Model {
    /// The stored form (postcard: compact, and read back without a schema).
    pub fn to_bytes(&self) -> Result<Vec<u8>, String> {
        postcard::to_stdvec(self).map_err(|e| format!("the triage model could not be stored: {e}"))
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Model, String> {
        let model: Model = postcard::from_bytes(bytes).map_err(|e| format!("unreadable triage model: {e}"))?;
        if model.format != FORMAT {
            return Err(format!(
                "a triage model of layout {}, this build reads {FORMAT}: train it again",
                model.format
            ));
        }
        Ok(model)
    }

    /// The linear model's probabilities.
    fn linear(&self, s: &Seen) -> Vec<f32> {
        let k = self.labels.len();
        let mut z = self.intercept.clone();
        let dense = s.vector.len();
        let features =
            s.vector.iter().copied().enumerate().chain(s.lexical.iter().map(|&(f, x)| (dense + f as usize, x)));
        for (f, x) in features {
            if x != 0.0 {
                let w = &self.weights[f * k..(f + 1) * k];
                z.iter_mut().zip(w).for_each(|(z, w)| *z += x * w);
            }
        }
        softmax(&mut z);
        z
    }

    /// The voters' probabilities (smoothed), and the nearest voters.
    fn vote(&self, vector: &[f32]) -> (Vec<f32>, Vec<(usize, f32)>) {
        let k = self.labels.len();
        let d = vector.len();
        let mut q = Vec::with_capacity(d);
        let q_scale = quantise(vector, &mut q);
        let mut scored: Vec<(usize, f32)> = self
            .voter_codes
            .chunks_exact(d)
            .zip(&self.voter_scales)
            .enumerate()
            .map(|(i, (codes, s))| (i, dot(codes, &q) as f32 * s * q_scale))
            .collect();
        let n = NEIGHBOURS.min(scored.len());
        let mut p = vec![0.01f32; k];
        if n > 0 {
            scored.select_nth_unstable_by(n - 1, |a, b| b.1.total_cmp(&a.1));
            scored.truncate(n);
            scored.sort_by(|a, b| b.1.total_cmp(&a.1));
            let top = scored[0].1;
            for &(i, sim) in &scored {
                p[self.voter_labels[i] as usize] += ((sim - top) / VOTE_SCALE).exp();
            }
        }
        let sum: f32 = p.iter().sum();
        p.iter_mut().for_each(|x| *x /= sum);
        (p, scored)
    }

    fn distribution(&self, s: &Seen) -> (Vec<f32>, Vec<(usize, f32)>) {
        let linear = self.linear(s);
        let (votes, nearest) = self.vote(&s.vector);
        let mixed: Vec<f32> = linear.iter().zip(&votes).map(|(a, b)| self.mix * a + (1.0 - self.mix) * b).collect();
        (temper(&mixed, self.temperature), nearest)
    }

    /// A prediction for each text. `embedder` must be the one the model was trained
    /// with ([`Model::embedder`]).
    pub fn predict(&self, embedder: &Embedder, texts: &[&str]) -> Result<Vec<Prediction>, EmbedError> {
        if embedder.id() != self.embedder || embedder.dimensions() + LEXICAL_DIM != self.dim {
            return Err(EmbedError::Run(format!(
                "the model was trained with {}, not {}: train it again",
                self.embedder,
                embedder.id()
            )));
        }
        Ok(see(embedder, texts)?
            .iter()
            .map(|s| {
                let (p, nearest) = self.distribution(s);
                let mut ranked: Vec<(usize, f32)> = p.into_iter().enumerate().collect();
                ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
                Prediction {
                    label: self.labels[ranked[0].0].clone(),
                    confidence: ranked[0].1,
                    alternatives: ranked[1..].iter().take(3).map(|(i, p)| (self.labels[*i].clone(), *p)).collect(),
                    neighbours: nearest
                        .iter()
                        .take(3)
                        .map(|&(i, similarity)| Neighbour {
                            id: self.voter_ids[i],
                            label: self.labels[self.voter_labels[i] as usize].clone(),
                            similarity,
                        })
                        .collect(),
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_temperature_above_one_flattens_and_below_one_sharpens() {
        let p = [0.7, 0.2, 0.1];
        assert!(temper(&p, 2.0)[0] < 0.7 && temper(&p, 0.5)[0] > 0.7);
        assert!((temper(&p, 1.0)[0] - 0.7).abs() < 1e-5);
    }

    #[test]
    fn golden_section_finds_the_minimum_of_a_bowl() {
        let t = golden_min(|t| (f64::from(t).ln() - 2f64.ln()).powi(2), 0.05, 20.0);
        assert!((t - 2.0).abs() < 1e-3, "{t}");
    }
}
