//! The person who asked, beside their ticket (staff only): who they are and how to
//! reach them, the language they write in, when they last used the desk, and their
//! other tickets — what an agent checks before answering, in one read.

use crate::auth::policy::Action;
use crate::ids::TicketId;
use crate::named::Named as _;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;

use super::{Priority, Status, get};
use crate::{
    auth::{Principal, Role},
    error::{Error, Result},
};

/// How many of their other open tickets, and of their solved or closed ones, are listed.
pub const OPEN_LISTED: i64 = 10;
pub const RECENT_LISTED: i64 = 5;

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Requester {
    pub id: i64,
    pub display_name: String,
    pub email: String,
    /// The part of the address after the `@`: their company, as far as the desk knows.
    pub domain: String,
    /// `customer`, or `agent`/`admin` for a ticket staff opened for themselves.
    pub role: Role,
    /// False once an admin deactivated the account.
    pub is_active: bool,
    /// The language the triage model detected in their latest ticket that has one
    /// (ISO 639-1, such as `en`).
    pub language: Option<String>,
    /// When the account was made.
    pub since: DateTime<Utc>,
    /// When they last used the desk (a signed-in request), if ever.
    pub last_seen_at: Option<DateTime<Utc>>,
    /// How many tickets they have asked, this one included, and how many are not
    /// solved or closed.
    pub tickets: i64,
    pub open_tickets: i64,
    /// Their other tickets not solved or closed, the latest change first (up to 10).
    pub open: Vec<TicketSummary>,
    /// Their other solved or closed tickets, the latest change first (up to 5).
    pub recent: Vec<TicketSummary>,
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct TicketSummary {
    pub id: i64,
    pub number: i32,
    pub subject: String,
    pub status: Status,
    pub priority: Priority,
    pub updated_at: DateTime<Utc>,
}

/// The requester of ticket `ticket_id` (staff only; another organisation's ticket is
/// not found).
pub async fn of_ticket(db: &impl GenericClient, who: &Principal, ticket_id: TicketId) -> Result<Requester> {
    let ticket = get(db, who, ticket_id).await?;
    who.require(Action::WorkTickets)?;
    let person = db
        .query_one(
            "SELECT u.id, u.display_name, u.email, u.role, u.is_active, u.created_at,
                    greatest(u.last_login_at, (SELECT max(s.last_seen_at) FROM sessions s WHERE s.user_id = u.id)) AS last_seen_at,
                    (SELECT a.language FROM ticket_ai_triage a JOIN tickets t ON t.org_id = a.org_id AND t.id = a.ticket_id
                      WHERE a.org_id = u.org_id AND t.requester_id = u.id AND a.language IS NOT NULL
                      ORDER BY t.created_at DESC LIMIT 1) AS language,
                    (SELECT count(*) FROM tickets t WHERE t.org_id = u.org_id AND t.requester_id = u.id) AS tickets,
                    (SELECT count(*) FROM tickets t WHERE t.org_id = u.org_id AND t.requester_id = u.id
                        AND t.status NOT IN ('solved', 'closed')) AS open_tickets
               FROM users u WHERE u.org_id = $1 AND u.id = $2",
            &[&who.org_id, &ticket.requester_id],
        )
        .await?;
    let email: String = person.get("email");
    let others = db
        .query(
            "(SELECT id, number, subject, status, priority, updated_at FROM tickets
               WHERE org_id = $1 AND requester_id = $2 AND id <> $3 AND status NOT IN ('solved', 'closed')
               ORDER BY updated_at DESC, id DESC LIMIT $4)
             UNION ALL
             (SELECT id, number, subject, status, priority, updated_at FROM tickets
               WHERE org_id = $1 AND requester_id = $2 AND id <> $3 AND status IN ('solved', 'closed')
               ORDER BY updated_at DESC, id DESC LIMIT $5)",
            &[&who.org_id, &ticket.requester_id, &ticket_id, &OPEN_LISTED, &RECENT_LISTED],
        )
        .await?;
    let bad = |what: &str| Error::Internal(format!("unexpected {what} in tickets"));
    let mut summaries = Vec::with_capacity(others.len());
    for r in &others {
        summaries.push(TicketSummary {
            id: r.get("id"),
            number: r.get("number"),
            subject: r.get("subject"),
            status: Status::parse(r.get("status")).ok_or_else(|| bad("status"))?,
            priority: Priority::parse(r.get("priority")).ok_or_else(|| bad("priority"))?,
            updated_at: r.get("updated_at"),
        });
    }
    let (recent, open): (Vec<_>, Vec<_>) =
        summaries.into_iter().partition(|t| matches!(t.status, Status::Solved | Status::Closed));
    Ok(Requester {
        id: person.get("id"),
        display_name: person.get("display_name"),
        domain: email.rsplit_once('@').map(|(_, d)| d.to_lowercase()).unwrap_or_default(),
        email,
        role: Role::parse(person.get("role")).ok_or_else(|| bad("role"))?,
        is_active: person.get("is_active"),
        since: person.get("created_at"),
        last_seen_at: person.get("last_seen_at"),
        language: person.get("language"),
        tickets: person.get("tickets"),
        open_tickets: person.get("open_tickets"),
        open,
        recent,
    })
}
