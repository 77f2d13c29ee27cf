//! Brute-force and spraying defences for sign-in.
//!
//! - Every attempt is a row in `auth_login_attempts` (address, IP, result, time).
//! - Per account: `max_failures` wrong passwords (or second-factor codes) within
//!   `window` lock the account for `lock`, doubling with each consecutive lockout up to
//!   `max_lock`; a complete sign-in resets both. While locked, even the right password
//!   gets the generic answer, so a guesser learns nothing from the lock.
//! - Per source IP: `ip_max_failures` failed attempts within `window`, across any
//!   accounts (password spraying), and the IP is throttled: 429 with `Retry-After`
//!   until the oldest of those failures leaves the window.

use crate::ids::{OrgId, UserId};
use std::{net::IpAddr, time::Duration};

use deadpool_postgres::GenericClient;

use crate::error::Result;
use atum_runtime::config::{ConfigError, Env};

#[derive(Debug, Clone, Copy)]
pub struct LoginPolicy {
    pub max_failures: i32,
    pub window: Duration,
    pub lock: Duration,
    pub max_lock: Duration,
    pub ip_max_failures: i64,
}

impl Default for LoginPolicy {
    fn default() -> Self {
        LoginPolicy {
            max_failures: 5,
            window: Duration::from_secs(15 * 60),
            lock: Duration::from_secs(5 * 60),
            max_lock: Duration::from_secs(24 * 3600),
            ip_max_failures: 30,
        }
    }
}

impl LoginPolicy {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let d = LoginPolicy::default();
        let positive = |var: &str, v: u64| {
            if v == 0 {
                Err(ConfigError::Invalid { var: var.into(), reason: "must be at least 1".into() })
            } else {
                Ok(v)
            }
        };
        let max_failures = positive(
            "ATUM_LOGIN_MAX_FAILURES",
            env.parse_or("ATUM_LOGIN_MAX_FAILURES", d.max_failures as u64, "a number of failures")?,
        )?;
        let window = positive(
            "ATUM_LOGIN_WINDOW_MINUTES",
            env.parse_or("ATUM_LOGIN_WINDOW_MINUTES", d.window.as_secs() / 60, "a number of minutes")?,
        )?;
        let lock = positive(
            "ATUM_LOGIN_LOCK_MINUTES",
            env.parse_or("ATUM_LOGIN_LOCK_MINUTES", d.lock.as_secs() / 60, "a number of minutes")?,
        )?;
        let max_lock = positive(
            "ATUM_LOGIN_MAX_LOCK_MINUTES",
            env.parse_or("ATUM_LOGIN_MAX_LOCK_MINUTES", d.max_lock.as_secs() / 60, "a number of minutes")?,
        )?;
        let ip_max = positive(
            "ATUM_LOGIN_IP_MAX_FAILURES",
            env.parse_or("ATUM_LOGIN_IP_MAX_FAILURES", d.ip_max_failures as u64, "a number of failures")?,
        )?;
        Ok(LoginPolicy {
            max_failures: max_failures.min(1000) as i32,
            window: Duration::from_secs(window * 60),
            lock: Duration::from_secs(lock * 60),
            max_lock: Duration::from_secs(max_lock.max(lock) * 60),
            ip_max_failures: ip_max as i64,
        })
    }

    /// How long the `lockouts`-th consecutive lockout (0-based) lasts: `lock`, doubled
    /// each time, at most `max_lock`.
    pub fn lock_for(&self, lockouts: i32) -> Duration {
        let factor = 1u32.checked_shl(lockouts.clamp(0, 31) as u32).unwrap_or(u32::MAX);
        self.lock.checked_mul(factor).unwrap_or(self.max_lock).min(self.max_lock)
    }
}

/// How an attempt ended, as stored in `auth_login_attempts.result`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptResult {
    Success,
    MfaRequired,
    BadPassword,
    UnknownEmail,
    Locked,
    Inactive,
    NotVerified,
    IpBlocked,
    Throttled,
    MfaFailed,
}

impl AttemptResult {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptResult::Success => "success",
            AttemptResult::MfaRequired => "mfa_required",
            AttemptResult::BadPassword => "bad_password",
            AttemptResult::UnknownEmail => "unknown_email",
            AttemptResult::Locked => "locked",
            AttemptResult::Inactive => "inactive",
            AttemptResult::NotVerified => "not_verified",
            AttemptResult::IpBlocked => "ip_blocked",
            AttemptResult::Throttled => "throttled",
            AttemptResult::MfaFailed => "mfa_failed",
        }
    }
}

/// The failures that count against a source IP.
const IP_FAILURES: &str = "('bad_password', 'unknown_email', 'locked', 'inactive', 'mfa_failed')";

pub async fn record_attempt(
    db: &impl GenericClient,
    org_id: Option<OrgId>,
    email: &str,
    ip: Option<IpAddr>,
    user_id: Option<UserId>,
    result: AttemptResult,
) -> Result<()> {
    let email: String = email.trim().to_lowercase().chars().take(320).collect();
    let stmt = db
        .prepare_cached(
            "INSERT INTO auth_login_attempts (org_id, email, ip, user_id, result) VALUES ($1, $2, $3, $4, $5)",
        )
        .await?;
    db.execute(&stmt, &[&org_id, &email, &ip, &user_id, &result.as_str()]).await?;
    Ok(())
}

/// When `ip` has failed too often within the window: how long until it may try again.
pub async fn ip_throttled(
    db: &impl GenericClient,
    policy: &LoginPolicy,
    ip: Option<IpAddr>,
) -> Result<Option<Duration>> {
    let Some(ip) = ip else { return Ok(None) };
    let row = db
        .query_one(
            &format!(
                "SELECT count(*), extract(epoch FROM min(created_at) + make_interval(secs => $2) - now())::float8
                 FROM (SELECT created_at FROM auth_login_attempts
                       WHERE ip = $1 AND created_at > now() - make_interval(secs => $2) AND result IN {IP_FAILURES}
                       ORDER BY created_at DESC LIMIT $3) recent"
            ),
            &[&ip, &policy.window.as_secs_f64(), &policy.ip_max_failures],
        )
        .await?;
    let (failures, wait): (i64, Option<f64>) = (row.get(0), row.get(1));
    Ok((failures >= policy.ip_max_failures).then(|| Duration::from_secs(wait.unwrap_or(1.0).ceil().max(1.0) as u64)))
}

/// Counts a failure (wrong password or second factor) against the account; locks it
/// when the count reaches the limit. Returns the lock's length when this failure locked
/// it. The caller holds the user's row lock.
pub async fn note_failure(db: &impl GenericClient, policy: &LoginPolicy, user_id: UserId) -> Result<Option<Duration>> {
    let row = db
        .query_one(
            "UPDATE users SET
                 failed_logins = CASE WHEN failed_logins_since IS NULL
                                        OR failed_logins_since < now() - make_interval(secs => $2)
                                      THEN 1 ELSE failed_logins + 1 END,
                 failed_logins_since = CASE WHEN failed_logins_since IS NULL
                                              OR failed_logins_since < now() - make_interval(secs => $2)
                                            THEN now() ELSE failed_logins_since END
             WHERE id = $1 RETURNING failed_logins, lockouts",
            &[&user_id, &policy.window.as_secs_f64()],
        )
        .await?;
    let (failures, lockouts): (i32, i32) = (row.get(0), row.get(1));
    if failures < policy.max_failures {
        return Ok(None);
    }
    let lock = policy.lock_for(lockouts);
    db.execute(
        "UPDATE users SET locked_until = now() + make_interval(secs => $2), lockouts = lockouts + 1,
                          failed_logins = 0, failed_logins_since = NULL
         WHERE id = $1",
        &[&user_id, &lock.as_secs_f64()],
    )
    .await?;
    Ok(Some(lock))
}

/// A complete sign-in: the slate is clean again.
pub async fn note_success(db: &impl GenericClient, user_id: UserId) -> Result<()> {
    db.execute(
        "UPDATE users SET failed_logins = 0, failed_logins_since = NULL, locked_until = NULL, lockouts = 0,
                          last_login_at = now()
         WHERE id = $1",
        &[&user_id],
    )
    .await?;
    Ok(())
}

/// An admin lifts a lock (and forgets the failures). Returns false for no such user.
pub async fn unlock(db: &impl GenericClient, org_id: OrgId, user_id: UserId) -> Result<bool> {
    // Announced at commit, so every API process forgets the account's sign-in rate
    // too (the per-account limiter lives in each process's memory).
    Ok(db
        .execute(
            "WITH u AS (
                 UPDATE users SET failed_logins = 0, failed_logins_since = NULL, locked_until = NULL, lockouts = 0
                 WHERE org_id = $1 AND id = $2 RETURNING org_id, id
             )
             SELECT pg_notify($3, $4) FROM u",
            &[&org_id, &user_id, &UNLOCKED, &Unlocked { org_id, user_id }.encode()],
        )
        .await?
        > 0)
}

/// The NOTIFY channel of [`unlock`]; the payload is an [`Unlocked`].
pub const UNLOCKED: &str = "atum_unlocked";

/// Whose account was unlocked (`org_id:user_id` on [`UNLOCKED`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unlocked {
    pub org_id: OrgId,
    pub user_id: UserId,
}

impl Unlocked {
    pub fn encode(self) -> String {
        format!("{}:{}", self.org_id, self.user_id)
    }

    /// `None` for a payload [`unlock`] did not write.
    pub fn parse(payload: &str) -> Option<Unlocked> {
        let (org, user) = payload.split_once(':')?;
        Some(Unlocked { org_id: org.parse().ok()?, user_id: user.parse().ok()? })
    }
}

/// The keys the API's per-account limiter counts `user`'s sign-ins under: the
/// address as typed (trimmed, lowercased) with the organisation named, and without
/// (an instance with one organisation lets the sign-in leave it out).
pub async fn sign_in_keys(db: &impl GenericClient, org_id: OrgId, user_id: UserId) -> Result<Vec<String>> {
    let row = db
        .query_opt(
            "SELECT o.slug, lower(u.email) FROM users u JOIN organizations o ON o.id = u.org_id
             WHERE u.org_id = $1 AND u.id = $2",
            &[&org_id, &user_id],
        )
        .await?;
    Ok(row
        .map(|r| {
            let (slug, email): (String, String) = (r.get("slug"), r.get(1));
            vec![sign_in_key(Some(&slug), &email), sign_in_key(None, &email)]
        })
        .unwrap_or_default())
}

/// The per-account limiter's key for a sign-in to `org` (as named, if at all) as `email`.
pub fn sign_in_key(org: Option<&str>, email: &str) -> String {
    format!("login:{}:{}", org.unwrap_or(""), email.trim().to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_consecutive_lockout_doubles_up_to_the_maximum() {
        let p = LoginPolicy { lock: Duration::from_secs(60), max_lock: Duration::from_secs(600), ..Default::default() };
        let locks: Vec<u64> = (0..6).map(|n| p.lock_for(n).as_secs()).collect();
        assert_eq!(locks, [60, 120, 240, 480, 600, 600]);
        assert_eq!(p.lock_for(1000).as_secs(), 600);
    }

    #[test]
    fn a_zero_limit_in_the_environment_is_refused_by_name() {
        let env = Env::from_fn(|v| (v == "ATUM_LOGIN_MAX_FAILURES").then(|| "0".to_string()));
        let err = LoginPolicy::from_env(&env).unwrap_err();
        assert!(err.to_string().contains("ATUM_LOGIN_MAX_FAILURES"), "{err}");
    }
}
