//! Ticket locks: an agent about to reply takes a lease on the ticket so that two agents
//! do not answer the same customer at once.
//!
//! The lock lasts [`LEASE`] unless the client renews it (by taking it again). While it
//! is held, a reply or an update by another agent is refused with 423 and the holder's
//! name, unless that agent takes the lock over explicitly (recorded in the ticket's
//! history). The holder's public or internal reply releases it, as do signing out and
//! expiry. Customers are never blocked: the lock is about agents' work.

use crate::auth::policy::Action;
use crate::ids::TicketId;
use std::time::Duration;

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;

use super::get;
use crate::{
    auth::Principal,
    error::{Error, Result},
};

/// How long a lock lasts without renewal.
pub const LEASE: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Lock {
    pub holder_id: i64,
    pub holder_name: String,
    pub acquired_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Held by the caller.
    pub mine: bool,
}

const LIVE: &str = "SELECT l.user_id, u.display_name, l.acquired_at, l.expires_at
    FROM ticket_locks l JOIN users u ON u.org_id = l.org_id AND u.id = l.user_id
    WHERE l.org_id = $1 AND l.ticket_id = $2 AND l.expires_at > now()";

/// The live lock on a ticket, if any (staff only; the ticket must be visible).
pub async fn current(db: &impl GenericClient, who: &Principal, ticket_id: TicketId) -> Result<Option<Lock>> {
    who.require(Action::WorkTickets)?;
    get(db, who, ticket_id).await?;
    live(db, who, ticket_id).await
}

/// The live lock as a reader of the ticket sees it: staff see who holds it, customers
/// never (the lock is about agents' work). The ticket must already have been read.
pub async fn for_reader(db: &impl GenericClient, who: &Principal, ticket_id: TicketId) -> Result<Option<Lock>> {
    if who.may(Action::WorkTickets) { live(db, who, ticket_id).await } else { Ok(None) }
}

/// The live lock on a ticket the caller has already read (no visibility check). Every
/// staff read, reply and update asks, so the statement is cached.
pub async fn live(db: &impl GenericClient, who: &Principal, ticket_id: TicketId) -> Result<Option<Lock>> {
    let stmt = db.prepare_cached(LIVE).await?;
    let row = db.query_opt(&stmt, &[&who.org_id, &ticket_id]).await?;
    Ok(row.map(|r| Lock {
        holder_id: r.get(0),
        holder_name: r.get(1),
        acquired_at: r.get(2),
        expires_at: r.get(3),
        mine: r.get::<_, i64>(0) == who.user_id,
    }))
}

fn locked_by(lock: Lock) -> Error {
    Error::Locked {
        holder_id: lock.holder_id,
        holder_name: lock.holder_name,
        since: lock.acquired_at,
        expires_at: lock.expires_at,
    }
}

/// Takes (or renews) the lock. Held by someone else: `Locked`, unless `takeover`, which
/// replaces them and records it in the ticket's history. Two agents racing for a free
/// lock end with exactly one holder: the upsert on the ticket's row decides.
pub async fn acquire(db: &impl GenericClient, who: &Principal, ticket_id: TicketId, takeover: bool) -> Result<Lock> {
    who.require(Action::WorkTickets)?;
    get(db, who, ticket_id).await?;
    let previous = db
        .query_opt(
            "SELECT user_id FROM ticket_locks WHERE ticket_id = $1 AND expires_at > now() FOR UPDATE",
            &[&ticket_id],
        )
        .await?
        .map(|r| r.get::<_, i64>(0));
    let taken = db
        .query_opt(
            "INSERT INTO ticket_locks (org_id, ticket_id, user_id, session_id, expires_at)
             VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))
             ON CONFLICT (ticket_id) DO UPDATE
             SET user_id = EXCLUDED.user_id, session_id = EXCLUDED.session_id, expires_at = EXCLUDED.expires_at,
                 acquired_at = CASE WHEN ticket_locks.user_id = EXCLUDED.user_id AND ticket_locks.expires_at > now()
                                    THEN ticket_locks.acquired_at ELSE now() END
             WHERE ticket_locks.user_id = EXCLUDED.user_id OR ticket_locks.expires_at <= now() OR $6
             RETURNING 1",
            &[&who.org_id, &ticket_id, &who.user_id, &who.session_id, &LEASE.as_secs_f64(), &takeover],
        )
        .await?;
    if taken.is_none() {
        return Err(match live(db, who, ticket_id).await? {
            Some(lock) => locked_by(lock),
            None => Error::Conflict {
                code: crate::error::Code::Retry,
                message: "the lock changed hands just now; try again".into(),
            },
        });
    }
    if previous.is_none_or(|p| who.user_id != p) {
        // A new holder, not a renewal: the list's badges change.
        super::presence::announce(db, who.org_id, ticket_id).await?;
    }
    if let Some(from) = previous.filter(|p| takeover && who.user_id != *p) {
        let event = super::events::Event::by(who, ticket_id, super::events::Kind::LockTakenOver)
            .before(serde_json::json!({ "holder_id": from }))
            .after(serde_json::json!({ "holder_id": who.user_id }));
        super::events::record(db, event).await?;
    }
    live(db, who, ticket_id).await?.ok_or(Error::Internal("a lock just taken is gone".into()))
}

/// Releases the caller's own lock; false when they held none.
pub async fn release(db: &impl GenericClient, who: &Principal, ticket_id: TicketId) -> Result<bool> {
    who.require(Action::WorkTickets)?;
    get(db, who, ticket_id).await?;
    let released = db
        .execute(
            "DELETE FROM ticket_locks WHERE org_id = $1 AND ticket_id = $2 AND user_id = $3",
            &[&who.org_id, &ticket_id, &who.user_id],
        )
        .await?
        > 0;
    if released {
        super::presence::announce(db, who.org_id, ticket_id).await?;
    }
    Ok(released)
}

/// Refuses a staff member's write while someone else holds the ticket's lock.
pub async fn ensure_free_for(db: &impl GenericClient, who: &Principal, ticket_id: TicketId) -> Result<()> {
    if !who.may(Action::WorkTickets) {
        return Ok(());
    }
    match live(db, who, ticket_id).await? {
        Some(lock) if !lock.mine => Err(locked_by(lock)),
        _ => Ok(()),
    }
}

/// The holder replied: the work the lock protected is done.
pub(crate) async fn release_after_reply(db: &impl GenericClient, who: &Principal, ticket_id: TicketId) -> Result<()> {
    let released = db
        .execute("DELETE FROM ticket_locks WHERE ticket_id = $1 AND user_id = $2", &[&ticket_id, &who.user_id])
        .await?;
    if released > 0 {
        super::presence::announce(db, who.org_id, ticket_id).await?;
    }
    Ok(())
}

/// Signing out releases the locks taken in that session.
pub async fn release_session(db: &impl GenericClient, session_id: i64) -> Result<u64> {
    let released =
        db.query("DELETE FROM ticket_locks WHERE session_id = $1 RETURNING org_id, ticket_id", &[&session_id]).await?;
    for r in &released {
        super::presence::announce(db, r.get(0), r.get(1)).await?;
    }
    Ok(released.len() as u64)
}
