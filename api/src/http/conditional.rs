//! Conditional GETs (RFC 9110): an `ETag` on what a client polls, and 304 when its
//! `If-None-Match` names the current one, so a list that did not change costs a few
//! bytes on the wire instead of the page.

use actix_web::{
    HttpRequest, HttpResponse,
    http::header::{self, EntityTag, Header as _},
};
use serde::Serialize;
use sha2::Digest;

use crate::error::ApiError;

/// Whether an `If-None-Match` header names `etag` (or is `*`), by the weak comparison
/// RFC 9110 prescribes for it. A header that does not parse matches nothing.
pub fn none_match(req: &HttpRequest, etag: &EntityTag) -> bool {
    match header::IfNoneMatch::parse(req) {
        Ok(header::IfNoneMatch::Any) => true,
        Ok(header::IfNoneMatch::Items(tags)) => tags.iter().any(|tag| tag.weak_eq(etag)),
        Err(_) => false,
    }
}

/// `body` as JSON with a weak ETag of its bytes, or 304 when the client has it.
pub fn json(req: &HttpRequest, body: &impl Serialize) -> Result<HttpResponse, ApiError> {
    let bytes = serde_json::to_vec(body).map_err(ApiError::internal)?;
    let digest = sha2::Sha256::digest(&bytes);
    let etag = EntityTag::new_weak(data_encoding::HEXLOWER.encode(&digest[..12]));
    let unchanged = none_match(req, &etag);
    let mut res = if unchanged { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    res.insert_header(header::ETag(etag)).insert_header((header::CACHE_CONTROL, "private, no-cache"));
    Ok(if unchanged { res.finish() } else { res.content_type("application/json").body(bytes) })
}
