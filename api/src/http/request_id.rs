//! Every request runs inside a tracing span that names it: `request.id` (the client's
//! or the proxy's `X-Request-Id` when it is a plain token, otherwise a new one),
//! `http.route` (the route template, never the raw path with its ids), and — once the
//! session is checked — `org.id` and `user.id`. Whatever a
//! handler logs — a database error, say — carries both, and the response returns the
//! id in `X-Request-Id` so a user's report can be matched to the log line.

use actix_web::{
    Error,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::{HeaderName, HeaderValue},
    middleware::Next,
};
use tracing::Instrument;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

pub async fn span(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req
        .headers()
        .get(&HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_token(v))
        .map_or_else(new_id, str::to_owned);
    let route = crate::route_template(req.path()).unwrap_or("unmatched");
    // The organisation and user are filled in once the session is checked (`AppState::in_tx`).
    let span = tracing::info_span!(
        "request",
        request.id = %id,
        http.route = route,
        http.method = %req.method(),
        org.id = tracing::field::Empty,
        user.id = tracing::field::Empty,
    );
    let mut res = next.call(req).instrument(span).await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(HEADER, value);
    }
    Ok(res)
}

/// 1 to 64 letters, digits, `-` or `_`: what proxies generate, and nothing that could
/// forge a log line.
fn is_token(v: &str) -> bool {
    (1..=64).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// 96 random bits in hex: unique enough to find one request in a day's logs.
fn new_id() -> String {
    let mut id = atum_core::auth::session::new_token();
    id.truncate(24);
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_tokens_are_taken_from_the_client() {
        assert!(is_token("3f2a9c0e-77b1-4c1e-9d2a-5b6f0a1c2d3e"));
        for bad in ["", "a b", "id\nlevel=ERROR forged", &"x".repeat(65)] {
            assert!(!is_token(bad), "{bad:?}");
        }
        assert_eq!(new_id().len(), 24);
    }
}
