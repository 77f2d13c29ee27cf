//! Sign-in, sign-out, `/me`, and the credentials every other route needs.
//!
//! A session token is accepted as `Authorization: Bearer …` (API clients) or as the
//! `atum_session` cookie (the browser: HttpOnly, Secure, SameSite=Strict). A request
//! that changes state and authenticates by cookie must also carry an `Origin` (or
//! `Referer`) naming the desk's own origin ([`origin`]) — a second CSRF defence
//! behind SameSite.

use crate::json::Json;
use actix_web::{get, post};
use atum_core::ids::OrgId;
use std::{
    future::{Ready, ready},
    net::IpAddr,
};

use actix_web::{
    FromRequest, HttpRequest, HttpResponse,
    cookie::{Cookie, SameSite, time::Duration as CookieDuration},
    dev::Payload,
    http::{Method, StatusCode, header},
    web,
};
use atum_core::{
    auth::{
        Principal,
        login::{Outcome, Rules},
        session,
    },
    error::Error,
    users,
};
use atum_runtime::db::GenericClient;
use serde::Deserialize;

use crate::{
    AppState, client_ip,
    error::{ApiError, Code},
    origin,
};

pub const COOKIE: &str = "atum_session";

/// The client's address (see [`client_ip`]), for routes without a session.
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequest for ClientIp {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(ClientIp(client_address(req))))
    }
}

fn client_address(req: &HttpRequest) -> Option<IpAddr> {
    let state = req.app_data::<web::Data<AppState>>()?;
    client_ip::of(req, &state.security.proxies)
}

/// The token a request presented, not yet checked against the database, and the
/// address it came from.
#[derive(Clone)]
pub struct Credentials {
    token: String,
    pub ip: Option<IpAddr>,
}

impl FromRequest for Credentials {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(credentials(req).map(|token| Credentials { token, ip: client_address(req) }))
    }
}

fn credentials(req: &HttpRequest) -> Result<String, ApiError> {
    if let Some(value) = req.headers().get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .ok_or_else(|| ApiError::from(Error::Unauthenticated))?;
        return Ok(token.to_owned());
    }
    let cookie = req.cookie(COOKIE).ok_or_else(|| ApiError::from(Error::Unauthenticated))?;
    let same_site = req.app_data::<web::Data<AppState>>().is_some_and(|s| origin::is_same_site(req, &s.security));
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) && !same_site {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            Code::CsrfFailed,
            "a cookie-authenticated change must come from this site (an Origin or Referer naming ATUM_PUBLIC_URL)",
        ));
    }
    Ok(cookie.value().to_owned())
}

impl Credentials {
    /// The principal, checked inside the request's transaction.
    pub async fn principal(&self, db: &impl GenericClient, state: &AppState) -> Result<Principal, ApiError> {
        Ok(session::authenticate(db, state.sessions, &self.token, self.ip).await?)
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The organisation's short name (slug), as in the sign-in page's address. May be
    /// left out on an instance with exactly one organisation.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 63, pattern = "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")]
    org: Option<String>,
    #[schema(max_length = 320)]
    email: String,
    #[schema(max_length = 1024)]
    password: String,
}

/// Either a session (`token`, `expires_at`, `user`) or, for an account with two-factor
/// authentication, `mfa_required` with a `challenge` to send to /auth/mfa/verify.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    /// The bearer token (also set as the `atum_session` cookie). Shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<users::User>,
    /// The org requires a second factor this user has not enrolled: the session can
    /// only enrol (POST /api/v1/auth/mfa/totp), read /me and sign out.
    pub mfa_enrollment_required: bool,
    pub mfa_required: bool,
    /// For /auth/mfa/verify; valid for 5 minutes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub challenge: Option<String>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct MeResponse {
    pub user: users::User,
    #[schema(value_type = i64)]
    pub org_id: OrgId,
    /// The organisation's short name, as in its help centre's address (`/help/{slug}/`).
    pub org_slug: String,
    pub mfa_enrollment_required: bool,
}

/// Sign in with email and password.
#[utoipa::path(tag = "auth", request_body = LoginRequest,
    responses((status = 200, description = "Signed in (sets the session cookie), or a second factor is required", body = LoginResponse), (status = 401, description = "Wrong email or password (also for locked and unknown accounts, and organisations that do not exist)", body = crate::error::ErrorBody), (status = 422, description = "No organisation named on an instance with several, or a malformed one (fields.org)", body = crate::error::ErrorBody), (status = 403, description = "Outside the org's IP allowlist, or email not verified", body = crate::error::ErrorBody), (status = 429, description = "Too many attempts (Retry-After)", body = crate::error::ErrorBody)))]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    ip: ClientIp,
    body: Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let LoginRequest { org, email, password } = body.into_inner();
    state
        .security
        .per_account
        .check(&atum_core::auth::lockout::sign_in_key(org.as_deref(), &email))
        .map_err(ApiError::rate_limited)?;
    let rules = Rules { policy: &state.security.login, key: state.security.key.as_ref() };
    let mut conn = state.conn().await?;
    let tx = conn.transaction().await?;
    let outcome = atum_core::auth::login::sign_in(&tx, rules, org.as_deref(), &email, password, ip.0).await?;
    finish_sign_in(&state, &req, tx, outcome, ip.0).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaVerifyRequest {
    /// From the login response.
    #[schema(max_length = 128)]
    challenge: String,
    /// A 6-digit TOTP code, or one of the recovery codes.
    #[schema(max_length = 64)]
    code: String,
}

/// The second step of signing in: a TOTP or recovery code.
#[utoipa::path(tag = "auth", request_body = MfaVerifyRequest,
    responses((status = 200, description = "Signed in; sets the session cookie", body = LoginResponse), (status = 401, description = "Wrong, reused or expired code or challenge", body = crate::error::ErrorBody), (status = 403, description = "Outside the org's IP allowlist", body = crate::error::ErrorBody), (status = 429, description = "Too many attempts (Retry-After)", body = crate::error::ErrorBody)))]
#[post("/auth/mfa/verify")]
pub async fn verify_mfa(
    state: web::Data<AppState>,
    req: HttpRequest,
    ip: ClientIp,
    body: Json<MfaVerifyRequest>,
) -> Result<HttpResponse, ApiError> {
    let key: String = body.challenge.chars().take(16).collect();
    state.security.per_account.check(&format!("mfa:{key}")).map_err(ApiError::rate_limited)?;
    let rules = Rules { policy: &state.security.login, key: state.security.key.as_ref() };
    let mut conn = state.conn().await?;
    let tx = conn.transaction().await?;
    let outcome = atum_core::auth::login::complete_mfa(&tx, rules, &body.challenge, &body.code, ip.0).await?;
    finish_sign_in(&state, &req, tx, outcome, ip.0).await
}

/// Commits the attempt whatever its outcome (the record of a refusal must stay) and
/// answers: a session, a second-factor challenge, or the refusal's error.
async fn finish_sign_in(
    state: &AppState,
    req: &HttpRequest,
    tx: atum_runtime::db::Transaction<'_>,
    outcome: Outcome,
    ip: Option<IpAddr>,
) -> Result<HttpResponse, ApiError> {
    let account = match outcome {
        Outcome::Refused(refusal) => {
            tx.commit().await?;
            return Err(refusal.error().into());
        }
        Outcome::MfaRequired { challenge, .. } => {
            tx.commit().await?;
            return Ok(HttpResponse::Ok().json(LoginResponse {
                token: None,
                expires_at: None,
                user: None,
                mfa_enrollment_required: false,
                mfa_required: true,
                challenge: Some(challenge),
            }));
        }
        Outcome::SignedIn(account) => account,
    };
    let agent = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok());
    let holder = session::Holder {
        user_id: account.user_id,
        org_id: account.org_id,
        role: account.role,
        must_enrol_mfa: account.must_enrol_mfa,
    };
    let issued = session::issue(&tx, state.sessions, holder, ip, agent).await?;
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
        token: Some(issued.token),
        expires_at: Some(issued.expires_at),
        user: Some(user),
        mfa_enrollment_required: account.must_enrol_mfa,
        mfa_required: false,
        challenge: None,
    }))
}

/// End the current session.
#[utoipa::path(tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "Signed out; the cookie is cleared"), (status = 403, description = "Not allowed for this role (or CSRF check failed)", body = crate::error::ErrorBody)))]
#[post("/auth/logout")]
pub async fn logout(state: web::Data<AppState>, creds: Credentials) -> Result<HttpResponse, ApiError> {
    state
        .in_tx_enrolling(&creds, async |tx, who| {
            atum_core::tickets::locks::release_session(tx, who.session_id).await?;
            Ok(session::revoke(tx, who.session_id).await?)
        })
        .await?;
    let mut gone =
        Cookie::build(COOKIE, "").path("/").http_only(true).secure(true).same_site(SameSite::Strict).finish();
    gone.make_removal();
    Ok(HttpResponse::NoContent().cookie(gone).finish())
}

/// Who you are.
#[utoipa::path(tag = "auth", security(("bearer" = [])),
    responses((status = 200, description = "The signed-in user", body = MeResponse)))]
#[get("/me")]
pub async fn me(state: web::Data<AppState>, creds: Credentials) -> Result<HttpResponse, ApiError> {
    let me = state
        .in_tx_enrolling(&creds, async |tx, who| {
            Ok(MeResponse {
                user: users::get(tx, &who, who.user_id).await?,
                org_id: who.org_id,
                org_slug: tx
                    .query_one("SELECT slug FROM organizations WHERE id = $1", &[&who.org_id])
                    .await
                    .map_err(atum_core::error::Error::from)?
                    .get(0),
                mfa_enrollment_required: who.must_enrol_mfa,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(me))
}
