//! A ticket's history, from the append-only `ticket_events` (staff only: it shows
//! internal activity).

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;
use serde_json::Value;

use super::get;
use crate::{actor::ActorKind, auth::Principal, error::Result};

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Event {
    pub id: i64,
    /// A person (`actor_id` is theirs, or null once they were deleted), or which part
    /// of the system acted.
    pub actor_kind: ActorKind,
    pub actor_id: Option<i64>,
    pub event_type: String,
    #[schema(value_type = Option<Object>)]
    pub before: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<Value>,
    pub created_at: DateTime<Utc>,
}

pub async fn list(db: &impl GenericClient, who: &Principal, ticket_id: i64) -> Result<Vec<Event>> {
    get(db, who, ticket_id).await?;
    who.require_staff()?;
    let rows = db
        .query(
            "SELECT id, actor_id, event_type, before, after, created_at, actor_kind FROM ticket_events
             WHERE org_id = $1 AND ticket_id = $2 ORDER BY created_at, id",
            &[&who.org_id, &ticket_id],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Event {
            id: r.get(0),
            actor_id: r.get(1),
            actor_kind: ActorKind::from_column(r.get(6)),
            event_type: r.get(2),
            before: r.get(3),
            after: r.get(4),
            created_at: r.get(5),
        })
        .collect())
}
