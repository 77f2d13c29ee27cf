//! The PostgreSQL job queue: typed jobs, transactional enqueue, leases, retries.
//!
//! Delivery is at-least-once: a handler may run again after a crash, so handlers are
//! idempotent. What the engine promises:
//! - a job enqueued in a transaction exists exactly when that transaction commits;
//! - one job is never run by two workers at the same time while their leases hold, and
//!   a worker that lost its lease cannot overwrite the newer attempt's result (every
//!   completion is fenced by worker id and attempt);
//! - a job whose worker died is back in the queue one lease interval later (rescuer);
//! - failures retry with exponential backoff and jitter up to `max_attempts`, then the
//!   job is discarded with its whole error history kept.

pub mod admin;
pub mod enqueue;
pub mod services;
pub mod store;
pub mod worker;

use std::{collections::HashMap, future::Future, pin::Pin, sync::Arc, time::Duration};

use serde::{Serialize, de::DeserializeOwned};
use tokio_util::sync::CancellationToken;

pub use enqueue::{Batch, enqueue, enqueue_many};
pub use services::{MissingService, Need, Services};

/// The NOTIFY channel that wakes job workers; the payload is the queue name.
pub const CHANNEL: &str = "atum_jobs";

/// What a wake-up on [`CHANNEL`] names: one queue's workers, or every queue's (a
/// payload no worker knows as a queue rings them all).
#[derive(Debug, Clone, Copy)]
pub enum Wake<'a> {
    Queue(&'a str),
    All,
}

/// Wakes the job workers, in the caller's transaction (delivered at commit).
pub async fn wake(db: &impl deadpool_postgres::GenericClient, wake: Wake<'_>) -> crate::error::Result<()> {
    let payload = match wake {
        Wake::Queue(q) => q,
        Wake::All => "*",
    };
    db.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &payload]).await?;
    Ok(())
}

/// A kind of background work. Implement it on the payload type.
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Stored in `job_queue.kind`: SCREAMING_SNAKE_CASE, stable forever.
    const KIND: &'static str;
    const QUEUE: &'static str = "default";
    /// 0 runs first, 9 last.
    const PRIORITY: i16 = 5;
    const MAX_ATTEMPTS: i32 = 10;
    /// The services its handler uses; a worker without one of them refuses to start.
    const NEEDS: &'static [Need] = &[];

    /// A key that makes a second enqueue a no-op while a job with it is pending or
    /// running (e.g. one triage per ticket).
    fn unique_key(&self) -> Option<String> {
        None
    }

    /// The organisation the job works for, if any.
    fn org_id(&self) -> Option<i64> {
        None
    }

    fn run(self, ctx: JobContext) -> impl Future<Output = Result<(), JobError>> + Send;
}

/// What a running job can use.
#[derive(Clone)]
pub struct JobContext {
    pub pool: deadpool_postgres::Pool,
    pub job_id: i64,
    pub attempt: i32,
    pub services: Services,
    cancel: CancellationToken,
}

impl JobContext {
    pub fn new(
        pool: deadpool_postgres::Pool,
        services: Services,
        job_id: i64,
        attempt: i32,
        cancel: CancellationToken,
    ) -> Self {
        JobContext { pool, job_id, attempt, services, cancel }
    }

    /// The worker's mail transport; a worker without one never runs a kind that
    /// needs it ([`Registry::check`]), so its absence here is permanent.
    pub fn mail(&self) -> Result<&crate::mail::Mailer, JobError> {
        self.services.mail().ok_or_else(|| JobError::Permanent("this worker has no mail transport".into()))
    }

    /// The worker's AI models; like the mail transport, never absent for a kind
    /// that needs them.
    pub fn models(&self) -> Result<Arc<dyn crate::assist::Models>, JobError> {
        self.services.models().cloned().ok_or_else(|| JobError::Permanent("this worker has no AI models".into()))
    }

    pub fn secret_key(&self) -> Option<&crate::auth::secret_key::SecretKey> {
        self.services.secret_key()
    }

    /// True once the job was cancelled or its lease lost: stop at the next safe point.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Resolves when the job is cancelled; for `select!` around long waits.
    pub async fn cancelled(&self) {
        self.cancel.cancelled().await
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth another attempt (network, a busy database, …).
    #[error("{0}")]
    Retry(String),
    /// Will never succeed: discard now, keeping the error.
    #[error("{0}")]
    Permanent(String),
    /// The handler stopped because it was cancelled.
    #[error("cancelled")]
    Cancelled,
}

/// A domain error ends the job for good unless it is transient
/// ([`Error::is_transient`](crate::error::Error::is_transient)): a missing ticket or an
/// invalid payload will not appear by retrying; a busy or unreachable database may.
impl From<crate::error::Error> for JobError {
    fn from(e: crate::error::Error) -> Self {
        let message = match &e {
            crate::error::Error::Db(db) => crate::db::root_cause(db),
            other => other.to_string(),
        };
        if e.is_transient() { JobError::Retry(message) } else { JobError::Permanent(message) }
    }
}

impl From<tokio_postgres::Error> for JobError {
    fn from(e: tokio_postgres::Error) -> Self {
        crate::error::Error::Db(e).into()
    }
}

type BoxFuture = Pin<Box<dyn Future<Output = Result<(), JobError>> + Send>>;
type Handler = Arc<dyn Fn(serde_json::Value, JobContext) -> BoxFuture + Send + Sync>;

/// Which kinds this worker can run, how, and with which services.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<&'static str, (Handler, &'static [Need])>,
    services: Services,
}

impl Registry {
    pub fn register<J: Job>(mut self) -> Self {
        let handler: Handler = Arc::new(|payload, ctx| {
            Box::pin(async move {
                // A payload that does not fit its kind will never run: discard it.
                let job: J = serde_json::from_value(payload)
                    .map_err(|e| JobError::Permanent(format!("invalid payload for {}: {e}", J::KIND)))?;
                job.run(ctx).await
            })
        });
        self.handlers.insert(J::KIND, (handler, J::NEEDS));
        self
    }

    /// The services every job of this registry gets.
    pub fn with_services(mut self, services: Services) -> Self {
        self.services = services;
        self
    }

    pub fn services(&self) -> &Services {
        &self.services
    }

    /// Every registered kind has what it needs: call before running anything.
    pub fn check(&self) -> Result<(), MissingService> {
        let mut kinds: Vec<_> = self.handlers.iter().collect();
        kinds.sort_unstable_by_key(|(kind, _)| **kind);
        for (kind, (_, needs)) in kinds {
            if let Some(need) = needs.iter().find(|n| !self.services.provides(**n)) {
                return Err(MissingService { kind, need: *need });
            }
        }
        Ok(())
    }

    pub fn kinds(&self) -> Vec<&'static str> {
        let mut k: Vec<_> = self.handlers.keys().copied().collect();
        k.sort_unstable();
        k
    }

    pub(crate) fn get(&self, kind: &str) -> Option<&Handler> {
        self.handlers.get(kind).map(|(h, _)| h)
    }
}

/// Delay before retry `attempt` (1-based): 2^attempt seconds capped at one hour, with
/// ±25% jitter so a burst of failures does not come back as a burst.
pub fn backoff(attempt: i32) -> Duration {
    use rand::RngExt;
    let base = 2f64.powi(attempt.clamp(1, 12)).min(3600.0);
    Duration::from_secs_f64(base * rand::rng().random_range(0.75..=1.25))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_errors_end_a_job_and_an_unreachable_database_retries_it() {
        use crate::error::{Error, FieldErrors};
        let permanent = [
            Error::NotFound("ticket"),
            FieldErrors::single("subject", "must be 1 to 300 characters"),
            Error::Conflict { code: crate::error::Code::Closed, message: "the ticket is closed".into() },
            Error::Forbidden("staff only"),
        ];
        for e in permanent {
            assert!(matches!(JobError::from(e), JobError::Permanent(_)));
        }
        assert!(matches!(JobError::from(Error::Unavailable("pool timed out".into())), JobError::Retry(_)));
    }

    #[test]
    fn backoff_grows_exponentially_with_bounded_jitter() {
        for attempt in 1..=15 {
            let d = backoff(attempt).as_secs_f64();
            let base = 2f64.powi(attempt.clamp(1, 12)).min(3600.0);
            assert!(d >= base * 0.75 - 1e-9 && d <= base * 1.25 + 1e-9, "attempt {attempt}: {d}");
        }
        assert!(backoff(20) <= Duration::from_secs(4500));
    }
}
