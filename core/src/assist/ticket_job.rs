//! The shape the AI's per-ticket jobs share (triage, article suggestions, draft
//! replies): queued together when a ticket is filed or its requester writes again
//! (`assist::enqueue`), run on the AI queue with the models, one per ticket and
//! message.

/// Declares a per-ticket AI job: its payload (`org_id`, `ticket_id` and
/// `after_comment`, the requester's comment that asked for it — 0 for the ticket's
/// creation) and its `Job` impl, which runs `$run(job, ctx)`.
///
/// Its unique key is the ticket and the message: a run that read the ticket before a
/// new message must not swallow the next one.
macro_rules! ticket_job {
    ($(#[$meta:meta])* $name:ident, kind = $kind:literal, priority = $priority:literal, run = $run:path) => {
        $(#[$meta])*
        #[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
        pub struct $name {
            pub org_id: crate::ids::OrgId,
            pub ticket_id: crate::ids::TicketId,
            /// The requester's comment that asked for it; 0 for the ticket's creation.
            #[serde(default)]
            pub after_comment: i64,
        }

        impl atum_queue::Job for $name {
            type Services = crate::jobs::Services;
            const KIND: &'static str = $kind;
            const QUEUE: &'static str = crate::jobs::AI_QUEUE;
            const PRIORITY: i16 = $priority;
            const NEEDS: &'static [crate::jobs::Need] = &[crate::jobs::Need::Models];

            fn unique_key(&self) -> Option<String> {
                Some(format!("{}:{}", self.ticket_id.0, self.after_comment))
            }

            fn org_id(&self) -> Option<impl Into<i64>> {
                Some(self.org_id)
            }

            async fn run(self, ctx: crate::jobs::JobContext) -> Result<(), atum_queue::JobError> {
                $run(self, ctx).await
            }
        }
    };
}

pub(crate) use ticket_job;
