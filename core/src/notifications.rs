//! In-app notifications about a ticket (`notifications`), for the people responsible
//! for it: its assignee; nobody assigned, the members of its group; no group, every
//! admin of the organisation. Written by the SLA's escalations and the AI's.
//! Each person reads their own (`GET /api/v1/notifications`) and marks them read.

use crate::ids::TicketId;
use crate::ids::UserId;
use deadpool_postgres::GenericClient;

use crate::{error::Result, ids::OrgId};

/// Who is told about a ticket: the assignee, else the group's members, else the admins.
pub struct Responsible {
    pub assignee_id: Option<UserId>,
    pub group_id: Option<i64>,
}

/// Writes a `kind` notification with `body` about `ticket_id` for each active person
/// [`Responsible`] names.
pub async fn notify(
    db: &impl GenericClient,
    org_id: OrgId,
    ticket_id: TicketId,
    kind: &str,
    body: &serde_json::Value,
    to: &Responsible,
) -> Result<()> {
    db.execute(
        "INSERT INTO notifications (org_id, user_id, kind, ticket_id, body)
         SELECT $1, u.id, $3, $2, $4
           FROM users u
          WHERE u.org_id = $1 AND u.is_active AND CASE
                WHEN $5::bigint IS NOT NULL THEN u.id = $5
                WHEN $6::bigint IS NOT NULL THEN u.id IN (SELECT user_id FROM agent_group_members WHERE group_id = $6)
                ELSE u.role = 'admin' END",
        &[&org_id, &ticket_id, &kind, body, &to.assignee_id, &to.group_id],
    )
    .await?;
    Ok(())
}

/// A notification as its reader sees it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct NotificationView {
    pub id: i64,
    /// `sla_escalation` or `ai_escalation`.
    pub kind: String,
    #[schema(value_type = Option<i64>)]
    pub ticket_id: Option<TicketId>,
    pub ticket_subject: Option<String>,
    /// What happened, in a sentence.
    pub text: String,
    /// The kind's details (`clock` of an SLA escalation, `rule` of the AI's).
    pub body: serde_json::Value,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub read_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A page of the reader's notifications, and how many are unread in all.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Inbox {
    pub unread: i64,
    pub items: Vec<NotificationView>,
}

fn text(kind: &str, body: &serde_json::Value, ticket_id: Option<TicketId>) -> String {
    let ticket = ticket_id.map(|t| format!("#{t}")).unwrap_or_else(|| "a ticket".into());
    match kind {
        "sla_escalation" => {
            let clock = body["clock"].as_str().unwrap_or("an").replace('_', " ");
            format!("The {clock} SLA of {ticket} escalated")
        }
        "ai_escalation" => match body["rule"].as_str() {
            Some(rule) => format!("The AI escalated {ticket} (rule “{rule}”)"),
            None => format!("The AI escalated {ticket}"),
        },
        other => format!("{} on {ticket}", other.replace('_', " ")),
    }
}

/// The reader's notifications, newest first, before the id `before`; only the unread
/// ones when `unread_only`.
pub async fn list(
    db: &impl GenericClient,
    who: &crate::auth::Principal,
    limit: i64,
    before: Option<i64>,
    unread_only: bool,
) -> Result<Inbox> {
    let rows = db
        .query(
            "SELECT n.id, n.kind, n.ticket_id, t.subject, n.body, n.created_at, n.read_at
               FROM notifications n
               LEFT JOIN tickets t ON t.org_id = n.org_id AND t.id = n.ticket_id
              WHERE n.org_id = $1 AND n.user_id = $2 AND ($3::bigint IS NULL OR n.id < $3)
                AND (NOT $4 OR n.read_at IS NULL)
              ORDER BY n.id DESC LIMIT $5",
            &[&who.org_id, &who.user_id, &before, &unread_only, &limit.clamp(1, 100)],
        )
        .await?;
    let unread: i64 = db
        .query_one(
            "SELECT count(*) FROM notifications WHERE org_id = $1 AND user_id = $2 AND read_at IS NULL",
            &[&who.org_id, &who.user_id],
        )
        .await?
        .get(0);
    let items = rows
        .iter()
        .map(|r| {
            let (kind, body, ticket_id): (String, serde_json::Value, Option<TicketId>) =
                (r.get("kind"), r.get("body"), r.get("ticket_id"));
            NotificationView {
                id: r.get("id"),
                text: text(&kind, &body, ticket_id),
                kind,
                ticket_id,
                ticket_subject: r.get("subject"),
                body,
                created_at: r.get("created_at"),
                read_at: r.get("read_at"),
            }
        })
        .collect();
    Ok(Inbox { unread, items })
}

/// Marks one of the reader's notifications read (again: no change); another's is not found.
pub async fn mark_read(db: &impl GenericClient, who: &crate::auth::Principal, id: i64) -> Result<()> {
    let n = db
        .execute(
            "UPDATE notifications SET read_at = coalesce(read_at, now()) WHERE org_id = $1 AND user_id = $2 AND id = $3",
            &[&who.org_id, &who.user_id, &id],
        )
        .await?;
    if n == 0 {
        return Err(crate::error::Error::NotFound("notification"));
    }
    Ok(())
}

/// Marks every notification of the reader read; how many were unread.
pub async fn mark_all_read(db: &impl GenericClient, who: &crate::auth::Principal) -> Result<u64> {
    Ok(db
        .execute(
            "UPDATE notifications SET read_at = now() WHERE org_id = $1 AND user_id = $2 AND read_at IS NULL",
            &[&who.org_id, &who.user_id],
        )
        .await?)
}
