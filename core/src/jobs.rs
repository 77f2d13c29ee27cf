//! The help desk's side of the job queue (`atum-queue`): the services its jobs get,
//! how a domain error ends a job, and whose jobs an admin may see.
//!
//! A worker process builds [`Services`] once at start-up and every job reaches them
//! through its [`JobContext`]: the mail transport, the AI models, and the secret key
//! that opens what is stored sealed (an LLM endpoint's API key). Nothing here is a
//! process-wide global: tests hand in their own (an in-memory mail sink, say) the same
//! way. A job kind names what it needs (`Job::NEEDS`); a worker whose registry holds a
//! kind it has no service for refuses to start, naming both.

use std::{fmt, sync::Arc};

use atum_queue::JobError;

use crate::{
    error::{Error, Result},
    mailer::Mailer,
    models::Models,
    secret_key::SecretKey,
    storage::Store,
};

/// The queue of the CPU-bound AI jobs (triage, its training, article suggestions, draft
/// replies): its own, so that they never hold up mail or SLA work.
pub const AI_QUEUE: &str = "ai";

/// What a job of the help desk gets when it runs.
pub type JobContext = atum_queue::JobContext<Services>;
/// The kinds one worker runs, with the help desk's services.
pub type Registry = atum_queue::Registry<Services>;

/// A service a job kind may need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Mail,
    /// The AI models (`atum-ai`): the sentence embedder and what runs on it.
    Models,
    /// The attachment store (`ATUM_ATTACHMENTS_URL`).
    Attachments,
}

impl fmt::Display for Need {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Need::Mail => "mail (ATUM_SMTP_URL or ATUM_MAIL_DIR)",
            Need::Models => "the AI models (ATUM_EMBED_MODEL_DIR, or `atum models fetch`)",
            Need::Attachments => "the attachment store (ATUM_ATTACHMENTS_URL)",
        })
    }
}

/// The services of one worker process. Cheap to clone.
#[derive(Clone, Default)]
pub struct Services {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    mail: Option<Mailer>,
    models: Option<Arc<dyn Models>>,
    secret_key: Option<SecretKey>,
    attachments: Option<Store>,
}

impl Services {
    pub fn builder() -> ServicesBuilder {
        ServicesBuilder::default()
    }

    /// The worker's mail transport; a worker without one never runs a kind that needs
    /// it (`Registry::check`), so its absence here is permanent.
    pub fn mail(&self) -> Result<&Mailer, JobError> {
        self.inner.mail.as_ref().ok_or_else(|| JobError::Permanent("this worker has no mail transport".into()))
    }

    /// The worker's AI models; like the mail transport, never absent for a kind that
    /// needs them.
    pub fn models(&self) -> Result<Arc<dyn Models>, JobError> {
        self.inner.models.clone().ok_or_else(|| JobError::Permanent("this worker has no AI models".into()))
    }

    /// The key named by `ATUM_SECRET_KEY_FILE`, when this worker has it: without it a
    /// language model with a stored API key is not called (the request log says so).
    pub fn secret_key(&self) -> Option<&SecretKey> {
        self.inner.secret_key.as_ref()
    }
}

impl Services {
    /// The attachment store; never absent for a kind that needs it.
    pub fn attachments(&self) -> Result<&Store, JobError> {
        self.inner.attachments.as_ref().ok_or_else(|| JobError::Permanent("this worker has no attachment store".into()))
    }
}

impl atum_queue::Services for Services {
    type Need = Need;

    fn provides(&self, need: Need) -> bool {
        match need {
            Need::Mail => self.inner.mail.is_some(),
            Need::Models => self.inner.models.is_some(),
            Need::Attachments => self.inner.attachments.is_some(),
        }
    }
}

#[derive(Default)]
pub struct ServicesBuilder {
    inner: Inner,
}

impl ServicesBuilder {
    pub fn mail(mut self, mailer: Mailer) -> Self {
        self.inner.mail = Some(mailer);
        self
    }

    pub fn models(mut self, models: Arc<dyn Models>) -> Self {
        self.inner.models = Some(models);
        self
    }

    pub fn secret_key(mut self, key: Option<SecretKey>) -> Self {
        self.inner.secret_key = key;
        self
    }

    pub fn attachments(mut self, store: Store) -> Self {
        self.inner.attachments = Some(store);
        self
    }

    pub fn build(self) -> Services {
        Services { inner: Arc::new(self.inner) }
    }
}

/// A domain error ends the job for good unless it is transient
/// ([`Error::is_transient`]): a missing ticket or an invalid payload will not appear by
/// retrying; a busy or unreachable database may.
impl From<Error> for JobError {
    fn from(e: Error) -> Self {
        let message = match &e {
            Error::Db(db) => atum_runtime::db::root_cause(db),
            other => other.to_string(),
        };
        if e.is_transient() { JobError::Retry(message) } else { JobError::Permanent(message) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_errors_end_a_job_and_an_unreachable_database_retries_it() {
        use crate::error::{Code, FieldErrors};
        let permanent = [
            Error::NotFound("ticket"),
            FieldErrors::single("subject", "must be 1 to 300 characters"),
            Error::Conflict { code: Code::Closed, message: "the ticket is closed".into() },
            Error::Forbidden("staff only"),
        ];
        for e in permanent {
            assert!(matches!(JobError::from(e), JobError::Permanent(_)));
        }
        assert!(matches!(JobError::from(Error::Unavailable("pool timed out".into())), JobError::Retry(_)));
    }
}
