//! What a worker process builds once at start-up and every job reaches through its
//! [`JobContext`](super::JobContext): the mail transport today, an HTTP client, the
//! AI models, and the secret key that opens what is stored sealed (an LLM endpoint's
//! API key). Nothing here is a process-wide
//! global: tests hand in their own (an in-memory mail sink, say) the same way.
//!
//! A job kind names what it needs ([`Job::NEEDS`](super::Job::NEEDS)); a worker whose
//! registry holds a kind it has no service for refuses to start, naming both.

use std::sync::Arc;

use crate::{assist::Models, auth::secret_key::SecretKey, mail::Mailer};

/// A service a job kind may need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Mail,
    /// The AI models (`atum-ai`): the sentence embedder and what runs on it.
    Models,
}

impl Need {
    pub fn as_str(self) -> &'static str {
        match self {
            Need::Mail => "mail (ATUM_SMTP_URL or ATUM_MAIL_DIR)",
            Need::Models => "the AI models (ATUM_EMBED_MODEL_DIR, or `atum models fetch`)",
        }
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
}

impl Services {
    pub fn builder() -> ServicesBuilder {
        ServicesBuilder::default()
    }

    pub fn mail(&self) -> Option<&Mailer> {
        self.inner.mail.as_ref()
    }

    pub fn models(&self) -> Option<&Arc<dyn Models>> {
        self.inner.models.as_ref()
    }

    /// The key named by `ATUM_SECRET_KEY_FILE`, when this worker has it: without it a
    /// language model with a stored API key is not called (the request log says so).
    pub fn secret_key(&self) -> Option<&SecretKey> {
        self.inner.secret_key.as_ref()
    }

    pub fn provides(&self, need: Need) -> bool {
        match need {
            Need::Mail => self.inner.mail.is_some(),
            Need::Models => self.inner.models.is_some(),
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

    pub fn build(self) -> Services {
        Services { inner: Arc::new(self.inner) }
    }
}

/// A registered job kind needs a service this worker was not given.
#[derive(Debug, thiserror::Error)]
#[error("job kind {kind} needs {} and this worker has none", need.as_str())]
pub struct MissingService {
    pub kind: &'static str,
    pub need: Need,
}
