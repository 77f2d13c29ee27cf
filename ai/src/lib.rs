//! The models ATUM Desk runs on the operator's own CPU, with no outside service.
//! Linked only by the binaries that run a model (the API for query embeddings, the
//! retrieval worker for passages, the CLI for `atum ai eval`), so the others stay
//! small.

mod bert;
pub mod embed;
pub mod numeric;
pub mod triage;

pub use embed::{EmbedError, Embedder};
