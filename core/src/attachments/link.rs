//! A pending upload becoming part of a message — a ticket's description, a reply or a
//! note, an article — and the files each message carries.
//!
//! Only the uploader may use their upload, once: anyone else's id, another
//! organisation's included, is "not found", so an id tells nobody else whether it
//! exists.

use std::collections::HashMap;

use deadpool_postgres::GenericClient;

use super::{Attachment, COLUMNS, On, Scan, from_row, limits};
use crate::{
    auth::Principal,
    error::{Code, Error, FieldErrors, Result},
    ids::{AttachmentId, OrgId, TicketId},
};

/// Puts the uploads `ids` of `who` on `on`, in the caller's transaction (the message's
/// own). Returns them in the order given.
pub async fn attach(db: &impl GenericClient, who: &Principal, ids: &[AttachmentId], on: On) -> Result<Vec<Attachment>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let limits = limits::of_org(db, who.org_id).await?;
    if ids.len() > limits.max_files.max(0) as usize {
        return Err(FieldErrors::single(
            "attachment_ids",
            format!("at most {} files on one message", limits.max_files),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    if !ids.iter().all(|id| seen.insert(*id)) {
        return Err(FieldErrors::single("attachment_ids", "names the same file twice"));
    }
    let rows = db
        .query(
            &format!("SELECT {COLUMNS} FROM attachments a WHERE a.org_id = $1 AND a.id = ANY($2) FOR UPDATE"),
            &[&who.org_id, &ids.iter().map(|i| i.0).collect::<Vec<_>>()],
        )
        .await?;
    let found: HashMap<AttachmentId, _> = rows.iter().map(from_row).map(|f| (f.attachment.id, f)).collect();
    for id in ids {
        let Some(f) = found.get(id).filter(|f| f.attachment.uploader_id == who.user_id) else {
            return Err(Error::NotFound("attachment"));
        };
        if !f.attachment.pending {
            return Err(Error::Conflict {
                code: Code::AttachmentAlreadyUsed,
                message: format!("{} is already on a message; upload it again to send it again", f.attachment.name),
            });
        }
        if f.attachment.scan == Scan::Infected {
            return Err(Error::Conflict {
                code: Code::FileInfected,
                message: format!("{} was found to be infected and cannot be sent", f.attachment.name),
            });
        }
    }
    let (ticket_id, comment_id, article_id) = match on {
        On::Nothing => return Err(Error::Internal("attaching to nothing".into())),
        On::Ticket(t) => (Some(t), None, None),
        On::Comment { ticket_id, comment_id } => (Some(ticket_id), Some(comment_id), None),
        On::Article(a) => (None, None, Some(a)),
    };
    let rows = db
        .query(
            &format!(
                "UPDATE attachments a SET ticket_id = $3, comment_id = $4, article_id = $5, attached_at = now()
                  WHERE a.org_id = $1 AND a.id = ANY($2) RETURNING {COLUMNS}"
            ),
            &[&who.org_id, &ids.iter().map(|i| i.0).collect::<Vec<_>>(), &ticket_id, &comment_id, &article_id],
        )
        .await?;
    let mut attached: HashMap<AttachmentId, Attachment> =
        rows.iter().map(|r| from_row(r).attachment).map(|a| (a.id, a)).collect();
    Ok(ids.iter().filter_map(|id| attached.remove(id)).collect())
}

/// The files on each of `comment_ids` (of `org_id`), oldest first.
pub async fn of_comments(
    db: &impl GenericClient,
    org_id: OrgId,
    comment_ids: &[i64],
) -> Result<HashMap<i64, Vec<Attachment>>> {
    let mut by_comment: HashMap<i64, Vec<Attachment>> = HashMap::new();
    if comment_ids.is_empty() {
        return Ok(by_comment);
    }
    let rows = db
        .query(
            &format!(
                "SELECT {COLUMNS} FROM attachments a WHERE a.org_id = $1 AND a.comment_id = ANY($2) ORDER BY a.id"
            ),
            &[&org_id, &comment_ids],
        )
        .await?;
    for row in &rows {
        let found = from_row(row);
        if let On::Comment { comment_id, .. } = found.on {
            by_comment.entry(comment_id).or_default().push(found.attachment);
        }
    }
    Ok(by_comment)
}

/// The files on a ticket's description.
pub async fn of_ticket(db: &impl GenericClient, org_id: OrgId, ticket_id: TicketId) -> Result<Vec<Attachment>> {
    let rows = db
        .query(
            &format!(
                "SELECT {COLUMNS} FROM attachments a
                  WHERE a.org_id = $1 AND a.ticket_id = $2 AND a.comment_id IS NULL ORDER BY a.id"
            ),
            &[&org_id, &ticket_id],
        )
        .await?;
    Ok(rows.iter().map(|r| from_row(r).attachment).collect())
}

/// Comments that moved from one ticket to another (a merge) take their files along.
pub async fn follow_comments(db: &impl GenericClient, org_id: OrgId, from: TicketId, into: TicketId) -> Result<()> {
    db.execute(
        "UPDATE attachments SET ticket_id = $3 WHERE org_id = $1 AND ticket_id = $2 AND comment_id IS NOT NULL",
        &[&org_id, &from, &into],
    )
    .await?;
    Ok(())
}
