//! Tickets: the help desk's core record, and who may see and change it.
//!
//! Every function takes the caller's [`Principal`] and a client that is (usually) the
//! request's transaction. Scope rules live here, once: staff see every ticket of
//! their organisation, customers only those they requested; anything outside that
//! scope is `NotFound`, indistinguishable from a ticket that does not exist.

pub mod comments;
pub mod counts;
pub mod events;
pub mod feed;
pub mod history;
pub mod import;
pub mod list;
pub mod locks;
pub mod presence;
pub mod relationships;
pub mod requester;
pub mod write;

use crate::auth::policy::Action;
use crate::ids::TicketId;
use crate::ids::UserId;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;
use tokio_postgres::Row;

use crate::{
    auth::Principal,
    error::{Error, Result},
    named::Named,
};

crate::named_enum! {
    pub enum Status {
        New,
        Open,
        Pending,
        OnHold,
        Solved,
        Closed,
    }
}

crate::named_enum! {
    pub enum Priority {
        Low,
        Normal,
        High,
        Urgent,
    }
}

crate::named_enum! {
    pub enum Channel {
        Web,
        Portal,
        Email,
        Api,
        Phone,
        Chat,
    }
}

impl Status {
    /// Allowed moves. `new` is only ever a starting point; `closed` is final (a
    /// customer who writes again gets a follow-up ticket); `solved` can be reopened.
    pub fn can_become(self, to: Status) -> bool {
        use Status::*;
        if self == to {
            return true;
        }
        match self {
            New | Open | Pending | OnHold => matches!(to, Open | Pending | OnHold | Solved),
            Solved => matches!(to, Open | Closed),
            Closed => false,
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Ticket {
    #[schema(value_type = i64)]
    pub id: TicketId,
    pub number: i32,
    pub subject: String,
    pub description: String,
    pub status: Status,
    pub priority: Priority,
    pub category: Option<String>,
    pub tags: Vec<String>,
    #[schema(value_type = i64)]
    pub requester_id: UserId,
    #[schema(value_type = Option<i64>)]
    pub assignee_id: Option<UserId>,
    /// The agent group the ticket is routed to (an SLA escalation sets it).
    pub group_id: Option<i64>,
    pub channel: Channel,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub first_responded_at: Option<DateTime<Utc>>,
    pub solved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub version: i32,
    /// The earliest deadline of a running SLA clock (see `GET /tickets/{id}/sla`).
    pub sla_next_due_at: Option<DateTime<Utc>>,
    /// When the first SLA breach of this ticket was recorded.
    pub sla_breached_at: Option<DateTime<Utc>>,
    /// Business minutes to the next deadline, from the breach prediction.
    pub time_to_breach_minutes: Option<i32>,
    /// Estimated probability (0-100) of breaching, from the breach prediction.
    pub sla_risk_score: Option<i16>,
}

pub(crate) const COLUMNS: &str = "id, number, subject, description, status, priority, category, tags, requester_id, \
     assignee_id, channel, created_at, updated_at, first_responded_at, solved_at, closed_at, version, \
     sla_next_due_at, \
     (SELECT min(b.recorded_at) FROM sla_breaches b WHERE b.ticket_id = tickets.id AND b.kind = 'breach') AS sla_breached_at, \
     time_to_breach_minutes, sla_risk_score, group_id";

pub(crate) fn from_row(r: &Row) -> Result<Ticket> {
    let bad = |what: &str| Error::Internal(format!("unexpected {what} in tickets"));
    Ok(Ticket {
        id: r.get("id"),
        number: r.get("number"),
        subject: r.get("subject"),
        description: r.get("description"),
        status: Status::parse(r.get("status")).ok_or_else(|| bad("status"))?,
        priority: Priority::parse(r.get("priority")).ok_or_else(|| bad("priority"))?,
        category: r.get("category"),
        tags: r.get("tags"),
        requester_id: r.get("requester_id"),
        assignee_id: r.get("assignee_id"),
        channel: Channel::parse(r.get("channel")).ok_or_else(|| bad("channel"))?,
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
        first_responded_at: r.get("first_responded_at"),
        solved_at: r.get("solved_at"),
        closed_at: r.get("closed_at"),
        version: r.get("version"),
        sla_next_due_at: r.get("sla_next_due_at"),
        sla_breached_at: r.get("sla_breached_at"),
        time_to_breach_minutes: r.get("time_to_breach_minutes"),
        sla_risk_score: r.get("sla_risk_score"),
        group_id: r.get("group_id"),
    })
}

/// One ticket in the caller's scope.
pub async fn get(db: &impl GenericClient, who: &Principal, id: TicketId) -> Result<Ticket> {
    fetch(db, who, id, "").await
}

/// Like [`get`], locking the row for the rest of the transaction.
pub(crate) async fn get_for_update(db: &impl GenericClient, who: &Principal, id: TicketId) -> Result<Ticket> {
    fetch(db, who, id, "FOR UPDATE").await
}

async fn fetch(db: &impl GenericClient, who: &Principal, id: TicketId, lock: &str) -> Result<Ticket> {
    let stmt = db
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM tickets WHERE org_id = $1 AND id = $2
               AND ($3 OR requester_id = $4 OR EXISTS (
                   SELECT 1 FROM ticket_requesters r WHERE r.ticket_id = tickets.id AND r.user_id = $4)) {lock}"
        ))
        .await?;
    let row = db
        .query_opt(&stmt, &[&who.org_id, &id, &who.may(Action::WorkTickets), &who.user_id])
        .await?
        .ok_or(Error::NotFound("ticket"))?;
    from_row(&row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_is_final_and_new_is_never_a_destination() {
        for &s in <Status as strum::VariantArray>::VARIANTS {
            assert!(!Status::Closed.can_become(s) || s == Status::Closed);
            assert!(!s.can_become(Status::New) || s == Status::New);
        }
        assert!(Status::Solved.can_become(Status::Open));
        assert!(Status::Solved.can_become(Status::Closed));
        assert!(!Status::Open.can_become(Status::Closed));
    }

    #[test]
    fn enum_texts_round_trip() {
        for &s in <Status as strum::VariantArray>::VARIANTS {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(Priority::parse("urgent"), Some(Priority::Urgent));
        assert_eq!(Priority::parse("URGENT"), None);
    }
}
