//! A person's password: changed knowing the current one, or reset through a mailed
//! one-time link. Either ends the person's other sessions.

use std::net::IpAddr;

use atum_queue::enqueue::Options;
use deadpool_postgres::GenericClient;

use super::messages::{self, Recipient};
use crate::{
    auth::{
        Principal,
        audit::{self, Record, event},
        email_tokens::{self, Purpose},
        lockout::{self, LoginPolicy},
        login::check_password_blocking,
        password, session,
    },
    error::{Error, FieldErrors, Result},
    users,
};

pub(super) async fn hash_blocking(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || password::hash(&password))
        .await
        .map_err(|e| Error::Internal(format!("password hashing: {e}")))?
        .map_err(Error::from)
}

pub(super) fn check_new_password(field: &str, password: &str) -> Result<()> {
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

/// Mails a reset link when `email` belongs to an active account of the organisation
/// `org` names (see [`crate::auth::login::org_for_sign_in`]); says nothing either way (the caller
/// answers 202 regardless).
pub async fn request_reset(
    db: &impl GenericClient,
    public_url: &str,
    org: Option<&str>,
    email: &str,
    ip: Option<IpAddr>,
) -> Result<()> {
    let Some(org_id) = crate::auth::login::org_for_sign_in(db, org).await? else { return Ok(()) };
    let Some(Recipient { user_id, org_id, address, name, pages }) =
        Recipient::by_email(db, public_url, org_id, email, false).await?
    else {
        return Ok(());
    };
    let token = email_tokens::issue(db, Purpose::ResetPassword, org_id, user_id, &address).await?;
    atum_queue::enqueue(db, &messages::reset_password(&pages, org_id, &address, &name, &token), Options::default())
        .await?;
    audit::record(db, Record::about(org_id, user_id, event::PASSWORD_RESET_REQUESTED, ip)).await
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
