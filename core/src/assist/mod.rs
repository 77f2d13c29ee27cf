//! AI assistance: what the models say about a ticket, stored, shown with its reasons,
//! applied when the organisation allows it, and corrected by agents.
//!
//! The models themselves run in `atum-ai`, which this crate cannot link (it links
//! us). [`crate::models::Models`] is the seam: the job worker builds an
//! implementation once and hands it to the jobs through their services
//! ([`crate::jobs::Need::Models`]), and tests hand in the same real one. Everything around the models — which tickets are
//! history, what a search finds for a ticket, when a re-run is a no-op, what is
//! applied and how it is undone — is here.

pub mod citation;
pub mod escalate;
pub mod feedback;
pub mod grounding;
pub mod reply;
pub mod retrieve;
pub mod reword;
pub mod suggest;
mod ticket_job;
pub mod training;
pub mod triage;

use crate::ids::TicketId;
use serde::Serialize;

use crate::ids::OrgId;

/// Everything the AI has for one ticket, as its agent sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TicketAi {
    /// `null` until triage has run (a worker with the models picks it up within
    /// seconds of the ticket or the customer's message).
    pub triage: Option<triage::TriageView>,
    /// The articles that best match the ticket; `null` until they were looked for.
    pub kb: Option<suggest::KbSuggestions>,
    /// The newest draft reply; `null` until one was composed.
    pub draft: Option<reply::DraftView>,
}

/// The ticket's AI view (staff; a ticket of another organisation is a 404).
pub async fn ticket(
    db: &impl deadpool_postgres::GenericClient,
    who: &crate::auth::Principal,
    ticket_id: TicketId,
) -> crate::error::Result<TicketAi> {
    Ok(TicketAi {
        triage: triage::view(db, who, ticket_id).await?,
        kb: suggest::view(db, who, ticket_id).await?,
        draft: reply::view(db, who, ticket_id).await?,
    })
}

/// Enqueues everything the AI does for a ticket when it is filed (`after_comment` 0)
/// or its requester writes again, in the caller's transaction and one statement:
/// triage, the matching articles and a draft reply.
pub async fn enqueue(
    db: &impl deadpool_postgres::GenericClient,
    org_id: OrgId,
    ticket_id: TicketId,
    after_comment: i64,
) -> crate::error::Result<()> {
    use atum_queue::{Batch, enqueue::Options};
    let mut batch = Batch::default();
    batch.push(&triage::TriageTicket { org_id, ticket_id, after_comment }, Options::default())?;
    batch.push(&suggest::KbSuggest { org_id, ticket_id, after_comment }, Options::default())?;
    batch.push(&reply::SmartReply { org_id, ticket_id, after_comment }, Options::default())?;
    batch.enqueue(db).await?;
    Ok(())
}
