//! A ticket's history, from the append-only `ticket_events` (staff only: it shows
//! internal activity).

use crate::auth::policy::Action;
use crate::ids::TicketId;
use crate::ids::UserId;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;
use serde_json::Value;

use super::events::Kind;
use super::get;
use crate::{
    actor::ActorKind,
    auth::Principal,
    error::{Error, Result},
    named::Named,
    paging::Thread,
};

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Event {
    pub id: i64,
    /// A person (`actor_id` is theirs, or null once they were deleted), or which part
    /// of the system acted.
    pub actor_kind: ActorKind,
    #[schema(value_type = Option<i64>)]
    pub actor_id: Option<UserId>,
    pub event_type: Kind,
    #[schema(value_type = Option<Object>)]
    pub before: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<Value>,
    pub created_at: DateTime<Utc>,
}

/// A page of a ticket's history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventPage {
    /// In the order asked for.
    pub items: Vec<Event>,
    /// Pass as `cursor` (with the same `order`) for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// A page of the ticket's history, from either end (staff only).
pub async fn list(db: &impl GenericClient, who: &Principal, ticket_id: TicketId, page: &Thread) -> Result<EventPage> {
    get(db, who, ticket_id).await?;
    who.require(Action::WorkTickets)?;
    let (at, id) = page.after.map(|a| (Some(a.at), Some(a.id))).unwrap_or_default();
    let sql = format!(
        "SELECT id, actor_id, event_type, before, after, created_at, actor_kind FROM ticket_events
          WHERE org_id = $1 AND ticket_id = $2
            AND ($3::timestamptz IS NULL OR (created_at, id) {} ($3, $4))
          ORDER BY created_at {dir}, id {dir} LIMIT $5",
        page.order.after(),
        dir = page.order.sql()
    );
    let rows = db.query(&sql, &[&who.org_id, &ticket_id, &at, &id, &(page.limit + 1)]).await?;
    let items = rows
        .iter()
        .map(|r| {
            Ok(Event {
                id: r.get("id"),
                actor_id: r.get("actor_id"),
                actor_kind: ActorKind::from_column(r.get("actor_kind")),
                event_type: Kind::parse(r.get("event_type"))
                    .ok_or_else(|| Error::Internal("a journal entry of an unknown kind".into()))?,
                before: r.get("before"),
                after: r.get("after"),
                created_at: r.get("created_at"),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let (items, next_cursor) = page.page(items, |e: &Event| (e.created_at, e.id));
    Ok(EventPage { items, next_cursor })
}
