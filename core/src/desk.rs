//! The help desk's operations that span domain modules: a change to a ticket, the SLA
//! clocks that follow it and the AI work it sets off, in the caller's one transaction.
//!
//! `tickets` records what happened (and announces it in the journal); `sla` computes
//! clocks from tickets (`sla::follow` composes the changes that need nothing more);
//! `assist` queues the AI's work. This module composes them, so the clocks are
//! refreshed once, after the whole change (a catalog request's priority included), and
//! the ticket returned shows its new deadlines.

use crate::attachments::{self, On, Scan};
use crate::auth::policy::Action;
use crate::error::{Code, Error};
use crate::ids::{AttachmentId, TicketId};
use deadpool_postgres::GenericClient;

use crate::{
    assist::{self, reply},
    auth::Principal,
    catalog::{self, Submission},
    error::Result,
    sla::follow::refresh,
    tickets::{
        self, Ticket,
        comments::{self, Comment, NewComment, Visibility},
        relationships::{self, Merged},
        write::{self, NewTicket},
    },
};

pub async fn create_ticket(db: &impl GenericClient, who: &Principal, new: &NewTicket) -> Result<Ticket> {
    let ticket = write::create(db, who, new).await?;
    let clocked = follow(db, who, &[ticket.id]).await?;
    assist::enqueue(db, who.org_id, ticket.id, 0).await?;
    // Read again only when the clocks may have written its deadlines.
    if clocked { tickets::get(db, who, ticket.id).await } else { Ok(ticket) }
}

/// An edit sets off nothing but its clocks.
pub use crate::sla::follow::update_ticket;

/// The requester marks their request solved; its clocks stop as they would for an
/// agent's change.
pub async fn solve_request(db: &impl GenericClient, who: &Principal, id: TicketId) -> Result<Ticket> {
    write::solve_as_requester(db, who, id).await?;
    follow(db, who, &[id]).await?;
    tickets::get(db, who, id).await
}

/// A reply meets or starts clocks; a customer's reply may reopen the ticket, and is
/// triaged again (its tone, say, is not what it was when they filed) with new
/// articles and a new draft for it. An agent's public reply may be the draft they
/// inserted, as sent: how far they edited it is recorded.
pub async fn add_comment(
    db: &impl GenericClient,
    who: &Principal,
    ticket_id: TicketId,
    new: &NewComment,
) -> Result<Comment> {
    let comment = comments::add(db, who, ticket_id, new).await?;
    follow(db, who, &[ticket_id]).await?;
    if comment.visibility == Visibility::Public {
        if tickets::get(db, who, ticket_id).await?.requester_id == who.user_id.0 {
            assist::enqueue(db, who.org_id, ticket_id, comment.id).await?;
        } else if who.may(Action::WorkTickets) {
            reply::record_sent(db, who.org_id, ticket_id, comment.id, &comment.body).await?;
        }
    }
    Ok(comment)
}

/// The duplicate is closed (its clocks stop); the original gains its conversation.
pub async fn merge(db: &impl GenericClient, who: &Principal, dup_id: TicketId, into_id: TicketId) -> Result<Merged> {
    let merged = relationships::merge(db, who, dup_id, into_id).await?;
    follow(db, who, &[merged.merged_id, merged.into_id]).await?;
    Ok(merged)
}

pub async fn submit_request(db: &impl GenericClient, who: &Principal, item_id: i64, s: &Submission) -> Result<Ticket> {
    let ticket = catalog::submit(db, who, item_id, s).await?;
    follow(db, who, &[ticket.id]).await?;
    assist::enqueue(db, who.org_id, ticket.id, 0).await?;
    tickets::get(db, who, ticket.id).await
}

/// The file `id` if `who` may fetch it, else "not found" (another organisation's
/// included): its uploader while it is pending; on a ticket, whoever may read the
/// ticket, and only staff a file on an internal note; on an article, whoever may read
/// the article. A file waiting for its virus scan is its uploader's alone; an infected
/// one is never served.
pub async fn attachment(db: &impl GenericClient, who: &Principal, id: AttachmentId) -> Result<attachments::Found> {
    let found = attachments::find(db, who.org_id, id).await?;
    let hidden = |e: Error| if matches!(e, Error::NotFound(_)) { Error::NotFound("attachment") } else { e };
    let uploader = found.attachment.uploader_id == who.user_id;
    match found.on {
        On::Nothing if !uploader => return Err(Error::NotFound("attachment")),
        On::Nothing => {}
        On::Ticket(ticket_id) => {
            tickets::get(db, who, ticket_id).await.map_err(hidden)?;
        }
        On::Comment { ticket_id, comment_id } => {
            tickets::get(db, who, ticket_id).await.map_err(hidden)?;
            if !who.may(Action::WorkTickets) && !comments::is_public(db, who.org_id, comment_id).await? {
                return Err(Error::NotFound("attachment"));
            }
        }
        On::Article(article_id) => {
            crate::kb::get(db, who, article_id).await.map_err(hidden)?;
        }
    }
    match found.attachment.scan {
        Scan::Pending if !uploader => Err(Error::NotFound("attachment")),
        Scan::Infected => Err(Error::Conflict {
            code: Code::FileInfected,
            message: format!("{} was found to be infected and is quarantined", found.attachment.name),
        }),
        _ => Ok(found),
    }
}

/// Brings the clocks of `ids` up to date with what was just written; whether any
/// policy applies.
async fn follow(db: &impl GenericClient, who: &Principal, ids: &[TicketId]) -> Result<bool> {
    refresh(db, who.org_id, ids).await
}
