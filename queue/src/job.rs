//! A kind of background work, what its handler gets, and the registry of the kinds a
//! worker runs.

use std::{collections::HashMap, fmt, future::Future, pin::Pin, sync::Arc};

use serde::{Serialize, de::DeserializeOwned};
use tokio_util::sync::CancellationToken;

/// What a worker process builds once at start-up and hands every job it runs (a mail
/// transport, models, keys: the binary decides). Nothing here is a process-wide global:
/// tests hand in their own the same way.
pub trait Services: Clone + Send + Sync + 'static {
    /// A piece of the services a job kind may need ([`Job::NEEDS`]); its `Display`
    /// says how an operator provides it.
    type Need: Copy + fmt::Display + Send + Sync + 'static;

    fn provides(&self, need: Self::Need) -> bool;
}

/// Jobs that need nothing (tests, the built-in no-op kinds).
impl Services for () {
    type Need = std::convert::Infallible;

    fn provides(&self, need: Self::Need) -> bool {
        match need {}
    }
}

/// A kind of background work. Implement it on the payload type.
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Stored in `job_queue.kind`: SCREAMING_SNAKE_CASE, stable forever.
    const KIND: &'static str;
    const QUEUE: &'static str = "default";
    /// 0 runs first, 9 last.
    const PRIORITY: i16 = 5;
    const MAX_ATTEMPTS: i32 = 10;

    /// What its handler is given.
    type Services: Services;
    /// The services its handler uses; a worker without one of them refuses to start.
    const NEEDS: &'static [<Self::Services as Services>::Need] = &[];

    /// A key that makes a second enqueue a no-op while a job with it is pending or
    /// running (e.g. one triage per ticket).
    fn unique_key(&self) -> Option<String> {
        None
    }

    /// The organisation (the tenant) the job works for, if any, kept in
    /// `job_queue.org_id`: an organisation's admins see its jobs and no others. The
    /// domain's typed id converts at this edge.
    fn org_id(&self) -> Option<impl Into<i64>> {
        None::<i64>
    }

    fn run(self, ctx: JobContext<Self::Services>) -> impl Future<Output = Result<(), JobError>> + Send;
}

/// What a running job can use.
#[derive(Clone)]
pub struct JobContext<S> {
    pub pool: deadpool_postgres::Pool,
    pub job_id: i64,
    pub attempt: i32,
    pub services: S,
    cancel: CancellationToken,
}

impl<S> JobContext<S> {
    pub fn new(
        pool: deadpool_postgres::Pool,
        services: S,
        job_id: i64,
        attempt: i32,
        cancel: CancellationToken,
    ) -> Self {
        JobContext { pool, job_id, attempt, services, cancel }
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

/// A database error ends the job for good unless it is transient: a busy or
/// unreachable database may answer next time; a constraint violation will not.
impl From<tokio_postgres::Error> for JobError {
    fn from(e: tokio_postgres::Error) -> Self {
        let message = atum_runtime::db::root_cause(&e);
        if atum_runtime::db::is_transient(&e) { JobError::Retry(message) } else { JobError::Permanent(message) }
    }
}

type BoxFuture = Pin<Box<dyn Future<Output = Result<(), JobError>> + Send>>;
type Handler<S> = Arc<dyn Fn(serde_json::Value, JobContext<S>) -> BoxFuture + Send + Sync>;
type Check<S> = fn(&S) -> Option<String>;

/// Which kinds this worker can run, how, and with which services.
#[derive(Clone)]
pub struct Registry<S> {
    handlers: HashMap<&'static str, (Handler<S>, Check<S>)>,
    services: S,
}

impl<S: Services + Default> Default for Registry<S> {
    fn default() -> Self {
        Registry::new(S::default())
    }
}

impl<S: Services> Registry<S> {
    /// A registry whose jobs all get `services`.
    pub fn new(services: S) -> Self {
        Registry { handlers: HashMap::new(), services }
    }

    pub fn register<J: Job<Services = S>>(mut self) -> Self {
        let handler: Handler<S> = Arc::new(|payload, ctx| {
            Box::pin(async move {
                // A payload that does not fit its kind will never run: discard it.
                let job: J = serde_json::from_value(payload)
                    .map_err(|e| JobError::Permanent(format!("invalid payload for {}: {e}", J::KIND)))?;
                job.run(ctx).await
            })
        });
        let missing: Check<S> = |services| J::NEEDS.iter().find(|n| !services.provides(**n)).map(|n| n.to_string());
        self.handlers.insert(J::KIND, (handler, missing));
        self
    }

    /// The services every job of this registry gets.
    pub fn with_services(mut self, services: S) -> Self {
        self.services = services;
        self
    }

    pub fn services(&self) -> &S {
        &self.services
    }

    /// Every registered kind has what it needs: call before running anything.
    pub fn check(&self) -> Result<(), MissingService> {
        let mut kinds: Vec<_> = self.handlers.iter().collect();
        kinds.sort_unstable_by_key(|(kind, _)| **kind);
        for (kind, (_, missing)) in kinds {
            if let Some(need) = missing(&self.services) {
                return Err(MissingService { kind, need });
            }
        }
        Ok(())
    }

    pub fn kinds(&self) -> Vec<&'static str> {
        let mut k: Vec<_> = self.handlers.keys().copied().collect();
        k.sort_unstable();
        k
    }

    pub(crate) fn get(&self, kind: &str) -> Option<&Handler<S>> {
        self.handlers.get(kind).map(|(h, _)| h)
    }
}

/// A registered job kind needs a service this worker was not given.
#[derive(Debug, thiserror::Error)]
#[error("job kind {kind} needs {need} and this worker has none")]
pub struct MissingService {
    pub kind: &'static str,
    /// How an operator provides it (the need's `Display`).
    pub need: String,
}
