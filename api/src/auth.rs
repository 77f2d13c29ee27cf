//! Sign-in, sign-out, `/me`, and the credentials every other route needs.
//!
//! A session token is accepted as `Authorization: Bearer …` (API clients) or as the
//! `atum_session` cookie (the browser: HttpOnly, Secure, SameSite=Strict). A request
//! that changes state and authenticates by cookie must also carry an `Origin` (or
//! `Referer`) naming this host — a second CSRF defence behind SameSite.

use std::future::{Ready, ready};

use actix_web::{
    FromRequest, HttpRequest, HttpResponse,
    cookie::{Cookie, SameSite, time::Duration as CookieDuration},
    dev::Payload,
    http::{Method, StatusCode, header},
    web,
};
use atum_core::db::GenericClient;
use atum_core::{
    auth::{Principal, login, session},
    error::Error,
    users,
};
use serde::Deserialize;

use crate::{AppState, error::ApiError};

pub const COOKIE: &str = "atum_session";

/// The token a request presented, not yet checked against the database.
pub struct Credentials {
    token: String,
}

impl FromRequest for Credentials {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(credentials(req))
    }
}

fn credentials(req: &HttpRequest) -> Result<Credentials, ApiError> {
    if let Some(value) = req.headers().get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .ok_or_else(|| ApiError::from(Error::Unauthenticated))?;
        return Ok(Credentials { token: token.to_owned() });
    }
    let cookie = req.cookie(COOKIE).ok_or_else(|| ApiError::from(Error::Unauthenticated))?;
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) && !same_origin(req) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf_failed",
            "a cookie-authenticated change must come from this site (Origin or Referer header)",
        ));
    }
    Ok(Credentials { token: cookie.value().to_owned() })
}

/// Whether Origin (or, failing that, Referer) names the host this request was sent to.
fn same_origin(req: &HttpRequest) -> bool {
    let host = req.connection_info().host().to_owned();
    let source = req.headers().get(header::ORIGIN).or_else(|| req.headers().get(header::REFERER));
    let Some(source) = source.and_then(|v| v.to_str().ok()) else { return false };
    let authority = source.split_once("://").map(|(_, rest)| rest).unwrap_or("");
    let authority = authority.split('/').next().unwrap_or("");
    !authority.is_empty() && authority.eq_ignore_ascii_case(&host)
}

impl Credentials {
    /// The principal, checked inside the request's transaction.
    pub async fn principal(&self, db: &impl GenericClient, state: &AppState) -> Result<Principal, ApiError> {
        Ok(session::authenticate(db, state.sessions, &self.token).await?)
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    email: String,
    password: String,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    /// The bearer token (also set as the `atum_session` cookie). Shown once.
    pub token: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    pub user: users::User,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct MeResponse {
    pub user: users::User,
    pub org_id: i64,
}

/// Sign in with email and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, description = "Signed in; also sets the session cookie", body = LoginResponse), (status = 400, description = "Malformed body or query", body = crate::error::ErrorBody), (status = 401, description = "No valid session", body = crate::error::ErrorBody), (status = 413, description = "Body too large", body = crate::error::ErrorBody), (status = 415, description = "Body is not JSON", body = crate::error::ErrorBody), (status = 503, description = "Database unavailable", body = crate::error::ErrorBody)))]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn().await?;
    let tx = conn.transaction().await?;
    let account = login::find_account(&tx, &body.email).await?;
    let (candidate, password) = (account.clone(), body.into_inner().password);
    // argon2 takes tens of milliseconds: keep it off the async workers.
    let ok =
        web::block(move || login::check_password(candidate.as_ref(), &password)).await.map_err(ApiError::internal)?;
    let account = match account {
        Some(a) if ok => a,
        _ => return Err(Error::InvalidCredentials.into()),
    };
    let ip = req.peer_addr().map(|a| a.ip());
    let agent = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok());
    let issued = session::issue(&tx, state.sessions, account.user_id, account.org_id, account.role, ip, agent).await?;
    login::record_login(&tx, account.user_id).await?;
    let user = users::get(&tx, &issued.principal, account.user_id).await?;
    tx.commit().await?;

    let cookie = Cookie::build(COOKIE, issued.token.clone())
        .path("/")
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Strict)
        .max_age(CookieDuration::seconds(state.sessions.max_age.as_secs() as i64))
        .finish();
    Ok(HttpResponse::Ok().cookie(cookie).json(LoginResponse {
        token: issued.token,
        expires_at: issued.expires_at,
        user,
    }))
}

/// End the current session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "Signed out; the cookie is cleared"), (status = 401, description = "No valid session", body = crate::error::ErrorBody), (status = 403, description = "Not allowed for this role (or CSRF check failed)", body = crate::error::ErrorBody), (status = 503, description = "Database unavailable", body = crate::error::ErrorBody)))]
pub async fn logout(state: web::Data<AppState>, creds: Credentials) -> Result<HttpResponse, ApiError> {
    state.in_tx(&creds, async |tx, who| Ok(session::revoke(tx, who.session_id).await?)).await?;
    let mut gone =
        Cookie::build(COOKIE, "").path("/").http_only(true).secure(true).same_site(SameSite::Strict).finish();
    gone.make_removal();
    Ok(HttpResponse::NoContent().cookie(gone).finish())
}

/// Who you are.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, description = "The signed-in user", body = MeResponse), (status = 401, description = "No valid session", body = crate::error::ErrorBody), (status = 503, description = "Database unavailable", body = crate::error::ErrorBody)))]
pub async fn me(state: web::Data<AppState>, creds: Credentials) -> Result<HttpResponse, ApiError> {
    let me = state
        .in_tx(&creds, async |tx, who| {
            Ok(MeResponse { user: users::get(tx, &who, who.user_id).await?, org_id: who.org_id })
        })
        .await?;
    Ok(HttpResponse::Ok().json(me))
}
