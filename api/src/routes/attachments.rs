//! `/api/v1/attachments`: uploads, streamed into the store with the limit checked as
//! the bytes arrive, and downloads with the asker's rights, ranges and an ETag.
//!
//! An upload is the one request that is not a single transaction from end to end: its
//! body may take minutes, so the limits are read in one short transaction before the
//! first byte, the bytes are staged with no transaction open, and the pending row is
//! written in a second (`attachments::upload`). Nothing becomes visible before that
//! second commit; a failure between leaves bytes the sweep removes.

use actix_web::{HttpRequest, HttpResponse, get, http::header, post, web};
use atum_core::{
    attachments::{self, Found},
    desk,
    ids::AttachmentId,
};
use serde::Deserialize;

use crate::{AppState, auth::Credentials, error::ApiError};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// The file's name as people will see it (no path; 1 to 255 bytes).
    pub name: String,
}

/// Upload a file: the request's body is the file, its `Content-Type` the type you
/// declare (the type is read from the bytes all the same). The upload is pending, yours
/// alone, until a ticket, reply, note or article names it in `attachment_ids`; unused,
/// it is removed after a day. A body past the organisation's largest file is refused
/// with 413 as soon as it passes it (at once when `Content-Length` says so).
#[utoipa::path(operation_id = "upload_attachment", tag = "attachments", security(("bearer" = [])),
    params(UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file's bytes"),
    responses(
        (status = 201, description = "Stored, pending", body = atum_core::attachments::Attachment),
        (status = 400, description = "The upload did not finish (`upload_incomplete`)", body = crate::error::ErrorBody),
        (status = 413, description = "Larger than the largest file (`file_too_large`) or the organisation's storage (`storage_quota_exceeded`); the limit is in the message", body = crate::error::ErrorBody),
        (status = 415, description = "A type customers may not send (`file_type_not_allowed`)", body = crate::error::ErrorBody),
        (status = 422, description = "A bad name, or an empty file", body = crate::error::ErrorBody)))]
#[post("/attachments")]
pub async fn upload(
    state: web::Data<AppState>,
    creds: Credentials,
    req: HttpRequest,
    query: web::Query<UploadQuery>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let length = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let admission = state
        .in_tx(&creds, async |tx, who| Ok(attachments::upload::admit(tx, &who, &query.name, length).await?))
        .await?;
    let staged = state.files.stage(body, admission.limit).await.map_err(|e| admission.stage_failed(e))?;
    let declared = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let attachment = state
        .in_tx(&creds, async |tx, who| {
            Ok(attachments::upload::record(tx, &state.files, &who, &admission, staged, declared.as_deref()).await?)
        })
        .await?;
    Ok(HttpResponse::Created().insert_header((header::LOCATION, attachment.url.clone())).json(attachment))
}

/// A file, with your rights: a customer gets files on their own tickets' public
/// replies and their own uploads; files on internal notes are staff's; another
/// organisation's id is not found. Raster images and PDFs are shown inline, anything
/// else downloads. Answers `Range` (one range) and `If-None-Match` (the ETag is the
/// SHA-256 of the bytes).
#[utoipa::path(operation_id = "download_attachment", tag = "attachments", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Attachment id"), ("name" = String, Path, description = "Any name: the file is saved under its own")),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 206, description = "The range asked for", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 404, description = "Not found (or not yours to see)", body = crate::error::ErrorBody),
        (status = 409, description = "Quarantined: infected (`file_infected`)", body = crate::error::ErrorBody),
        (status = 416, description = "The range is outside the file (`range_not_satisfiable`)", body = crate::error::ErrorBody)))]
#[get("/attachments/{id}/{name}")]
pub async fn download(
    state: web::Data<AppState>,
    creds: Credentials,
    req: HttpRequest,
    path: web::Path<(AttachmentId, String)>,
) -> Result<HttpResponse, ApiError> {
    let id = path.0;
    let found = state.in_tx(&creds, async |tx, who| Ok(desk::attachment(tx, &who, id).await?)).await?;
    serve(&state.files, &req, found).await
}

/// A picture or file of a published public article, for anyone (the help center
/// shows them without a session): the article's body links its files here.
#[utoipa::path(operation_id = "portal_attachment", tag = "portal",
    params(("org" = String, Path, description = "Organisation slug"), ("id" = i64, Path, description = "Attachment id"), ("name" = String, Path, description = "Any name: the file is saved under its own")),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 206, description = "The range asked for", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 404, description = "Not a file of a published public article", body = crate::error::ErrorBody),
        (status = 416, description = "The range is outside the file (`range_not_satisfiable`)", body = crate::error::ErrorBody)))]
#[get("/portal/{org}/attachments/{id}/{name}")]
pub async fn portal_download(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, AttachmentId, String)>,
) -> Result<HttpResponse, ApiError> {
    let (org, id, _) = path.into_inner();
    let mut conn = state.conn().await?;
    let tx = conn.transaction().await?;
    let found = atum_core::kb::portal::attachment(&tx, &org, id).await?;
    tx.commit().await?;
    serve(&state.files, &req, found).await
}

/// The file's details (as on the message that carries it), with the same rights as
/// its download.
#[utoipa::path(operation_id = "get_attachment", tag = "attachments", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Attachment id")),
    responses(
        (status = 200, description = "The file's details", body = atum_core::attachments::Attachment),
        (status = 404, description = "Not found (or not yours to see)", body = crate::error::ErrorBody)))]
#[get("/attachments/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<AttachmentId>,
) -> Result<HttpResponse, ApiError> {
    let found = state.in_tx(&creds, async |tx, who| Ok(desk::attachment(tx, &who, *id).await?)).await?;
    Ok(HttpResponse::Ok().json(found.attachment))
}

/// Types a browser would run script in: sent as plain bytes whatever they are.
const ACTIVE: &[&str] = &["text/html", "image/svg+xml", "application/xml", "text/xml", "application/xhtml+xml"];

async fn serve(store: &atum_core::storage::Store, req: &HttpRequest, found: Found) -> Result<HttpResponse, ApiError> {
    let a = &found.attachment;
    let size = a.size as u64;
    let etag = format!("\"{}\"", a.sha256);
    let mut res = HttpResponse::Ok();
    res.insert_header((header::ETAG, etag.clone()))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CONTENT_SECURITY_POLICY, "sandbox"))
        // The bytes never change, but who may read them can: ask each time (a 304 is cheap).
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::CONTENT_DISPOSITION, disposition(a.inline, &a.name)));
    if header_is(req, header::IF_NONE_MATCH, |v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*")) {
        return Ok(HttpResponse::NotModified().insert_header((header::ETAG, etag)).finish());
    }
    let content_type =
        if ACTIVE.contains(&a.content_type.as_str()) { "application/octet-stream" } else { &a.content_type };
    res.insert_header((header::CONTENT_TYPE, content_type.to_owned()));
    // A range only applies to the bytes the client had (If-Range), and one range at most.
    let range_applies =
        !req.headers().contains_key(header::IF_RANGE) || header_is(req, header::IF_RANGE, |v| v == etag);
    let range = match req.headers().get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(r) if range_applies => match byte_range(r, size) {
            Range::Whole => None,
            Range::Part(from, to) => Some((from, to)),
            Range::Unsatisfiable => {
                use actix_web::ResponseError as _;
                let mut refused = ApiError::new(
                    actix_web::http::StatusCode::RANGE_NOT_SATISFIABLE,
                    crate::error::Code::RangeNotSatisfiable,
                    format!("the range asked for is outside the file's {size} bytes"),
                )
                .error_response();
                if let Ok(whole) = header::HeaderValue::from_str(&format!("bytes */{size}")) {
                    refused.headers_mut().insert(header::CONTENT_RANGE, whole);
                }
                return Ok(refused);
            }
        },
        _ => None,
    };
    let (offset, len) = match range {
        Some((from, to)) => {
            res.status(actix_web::http::StatusCode::PARTIAL_CONTENT)
                .insert_header((header::CONTENT_RANGE, format!("bytes {from}-{to}/{size}")));
            (from, to - from + 1)
        }
        None => (0, size),
    };
    let bytes = store
        .read(found.org_id, &found.sha256, offset, Some(len))
        .await
        .map_err(|e| ApiError::internal(format!("reading attachment {}: {e}", a.id)))?;
    Ok(res.no_chunking(len).streaming(bytes))
}

fn header_is(req: &HttpRequest, name: header::HeaderName, test: impl Fn(&str) -> bool) -> bool {
    req.headers().get(name).and_then(|v| v.to_str().ok()).is_some_and(test)
}

/// `inline` or `attachment`, with the name as RFC 6266 wants it: an ASCII fallback and
/// the exact name as `filename*` (UTF-8, percent-encoded).
fn disposition(inline: bool, name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| if c.is_ascii() && !c.is_ascii_control() && c != '"' && c != '\\' { c } else { '_' })
        .collect();
    let mut exact = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            exact.push(b as char);
        } else {
            exact.push_str(&format!("%{b:02X}"));
        }
    }
    let kind = if inline { "inline" } else { "attachment" };
    format!("{kind}; filename=\"{fallback}\"; filename*=UTF-8''{exact}")
}

#[derive(Debug, PartialEq, Eq)]
enum Range {
    Whole,
    /// First and last byte, inclusive.
    Part(u64, u64),
    Unsatisfiable,
}

/// One byte range of RFC 9110 (`bytes=a-b`, `bytes=a-`, `bytes=-n`); anything else
/// (several ranges, another unit, nonsense) is answered with the whole file, as the
/// RFC allows.
fn byte_range(header: &str, size: u64) -> Range {
    let Some(spec) = header.trim().strip_prefix("bytes=") else { return Range::Whole };
    if spec.contains(',') {
        return Range::Whole;
    }
    let Some((from, to)) = spec.trim().split_once('-') else { return Range::Whole };
    let (from, to) = (from.trim(), to.trim());
    let parse = |s: &str| s.parse::<u64>().ok();
    match (from.is_empty(), to.is_empty()) {
        (true, false) => match parse(to) {
            Some(0) => Range::Unsatisfiable,
            Some(n) if size > 0 => Range::Part(size.saturating_sub(n), size - 1),
            Some(_) => Range::Unsatisfiable,
            None => Range::Whole,
        },
        (false, _) => match (parse(from), if to.is_empty() { Some(u64::MAX) } else { parse(to) }) {
            (Some(a), Some(b)) if a <= b => {
                if a >= size {
                    Range::Unsatisfiable
                } else {
                    Range::Part(a, b.min(size - 1))
                }
            }
            _ => Range::Whole,
        },
        (true, true) => Range::Whole,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_byte_range_is_read_and_anything_else_is_the_whole_file() {
        assert_eq!(byte_range("bytes=0-9", 100), Range::Part(0, 9));
        assert_eq!(byte_range("bytes=90-", 100), Range::Part(90, 99));
        assert_eq!(byte_range("bytes=-10", 100), Range::Part(90, 99));
        assert_eq!(byte_range("bytes=-500", 100), Range::Part(0, 99));
        assert_eq!(byte_range("bytes=50-5000", 100), Range::Part(50, 99));
        assert_eq!(byte_range("bytes=100-", 100), Range::Unsatisfiable);
        assert_eq!(byte_range("bytes=-0", 100), Range::Unsatisfiable);
        assert_eq!(byte_range("bytes=0-1,5-6", 100), Range::Whole);
        assert_eq!(byte_range("bytes=9-3", 100), Range::Whole);
        assert_eq!(byte_range("items=0-1", 100), Range::Whole);
        assert_eq!(byte_range("bytes=x-1", 100), Range::Whole);
    }

    #[test]
    fn the_name_is_sent_exactly_and_with_an_ascii_fallback() {
        assert_eq!(
            disposition(false, "résumé \"v2\".pdf"),
            "attachment; filename=\"r_sum_ _v2_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22v2%22.pdf"
        );
        assert_eq!(disposition(true, "a.png"), "inline; filename=\"a.png\"; filename*=UTF-8''a.png");
    }
}
