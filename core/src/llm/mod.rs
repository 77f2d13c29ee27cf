//! The optional language model: an endpoint an admin configures per organisation
//! (Ollama's `/api/chat` or any OpenAI-compatible `/v1/chat/completions`), the
//! features that use it, and every request made to it, kept for audit.
//!
//! Nothing here trusts the model. A feature asks for JSON against a schema, checks
//! what comes back in code, and falls back to its offline result when the answer is
//! late, malformed or not backed by the sources it cites. Customer-written text only
//! ever reaches the model as marked data, apart from the instructions ([`prompt`]).
//!
//! - [`endpoint`]: the configuration (the API key sealed with the secret key file);
//! - [`client`]: the HTTP call (`ureq`), with its timeout and retries;
//! - [`prompt`]: instructions and data kept apart, with per-request markers;
//! - [`log`]: the request log.

pub mod client;
pub mod endpoint;
pub mod log;
pub mod probe;
pub mod prompt;
mod tls;

pub use client::{Exchange, Outcome, Request};
pub use endpoint::{Endpoint, EndpointChange, EndpointView, Feature, Provider};
