//! What a draft quotes, and how a quote stays pinned to the text it was taken from: a
//! citation names its passage and carries the hash of the passage's text then, so a
//! reader can tell when the source has changed since.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::retrieve::hex;

/// One quoted span of a draft and where it comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Citation {
    /// Byte offsets of the quote in the draft's `body` (of the sentence, in a draft a
    /// model worded).
    pub start: usize,
    pub end: usize,
    /// `article` or `ticket`, and its id.
    pub source: String,
    pub source_id: i64,
    pub chunk_id: i64,
    /// The passage's title (the article's, with its section; the ticket's subject).
    pub title: String,
    /// Byte offsets of the quote in the passage's text (of the quotes the model was
    /// given from it, in a worded draft).
    pub quote_start: usize,
    pub quote_end: usize,
    /// SHA-256 (hex) of the passage's text when it was quoted.
    pub content_hash: String,
}

/// SHA-256 (hex) of a passage's text, as a citation pins it.
pub fn content_hash(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}
