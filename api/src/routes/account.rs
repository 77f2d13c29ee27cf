//! `/api/v1/auth/*` beyond sign-in: a user's sessions, password, email verification,
//! two-factor enrolment, and portal sign-up. Handlers are thin: one transaction each,
//! the work in `atum_core::accounts`.

use crate::json::Json;
use actix_web::{HttpResponse, web};
use actix_web::{delete, get, post};
use atum_core::{
    accounts::{self, mfa::MfaStatus, registration::Signup},
    auth::{
        session::{self, SessionInfo},
        totp::{self, Enrolment},
    },
};
use serde::{Deserialize, Serialize};

use crate::{
    AppState,
    auth::{ClientIp, Credentials},
    error::{ApiError, ErrorBody},
};
use atum_core::email::Email;

#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionList {
    pub items: Vec<SessionInfo>,
}

/// Your live sessions (devices signed in).
#[utoipa::path(tag = "account", security(("bearer" = [])),
    responses((status = 200, description = "Live sessions", body = SessionList)))]
#[get("/auth/sessions")]
pub async fn list_sessions(state: web::Data<AppState>, creds: Credentials) -> Result<HttpResponse, ApiError> {
    let items = state.in_tx(&creds, async |tx, who| Ok(session::list_live(tx, &who, state.sessions).await?)).await?;
    Ok(HttpResponse::Ok().json(SessionList { items }))
}

/// Sign out one of your sessions (another device, or this one).
#[utoipa::path(tag = "account", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Session id")),
    responses((status = 204, description = "Revoked"), (status = 404, description = "Not one of your live sessions", body = ErrorBody)))]
#[delete("/auth/sessions/{id}")]
pub async fn revoke_session(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    state.in_tx(&creds, async |tx, who| Ok(accounts::sessions::revoke_session(tx, &who, *id, creds.ip).await?)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Revoked {
    pub revoked: u64,
}

/// Sign out every other session of yours.
#[utoipa::path(tag = "account", security(("bearer" = [])),
    responses((status = 200, description = "How many were revoked", body = Revoked)))]
#[post("/auth/sessions/revoke-others")]
pub async fn revoke_other_sessions(state: web::Data<AppState>, creds: Credentials) -> Result<HttpResponse, ApiError> {
    let revoked = state
        .in_tx(&creds, async |tx, who| Ok(accounts::sessions::revoke_other_sessions(tx, &who, creds.ip).await?))
        .await?;
    Ok(HttpResponse::Ok().json(Revoked { revoked }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    #[schema(max_length = 1024)]
    current_password: String,
    #[schema(min_length = 12, max_length = 1024)]
    new_password: String,
}

/// Change your password; your other sessions end.
#[utoipa::path(tag = "account", security(("bearer" = [])), request_body = PasswordChange,
    responses((status = 200, description = "Changed; how many other sessions ended", body = Revoked), (status = 422, description = "Wrong current password or weak new one", body = ErrorBody)))]
#[post("/auth/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    creds: Credentials,
    body: Json<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    let PasswordChange { current_password, new_password } = body.into_inner();
    // A wrong current password must still be counted: commit the failure, then answer.
    let mut conn = state.conn().await?;
    let tx = conn.transaction().await?;
    let who = creds.principal(&tx, &state).await?;
    if who.must_enrol_mfa {
        return Err(atum_core::error::Error::MfaEnrolmentRequired.into());
    }
    let result =
        accounts::password::change_password(&tx, &state.security.login, &who, current_password, new_password, creds.ip)
            .await;
    if let Err(atum_core::error::Error::Invalid(f)) = &result
        && f.0.contains_key("current_password")
    {
        tx.commit().await?;
    } else if result.is_ok() {
        tx.commit().await?;
    }
    Ok(HttpResponse::Ok().json(Revoked { revoked: result? }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailOnly {
    /// The organisation's short name (slug); may be left out on an instance with
    /// exactly one organisation.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 63, pattern = "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")]
    org: Option<String>,
    #[schema(inline)]
    email: Email,
}

impl EmailOnly {
    /// The address must be one an account could have (422 otherwise); whether one has
    /// it is never said.
    fn validate(&self) -> Result<(), ApiError> {
        let mut f = atum_core::error::FieldErrors::default();
        self.email.check(&mut f, "email");
        Ok(f.finish()?)
    }

    /// The per-account rate limiter's key for this request.
    fn limit_key(&self, route: &str) -> String {
        format!("{route}:{}:{}", self.org.as_deref().unwrap_or(""), self.email.trimmed().to_lowercase())
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Accepted {
    /// Always the same, whether or not the address has an account.
    pub status: &'static str,
}

const ACCEPTED: Accepted = Accepted { status: "if the address has an account, a message is on its way" };

/// Ask for a password-reset link by email. The answer never says whether the address
/// has an account.
#[utoipa::path(tag = "account", request_body = EmailOnly,
    responses((status = 202, description = "Accepted", body = Accepted), (status = 422, description = "Not an e-mail address, or no organisation named on an instance with several", body = ErrorBody), (status = 429, description = "Too many requests (Retry-After)", body = ErrorBody)))]
#[post("/auth/password-reset")]
pub async fn request_password_reset(
    state: web::Data<AppState>,
    ip: ClientIp,
    body: Json<EmailOnly>,
) -> Result<HttpResponse, ApiError> {
    body.validate()?;
    state.security.per_account.check(&body.limit_key("reset")).map_err(ApiError::rate_limited)?;
    let mut conn = state.conn().await?;
    let tx = conn.transaction().await?;
    accounts::password::request_reset(&tx, &state.security.public_url, body.org.as_deref(), &body.email, ip.0).await?;
    tx.commit().await?;
    Ok(HttpResponse::Accepted().json(ACCEPTED))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirm {
    /// From the link in the reset email.
    #[schema(pattern = r"^\s*[0-9a-fA-F]{64}\s*$")]
    token: String,
    #[schema(min_length = 12, max_length = 1024)]
    password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Done {
    pub ok: bool,
}

/// Set a new password with the token from a reset email. Every session ends.
#[utoipa::path(tag = "account", request_body = ResetConfirm,
    responses((status = 200, description = "Password set", body = Done), (status = 422, description = "Weak password", body = ErrorBody)))]
#[post("/auth/password-reset/confirm")]
pub async fn confirm_password_reset(
    state: web::Data<AppState>,
    ip: ClientIp,
    body: Json<ResetConfirm>,
) -> Result<HttpResponse, ApiError> {
    let ResetConfirm { token, password } = body.into_inner();
    let mut conn = state.conn().await?;
    let tx = conn.transaction().await?;
    accounts::password::confirm_reset(&tx, &token, password, ip.0).await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(Done { ok: true }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenOnly {
    /// From the link in the verification email.
    #[schema(pattern = r"^\s*[0-9a-fA-F]{64}\s*$")]
    token: String,
}

/// Confirm an email address with the token from the verification email.
#[utoipa::path(tag = "account", request_body = TokenOnly,
    responses((status = 200, description = "Verified", body = Done)))]
#[post("/auth/verify-email")]
pub async fn verify_email(
    state: web::Data<AppState>,
    ip: ClientIp,
    body: Json<TokenOnly>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn().await?;
    let tx = conn.transaction().await?;
    accounts::registration::verify_email(&tx, &body.token, ip.0).await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(Done { ok: true }))
}

/// Send a new verification link (for an account still waiting for one).
#[utoipa::path(tag = "account", request_body = EmailOnly,
    responses((status = 202, description = "Accepted", body = Accepted), (status = 422, description = "Not an e-mail address, or no organisation named on an instance with several", body = ErrorBody), (status = 429, description = "Too many requests (Retry-After)", body = ErrorBody)))]
#[post("/auth/verify-email/resend")]
pub async fn resend_verification(state: web::Data<AppState>, body: Json<EmailOnly>) -> Result<HttpResponse, ApiError> {
    body.validate()?;
    state.security.per_account.check(&body.limit_key("verify")).map_err(ApiError::rate_limited)?;
    let mut conn = state.conn().await?;
    let tx = conn.transaction().await?;
    accounts::registration::resend_verification(&tx, &state.security.public_url, body.org.as_deref(), &body.email)
        .await?;
    tx.commit().await?;
    Ok(HttpResponse::Accepted().json(ACCEPTED))
}

/// Create a customer account on an organisation's portal (when the org allows it).
/// The account can sign in once its address is verified.
#[utoipa::path(tag = "account", request_body = Signup,
    params(("org" = String, Path, description = "The organisation's slug")),
    responses((status = 202, description = "Accepted: check your email", body = Accepted), (status = 404, description = "No such portal, or sign-up is off", body = ErrorBody), (status = 422, description = "Invalid fields", body = ErrorBody), (status = 429, description = "Too many requests (Retry-After)", body = ErrorBody)))]
#[post("/portal/{org}/signup")]
pub async fn signup(
    state: web::Data<AppState>,
    ip: ClientIp,
    org: web::Path<String>,
    body: Json<Signup>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn().await?;
    let tx = conn.transaction().await?;
    accounts::registration::signup(&tx, &state.security.public_url, &org, &body, ip.0).await?;
    tx.commit().await?;
    Ok(HttpResponse::Accepted().json(ACCEPTED))
}

/// Whether two-factor authentication is on for you, and required.
#[utoipa::path(tag = "account", security(("bearer" = [])),
    responses((status = 200, description = "Status", body = MfaStatus)))]
#[get("/auth/mfa")]
pub async fn mfa_status(state: web::Data<AppState>, creds: Credentials) -> Result<HttpResponse, ApiError> {
    let status = state.in_tx_enrolling(&creds, async |tx, who| Ok(accounts::mfa::mfa_status(tx, &who).await?)).await?;
    Ok(HttpResponse::Ok().json(status))
}

/// Start enrolling an authenticator app: returns the secret, its otpauth:// URI and a
/// QR code. Nothing changes until confirmed with a first code.
#[utoipa::path(tag = "account", security(("bearer" = [])),
    responses((status = 200, description = "The secret, shown once", body = Enrolment), (status = 409, description = "Already on, or the server has no secret key", body = ErrorBody)))]
#[post("/auth/mfa/totp")]
pub async fn begin_totp(state: web::Data<AppState>, creds: Credentials) -> Result<HttpResponse, ApiError> {
    let enrolment = state
        .in_tx_enrolling(&creds, async |tx, who| Ok(totp::begin(tx, state.security.key.as_ref(), &who).await?))
        .await?;
    Ok(HttpResponse::Ok().json(enrolment))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeOnly {
    /// The 6-digit code the authenticator shows.
    #[schema(max_length = 64)]
    code: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RecoveryCodes {
    /// Ten single-use codes for when the device is lost. Shown once.
    pub recovery_codes: Vec<String>,
}

/// Confirm enrolment with the first code from the app. Returns the recovery codes;
/// your other sessions end.
#[utoipa::path(tag = "account", security(("bearer" = [])), request_body = CodeOnly,
    responses((status = 200, description = "On; the recovery codes, shown once", body = RecoveryCodes), (status = 422, description = "Wrong code", body = ErrorBody)))]
#[post("/auth/mfa/totp/confirm")]
pub async fn confirm_totp(
    state: web::Data<AppState>,
    creds: Credentials,
    body: Json<CodeOnly>,
) -> Result<HttpResponse, ApiError> {
    let recovery_codes = state
        .in_tx_enrolling(&creds, async |tx, who| {
            Ok(accounts::mfa::confirm_totp(tx, state.security.key.as_ref(), &who, &body.code, creds.ip).await?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(RecoveryCodes { recovery_codes }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisableTotp {
    password: String,
    /// A current TOTP code or an unused recovery code.
    #[schema(max_length = 64)]
    code: String,
}

/// Turn two-factor authentication off (password and a code); your other sessions end.
#[utoipa::path(tag = "account", security(("bearer" = [])), request_body = DisableTotp,
    responses((status = 204, description = "Off"), (status = 409, description = "Not on, or required by the org", body = ErrorBody), (status = 422, description = "Wrong password or code", body = ErrorBody)))]
#[post("/auth/mfa/totp/disable")]
pub async fn disable_totp(
    state: web::Data<AppState>,
    creds: Credentials,
    body: Json<DisableTotp>,
) -> Result<HttpResponse, ApiError> {
    let DisableTotp { password, code } = body.into_inner();
    let mut conn = state.conn().await?;
    let tx = conn.transaction().await?;
    let who = creds.principal(&tx, &state).await?;
    let key = state.security.key.as_ref();
    let result = accounts::mfa::disable_totp(&tx, key, &state.security.login, &who, password, &code, creds.ip).await;
    // A failed check is counted towards lockout: keep that record.
    if result.is_ok() || matches!(result, Err(atum_core::error::Error::Invalid(_))) {
        tx.commit().await?;
    }
    result?;
    Ok(HttpResponse::NoContent().finish())
}
