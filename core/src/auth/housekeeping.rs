//! Keeps the account-security tables small: sign-in attempts past their retention,
//! and challenges, one-time tokens and sessions that can no longer be used. Portal
//! sign-ups whose verification link expired unused are deleted, so an address cannot
//! be held by someone who never proved they own it. The security audit log is never
//! pruned here (it is the record).

use std::time::Duration;

use deadpool_postgres::GenericClient;

use crate::error::Result;
use atum_runtime::config::{ConfigError, Env};

/// How long rows that can no longer be used are kept, for investigations.
const SPENT_KEPT: &str = "30 days";

#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// Sign-in attempts (the address throttle needs only its window of them).
    pub attempts: Duration,
}

impl Retention {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let days: u64 = env.parse_or("ATUM_LOGIN_ATTEMPTS_RETENTION_DAYS", 90, "a number of days")?;
        if days == 0 {
            return Err(ConfigError::Invalid {
                var: "ATUM_LOGIN_ATTEMPTS_RETENTION_DAYS".into(),
                reason: "must be at least 1 (the address throttle reads recent attempts)".into(),
            });
        }
        Ok(Retention { attempts: Duration::from_secs(days * 86_400) })
    }
}

/// Rows deleted, by table.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub attempts: u64,
    pub challenges: u64,
    pub tokens: u64,
    pub sessions: u64,
    pub unverified_signups: u64,
}

pub async fn prune(db: &impl GenericClient, retention: Retention) -> Result<Pruned> {
    let attempts = db
        .execute(
            "DELETE FROM auth_login_attempts WHERE created_at < now() - make_interval(secs => $1)",
            &[&retention.attempts.as_secs_f64()],
        )
        .await?;
    let spent = |table: &str| {
        format!(
            "DELETE FROM {table} WHERE (used_at IS NOT NULL OR expires_at < now())
             AND coalesce(used_at, expires_at) < now() - interval '{SPENT_KEPT}'"
        )
    };
    let challenges = db.execute(&spent("mfa_challenges"), &[]).await?;
    let tokens = db.execute(&spent("email_verification_tokens"), &[]).await?
        + db.execute(&spent("password_reset_tokens"), &[]).await?;
    let sessions = db
        .execute(
            &format!(
                "DELETE FROM sessions WHERE coalesce(revoked_at, expires_at) < now() - interval '{SPENT_KEPT}'
                 AND (revoked_at IS NOT NULL OR expires_at < now())"
            ),
            &[],
        )
        .await?;
    let unverified_signups = prune_unverified_signups(db).await?;
    Ok(Pruned { attempts, challenges, tokens, sessions, unverified_signups })
}

/// Deletes sign-ups that never verified their address and have no live link left (a
/// resend issues a new one, which keeps the account). Only accounts nothing points
/// at: a customer who never signed in has no tickets, but an agent may have filed one
/// for that address, and then the person stays. Each deletion is recorded in the
/// organisation's audit log.
async fn prune_unverified_signups(db: &impl GenericClient) -> Result<u64> {
    let rows = db
        .query(
            "WITH gone AS (
                 DELETE FROM users u
                 WHERE u.must_verify_email AND u.email_verified_at IS NULL AND u.role = 'customer'
                   AND NOT EXISTS (SELECT 1 FROM email_verification_tokens t
                                   WHERE t.org_id = u.org_id AND t.user_id = u.id
                                     AND t.used_at IS NULL AND t.expires_at > now())
                   AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.org_id = u.org_id AND t.requester_id = u.id)
                   AND NOT EXISTS (SELECT 1 FROM ticket_comments c WHERE c.org_id = u.org_id AND c.author_id = u.id)
                   AND NOT EXISTS (SELECT 1 FROM ticket_events e WHERE e.org_id = u.org_id AND e.actor_id = u.id)
                 RETURNING u.org_id, u.id, u.email
             )
             INSERT INTO security_audit_log (org_id, event, actor_kind, detail)
             SELECT org_id, $1, 'housekeeping', jsonb_build_object('user_id', id, 'email', email) FROM gone
             RETURNING 1",
            &[&super::audit::event::SIGNUP_EXPIRED],
        )
        .await?;
    Ok(rows.len() as u64)
}
