//! Admin security routes (`/api/v1/admin/security/*`, unlocking users, their
//! sessions) and the rate limit in front of the authentication routes.

use crate::json::Json;
use actix_web::{
    HttpResponse,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
    web,
};
use actix_web::{delete, get, post, put};
use atum_core::{
    accounts::{self, security::SecuritySettings},
    auth::{
        allowlist::{self, EntryInput},
        audit::{self, Entry, Filter},
    },
};
use serde::{Deserialize, Serialize};

use crate::{
    AppState, client_ip,
    error::{ApiError, ErrorBody},
};

/// The routes under `/api/v1/auth/` that need no session (signing in and the links
/// sent by e-mail); every other route there needs one.
const SESSIONLESS_AUTH_ROUTES: &[&str] = &[
    "/api/v1/auth/login",
    "/api/v1/auth/mfa/verify",
    "/api/v1/auth/password-reset",
    "/api/v1/auth/password-reset/confirm",
    "/api/v1/auth/verify-email",
    "/api/v1/auth/verify-email/resend",
];

/// `/api/v1/portal/{org}` and `/api/v1/portal/{org}/kb/…`: the help center and its
/// public knowledge base, read without a session.
fn is_public_read(path: &str) -> bool {
    path.strip_prefix("/api/v1/portal/").is_some_and(|rest| match rest.split_once('/') {
        None => true,
        Some((_, rest)) => rest.starts_with("kb/") || rest.starts_with("attachments/"),
    })
}

/// Per-address limit on every request under `/api/v1/auth/` and `/api/v1/portal/`
/// (the public knowledge base under its own, more generous limit):
/// 429 with `Retry-After` past the burst. A request to a route that needs a session
/// and carries no credentials at all passes to its handler, which answers 401: that
/// costs less than the limiter and tells the client what is actually wrong.
pub async fn limit_auth_routes(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let path = req.path();
    let needs_session = path.starts_with("/api/v1/auth/") && !SESSIONLESS_AUTH_ROUTES.contains(&path);
    let has_credentials =
        req.headers().contains_key(actix_web::http::header::AUTHORIZATION) || req.cookie(crate::auth::COOKIE).is_some();
    let unauthenticated = needs_session && !has_credentials;
    if (path.starts_with("/api/v1/auth/") || path.starts_with("/api/v1/portal/"))
        && !unauthenticated
        && let Some(state) = req.app_data::<web::Data<AppState>>()
    {
        let ip = client_ip::of(req.request(), &state.security.proxies);
        let key = ip.map_or_else(|| "unknown".to_string(), |ip| ip.to_string());
        let limiter = if is_public_read(path) { &state.security.per_ip_reads } else { &state.security.per_ip };
        limiter.check(&key).map_err(ApiError::rate_limited)?;
    }
    next.call(req).await
}

/// Where a person of your organisation is signed in (admins): their live sessions.
#[utoipa::path(operation_id = "user_sessions", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, description = "Live sessions, most recently used first", body = crate::routes::account::SessionList), (status = 403, description = "Admins only", body = ErrorBody), (status = 404, description = "Not found (or another organisation's)", body = ErrorBody)))]
#[get("/users/{id}/sessions")]
pub async fn user_sessions(
    state: web::Data<AppState>,
    creds: crate::auth::Credentials,
    id: web::Path<atum_core::ids::UserId>,
) -> Result<HttpResponse, ApiError> {
    let items = state
        .in_tx(&creds, async |tx, who| Ok(accounts::sessions::sessions_of(tx, &who, *id, state.sessions).await?))
        .await?;
    Ok(HttpResponse::Ok().json(crate::routes::account::SessionList { items }))
}

/// Sign out one session of a person of your organisation (admins), say a lost device.
#[utoipa::path(operation_id = "revoke_user_session", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id"), ("session_id" = i64, Path, description = "Session id")),
    responses((status = 204, description = "Signed out"), (status = 403, description = "Admins only", body = ErrorBody), (status = 404, description = "No such live session of this person", body = ErrorBody)))]
#[delete("/users/{id}/sessions/{session_id}")]
pub async fn revoke_user_session(
    state: web::Data<AppState>,
    creds: crate::auth::Credentials,
    path: web::Path<(atum_core::ids::UserId, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (user, session) = *path;
    state
        .in_tx(&creds, async |tx, who| {
            Ok(accounts::sessions::revoke_session_of(tx, &who, user, session, creds.ip).await?)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Sign a person of your organisation out everywhere (admins).
#[utoipa::path(operation_id = "revoke_user_sessions", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, description = "How many sessions ended", body = crate::routes::account::Revoked), (status = 403, description = "Admins only", body = ErrorBody), (status = 404, description = "Not found (or another organisation's)", body = ErrorBody)))]
#[post("/users/{id}/sessions/revoke")]
pub async fn revoke_user_sessions(
    state: web::Data<AppState>,
    creds: crate::auth::Credentials,
    id: web::Path<atum_core::ids::UserId>,
) -> Result<HttpResponse, ApiError> {
    let revoked = state
        .in_tx(&creds, async |tx, who| Ok(accounts::sessions::revoke_sessions_of(tx, &who, *id, creds.ip).await?))
        .await?;
    Ok(HttpResponse::Ok().json(crate::routes::account::Revoked { revoked }))
}

/// Lift a user's lockout (admins).
#[utoipa::path(operation_id = "unlock_user", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    responses((status = 204, description = "Unlocked"), (status = 403, description = "Admins only", body = ErrorBody), (status = 404, description = "Not found (or another organisation's)", body = ErrorBody)))]
#[post("/users/{id}/unlock")]
pub async fn unlock_user(
    state: web::Data<AppState>,
    creds: crate::auth::Credentials,
    id: web::Path<atum_core::ids::UserId>,
) -> Result<HttpResponse, ApiError> {
    state.in_tx(&creds, async |tx, who| Ok(accounts::security::unlock(tx, &who, *id, creds.ip).await?)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The org's security settings (admins).
#[utoipa::path(tag = "security", security(("bearer" = [])),
    responses((status = 200, description = "Settings", body = SecuritySettings), (status = 403, description = "Admins only", body = ErrorBody)))]
#[get("/admin/security/settings")]
pub async fn get_settings(
    state: web::Data<AppState>,
    creds: crate::auth::Credentials,
) -> Result<HttpResponse, ApiError> {
    let s = state.in_tx(&creds, async |tx, who| Ok(accounts::security::settings(tx, &who).await?)).await?;
    Ok(HttpResponse::Ok().json(s))
}

/// Change the org's security settings (admins).
#[utoipa::path(tag = "security", security(("bearer" = [])), request_body = SecuritySettings,
    responses((status = 200, description = "Saved", body = SecuritySettings), (status = 403, description = "Admins only", body = ErrorBody), (status = 409, description = "Requiring two-factor authentication before enrolling it yourself (enrol_mfa_first)", body = ErrorBody)))]
#[put("/admin/security/settings")]
pub async fn put_settings(
    state: web::Data<AppState>,
    creds: crate::auth::Credentials,
    body: Json<SecuritySettings>,
) -> Result<HttpResponse, ApiError> {
    let s = state
        .in_tx(&creds, async |tx, who| Ok(accounts::security::set_settings(tx, &who, &body, creds.ip).await?))
        .await?;
    Ok(HttpResponse::Ok().json(s))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Allowlist {
    /// Empty: every address is allowed.
    pub entries: Vec<allowlist::Entry>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllowlistInput {
    /// The whole list (it replaces the current one); empty allows every address.
    #[schema(max_items = 200)]
    pub entries: Vec<EntryInput>,
}

/// The org's IP allowlist (admins).
#[utoipa::path(tag = "security", security(("bearer" = [])),
    responses((status = 200, description = "The list", body = Allowlist), (status = 403, description = "Admins only", body = ErrorBody)))]
#[get("/admin/security/ip-allowlist")]
pub async fn get_allowlist(
    state: web::Data<AppState>,
    creds: crate::auth::Credentials,
) -> Result<HttpResponse, ApiError> {
    let entries = state.in_tx(&creds, async |tx, who| Ok(allowlist::list(tx, &who).await?)).await?;
    Ok(HttpResponse::Ok().json(Allowlist { entries }))
}

/// Replace the org's IP allowlist (admins). Refused if it would exclude your address.
#[utoipa::path(tag = "security", security(("bearer" = [])), request_body = AllowlistInput,
    responses((status = 200, description = "Saved", body = Allowlist), (status = 403, description = "Admins only", body = ErrorBody), (status = 409, description = "The list would exclude your own address", body = ErrorBody), (status = 422, description = "Invalid entries", body = ErrorBody)))]
#[put("/admin/security/ip-allowlist")]
pub async fn put_allowlist(
    state: web::Data<AppState>,
    creds: crate::auth::Credentials,
    body: Json<AllowlistInput>,
) -> Result<HttpResponse, ApiError> {
    let entries =
        state.in_tx(&creds, async |tx, who| Ok(allowlist::replace(tx, &who, &body.entries, creds.ip).await?)).await?;
    Ok(HttpResponse::Ok().json(Allowlist { entries }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    pub items: Vec<Entry>,
}

/// The org's security audit log, newest first (admins).
#[utoipa::path(tag = "security", security(("bearer" = [])), params(Filter),
    responses((status = 200, description = "Entries", body = AuditPage), (status = 403, description = "Admins only", body = ErrorBody), (status = 422, description = "Invalid filter", body = ErrorBody)))]
#[get("/admin/security/audit")]
pub async fn audit_log(
    state: web::Data<AppState>,
    creds: crate::auth::Credentials,
    filter: web::Query<Filter>,
) -> Result<HttpResponse, ApiError> {
    let items = state.in_tx(&creds, async |tx, who| Ok(audit::list(tx, &who, &filter).await?)).await?;
    Ok(HttpResponse::Ok().json(AuditPage { items }))
}

#[cfg(test)]
mod tests {
    use super::is_public_read;

    #[test]
    fn the_help_center_and_its_articles_are_public_reads_and_sign_up_is_not() {
        assert!(is_public_read("/api/v1/portal/acme"));
        assert!(is_public_read("/api/v1/portal/acme/kb/search"));
        assert!(!is_public_read("/api/v1/portal/acme/signup"));
        assert!(!is_public_read("/api/v1/auth/login"));
    }
}
