//! What users do to their own accounts, and what admins set for their org's security:
//! password change and reset, email verification and portal sign-up, two-factor
//! enrolment and removal, security settings and unlocking.
//!
//! Each change that makes other sessions suspect revokes them: a password change or
//! reset, enabling or disabling two-factor authentication.

use crate::ids::{OrgId, UserId};
use std::net::IpAddr;

use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};

use super::{
    Principal, Role,
    audit::{self, Record, event},
    email_tokens::{self, Purpose},
    lockout::{self, LoginPolicy},
    login::check_password_blocking,
    password,
    secret_key::SecretKey,
    session, totp,
};
use crate::{
    error::{Error, FieldErrors, Result},
    mail::messages::{self, AccountPages},
    orgs, users,
};
use atum_queue::enqueue::Options;

async fn hash_blocking(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || password::hash(&password))
        .await
        .map_err(|e| Error::Internal(format!("password hashing: {e}")))?
        .map_err(Error::from)
}

fn check_new_password(field: &str, password: &str) -> Result<()> {
    let mut f = FieldErrors::default();
    users::validate_password(&mut f, field, password);
    f.finish()
}

/// Changes the caller's password after checking the current one; the caller's other
/// sessions end. A wrong current password counts towards the account's lockout (a
/// stolen session must not become a password oracle).
pub async fn change_password(
    db: &impl GenericClient,
    policy: &LoginPolicy,
    who: &Principal,
    current: String,
    new: String,
    ip: Option<IpAddr>,
) -> Result<u64> {
    check_new_password("new_password", &new)?;
    let hash: Option<String> =
        db.query_one("SELECT password_hash FROM users WHERE id = $1 FOR UPDATE", &[&who.user_id]).await?.get(0);
    if !check_password_blocking(hash, current).await? {
        lockout::note_failure(db, policy, who.user_id).await?;
        return Err(FieldErrors::single("current_password", "is not your current password"));
    }
    let hash = hash_blocking(new).await?;
    db.execute(
        "UPDATE users SET password_hash = $2, password_changed_at = now(), updated_at = now() WHERE id = $1",
        &[&who.user_id, &hash],
    )
    .await?;
    let revoked = session::revoke_others(db, who.org_id, who.user_id, who.session_id).await?;
    audit::record(
        db,
        Record::by(who, event::PASSWORD_CHANGED, ip).detail(serde_json::json!({ "sessions_revoked": revoked })),
    )
    .await?;
    Ok(revoked)
}

/// Ends one of the caller's own sessions (another device, or this one).
pub async fn revoke_session(
    db: &impl GenericClient,
    who: &Principal,
    session_id: i64,
    ip: Option<IpAddr>,
) -> Result<()> {
    if !session::revoke_own(db, who, session_id).await? {
        return Err(Error::NotFound("session"));
    }
    let record = Record::by(who, event::SESSION_REVOKED, ip).detail(serde_json::json!({ "session_id": session_id }));
    audit::record(db, record).await
}

/// Ends every other session of the caller; returns how many.
pub async fn revoke_other_sessions(db: &impl GenericClient, who: &Principal, ip: Option<IpAddr>) -> Result<u64> {
    let n = session::revoke_others(db, who.org_id, who.user_id, who.session_id).await?;
    audit::record(db, Record::by(who, event::SESSION_REVOKED, ip).detail(serde_json::json!({ "others": n }))).await?;
    Ok(n)
}

/// The account pages of a user row whose columns 4 and 5 are its role and its
/// organisation's slug.
fn pages_of(public_url: &str, row: &tokio_postgres::Row) -> Result<AccountPages> {
    let role = Role::parse(row.get(4)).ok_or_else(|| Error::Internal("a user with an unknown role".into()))?;
    Ok(AccountPages::of(public_url, role, row.get(5)))
}

/// Mails a reset link when `email` belongs to an active account of the organisation
/// `org` names (see [`orgs::for_sign_in`]); says nothing either way (the caller
/// answers 202 regardless).
pub async fn request_reset(
    db: &impl GenericClient,
    public_url: &str,
    org: Option<&str>,
    email: &str,
    ip: Option<IpAddr>,
) -> Result<()> {
    let Some(org_id) = orgs::for_sign_in(db, org).await? else { return Ok(()) };
    let Some(row) = db
        .query_opt(
            "SELECT u.id, u.org_id, u.email, u.display_name, u.role, o.slug
               FROM users u JOIN organizations o ON o.id = u.org_id
             WHERE u.org_id = $1 AND lower(u.email) = lower($2) AND u.is_active",
            &[&org_id, &email.trim()],
        )
        .await?
    else {
        return Ok(());
    };
    let (user_id, org_id, address, name): (UserId, OrgId, String, String) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    let pages = pages_of(public_url, &row)?;
    let token = email_tokens::issue(db, Purpose::ResetPassword, org_id, user_id, &address).await?;
    atum_queue::enqueue(db, &messages::reset_password(&pages, org_id, &address, &name, &token), Options::default())
        .await?;
    audit::record(db, Record::about(org_id, user_id, event::PASSWORD_RESET_REQUESTED, ip)).await
}

/// Mails an invited person (an account with no password yet) the link to choose one,
/// in the name of the admin `who`; a newer invitation voids the older link.
pub async fn invite(db: &impl GenericClient, public_url: &str, who: &Principal, user_id: UserId) -> Result<()> {
    who.require_admin()?;
    let row = db
        .query_opt(
            "SELECT u.id, u.org_id, u.email, u.display_name, u.role, o.slug, o.name, u.password_hash IS NULL,
                    (SELECT display_name FROM users WHERE id = $3)
               FROM users u JOIN organizations o ON o.id = u.org_id
              WHERE u.org_id = $1 AND u.id = $2 AND u.is_active",
            &[&who.org_id, &user_id, &who.user_id],
        )
        .await?
        .ok_or(Error::NotFound("user"))?;
    if !row.get::<_, bool>(7) {
        return Err(Error::Conflict {
            code: crate::error::Code::Conflict,
            message: "this person has a password already; they can ask for a reset link".into(),
        });
    }
    let (address, name, org_name, inviter): (String, String, String, Option<String>) =
        (row.get(2), row.get(3), row.get(6), row.get(8));
    let pages = pages_of(public_url, &row)?;
    let token = email_tokens::issue(db, Purpose::Invite, who.org_id, user_id, &address).await?;
    let inviter = inviter.unwrap_or_else(|| "An administrator".into());
    let mail = messages::invitation(&pages, who.org_id, &org_name, &inviter, &address, &name, &token);
    atum_queue::enqueue(db, &mail, Options::default()).await?;
    audit::record(db, Record::by(who, event::INVITED, None).target(user_id)).await
}

/// Sets a new password with a reset link's token. Every session of the account ends,
/// any lock is lifted, and the address counts as verified (the link reached it).
pub async fn confirm_reset(db: &impl GenericClient, token: &str, new: String, ip: Option<IpAddr>) -> Result<()> {
    check_new_password("password", &new)?;
    let (org_id, user_id) =
        email_tokens::consume(db, Purpose::ResetPassword, token).await?.ok_or(Error::InvalidToken)?;
    let hash = hash_blocking(new).await?;
    db.execute(
        "UPDATE users SET password_hash = $2, password_changed_at = now(), updated_at = now(),
                email_verified_at = coalesce(email_verified_at, now())
         WHERE id = $1",
        &[&user_id, &hash],
    )
    .await?;
    lockout::unlock(db, org_id, user_id).await?;
    let revoked = session::revoke_all(db, org_id, user_id).await?;
    let record = Record::about(org_id, user_id, event::PASSWORD_RESET, ip)
        .detail(serde_json::json!({ "sessions_revoked": revoked }));
    audit::record(db, record).await
}

pub async fn verify_email(db: &impl GenericClient, token: &str, ip: Option<IpAddr>) -> Result<()> {
    let (org_id, user_id) = email_tokens::consume(db, Purpose::VerifyEmail, token).await?.ok_or(Error::InvalidToken)?;
    db.execute("UPDATE users SET email_verified_at = now(), updated_at = now() WHERE id = $1", &[&user_id]).await?;
    audit::record(db, Record::about(org_id, user_id, event::EMAIL_VERIFIED, ip)).await
}

/// A new verification link for an account of `org` that still needs one; silent
/// otherwise.
pub async fn resend_verification(
    db: &impl GenericClient,
    public_url: &str,
    org: Option<&str>,
    email: &str,
) -> Result<()> {
    let Some(org_id) = orgs::for_sign_in(db, org).await? else { return Ok(()) };
    let Some(row) = db
        .query_opt(
            "SELECT u.id, u.org_id, u.email, u.display_name, u.role, o.slug
               FROM users u JOIN organizations o ON o.id = u.org_id
             WHERE u.org_id = $1 AND lower(u.email) = lower($2)
               AND u.is_active AND u.must_verify_email AND u.email_verified_at IS NULL",
            &[&org_id, &email.trim()],
        )
        .await?
    else {
        return Ok(());
    };
    let (user_id, org_id, address, name): (UserId, OrgId, String, String) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    let pages = pages_of(public_url, &row)?;
    let token = email_tokens::issue(db, Purpose::VerifyEmail, org_id, user_id, &address).await?;
    atum_queue::enqueue(db, &messages::verify_email(&pages, org_id, &address, &name, &token), Options::default())
        .await?;
    Ok(())
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Signup {
    #[schema(
        max_length = 254,
        pattern = r"^\s*[^@\s\x00-\x1f\x7f-\x9f]+@[^@\s\x00-\x1f\x7f-\x9f.][^@\s\x00-\x1f\x7f-\x9f]*\.[^@\s\x00-\x1f\x7f-\x9f]*[^@\s\x00-\x1f\x7f-\x9f.]\s*$"
    )]
    pub email: String,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub display_name: String,
    #[schema(min_length = 12, max_length = 1024)]
    pub password: String,
}

/// A customer creates a portal account on an org that allows it. The account cannot
/// sign in until the address is verified; an unverified sign-up whose link expired is
/// deleted by the hourly housekeeping. An address that already has an account in
/// this organisation gets a note instead, and the caller's answer is the same (no
/// enumeration). Accounts in other organisations play no part.
pub async fn signup(
    db: &impl GenericClient,
    public_url: &str,
    org_slug: &str,
    s: &Signup,
    ip: Option<IpAddr>,
) -> Result<()> {
    let org = match orgs::find_by_slug(db, org_slug).await {
        Ok(org) => org,
        Err(Error::NotFound(_)) => return Err(Error::NotFound("portal")),
        Err(e) => return Err(e),
    };
    let open: bool = db.query_one("SELECT portal_signup FROM organizations WHERE id = $1", &[&org.id]).await?.get(0);
    if !open {
        return Err(Error::NotFound("portal"));
    }
    let new = users::NewUser {
        email: s.email.clone(),
        display_name: s.display_name.clone(),
        role: Role::Customer,
        password: Some(s.password.clone()),
    };
    new.validate()?;
    let existing = db
        .query_opt("SELECT role FROM users WHERE org_id = $1 AND lower(email) = lower($2)", &[&org.id, &s.email.trim()])
        .await?;
    if let Some(row) = existing {
        let role = Role::parse(row.get(0)).ok_or_else(|| Error::Internal("a user with an unknown role".into()))?;
        let pages = AccountPages::of(public_url, role, &org.slug);
        atum_queue::enqueue(db, &messages::already_registered(&pages, org.id, s.email.trim()), Options::default())
            .await?;
        return Ok(());
    }
    let hash = hash_blocking(s.password.clone()).await?;
    let user = users::insert(db, org.id, &new, Some(hash)).await?;
    db.execute("UPDATE users SET must_verify_email = true WHERE id = $1", &[&user.id]).await?;
    let token = email_tokens::issue(db, Purpose::VerifyEmail, org.id, user.id, &user.email).await?;
    let pages = AccountPages::of(public_url, Role::Customer, &org.slug);
    atum_queue::enqueue(
        db,
        &messages::verify_email(&pages, org.id, &user.email, &user.display_name, &token),
        Options::default(),
    )
    .await?;
    audit::record(db, Record::about(org.id, user.id, event::SIGNUP, ip)).await
}

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

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    /// Admins and agents must enrol TOTP before doing anything else.
    pub require_mfa: bool,
    /// Customers may create portal accounts (with a verified email).
    pub portal_signup: bool,
}

pub async fn settings(db: &impl GenericClient, who: &Principal) -> Result<SecuritySettings> {
    who.require_admin()?;
    let r = db.query_one("SELECT require_mfa, portal_signup FROM organizations WHERE id = $1", &[&who.org_id]).await?;
    Ok(SecuritySettings { require_mfa: r.get(0), portal_signup: r.get(1) })
}

pub async fn set_settings(
    db: &impl GenericClient,
    who: &Principal,
    new: &SecuritySettings,
    ip: Option<IpAddr>,
) -> Result<SecuritySettings> {
    let before = settings(db, who).await?;
    // Requiring a second factor you do not have would lock you into enrolment mid-change.
    if new.require_mfa && !before.require_mfa && !totp::is_enabled(db, who.user_id).await? {
        return Err(Error::Conflict {
            code: crate::error::Code::EnrolMfaFirst,
            message: "turn on two-factor authentication for your own account before requiring it".into(),
        });
    }
    db.execute(
        "UPDATE organizations SET require_mfa = $2, portal_signup = $3, updated_at = now() WHERE id = $1",
        &[&who.org_id, &new.require_mfa, &new.portal_signup],
    )
    .await?;
    if before != *new {
        let detail = serde_json::json!({ "before": before, "after": new });
        audit::record(db, Record::by(who, event::SETTINGS_CHANGED, ip).detail(detail)).await?;
    }
    Ok(new.clone())
}

/// The operator at the console (`atum user unlock`) lifts the lockout of the person
/// with `email` in `org_id`; recorded in that organisation's audit log as done by the
/// operator. Returns the user's id.
pub async fn unlock_as_operator(db: &impl GenericClient, org_id: OrgId, email: &str) -> Result<UserId> {
    let row = db
        .query_opt("SELECT id FROM users WHERE org_id = $1 AND lower(email) = lower($2)", &[&org_id, &email.trim()])
        .await?
        .ok_or(Error::NotFound("user"))?;
    let user_id: UserId = row.get(0);
    lockout::unlock(db, org_id, user_id).await?;
    let record = Record::about(org_id, user_id, event::UNLOCK, None)
        .actor(crate::actor::Actor::Operator)
        .detail(serde_json::json!({ "by": "operator" }));
    audit::record(db, record).await?;
    Ok(user_id)
}

/// An admin reads where a person of their organisation is signed in.
pub async fn sessions_of(
    db: &impl GenericClient,
    who: &Principal,
    user_id: UserId,
    policy: session::SessionPolicy,
) -> Result<Vec<session::SessionInfo>> {
    who.require_admin()?;
    users::get(db, who, user_id).await?;
    session::list_live_of(db, who.org_id, user_id, who.session_id, policy).await
}

/// An admin signs out one session of a person of their organisation (a lost laptop),
/// recorded in the audit log as theirs.
pub async fn revoke_session_of(
    db: &impl GenericClient,
    who: &Principal,
    user_id: UserId,
    session_id: i64,
    ip: Option<IpAddr>,
) -> Result<()> {
    who.require_admin()?;
    users::get(db, who, user_id).await?;
    if !session::revoke_of(db, who.org_id, user_id, session_id).await? {
        return Err(Error::NotFound("session"));
    }
    let record = Record::by(who, event::SESSION_REVOKED, ip)
        .target(user_id)
        .detail(serde_json::json!({ "session_id": session_id }));
    audit::record(db, record).await
}

/// An admin signs a person out everywhere; how many sessions ended.
pub async fn revoke_sessions_of(
    db: &impl GenericClient,
    who: &Principal,
    user_id: UserId,
    ip: Option<IpAddr>,
) -> Result<u64> {
    who.require_admin()?;
    users::get(db, who, user_id).await?;
    let n = session::revoke_all(db, who.org_id, user_id).await?;
    let record = Record::by(who, event::SESSION_REVOKED, ip).target(user_id).detail(serde_json::json!({ "all": n }));
    audit::record(db, record).await?;
    Ok(n)
}

/// An admin lifts a user's lockout.
pub async fn unlock(db: &impl GenericClient, who: &Principal, user_id: UserId, ip: Option<IpAddr>) -> Result<()> {
    who.require_admin()?;
    if !lockout::unlock(db, who.org_id, user_id).await? {
        return Err(Error::NotFound("user"));
    }
    audit::record(db, Record::by(who, event::UNLOCK, ip).target(user_id)).await
}
