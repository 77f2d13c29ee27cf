//! A BERT encoder for sentence embeddings, written for this one job: many short texts
//! on a small CPU.
//!
//! The texts of a call are packed end to end, without padding: every layer but
//! attention works on one token at a time, so the whole call is one matrix of tokens
//! and each dense layer is one large matrix product (the `gemm` crate's kernels, on
//! all cores when the matrix is big enough). Attention alone looks at one text at a
//! time, so no text attends to another's tokens and no mask is needed. The rest (bias,
//! residual, layer norm, GELU, softmax) is fused into single passes over each row.
//!
//! A general tensor library spent more time in those small element-wise steps (one
//! pass and one allocation per operation, on one thread) and on padding than in the
//! matrix products; `atum-bench retrieval` measures the difference.
//!
//! The weights stay in the memory-mapped safetensors file and are read in place.

use std::ops::Range;
use std::path::Path;

use gemm::Parallelism;
use memmap2::Mmap;
use rayon::prelude::*;
use safetensors::{Dtype, SafeTensors};

use crate::numeric::softmax;

/// Rows from which a matrix product is worth splitting across threads (measured:
/// below this the threads cost more than they save).
const PARALLEL_ROWS: usize = 128;
/// Row-wise steps go parallel from this many values.
const PARALLEL_VALUES: usize = 64 * 1024;

/// What a model's `config.json` must say for this encoder to run it.
#[derive(Debug, serde::Deserialize)]
pub struct Config {
    pub hidden_size: usize,
    pub num_attention_heads: usize,
    pub num_hidden_layers: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    #[serde(default = "default_act")]
    pub hidden_act: String,
    #[serde(default = "default_position")]
    pub position_embedding_type: String,
}

fn default_eps() -> f64 {
    1e-12
}
fn default_act() -> String {
    "gelu".into()
}
fn default_position() -> String {
    "absolute".into()
}

/// Where a tensor lies in the mapped file, in `f32`s from the start of the map.
#[derive(Clone, Debug)]
struct Span(Range<usize>);

struct Linear {
    weight: Span, // [out, in], as PyTorch stores it
    bias: Span,
    inputs: usize,
    outputs: usize,
}

struct Norm {
    weight: Span,
    bias: Span,
}

struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attention_out: Linear,
    attention_norm: Norm,
    up: Linear,
    down: Linear,
    output_norm: Norm,
}

pub struct Bert {
    map: Mmap,
    hidden: usize,
    heads: usize,
    eps: f32,
    max_positions: usize,
    vocabulary: usize,
    words: Span,
    positions: Span,
    token_type: Span,
    embedding_norm: Norm,
    layers: Vec<Layer>,
}

impl Bert {
    /// Reads the tensors' places from `weights` (a safetensors file, f32) and checks
    /// every shape against `config`. The error says what did not fit.
    pub fn load(weights: &Path, config: &Config) -> Result<Bert, String> {
        if config.hidden_act != "gelu" {
            return Err(format!("hidden_act {:?} is not supported (only \"gelu\")", config.hidden_act));
        }
        if config.position_embedding_type != "absolute" {
            return Err(format!(
                "position_embedding_type {:?} is not supported (only \"absolute\")",
                config.position_embedding_type
            ));
        }
        if config.num_attention_heads == 0 || !config.hidden_size.is_multiple_of(config.num_attention_heads) {
            return Err("hidden_size is not a multiple of num_attention_heads".into());
        }
        let file = std::fs::File::open(weights).map_err(|e| e.to_string())?;
        // Mapping a file is unsafe because the file could change under the map.
        // `atum models fetch` never rewrites a model file in place (it writes a new
        // file and renames it over the old one), so a mapped file keeps its contents;
        // the sharing of its pages between processes is the point.
        #[allow(unsafe_code)]
        // SAFETY: see above; the map is read-only and the file is replaced, not changed.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| e.to_string())?;
        let tensors = SafeTensors::deserialize(&map).map_err(|e| e.to_string())?;
        let base = map.as_ptr() as usize;
        // Checkpoints exported from a BertForX model prefix every name with "bert.".
        let prefix = if tensors.names().iter().any(|n| n.starts_with("bert.embeddings.")) { "bert." } else { "" };
        let span = |name: &str, shape: &[usize]| -> Result<Span, String> {
            let full = format!("{prefix}{name}");
            let view = tensors.tensor(&full).map_err(|_| format!("tensor {full} is missing"))?;
            if view.dtype() != Dtype::F32 {
                return Err(format!("tensor {full} is {:?}; only F32 weights are supported", view.dtype()));
            }
            if view.shape() != shape {
                return Err(format!("tensor {full} has shape {:?}, the config implies {shape:?}", view.shape()));
            }
            let start = view.data().as_ptr() as usize - base;
            if !start.is_multiple_of(4) {
                return Err(format!("tensor {full} is not aligned to 4 bytes in the file"));
            }
            Ok(Span(start / 4..start / 4 + view.data().len() / 4))
        };
        // Older checkpoints name a layer norm's parameters gamma and beta.
        let norm = |name: &str, size: usize| -> Result<Norm, String> {
            let weight =
                span(&format!("{name}.weight"), &[size]).or_else(|_| span(&format!("{name}.gamma"), &[size]))?;
            let bias = span(&format!("{name}.bias"), &[size]).or_else(|_| span(&format!("{name}.beta"), &[size]))?;
            Ok(Norm { weight, bias })
        };
        let linear = |name: &str, inputs: usize, outputs: usize| -> Result<Linear, String> {
            Ok(Linear {
                weight: span(&format!("{name}.weight"), &[outputs, inputs])?,
                bias: span(&format!("{name}.bias"), &[outputs])?,
                inputs,
                outputs,
            })
        };
        let h = config.hidden_size;
        let vocabulary = tensors
            .tensor(&format!("{prefix}embeddings.word_embeddings.weight"))
            .map_err(|_| "tensor embeddings.word_embeddings.weight is missing".to_string())?
            .shape()
            .first()
            .copied()
            .unwrap_or(0);
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for i in 0..config.num_hidden_layers {
            let l = format!("encoder.layer.{i}");
            layers.push(Layer {
                query: linear(&format!("{l}.attention.self.query"), h, h)?,
                key: linear(&format!("{l}.attention.self.key"), h, h)?,
                value: linear(&format!("{l}.attention.self.value"), h, h)?,
                attention_out: linear(&format!("{l}.attention.output.dense"), h, h)?,
                attention_norm: norm(&format!("{l}.attention.output.LayerNorm"), h)?,
                up: linear(&format!("{l}.intermediate.dense"), h, config.intermediate_size)?,
                down: linear(&format!("{l}.output.dense"), config.intermediate_size, h)?,
                output_norm: norm(&format!("{l}.output.LayerNorm"), h)?,
            });
        }
        let words = span("embeddings.word_embeddings.weight", &[vocabulary, h])?;
        let positions = span("embeddings.position_embeddings.weight", &[config.max_position_embeddings, h])?;
        let token_type = span("embeddings.token_type_embeddings.weight", &[2, h])
            .or_else(|_| span("embeddings.token_type_embeddings.weight", &[1, h]))?;
        let embedding_norm = norm("embeddings.LayerNorm", h)?;
        Ok(Bert {
            map,
            hidden: h,
            heads: config.num_attention_heads,
            eps: config.layer_norm_eps as f32,
            max_positions: config.max_position_embeddings,
            vocabulary,
            words,
            positions,
            token_type,
            embedding_norm,
            layers,
        })
    }

    fn f32s(&self, span: &Span) -> &[f32] {
        floats(&self.map, span)
    }

    /// The last layer's token vectors of each text, packed: `[Σ len, hidden]`, the
    /// tokens of `texts[0]` first. Each text is a sequence of word-piece ids no longer
    /// than [`Bert::max_positions`].
    pub fn forward(&self, texts: &[&[u32]]) -> Vec<f32> {
        let h = self.hidden;
        let mut bounds = Vec::with_capacity(texts.len());
        let mut tokens = 0;
        for t in texts {
            assert!(t.len() <= self.max_positions, "a text is longer than the model's positions");
            bounds.push(tokens..tokens + t.len());
            tokens += t.len();
        }
        let mut x = vec![0f32; tokens * h];
        self.embed_tokens(texts, &mut x);
        let mut q = vec![0f32; tokens * h];
        let mut k = vec![0f32; tokens * h];
        let mut v = vec![0f32; tokens * h];
        let mut context = vec![0f32; tokens * h];
        let mut inner = Vec::new();
        for layer in &self.layers {
            self.linear(&x, tokens, &layer.query, None, &mut q);
            self.linear(&x, tokens, &layer.key, None, &mut k);
            self.linear(&x, tokens, &layer.value, None, &mut v);
            self.attention(&bounds, &q, &k, &v, &mut context);
            // x = norm(x + context·Wᵀ + b)
            self.linear(&context, tokens, &layer.attention_out, Some(&x), &mut q);
            std::mem::swap(&mut x, &mut q);
            self.layer_norm(&mut x, &layer.attention_norm);
            // x = norm(x + gelu(x·Wupᵀ + b)·Wdownᵀ + b)
            inner.resize(tokens * layer.up.outputs, 0.0);
            self.linear(&x, tokens, &layer.up, None, &mut inner);
            rows_mut(&mut inner, layer.up.outputs, |row| row.iter_mut().for_each(|z| *z = gelu(*z)));
            self.linear(&inner, tokens, &layer.down, Some(&x), &mut q);
            std::mem::swap(&mut x, &mut q);
            self.layer_norm(&mut x, &layer.output_norm);
        }
        x
    }

    /// Word + position + token type (all zero: one segment), then the layer norm.
    fn embed_tokens(&self, texts: &[&[u32]], x: &mut [f32]) {
        let h = self.hidden;
        let (words, positions, token_type) =
            (self.f32s(&self.words), self.f32s(&self.positions), self.f32s(&self.token_type));
        let mut row = 0;
        for t in texts {
            for (p, &id) in t.iter().enumerate() {
                // An id beyond the vocabulary (a tokenizer that does not match the
                // weights) reads [PAD]'s row rather than out of bounds.
                let id = if (id as usize) < self.vocabulary { id as usize } else { 0 };
                let out = &mut x[row * h..(row + 1) * h];
                let (w, pos, ty) = (&words[id * h..(id + 1) * h], &positions[p * h..(p + 1) * h], &token_type[..h]);
                for i in 0..h {
                    out[i] = w[i] + pos[i] + ty[i];
                }
                row += 1;
            }
        }
        self.layer_norm(x, &self.embedding_norm);
    }

    /// `out = x·Wᵀ + b (+ residual)`, with `x` of `rows` rows.
    fn linear(&self, x: &[f32], rows: usize, l: &Linear, residual: Option<&[f32]>, out: &mut [f32]) {
        let bias = self.f32s(&l.bias);
        let out = &mut out[..rows * l.outputs];
        match residual {
            Some(r) => rows_mut_with(out, l.outputs, r, |row, r| {
                row.iter_mut().zip(r).zip(bias).for_each(|((o, r), b)| *o = r + b)
            }),
            None => rows_mut(out, l.outputs, |row| row.copy_from_slice(bias)),
        }
        let weight = self.f32s(&l.weight);
        matmul(
            Out { data: out, rows, cols: l.outputs, row_stride: l.outputs, col_stride: 1 },
            In { data: &x[..rows * l.inputs], rows, cols: l.inputs, row_stride: l.inputs, col_stride: 1 },
            // Wᵀ read in place: element (i, o) of Wᵀ is W[o][i]. (A copy laid out as
            // Wᵀ would make one question's products 6% faster, for 42 MB more in each
            // process: a question's time goes mostly to reading the weights.)
            In { data: weight, rows: l.inputs, cols: l.outputs, row_stride: 1, col_stride: l.inputs },
            1.0,
            true,
            if rows >= PARALLEL_ROWS { Parallelism::Rayon(0) } else { Parallelism::None },
        );
    }

    /// Scaled dot-product attention of each text over its own tokens, head by head,
    /// texts in parallel.
    fn attention(&self, bounds: &[Range<usize>], q: &[f32], k: &[f32], v: &[f32], context: &mut [f32]) {
        let h = self.hidden;
        let d = h / self.heads;
        let scale = 1.0 / (d as f32).sqrt();
        let mut parts = Vec::with_capacity(bounds.len());
        let mut rest = context;
        for b in bounds {
            let (part, tail) = rest.split_at_mut(b.len() * h);
            parts.push((b.clone(), part));
            rest = tail;
        }
        let one = |(b, out): (Range<usize>, &mut [f32])| {
            let n = b.len();
            let (q, k, v) = (&q[b.start * h..b.end * h], &k[b.start * h..b.end * h], &v[b.start * h..b.end * h]);
            let mut scores = vec![0f32; n * n];
            for head in 0..self.heads {
                let c = head * d;
                matmul(
                    Out { data: &mut scores, rows: n, cols: n, row_stride: n, col_stride: 1 },
                    In { data: &q[c..], rows: n, cols: d, row_stride: h, col_stride: 1 },
                    // Kᵀ of this head: element (j, t) is K[t][c + j].
                    In { data: &k[c..], rows: d, cols: n, row_stride: 1, col_stride: h },
                    scale,
                    false,
                    Parallelism::None,
                );
                scores.chunks_mut(n).for_each(softmax);
                matmul(
                    Out { data: &mut out[c..], rows: n, cols: d, row_stride: h, col_stride: 1 },
                    In { data: &scores, rows: n, cols: n, row_stride: n, col_stride: 1 },
                    In { data: &v[c..], rows: n, cols: d, row_stride: h, col_stride: 1 },
                    1.0,
                    false,
                    Parallelism::None,
                );
            }
        };
        if parts.len() > 1 {
            parts.into_par_iter().for_each(one);
        } else {
            parts.into_iter().for_each(one);
        }
    }

    fn layer_norm(&self, x: &mut [f32], norm: &Norm) {
        let (weight, bias, eps) = (self.f32s(&norm.weight), self.f32s(&norm.bias), self.eps);
        rows_mut(x, self.hidden, |row| {
            let n = row.len() as f32;
            let mean = row.iter().sum::<f32>() / n;
            let var = row.iter().map(|z| (z - mean) * (z - mean)).sum::<f32>() / n;
            let inv = 1.0 / (var + eps).sqrt();
            row.iter_mut().zip(weight).zip(bias).for_each(|((z, w), b)| *z = (*z - mean) * inv * w + b);
        });
    }
}

/// A tensor of the mapped file. Alignment and bounds were checked at load; the map
/// itself is page-aligned.
fn floats<'a>(map: &'a [u8], span: &Span) -> &'a [f32] {
    let whole = map.len() / 4 * 4;
    &bytemuck::cast_slice::<u8, f32>(&map[..whole])[span.0.clone()]
}

/// Applies `f` to each row of `data`, rows in parallel when there are many values.
fn rows_mut(data: &mut [f32], width: usize, f: impl Fn(&mut [f32]) + Sync + Send) {
    if data.len() >= PARALLEL_VALUES {
        data.par_chunks_mut(width).for_each(f);
    } else {
        data.chunks_mut(width).for_each(f);
    }
}

/// [`rows_mut`] with the matching row of `other` alongside.
fn rows_mut_with(data: &mut [f32], width: usize, other: &[f32], f: impl Fn(&mut [f32], &[f32]) + Sync + Send) {
    if data.len() >= PARALLEL_VALUES {
        data.par_chunks_mut(width).zip(other.par_chunks(width)).for_each(|(a, b)| f(a, b));
    } else {
        data.chunks_mut(width).zip(other.chunks(width)).for_each(|(a, b)| f(a, b));
    }
}

/// GELU as BERT defines it, with the exact error function: x·Φ(x).
fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// The error function to within 1.5e-7 (Abramowitz and Stegun 7.1.26), well under
/// f32's resolution of GELU's output.
fn erf(x: f32) -> f32 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let poly = t * (0.254_829_6 + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152_1 + t * 1.061_405_4))));
    let y = 1.0 - poly * (-x * x).exp();
    y.copysign(x)
}

/// A matrix read in place from a slice: element (i, j) is `data[i·row_stride + j·col_stride]`.
struct In<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

/// A matrix written in place into a slice, laid out as [`In`].
struct Out<'a> {
    data: &'a mut [f32],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

fn reaches(len: usize, rows: usize, cols: usize, row_stride: usize, col_stride: usize) -> bool {
    rows == 0 || cols == 0 || (rows - 1) * row_stride + (cols - 1) * col_stride < len
}

/// `out = scale·(a·b)`, or `out += scale·(a·b)` when `accumulate`.
fn matmul(out: Out<'_>, a: In<'_>, b: In<'_>, scale: f32, accumulate: bool, parallelism: Parallelism) {
    assert!(a.rows == out.rows && b.cols == out.cols && a.cols == b.rows, "matrix shapes do not agree");
    assert!(reaches(out.data.len(), out.rows, out.cols, out.row_stride, out.col_stride), "output out of bounds");
    assert!(reaches(a.data.len(), a.rows, a.cols, a.row_stride, a.col_stride), "left matrix out of bounds");
    assert!(reaches(b.data.len(), b.rows, b.cols, b.row_stride, b.col_stride), "right matrix out of bounds");
    if out.rows == 0 || out.cols == 0 {
        return;
    }
    let s = |x: usize| x as isize;
    #[allow(unsafe_code)]
    // SAFETY: the asserts above prove every element the product reads or writes lies
    // inside its slice; `out` is borrowed mutably, so it overlaps neither input.
    unsafe {
        gemm::gemm(
            out.rows,
            out.cols,
            a.cols,
            out.data.as_mut_ptr(),
            s(out.col_stride),
            s(out.row_stride),
            accumulate,
            a.data.as_ptr(),
            s(a.col_stride),
            s(a.row_stride),
            b.data.as_ptr(),
            s(b.col_stride),
            s(b.row_stride),
            if accumulate { 1.0 } else { 0.0 },
            scale,
            false,
            false,
            false,
            parallelism,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
        (0..m * n).map(|ij| (0..k).map(|p| a[ij / n * k + p] * b[p * n + ij % n]).sum()).collect()
    }

    #[test]
    fn a_strided_product_matches_the_textbook_one() {
        let (m, k, n) = (5, 7, 3);
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.11).cos()).collect();
        // bᵀ stored row-major, read back as b through its strides.
        let bt: Vec<f32> = (0..n * k).map(|i| b[i % k * n + i / k]).collect();
        let mut out = vec![1.0; m * n];
        matmul(
            Out { data: &mut out, rows: m, cols: n, row_stride: n, col_stride: 1 },
            In { data: &a, rows: m, cols: k, row_stride: k, col_stride: 1 },
            In { data: &bt, rows: k, cols: n, row_stride: 1, col_stride: k },
            2.0,
            true,
            Parallelism::None,
        );
        for (o, e) in out.iter().zip(naive(&a, &b, m, k, n)) {
            assert!((o - (1.0 + 2.0 * e)).abs() < 1e-5, "{o} vs {}", 1.0 + 2.0 * e);
        }
    }

    #[test]
    #[should_panic(expected = "out of bounds")]
    fn a_product_that_would_read_past_its_slice_is_refused() {
        let a = vec![0.0; 6];
        let mut out = vec![0.0; 4];
        matmul(
            Out { data: &mut out, rows: 2, cols: 2, row_stride: 2, col_stride: 1 },
            In { data: &a, rows: 2, cols: 4, row_stride: 4, col_stride: 1 },
            In { data: &a, rows: 4, cols: 2, row_stride: 2, col_stride: 1 },
            1.0,
            false,
            Parallelism::None,
        );
    }

    #[test]
    fn erf_is_within_its_stated_error_of_known_values() {
        for (x, e) in [(0.0, 0.0), (0.5, 0.520_499_9), (1.0, 0.842_700_8), (-2.0, -0.995_322_3), (3.5, 0.999_999_3)] {
            assert!((erf(x) - e).abs() < 3e-7, "erf({x}) = {} not {e}", erf(x));
        }
    }
}
