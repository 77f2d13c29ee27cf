//! Conditional GETs (RFC 9110): an `ETag` on what a client polls, and 304 when its
//! `If-None-Match` names the current one, so a list that did not change costs a few
//! bytes on the wire instead of the page.

use actix_web::{
    HttpRequest, HttpResponse,
    http::header::{self, EntityTag, Header as _},
};
use serde::Serialize;
use sha2::Digest;

use atum_core::error::Error;

use crate::error::{ApiError, Code};

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
    json_cached(req, body, "private, no-cache")
}

/// [`json`] with the given `Cache-Control` (the portal's public pages may be kept by
/// shared caches for a while).
pub fn json_cached(
    req: &HttpRequest,
    body: &impl Serialize,
    cache_control: &'static str,
) -> Result<HttpResponse, ApiError> {
    let bytes = serde_json::to_vec(body).map_err(ApiError::internal)?;
    let digest = sha2::Sha256::digest(&bytes);
    let etag = EntityTag::new_weak(data_encoding::HEXLOWER.encode(&digest[..12]));
    let unchanged = none_match(req, &etag);
    let mut res = if unchanged { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    res.insert_header(header::ETag(etag)).insert_header((header::CACHE_CONTROL, cache_control));
    Ok(if unchanged { res.finish() } else { res.content_type("application/json").body(bytes) })
}

/// The version in `If-Match` (`"3"`; `W/"3"` too, as the version is the whole
/// representation's identity), or `None` for `*`: RFC 9110 lets a client say
/// "whatever version it is at", which skips the lost-update check on purpose.
pub fn if_match(req: &HttpRequest) -> Result<Option<i32>, ApiError> {
    if !req.headers().contains_key(header::IF_MATCH) {
        return Err(Error::VersionRequired.into());
    }
    let invalid = || {
        ApiError::new(
            actix_web::http::StatusCode::BAD_REQUEST,
            Code::InvalidIfMatch,
            "If-Match must hold the version from the ETag, e.g. \"3\"",
        )
    };
    match <header::IfMatch as header::Header>::parse(req).map_err(|_| invalid())? {
        header::IfMatch::Any => Ok(None),
        header::IfMatch::Items(tags) => match tags.as_slice() {
            [tag] => tag.tag().parse().map(Some).map_err(|_| invalid()),
            _ => Err(invalid()),
        },
    }
}
