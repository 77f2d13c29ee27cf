//! The live feed: the ticket journal as the browser's event stream reads it.
//!
//! An entry says only *that* a ticket changed, how, by whom and when — never what it
//! now holds. A client that cares fetches the ticket through the API, whose checks
//! apply as always; so the feed cannot leak a field the reader may not see. What it
//! could leak is that something happened: a customer's feed therefore carries only
//! their own tickets, and not the events they would not see in the ticket itself
//! (internal notes, locks, links, SLA marks).

use crate::auth::policy::Action;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;

use super::events::Kind;
use crate::{
    actor::ActorKind,
    auth::Principal,
    error::Result,
    ids::{OrgId, TicketId, UserId},
    named::Named,
};

/// One journal entry, as streamed.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = FeedEntry)]
pub struct Entry {
    /// The journal's id: the stream's event id, and what `Last-Event-ID` resumes after.
    pub id: i64,
    #[schema(value_type = i64)]
    pub ticket_id: TicketId,
    /// What happened.
    pub kind: Kind,
    pub actor_kind: ActorKind,
    #[schema(value_type = Option<i64>)]
    pub actor_id: Option<UserId>,
    pub at: DateTime<Utc>,
    #[serde(skip)]
    pub org_id: OrgId,
    /// The ticket's requester, to decide what a customer may see.
    #[serde(skip)]
    pub requester_id: Option<UserId>,
    /// An internal note: staff only.
    #[serde(skip)]
    pub internal: bool,
}

/// The kinds a customer sees happen to their own ticket: the ones its page shows.
const CUSTOMER_KINDS: [Kind; 5] =
    [Kind::Created, Kind::Updated, Kind::CommentAdded, Kind::MergedInto, Kind::MergedFrom];

impl Entry {
    /// Whether `who` may learn that this happened.
    pub fn visible_to(&self, who: &Principal) -> bool {
        if self.org_id != who.org_id {
            return false;
        }
        if who.may(Action::WorkTickets) {
            return true;
        }
        self.requester_id == Some(who.user_id) && !self.internal && CUSTOMER_KINDS.contains(&self.kind)
    }
}

const COLUMNS: &str = "e.id, e.org_id, e.ticket_id, e.event_type, e.actor_kind, e.actor_id, e.created_at,
     t.requester_id, coalesce(e.after ->> 'visibility' = 'internal', false) AS internal";

/// An entry of a kind this build does not know (the database refuses any, V24) is
/// skipped rather than streamed wrong.
fn from_row(r: &tokio_postgres::Row) -> Option<Entry> {
    Some(Entry {
        id: r.get("id"),
        org_id: r.get("org_id"),
        ticket_id: r.get("ticket_id"),
        kind: Kind::parse(r.get("event_type"))?,
        actor_kind: ActorKind::from_column(r.get("actor_kind")),
        actor_id: r.get("actor_id"),
        at: r.get("created_at"),
        requester_id: r.get("requester_id"),
        internal: r.get("internal"),
    })
}

/// Every organisation's entries after `after_id`, oldest first (the API's one reader).
pub async fn after(db: &impl GenericClient, after_id: i64, limit: i64) -> Result<Vec<Entry>> {
    let rows = db
        .query(
            &format!(
                "SELECT {COLUMNS} FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
                 WHERE e.id > $1 ORDER BY e.id LIMIT $2"
            ),
            &[&after_id, &limit],
        )
        .await?;
    Ok(rows.iter().filter_map(from_row).collect())
}

/// The entries with these ids, oldest first: what the notices of a pass named. Read
/// by the primary key, so a change costs the reader one short lookup however long
/// the journal is.
pub async fn by_ids(db: &impl GenericClient, ids: &[i64]) -> Result<Vec<Entry>> {
    let rows = db
        .query(
            &format!(
                "SELECT {COLUMNS} FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
                 WHERE e.id = ANY($1) ORDER BY e.id"
            ),
            &[&ids],
        )
        .await?;
    Ok(rows.iter().filter_map(from_row).collect())
}

/// What `who` missed after `after_id` (a reconnect's `Last-Event-ID`), oldest first.
pub async fn missed(db: &impl GenericClient, who: &Principal, after_id: i64, limit: i64) -> Result<Vec<Entry>> {
    let rows = db
        .query(
            &format!(
                "SELECT {COLUMNS} FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
                 WHERE e.org_id = $1 AND e.id > $2 ORDER BY e.id LIMIT $3"
            ),
            &[&who.org_id, &after_id, &limit],
        )
        .await?;
    Ok(rows.iter().filter_map(from_row).filter(|e| e.visible_to(who)).collect())
}

/// The newest entry's id: where a fresh reader starts.
pub async fn newest(db: &impl GenericClient) -> Result<i64> {
    Ok(db.query_one("SELECT coalesce(max(id), 0) FROM ticket_events", &[]).await?.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    fn entry(kind: Kind, requester: i64, internal: bool) -> Entry {
        Entry {
            id: 1,
            ticket_id: TicketId(9),
            kind,
            actor_kind: ActorKind::User,
            actor_id: Some(UserId(2)),
            at: Utc::now(),
            org_id: OrgId(1),
            requester_id: Some(UserId(requester)),
            internal,
        }
    }

    fn who(role: Role, user: i64, org: i64) -> Principal {
        Principal { session_id: 1, user_id: UserId(user), org_id: OrgId(org), role, must_enrol_mfa: false }
    }

    #[test]
    fn staff_see_everything_of_their_organisation_and_nothing_of_another() {
        assert!(entry(Kind::LockTakenOver, 5, false).visible_to(&who(Role::Agent, 3, 1)));
        assert!(entry(Kind::CommentAdded, 5, true).visible_to(&who(Role::Admin, 3, 1)));
        assert!(!entry(Kind::Created, 5, false).visible_to(&who(Role::Admin, 3, 2)));
    }

    #[test]
    fn a_customer_sees_only_what_their_own_ticket_shows() {
        let carol = who(Role::Customer, 5, 1);
        assert!(entry(Kind::CommentAdded, 5, false).visible_to(&carol));
        assert!(entry(Kind::Updated, 5, false).visible_to(&carol));
        assert!(!entry(Kind::CommentAdded, 5, true).visible_to(&carol), "an internal note");
        assert!(!entry(Kind::SlaBreached, 5, false).visible_to(&carol), "an SLA mark");
        assert!(!entry(Kind::LockTakenOver, 5, false).visible_to(&carol), "a lock");
        assert!(!entry(Kind::Updated, 6, false).visible_to(&carol), "someone else's ticket");
    }
}
