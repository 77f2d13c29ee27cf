//! Sessions: random 256-bit bearer tokens, stored only as their SHA-256.
//!
//! A session ends at the first of: its absolute expiry, `idle` without use, logout,
//! or revocation (deactivating a user revokes all of theirs). Looking a token up by
//! its hash through a unique index is safe against timing attacks: the comparison the
//! database makes is between hashes an attacker cannot steer.

use crate::ids::{OrgId, UserId};
use std::time::Duration;

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use rand::RngExt;
use sha2::{Digest, Sha256};

use super::principal::{Principal, Role};
use crate::error::{Error, Result};
use atum_runtime::config::{ConfigError, Env};

/// How long sessions live.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    pub max_age: Duration,
    pub idle: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy { max_age: Duration::from_secs(12 * 3600), idle: Duration::from_secs(2 * 3600) }
    }
}

impl SessionPolicy {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let d = SessionPolicy::default();
        let max_age = env.parse_or("ATUM_SESSION_MAX_AGE_MINUTES", d.max_age.as_secs() / 60, "a number of minutes")?;
        let idle = env.parse_or("ATUM_SESSION_IDLE_MINUTES", d.idle.as_secs() / 60, "a number of minutes")?;
        if max_age == 0 || idle == 0 {
            return Err(ConfigError::Invalid {
                var: if max_age == 0 { "ATUM_SESSION_MAX_AGE_MINUTES" } else { "ATUM_SESSION_IDLE_MINUTES" }.into(),
                reason: "must be at least 1 minute".into(),
            });
        }
        Ok(SessionPolicy { max_age: Duration::from_secs(max_age * 60), idle: Duration::from_secs(idle * 60) })
    }
}

/// A freshly issued session; the token is shown to the client once and never stored.
#[derive(Debug, Clone)]
pub struct Issued {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub principal: Principal,
}

/// A new token: 32 random bytes from the thread's CSPRNG, hex-encoded.
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex(&bytes)
}

pub fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(bytes)
}

/// Whom a new session is for.
#[derive(Debug, Clone, Copy)]
pub struct Holder {
    pub user_id: UserId,
    pub org_id: OrgId,
    pub role: Role,
    /// The org requires a second factor this user has not enrolled yet.
    pub must_enrol_mfa: bool,
}

pub async fn issue(
    db: &impl GenericClient,
    policy: SessionPolicy,
    holder: Holder,
    ip: Option<std::net::IpAddr>,
    user_agent: Option<&str>,
) -> Result<Issued> {
    let Holder { user_id, org_id, role, must_enrol_mfa } = holder;
    let token = new_token();
    let max_age_secs = policy.max_age.as_secs_f64();
    let user_agent = user_agent.map(|ua| ua.chars().take(512).collect::<String>());
    let row = db
        .query_one(
            "INSERT INTO sessions (org_id, user_id, token_hash, expires_at, ip, user_agent)
             VALUES ($1, $2, $3, now() + make_interval(secs => $4), $5, $6)
             RETURNING id, expires_at",
            &[&org_id, &user_id, &hash_token(&token), &max_age_secs, &ip, &user_agent],
        )
        .await?;
    Ok(Issued {
        token,
        expires_at: row.get(1),
        principal: Principal { session_id: row.get(0), user_id, org_id, role, must_enrol_mfa },
    })
}

/// The principal behind a token, or `Unauthenticated` for an unknown, expired, idle,
/// revoked or deactivated one (the client cannot tell which). `IpNotAllowed` when the
/// org's allowlist does not cover `ip`; the principal says whether the org requires a
/// second factor this user has not enrolled yet (checked live, so turning the setting
/// on applies to sessions already open).
pub async fn authenticate(
    db: &impl GenericClient,
    policy: SessionPolicy,
    token: &str,
    ip: Option<std::net::IpAddr>,
) -> Result<Principal> {
    // Tokens we issue are 64 hex digits; anything else cannot match, so skip the query.
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::Unauthenticated);
    }
    let idle_secs = policy.idle.as_secs_f64();
    // Every authenticated request runs this: a cached statement saves a round trip.
    let stmt = db
        .prepare_cached(
            "SELECT s.id, s.org_id, s.user_id, u.role, s.last_seen_at < now() - interval '1 minute' AS stale,
                    o.require_mfa AND u.role IN ('admin', 'agent') AND NOT EXISTS (
                        SELECT 1 FROM user_totp t WHERE t.user_id = u.id AND t.confirmed_at IS NOT NULL) AS must_enrol_mfa,
                    (NOT EXISTS (SELECT 1 FROM org_ip_allowlist a WHERE a.org_id = s.org_id)
                     OR EXISTS (SELECT 1 FROM org_ip_allowlist a WHERE a.org_id = s.org_id AND $3::inet <<= a.cidr)) AS ip_allowed
             FROM sessions s JOIN users u ON u.org_id = s.org_id AND u.id = s.user_id
                  JOIN organizations o ON o.id = s.org_id
             WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
               AND s.last_seen_at > now() - make_interval(secs => $2) AND u.is_active",
        )
        .await?;
    let row = db.query_opt(&stmt, &[&hash_token(token), &idle_secs, &ip]).await?.ok_or(Error::Unauthenticated)?;
    if !row.get::<_, bool>("ip_allowed") {
        return Err(Error::IpNotAllowed);
    }
    let principal = Principal {
        session_id: row.get("id"),
        org_id: row.get("org_id"),
        user_id: row.get("user_id"),
        role: Role::parse(row.get("role")).ok_or_else(|| Error::Internal("unknown role in users".into()))?,
        must_enrol_mfa: row.get("must_enrol_mfa"),
    };
    // Refresh the idle clock at most once a minute: a write per request is waste.
    if row.get::<_, bool>("stale") {
        db.execute("UPDATE sessions SET last_seen_at = now() WHERE id = $1", &[&principal.session_id]).await?;
    }
    Ok(principal)
}

pub async fn revoke(db: &impl GenericClient, session_id: i64) -> Result<()> {
    db.execute("UPDATE sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", &[&session_id]).await?;
    Ok(())
}

/// A live session as its owner sees it (never the token).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SessionInfo {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    #[schema(value_type = Option<String>)]
    pub ip: Option<std::net::IpAddr>,
    pub user_agent: Option<String>,
    /// The session making this request.
    pub current: bool,
}

/// The user's live sessions, most recently used first.
pub async fn list_live(db: &impl GenericClient, who: &Principal, policy: SessionPolicy) -> Result<Vec<SessionInfo>> {
    list_live_of(db, who.org_id, who.user_id, who.session_id, policy).await
}

/// The live sessions of any user of `org_id` (an admin's view); `current` marks the
/// session `viewer_session`, the one asking.
pub async fn list_live_of(
    db: &impl GenericClient,
    org_id: OrgId,
    user_id: UserId,
    viewer_session: i64,
    policy: SessionPolicy,
) -> Result<Vec<SessionInfo>> {
    let rows = db
        .query(
            "SELECT id, created_at, last_seen_at, expires_at, ip, user_agent FROM sessions
             WHERE org_id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > now()
               AND last_seen_at > now() - make_interval(secs => $3)
             ORDER BY last_seen_at DESC, id DESC",
            &[&org_id, &user_id, &policy.idle.as_secs_f64()],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| SessionInfo {
            id: r.get("id"),
            created_at: r.get("created_at"),
            last_seen_at: r.get("last_seen_at"),
            expires_at: r.get("expires_at"),
            ip: r.get("ip"),
            user_agent: r.get("user_agent"),
            current: r.get::<_, i64>("id") == viewer_session,
        })
        .collect())
}

/// Revokes one of the user's own sessions; false when it is not theirs or not live.
pub async fn revoke_own(db: &impl GenericClient, who: &Principal, session_id: i64) -> Result<bool> {
    revoke_of(db, who.org_id, who.user_id, session_id).await
}

/// Revokes one session of a user of `org_id`; false when it is not theirs or not live.
pub async fn revoke_of(db: &impl GenericClient, org_id: OrgId, user_id: UserId, session_id: i64) -> Result<bool> {
    Ok(db
        .execute(
            "UPDATE sessions SET revoked_at = now() WHERE org_id = $1 AND user_id = $2 AND id = $3 AND revoked_at IS NULL",
            &[&org_id, &user_id, &session_id],
        )
        .await?
        > 0)
}

/// Revokes every live session of the user except `keep`; returns how many.
pub async fn revoke_others(db: &impl GenericClient, org_id: OrgId, user_id: UserId, keep: i64) -> Result<u64> {
    Ok(db
        .execute(
            "UPDATE sessions SET revoked_at = now()
             WHERE org_id = $1 AND user_id = $2 AND id <> $3 AND revoked_at IS NULL",
            &[&org_id, &user_id, &keep],
        )
        .await?)
}

/// Revokes every live session of a user; returns how many.
pub async fn revoke_all(db: &impl GenericClient, org_id: OrgId, user_id: UserId) -> Result<u64> {
    Ok(db
        .execute(
            "UPDATE sessions SET revoked_at = now() WHERE org_id = $1 AND user_id = $2 AND revoked_at IS NULL",
            &[&org_id, &user_id],
        )
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bit_hex_and_unique() {
        let a = new_token();
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, new_token());
        assert_eq!(hash_token(&a).len(), 32);
    }
}
