//! In-app notifications about a ticket (`notifications`), for the people responsible
//! for it: its assignee; nobody assigned, the members of its group; no group, every
//! admin of the organisation. Written by the SLA's escalations and the AI's.

use deadpool_postgres::GenericClient;

use crate::{error::Result, ids::OrgId};

/// Who is told about a ticket: the assignee, else the group's members, else the admins.
pub struct Responsible {
    pub assignee_id: Option<i64>,
    pub group_id: Option<i64>,
}

/// Writes a `kind` notification with `body` about `ticket_id` for each active person
/// [`Responsible`] names.
pub async fn notify(
    db: &impl GenericClient,
    org_id: OrgId,
    ticket_id: i64,
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
