//! Links between tickets — parent/child, duplicate-of, related-to, blocks — and merging
//! a duplicate into its original.
//!
//! Rules, checked under a per-organisation advisory lock so that two concurrent links
//! cannot together make what each alone would not (a cycle):
//! - both tickets belong to the caller's organisation (another's is "not found");
//! - no ticket is linked to itself, and no link exists twice;
//! - parent/child and blocks have no cycles; a child has one parent;
//! - a duplicate points at the original: not at another duplicate (the answer names the
//!   original to use), and a ticket that others duplicate cannot itself become one.

use crate::auth::policy::Action;
use crate::ids::OrgId;
use crate::ids::TicketId;
use crate::named::Named as _;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};

use super::{
    Status,
    events::{Event, Kind},
    get, get_for_update, locks,
    write::record,
};
use crate::{
    auth::Principal,
    error::{Code, Error, FieldErrors, Result},
};

/// Link kinds as seen from the ticket in the path.
const KINDS: &str = "parent_of, child_of, duplicate_of, has_duplicate, related_to, blocks, blocked_by";

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLink {
    /// From this ticket's side: `parent_of`, `child_of`, `duplicate_of`, `related_to`,
    /// `blocks` or `blocked_by`.
    #[schema(pattern = "^(parent_of|child_of|duplicate_of|related_to|blocks|blocked_by)$")]
    pub kind: String,
    /// The other ticket's id.
    #[schema(value_type = i64)]
    pub ticket_id: TicketId,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LinkedTicket {
    pub id: i64,
    pub number: i32,
    pub subject: String,
    pub status: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Link {
    pub id: i64,
    /// From this ticket's side (see `NewLink.kind`; plus `has_duplicate`).
    pub kind: String,
    pub ticket: LinkedTicket,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
}

/// Serialises relationship changes of one organisation.
async fn lock_org(db: &impl GenericClient, org_id: OrgId) -> Result<()> {
    db.execute("SELECT pg_advisory_xact_lock(hashtextextended('ticket_relationships', $1))", &[&org_id]).await?;
    Ok(())
}

/// Every link of a ticket, from its side (staff only).
pub async fn list(db: &impl GenericClient, who: &Principal, ticket_id: TicketId) -> Result<Vec<Link>> {
    who.require(Action::WorkTickets)?;
    get(db, who, ticket_id).await?;
    let rows = db
        .query(
            "SELECT r.id AS link_id,
                    CASE WHEN r.source_id = $2 THEN r.kind
                         ELSE CASE r.kind WHEN 'parent_of' THEN 'child_of' WHEN 'duplicate_of' THEN 'has_duplicate'
                                          WHEN 'blocks' THEN 'blocked_by' ELSE r.kind END END AS kind,
                    t.id AS ticket_id, t.number, t.subject, t.status, r.created_by, r.created_at
             FROM ticket_relationships r
             JOIN tickets t ON t.org_id = r.org_id AND t.id = CASE WHEN r.source_id = $2 THEN r.target_id ELSE r.source_id END
             WHERE r.org_id = $1 AND (r.source_id = $2 OR r.target_id = $2)
             ORDER BY r.created_at, r.id",
            &[&who.org_id, &ticket_id],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Link {
            id: r.get("link_id"),
            kind: r.get("kind"),
            ticket: LinkedTicket {
                id: r.get("ticket_id"),
                number: r.get("number"),
                subject: r.get("subject"),
                status: r.get("status"),
            },
            created_by: r.get("created_by"),
            created_at: r.get("created_at"),
        })
        .collect())
}

/// Whether `to` is reachable from `from` along links of `kind` (source → target).
async fn reaches(db: &impl GenericClient, kind: &str, from: TicketId, to: TicketId) -> Result<bool> {
    Ok(db
        .query_one(
            "WITH RECURSIVE walk(id) AS (
                 SELECT target_id FROM ticket_relationships WHERE kind = $1 AND source_id = $2
                 UNION
                 SELECT r.target_id FROM ticket_relationships r JOIN walk w ON r.source_id = w.id WHERE r.kind = $1
             )
             SELECT EXISTS (SELECT 1 FROM walk WHERE id = $3)",
            &[&kind, &from, &to],
        )
        .await?
        .get(0))
}

async fn original_of(db: &impl GenericClient, ticket_id: TicketId) -> Result<Option<i64>> {
    Ok(db
        .query_opt(
            "SELECT target_id FROM ticket_relationships WHERE kind = 'duplicate_of' AND source_id = $1",
            &[&ticket_id],
        )
        .await?
        .map(|r| r.get(0)))
}

fn conflict(code: Code, message: String) -> Error {
    Error::Conflict { code, message }
}

/// Adds a link from `ticket_id`'s side. Recorded in both tickets' histories.
pub async fn add(db: &impl GenericClient, who: &Principal, ticket_id: TicketId, new: &NewLink) -> Result<Link> {
    who.require(Action::WorkTickets)?;
    lock_org(db, who.org_id).await?;
    let this = get(db, who, ticket_id).await?;
    let (kind, source, target) = match new.kind.as_str() {
        "parent_of" => ("parent_of", ticket_id, new.ticket_id),
        "child_of" => ("parent_of", new.ticket_id, ticket_id),
        "duplicate_of" => ("duplicate_of", ticket_id, new.ticket_id),
        "related_to" => ("related_to", ticket_id.min(new.ticket_id), ticket_id.max(new.ticket_id)),
        "blocks" => ("blocks", ticket_id, new.ticket_id),
        "blocked_by" => ("blocks", new.ticket_id, ticket_id),
        _ => {
            return Err(FieldErrors::single(
                "kind",
                format!("must be one of: {}", KINDS.replace(", has_duplicate", "")),
            ));
        }
    };
    if new.ticket_id == ticket_id {
        return Err(FieldErrors::single("ticket_id", "a ticket cannot be linked to itself"));
    }
    let other = get(db, who, new.ticket_id).await?;
    let exists: bool = db
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM ticket_relationships WHERE kind = $1 AND source_id = $2 AND target_id = $3)",
            &[&kind, &source, &target],
        )
        .await?
        .get(0);
    if exists {
        return Err(conflict(
            Code::AlreadyLinked,
            format!("#{} and #{} are already linked so", this.number, other.number),
        ));
    }
    match kind {
        "parent_of" => {
            if reaches(db, "parent_of", target, source).await? {
                return Err(conflict(Code::Cycle, "that would make a ticket its own ancestor".into()));
            }
            let has_parent: bool = db
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM ticket_relationships WHERE kind = 'parent_of' AND target_id = $1)",
                    &[&target],
                )
                .await?
                .get(0);
            if has_parent {
                return Err(conflict(Code::AlreadyHasParent, "the child already has a parent; unlink it first".into()));
            }
        }
        "blocks" if reaches(db, "blocks", target, source).await? => {
            return Err(conflict(Code::Cycle, "that would make the tickets block each other in a circle".into()));
        }
        "duplicate_of" => {
            if let Some(original) = original_of(db, target).await? {
                let number: i32 = db.query_one("SELECT number FROM tickets WHERE id = $1", &[&original]).await?.get(0);
                return Err(conflict(
                    Code::DuplicateOfDuplicate,
                    format!(
                        "#{} is itself a duplicate of #{number}; mark it a duplicate of #{number} instead",
                        other.number
                    ),
                ));
            }
            if original_of(db, source).await?.is_some() {
                return Err(conflict(
                    Code::AlreadyADuplicate,
                    format!("#{} is already marked a duplicate", this.number),
                ));
            }
            let has_duplicates: bool = db
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM ticket_relationships WHERE kind = 'duplicate_of' AND target_id = $1)",
                    &[&source],
                )
                .await?
                .get(0);
            if has_duplicates {
                return Err(conflict(
                    Code::HasDuplicates,
                    format!("other tickets are duplicates of #{}; it cannot become a duplicate itself", this.number),
                ));
            }
        }
        _ => {}
    }
    db.execute(
        "INSERT INTO ticket_relationships (org_id, kind, source_id, target_id, created_by) VALUES ($1, $2, $3, $4, $5)",
        &[&who.org_id, &kind, &source, &target, &who.user_id],
    )
    .await?;
    for (on, to, number) in [(ticket_id, new.ticket_id, other.number), (new.ticket_id, ticket_id, this.number)] {
        let after = serde_json::json!({ "kind": kind, "source_id": source, "target_id": target, "ticket_id": to, "number": number });
        record(db, Event::by(who, on, Kind::LinkAdded).after(after)).await?;
    }
    list(db, who, ticket_id)
        .await?
        .into_iter()
        .rev()
        .find(|l| l.ticket.id == new.ticket_id)
        .ok_or(Error::Internal("a link just added is gone".into()))
}

/// Removes a link of `ticket_id` (either side).
pub async fn remove(db: &impl GenericClient, who: &Principal, ticket_id: TicketId, link_id: i64) -> Result<()> {
    who.require(Action::WorkTickets)?;
    lock_org(db, who.org_id).await?;
    get(db, who, ticket_id).await?;
    let row = db
        .query_opt(
            "DELETE FROM ticket_relationships WHERE org_id = $1 AND id = $2 AND (source_id = $3 OR target_id = $3)
             RETURNING kind, source_id, target_id",
            &[&who.org_id, &link_id, &ticket_id],
        )
        .await?
        .ok_or(Error::NotFound("link"))?;
    let (kind, source, target): (String, i64, i64) = (row.get(0), row.get(1), row.get(2));
    for on in [source, target] {
        let before = serde_json::json!({ "kind": kind, "source_id": source, "target_id": target });
        record(db, Event::by(who, on, Kind::LinkRemoved).before(before)).await?;
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Merged {
    /// The duplicate, now closed.
    #[schema(value_type = i64)]
    pub merged_id: TicketId,
    /// The original, which now holds the conversation.
    #[schema(value_type = i64)]
    pub into_id: TicketId,
    pub comments_moved: i64,
}

/// Merges duplicate `dup_id` into `into_id`, in the caller's transaction: the
/// duplicate's comments move to the original (authors and times kept), its requester
/// (and anyone who could see it) can see the original, links that pointed at it as an
/// original now point at the original, and it is closed with a pointer. Both histories
/// record it. Either ticket locked by another agent: 423.
pub async fn merge(db: &impl GenericClient, who: &Principal, dup_id: TicketId, into_id: TicketId) -> Result<Merged> {
    who.require(Action::WorkTickets)?;
    if dup_id == into_id {
        return Err(FieldErrors::single("into_id", "a ticket cannot be merged into itself"));
    }
    lock_org(db, who.org_id).await?;
    // Row locks in id order: two merges of the same pair cannot deadlock.
    let (first, second) = (dup_id.min(into_id), dup_id.max(into_id));
    let a = get_for_update(db, who, first).await?;
    let b = get_for_update(db, who, second).await?;
    let (dup, into) = if a.id == dup_id { (a, b) } else { (b, a) };
    for t in [&dup, &into] {
        locks::ensure_free_for(db, who, t.id).await?;
    }
    let merged_into: (Option<i64>, Option<i64>) = {
        let r = db
            .query_one(
                "SELECT (SELECT merged_into_id FROM tickets WHERE id = $1), (SELECT merged_into_id FROM tickets WHERE id = $2)",
                &[&dup.id, &into.id],
            )
            .await?;
        (r.get(0), r.get(1))
    };
    if merged_into.0.is_some() {
        return Err(conflict(Code::AlreadyMerged, format!("#{} was already merged", dup.number)));
    }
    if merged_into.1.is_some() || into.status == Status::Closed {
        return Err(conflict(
            Code::OriginalClosed,
            format!("#{} is closed or merged; merge into an open ticket", into.number),
        ));
    }
    if let Some(original) = original_of(db, dup.id).await?
        && original != into.id
    {
        return Err(conflict(
            Code::DuplicateOfAnother,
            format!("#{} is marked a duplicate of another ticket; merge it into that one", dup.number),
        ));
    }

    let moved = db
        .execute(
            "UPDATE ticket_comments SET ticket_id = $3 WHERE org_id = $1 AND ticket_id = $2",
            &[&who.org_id, &dup.id, &into.id],
        )
        .await? as i64;
    crate::attachments::link::follow_comments(db, who.org_id, dup.id, into.id).await?;
    // Whoever could see the duplicate as its requester can see the original.
    db.execute(
        "INSERT INTO ticket_requesters (org_id, ticket_id, user_id)
         SELECT $1, $3, u FROM (SELECT $4::bigint AS u UNION SELECT user_id FROM ticket_requesters WHERE ticket_id = $2) s
         WHERE u <> (SELECT requester_id FROM tickets WHERE id = $3)
         ON CONFLICT DO NOTHING",
        &[&who.org_id, &dup.id, &into.id, &dup.requester_id],
    )
    .await?;
    // Duplicates of the duplicate now duplicate the original; then the duplicate's own link.
    db.execute(
        "UPDATE ticket_relationships SET target_id = $2 WHERE kind = 'duplicate_of' AND target_id = $1 AND source_id <> $2",
        &[&dup.id, &into.id],
    )
    .await?;
    db.execute(
        "INSERT INTO ticket_relationships (org_id, kind, source_id, target_id, created_by)
         VALUES ($1, 'duplicate_of', $2, $3, $4) ON CONFLICT DO NOTHING",
        &[&who.org_id, &dup.id, &into.id, &who.user_id],
    )
    .await?;
    db.execute(
        "UPDATE tickets SET status = 'closed', solved_at = coalesce(solved_at, now()), closed_at = now(),
                merged_into_id = $2, version = version + 1, updated_at = now()
         WHERE id = $1",
        &[&dup.id, &into.id],
    )
    .await?;
    db.execute("UPDATE tickets SET version = version + 1, updated_at = now() WHERE id = $1", &[&into.id]).await?;
    db.execute("DELETE FROM ticket_locks WHERE ticket_id = $1", &[&dup.id]).await?;
    let merged = serde_json::json!({ "into_id": into.id, "into_number": into.number, "comments_moved": moved });
    let before = serde_json::json!({ "status": dup.status.as_str() });
    record(db, Event::by(who, dup.id, Kind::MergedInto).before(before).after(merged)).await?;
    let from = serde_json::json!({ "from_id": dup.id, "from_number": dup.number, "comments_moved": moved });
    record(db, Event::by(who, into.id, Kind::MergedFrom).after(from)).await?;
    Ok(Merged { merged_id: dup.id, into_id: into.id, comments_moved: moved })
}
