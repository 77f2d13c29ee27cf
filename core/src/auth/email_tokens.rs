//! One-time links sent by email: address verification and password reset.
//!
//! A token is 256 random bits, mailed once and stored only as its SHA-256. It works
//! once, until it expires, and only while the account still has the address it was
//! sent to. Issuing a new reset link voids the older ones.

use crate::ids::{OrgId, UserId};
use std::time::Duration;

use deadpool_postgres::GenericClient;

use super::session::{hash_token, new_token};
use crate::error::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
    /// A new person's first password: a reset link that lives a week, as the person
    /// may not read the mail within the hour. It is spent as a reset is.
    Invite,
}

impl Purpose {
    fn table(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "email_verification_tokens",
            Purpose::ResetPassword | Purpose::Invite => "password_reset_tokens",
        }
    }

    pub fn lifetime(self) -> Duration {
        match self {
            Purpose::VerifyEmail => Duration::from_secs(48 * 3600),
            Purpose::ResetPassword => Duration::from_secs(3600),
            Purpose::Invite => Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// A new token for `user_id`; the plaintext goes into the email and nowhere else.
pub async fn issue(
    db: &impl GenericClient,
    purpose: Purpose,
    org_id: OrgId,
    user_id: UserId,
    email: &str,
) -> Result<String> {
    let table = purpose.table();
    if purpose.table() == Purpose::ResetPassword.table() {
        db.execute(&format!("UPDATE {table} SET used_at = now() WHERE user_id = $1 AND used_at IS NULL"), &[&user_id])
            .await?;
    }
    let token = new_token();
    db.execute(
        &format!(
            "INSERT INTO {table} (org_id, user_id, token_hash, email, expires_at)
             VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))"
        ),
        &[&org_id, &user_id, &hash_token(&token), &email, &purpose.lifetime().as_secs_f64()],
    )
    .await?;
    Ok(token)
}

/// Spends a token: (org_id, user_id) when it is known, unused, unexpired and the
/// account still has the address; `None` otherwise (forged, used, expired, stale).
pub async fn consume(db: &impl GenericClient, purpose: Purpose, token: &str) -> Result<Option<(OrgId, UserId)>> {
    let token = token.trim();
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let row = db
        .query_opt(
            &format!(
                "UPDATE {} t SET used_at = now()
                 FROM users u
                 WHERE t.token_hash = $1 AND t.used_at IS NULL AND t.expires_at > now()
                   AND u.org_id = t.org_id AND u.id = t.user_id AND lower(u.email) = lower(t.email)
                 RETURNING t.org_id, t.user_id",
                purpose.table()
            ),
            &[&hash_token(token)],
        )
        .await?;
    Ok(row.map(|r| (r.get(0), r.get(1))))
}
