//! Presence: who else has a ticket open, and who is typing — beside the lock, which
//! says who is *answering*. The open ticket view renews its row every few seconds
//! ([`LEASE`] is a few heartbeats long) and removes it when the tab closes, so a
//! viewer disappears within seconds either way. Staff only: customers neither see
//! nor leave presence.
//!
//! A change is announced on [`CHANNEL`] (`org_id:ticket_id`, as the journal's notices)
//! so open views update at once; presence is not a change to the ticket and stays out
//! of its journal and history.

use crate::auth::policy::Action;
use crate::ids::UserId;
use std::time::Duration;

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;

use super::{events::Notice, get};
use crate::{
    auth::Principal,
    error::Result,
    ids::{OrgId, TicketId},
};

/// The NOTIFY channel of presence changes. Its payload is a journal [`Notice`].
pub const CHANNEL: &str = "atum_presence";

/// How long a heartbeat keeps a viewer present.
pub const LEASE: Duration = Duration::from_secs(15);

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Viewer {
    #[schema(value_type = i64)]
    pub user_id: UserId,
    pub display_name: String,
    pub typing: bool,
    pub since: DateTime<Utc>,
    /// The caller.
    pub me: bool,
}

/// Whether `who` hears of a presence change (`notice`): staff of its organisation.
pub fn audible_to(notice: Notice, who: &Principal) -> bool {
    notice.org_id == who.org_id && who.may(Action::WorkTickets)
}

/// Who has the ticket open now (the caller included), oldest first.
pub async fn viewers(db: &impl GenericClient, who: &Principal, ticket_id: TicketId) -> Result<Vec<Viewer>> {
    who.require(Action::WorkTickets)?;
    get(db, who, ticket_id).await?;
    list(db, who, ticket_id).await
}

async fn list(db: &impl GenericClient, who: &Principal, ticket_id: TicketId) -> Result<Vec<Viewer>> {
    let rows = db
        .query(
            "SELECT p.user_id, u.display_name, p.typing, p.seen_at
             FROM ticket_presence p JOIN users u ON u.org_id = p.org_id AND u.id = p.user_id
             WHERE p.org_id = $1 AND p.ticket_id = $2 AND p.expires_at > now()
             ORDER BY p.seen_at, p.user_id",
            &[&who.org_id, &ticket_id],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Viewer {
            user_id: r.get(0),
            display_name: r.get(1),
            typing: r.get(2),
            since: r.get(3),
            me: who.user_id == r.get::<_, i64>(0),
        })
        .collect())
}

/// The caller has the ticket open (and is typing, or not): renews the lease and
/// answers who else is there. Announced only when something others see changed.
pub async fn here(db: &impl GenericClient, who: &Principal, ticket_id: TicketId, typing: bool) -> Result<Vec<Viewer>> {
    who.require(Action::WorkTickets)?;
    get(db, who, ticket_id).await?;
    let secs = LEASE.as_secs_f64();
    let changed: bool = db
        .query_one(
            "WITH before AS (
                 SELECT typing, expires_at > now() AS live FROM ticket_presence WHERE ticket_id = $2 AND user_id = $3
             ), upsert AS (
                 INSERT INTO ticket_presence (org_id, ticket_id, user_id, typing, expires_at)
                 VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))
                 ON CONFLICT (ticket_id, user_id) DO UPDATE
                 SET typing = EXCLUDED.typing, expires_at = EXCLUDED.expires_at,
                     seen_at = CASE WHEN ticket_presence.expires_at > now() THEN ticket_presence.seen_at ELSE now() END
             )
             SELECT NOT coalesce((SELECT live AND typing = $4 FROM before), false)",
            &[&who.org_id, &ticket_id, &who.user_id, &typing, &secs],
        )
        .await?
        .get(0);
    if changed {
        announce(db, who.org_id, ticket_id).await?;
    }
    list(db, who, ticket_id).await
}

/// The caller closed the ticket.
pub async fn gone(db: &impl GenericClient, who: &Principal, ticket_id: TicketId) -> Result<()> {
    who.require(Action::WorkTickets)?;
    let removed = db
        .execute(
            "DELETE FROM ticket_presence WHERE org_id = $1 AND ticket_id = $2 AND user_id = $3",
            &[&who.org_id, &ticket_id, &who.user_id],
        )
        .await?;
    if removed > 0 {
        announce(db, who.org_id, ticket_id).await?;
    }
    Ok(())
}

/// Tells open workspaces that who is on the ticket changed: a viewer, or the lock's
/// holder (the lock module announces its changes here too, for the list's badges).
pub(crate) async fn announce(db: &impl GenericClient, org_id: OrgId, ticket_id: TicketId) -> Result<()> {
    let notice = Notice { org_id, ticket_id, entry_id: None }.encode();
    db.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &notice]).await?;
    Ok(())
}

/// A ticket someone is on: its viewers and the holder of its lock.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Activity {
    #[schema(value_type = i64)]
    pub ticket_id: TicketId,
    /// Who has it open, oldest first (the caller included).
    pub viewers: Vec<Viewer>,
    /// Who holds its lock (is answering), if anyone.
    pub lock_holder: Option<Holder>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Holder {
    #[schema(value_type = i64)]
    pub user_id: UserId,
    pub display_name: String,
    /// The caller.
    pub me: bool,
}

/// Every ticket of the organisation that someone has open or locked now, for the
/// ticket list's badges (staff). Bounded by the agents at work, not by the tickets.
pub async fn activity(db: &impl GenericClient, who: &Principal) -> Result<Vec<Activity>> {
    who.require(Action::WorkTickets)?;
    let rows = db
        .query(
            "SELECT p.ticket_id, p.user_id, u.display_name, p.typing, p.seen_at AS since, false AS holds_lock
             FROM ticket_presence p JOIN users u ON u.org_id = p.org_id AND u.id = p.user_id
             WHERE p.org_id = $1 AND p.expires_at > now()
             UNION ALL
             SELECT l.ticket_id, l.user_id, u.display_name, false, l.acquired_at, true
             FROM ticket_locks l JOIN users u ON u.org_id = l.org_id AND u.id = l.user_id
             WHERE l.org_id = $1 AND l.expires_at > now()
             ORDER BY 1, 5, 2",
            &[&who.org_id],
        )
        .await?;
    let mut out: Vec<Activity> = Vec::new();
    for r in rows {
        let ticket_id: TicketId = r.get("ticket_id");
        if out.last().is_none_or(|a| a.ticket_id != ticket_id) {
            out.push(Activity { ticket_id, viewers: Vec::new(), lock_holder: None });
        }
        let Some(entry) = out.last_mut() else { continue };
        let user_id: UserId = r.get("user_id");
        let me = user_id == who.user_id;
        if r.get::<_, bool>("holds_lock") {
            entry.lock_holder = Some(Holder { user_id, display_name: r.get("display_name"), me });
        } else {
            entry.viewers.push(Viewer {
                user_id,
                display_name: r.get("display_name"),
                typing: r.get("typing"),
                since: r.get("since"),
                me,
            });
        }
    }
    Ok(out)
}

/// Deletes rows whose lease ran out long ago (housekeeping).
pub async fn prune(db: &impl GenericClient) -> Result<u64> {
    Ok(db.execute("DELETE FROM ticket_presence WHERE expires_at < now() - interval '1 hour'", &[]).await?)
}
