//! Outgoing mail: the `SEND_EMAIL` job.
//!
//! Mail is queued in the transaction that decides to send it (a rolled-back sign-up
//! sends nothing) and delivered by the job worker through its [`Mailer`].
//!
//! Messages carrying a one-time link are marked sensitive: once delivered, the job
//! row's copy of the body is replaced by a note, so the link does not linger in
//! `job_queue` (the admin jobs API never shows a sensitive body either).

use atum_queue::{Job, JobError};
use serde::{Deserialize, Serialize};

use crate::jobs::{JobContext, Need};
#[cfg(doc)]
use crate::mailer::Mailer;

/// Text the admin jobs API shows instead of a sensitive body (the queue's convention).
pub use atum_queue::REDACTED;

/// One plain-text message.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendEmail {
    pub org_id: Option<crate::ids::OrgId>,
    pub to: String,
    pub subject: String,
    pub text: String,
    /// The body holds a secret (a one-time link): scrubbed from the job once sent.
    #[serde(default)]
    pub sensitive: bool,
}

impl Job for SendEmail {
    type Services = crate::jobs::Services;
    const KIND: &'static str = "SEND_EMAIL";
    const PRIORITY: i16 = 2;
    const MAX_ATTEMPTS: i32 = 8;
    const NEEDS: &'static [Need] = &[Need::Mail];

    fn org_id(&self) -> Option<impl Into<i64>> {
        self.org_id
    }

    async fn run(self, ctx: JobContext) -> Result<(), JobError> {
        ctx.services.mail()?.send(&self.to, &self.subject, &self.text, ctx.job_id).await?;
        if self.sensitive {
            // Delivered: the queue's copy of the link has no further use.
            if let Ok(conn) = ctx.pool.get().await {
                let _ = conn
                    .execute(
                        "UPDATE job_queue SET payload = jsonb_set(payload, '{text}', to_jsonb($2::text)) WHERE id = $1",
                        &[&ctx.job_id, &REDACTED],
                    )
                    .await;
            }
        }
        tracing::info!(job.id = ctx.job_id, subject = %self.subject, "mail sent");
        Ok(())
    }
}
