//! Keeps the account-security tables small: sign-in attempts past their retention,
//! and challenges, one-time tokens and sessions that can no longer be used. The
//! security audit log is never pruned here (it is the record).

use std::time::Duration;

use deadpool_postgres::GenericClient;

use crate::{
    config::{ConfigError, Env},
    error::Result,
};

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
    Ok(Pruned { attempts, challenges, tokens, sessions })
}
