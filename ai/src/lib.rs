//! The models ATUM Desk runs on the operator's own CPU, with no outside service.
//! Linked only by the binaries that run a model (the API for query embeddings, the
//! retrieval worker for passages, the job worker for triage, the CLI for `atum ai
//! eval`), so the others stay small.

mod bert;
pub mod embed;
pub mod language;
pub mod local;
pub mod numeric;
pub mod reply;
pub mod sentiment;
pub mod triage;
pub mod vectors;

pub use embed::{EmbedError, Embedder};
pub use local::LocalModels;
