//! Two-factor authentication as its owner sees it: whether it is on, confirming an
//! enrolment, turning it off. Either change ends the person's other sessions.

use std::net::IpAddr;

use deadpool_postgres::GenericClient;
use serde::Serialize;

use crate::{
    auth::{
        Principal,
        audit::{self, Record, event},
        lockout::{self, LoginPolicy},
        login::check_password_blocking,
        session, totp,
    },
    error::{Error, FieldErrors, Result},
    secret_key::SecretKey,
};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MfaStatus {
    pub enabled: bool,
    pub recovery_codes_left: i64,
    /// The org requires a second factor of admins and agents.
    pub required: bool,
}

pub async fn mfa_status(db: &impl GenericClient, who: &Principal) -> Result<MfaStatus> {
    let required: bool =
        db.query_one("SELECT require_mfa FROM organizations WHERE id = $1", &[&who.org_id]).await?.get(0);
    Ok(MfaStatus {
        enabled: totp::is_enabled(db, who.user_id).await?,
        recovery_codes_left: totp::recovery_codes_left(db, who.user_id).await?,
        required: required && who.role.is_staff(),
    })
}

/// Confirms TOTP enrolment; returns the recovery codes. Other sessions end.
pub async fn confirm_totp(
    db: &impl GenericClient,
    key: Option<&SecretKey>,
    who: &Principal,
    code: &str,
    ip: Option<IpAddr>,
) -> Result<Vec<String>> {
    let codes = totp::confirm(db, key, who, code).await?;
    let revoked = session::revoke_others(db, who.org_id, who.user_id, who.session_id).await?;
    audit::record(
        db,
        Record::by(who, event::MFA_ENROLLED, ip).detail(serde_json::json!({ "sessions_revoked": revoked })),
    )
    .await?;
    Ok(codes)
}

/// Turns TOTP off: needs the password and a current code (or a recovery code).
/// Refused when the org requires a second factor of this user's role.
pub async fn disable_totp(
    db: &impl GenericClient,
    key: Option<&SecretKey>,
    policy: &LoginPolicy,
    who: &Principal,
    password: String,
    code: &str,
    ip: Option<IpAddr>,
) -> Result<()> {
    let status = mfa_status(db, who).await?;
    if !status.enabled {
        return Err(Error::Conflict {
            code: crate::error::Code::MfaNotEnabled,
            message: "two-factor authentication is not on".into(),
        });
    }
    if status.required {
        return Err(Error::Conflict {
            code: crate::error::Code::MfaRequiredByOrg,
            message: "your organisation requires two-factor authentication; it cannot be turned off".into(),
        });
    }
    let hash: Option<String> =
        db.query_one("SELECT password_hash FROM users WHERE id = $1 FOR UPDATE", &[&who.user_id]).await?.get(0);
    let mut f = FieldErrors::default();
    // The code is checked only after the password, so a typo in the password does not
    // spend a recovery code.
    if !check_password_blocking(hash, password).await? {
        f.add("password", "is not your password");
    } else if totp::verify_any(db, key, who.user_id, code).await?.is_none() {
        f.add("code", "is not a current code or an unused recovery code");
    }
    if !f.is_empty() {
        lockout::note_failure(db, policy, who.user_id).await?;
        return Err(Error::Invalid(f));
    }
    totp::disable(db, who.user_id).await?;
    let revoked = session::revoke_others(db, who.org_id, who.user_id, who.session_id).await?;
    audit::record(
        db,
        Record::by(who, event::MFA_DISABLED, ip).detail(serde_json::json!({ "sessions_revoked": revoked })),
    )
    .await
}
