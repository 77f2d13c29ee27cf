//! What every handler reaches: the pool, the session policy, the security settings
//! and rate limiters, and the one-transaction-per-request helper.

use std::sync::Arc;

use atum_core::{
    auth::{lockout::LoginPolicy, session::SessionPolicy},
    error::Error,
    secret_key::SecretKey,
};
use atum_runtime::config::{ConfigError, Env};

use crate::{auth, client_ip, error::ApiError, rate_limit};

/// Largest JSON body accepted (a ticket description is at most 100,000 characters).
pub const MAX_JSON_BYTES: usize = 512 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub pool: atum_runtime::db::DbPool,
    pub sessions: SessionPolicy,
    pub security: Arc<Security>,
    /// The live ticket feed behind `GET /api/v1/events`.
    pub feed: crate::feed::Feed,
    /// The browser UI's files, when this process serves them.
    pub web: Option<Arc<crate::web_ui::WebUi>>,
    /// The embedding model and the organisations' passage vectors (dense retrieval).
    pub retrieval: Arc<atum_ai::vectors::Retrieval>,
    /// Where attachments' bytes are kept (`ATUM_ATTACHMENTS_URL`).
    pub files: atum_core::storage::Store,
}

/// Account-security settings and the API's rate limiters.
#[derive(Debug)]
pub struct Security {
    pub login: LoginPolicy,
    /// Seals TOTP secrets; without it two-factor enrolment answers `mfa_not_configured`.
    pub key: Option<SecretKey>,
    pub proxies: client_ip::TrustedProxies,
    /// Every request to /api/v1/auth/* and /api/v1/portal/*, per client address.
    pub per_ip: rate_limit::RateLimiter,
    /// Sign-in, reset and second-factor attempts, per account (email or challenge).
    pub per_account: rate_limit::RateLimiter,
    /// Public reads without a session (the portal's knowledge base), per client address:
    /// more generous than `per_ip`, as a reader browses and searches as they type.
    pub per_ip_reads: rate_limit::RateLimiter,
    /// Where users reach the desk; the base of links in emails.
    pub public_url: String,
    /// How often an open event stream sends a keep-alive and checks its session again
    /// (a signed-out or revoked session ends the stream at the next check).
    pub stream_check: std::time::Duration,
}

impl Default for Security {
    fn default() -> Self {
        Security {
            login: LoginPolicy::default(),
            key: None,
            proxies: Default::default(),
            per_ip: rate_limit::RateLimiter::new(60, 20),
            per_account: rate_limit::RateLimiter::new(10, 5),
            per_ip_reads: rate_limit::RateLimiter::new(300, 60),
            public_url: "http://localhost:8080".into(),
            stream_check: std::time::Duration::from_secs(15),
        }
    }
}

impl Security {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let rate = |var: &str, default: u32| -> Result<u32, ConfigError> {
            let v: u32 = env.parse_or(var, default, "a number of requests")?;
            if v == 0 {
                Err(ConfigError::Invalid { var: var.into(), reason: "must be at least 1".into() })
            } else {
                Ok(v)
            }
        };
        let public_url = env.get("ATUM_PUBLIC_URL").unwrap_or_else(|| "http://localhost:8080".into());
        if !(public_url.starts_with("https://") || public_url.starts_with("http://")) {
            return Err(ConfigError::Invalid {
                var: "ATUM_PUBLIC_URL".into(),
                reason: "expected the desk's address, such as https://desk.example.com".into(),
            });
        }
        Ok(Security {
            login: LoginPolicy::from_env(env)?,
            key: SecretKey::from_env(env)?,
            proxies: client_ip::TrustedProxies::from_env(env)?,
            per_ip: rate_limit::RateLimiter::new(
                rate("ATUM_AUTH_RATE_PER_MINUTE", 60)?,
                rate("ATUM_AUTH_RATE_BURST", 20)?,
            ),
            per_account: rate_limit::RateLimiter::new(
                rate("ATUM_AUTH_ACCOUNT_RATE_PER_MINUTE", 10)?,
                rate("ATUM_AUTH_ACCOUNT_RATE_BURST", 5)?,
            ),
            per_ip_reads: rate_limit::RateLimiter::new(
                rate("ATUM_PUBLIC_RATE_PER_MINUTE", 300)?,
                rate("ATUM_PUBLIC_RATE_BURST", 60)?,
            ),
            public_url,
            stream_check: std::time::Duration::from_secs(15),
        })
    }
}

impl AppState {
    pub async fn conn(&self) -> Result<atum_runtime::db::Connection, ApiError> {
        Ok(atum_runtime::db::connection(&self.pool).await?)
    }

    /// The shape of every authenticated request: one transaction, the principal
    /// checked inside it, `work` run in it, commit only if `work` succeeded. A user who
    /// still has to enrol a second factor their org requires gets 403 here.
    pub async fn in_tx<T>(
        &self,
        creds: &auth::Credentials,
        work: impl AsyncFnOnce(&atum_runtime::db::Transaction<'_>, atum_core::auth::Principal) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        self.in_tx_enrolling(creds, async |tx, who| {
            if who.must_enrol_mfa {
                return Err(Error::MfaEnrolmentRequired.into());
            }
            work(tx, who).await
        })
        .await
    }

    /// [`in_tx`](Self::in_tx) for the few routes a user must reach before enrolling a
    /// required second factor: enrolment itself, `/me`, sign-out.
    pub async fn in_tx_enrolling<T>(
        &self,
        creds: &auth::Credentials,
        work: impl AsyncFnOnce(&atum_runtime::db::Transaction<'_>, atum_core::auth::Principal) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await?;
        let who = creds.principal(&tx, self).await?;
        let span = tracing::Span::current();
        span.record("org.id", who.org_id.get());
        span.record("user.id", who.user_id.get());
        let out = work(&tx, who).await?;
        tx.commit().await?;
        Ok(out)
    }
}
