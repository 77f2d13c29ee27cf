//! The ticket journal: the only writer of `ticket_events`, and the one place that
//! announces them on the `atum_tickets` channel.
//!
//! Every change to a ticket — by a person, the SLA worker, a job, later inbound mail,
//! the AI and automations — is one typed [`Event`] recorded in the transaction of the
//! change, with a NOTIFY that is delivered when (and only if) it commits. Everything
//! that reacts to tickets reads this journal: the SLA worker today; webhooks,
//! automations, notifications and the browser's live updates as they arrive.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde_json::Value;

pub use crate::actor::Actor;
use crate::{
    auth::Principal,
    error::Result,
    ids::{OrgId, TicketId, UserId},
    named::Named,
};

/// The NOTIFY channel of the journal. Its payload is a [`Notice`].
pub const CHANNEL: &str = "atum_tickets";

crate::named_enum! {
    /// What happened to a ticket. Stored in `ticket_events.event_type` under these
    /// snake_case names, which are stable: history readers and operators filter on them,
    /// and the database refuses any other (V24).
    #[schema(as = JournalKind)]
    pub enum Kind {
        Created,
        Updated,
        CommentAdded,
        LinkAdded,
        LinkRemoved,
        MergedInto,
        MergedFrom,
        LockTakenOver,
        SlaWarning,
        SlaBreached,
        SlaEscalated,
        /// An escalation rule fired on the customer's tone (by the AI).
        Escalated,
    }
}

/// One entry, about to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub org_id: OrgId,
    pub ticket_id: TicketId,
    pub actor: Actor,
    pub kind: Kind,
    pub before: Option<Value>,
    pub after: Option<Value>,
    /// When it happened, when that was not now: history brought in by an import or the
    /// demo seed.
    pub at: Option<DateTime<Utc>>,
}

impl Event {
    /// `kind` done by `who` to their organisation's ticket.
    pub fn by(who: &Principal, ticket_id: impl Into<TicketId>, kind: Kind) -> Self {
        Event::by_system(who.into(), who.org_id, ticket_id, kind)
    }

    /// `kind` done by a part of the system (`actor`: the SLA worker, a job).
    pub fn by_system(actor: Actor, org_id: OrgId, ticket_id: impl Into<TicketId>, kind: Kind) -> Self {
        Event { org_id, ticket_id: ticket_id.into(), actor, kind, before: None, after: None, at: None }
    }

    pub fn before(mut self, before: Value) -> Self {
        self.before = Some(before);
        self
    }

    pub fn after(mut self, after: Value) -> Self {
        self.after = Some(after);
        self
    }

    pub fn at(mut self, at: DateTime<Utc>) -> Self {
        self.at = Some(at);
        self
    }
}

/// The payload of a NOTIFY on [`CHANNEL`]: which ticket of which organisation, and
/// the journal entry that announced it (`org:ticket:entry`), so a reader fetches
/// that entry by its key instead of scanning the journal. Presence notices
/// (`tickets::presence`) name no entry (`org:ticket`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notice {
    pub org_id: OrgId,
    pub ticket_id: TicketId,
    pub entry_id: Option<i64>,
}

impl Notice {
    pub fn encode(self) -> String {
        match self.entry_id {
            Some(e) => format!("{}:{}:{e}", self.org_id, self.ticket_id),
            None => format!("{}:{}", self.org_id, self.ticket_id),
        }
    }

    /// `None` for a payload this journal did not write.
    pub fn parse(payload: &str) -> Option<Notice> {
        let mut parts = payload.split(':');
        let org_id = parts.next()?.parse().ok()?;
        let ticket_id = parts.next()?.parse().ok()?;
        let entry_id = match parts.next() {
            Some(e) => Some(e.parse().ok()?),
            None => None,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Notice { org_id, ticket_id, entry_id })
    }
}

/// Records `event` and announces it, in the caller's transaction.
pub async fn record(db: &impl GenericClient, event: Event) -> Result<()> {
    // One statement, cached: every ticket write runs it.
    let stmt = db
        .prepare_cached(
            "WITH e AS (
                 INSERT INTO ticket_events (org_id, ticket_id, actor_id, actor_kind, event_type, before, after,
                                            created_at)
                 VALUES ($1, $2, $3, $9, $4, $5, $6, coalesce($10, now())) RETURNING id
             )
             SELECT pg_notify($7, $8 || ':' || id) FROM e",
        )
        .await?;
    let notice = Notice { org_id: event.org_id, ticket_id: event.ticket_id, entry_id: None }.encode();
    db.execute(
        &stmt,
        &[
            &event.org_id,
            &event.ticket_id,
            &event.actor.user_id(),
            &event.kind.as_str(),
            &event.before,
            &event.after,
            &CHANNEL,
            &notice,
            &event.actor.kind().as_str(),
            &event.at,
        ],
    )
    .await?;
    Ok(())
}

/// How a batch of entries is announced on [`CHANNEL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Announce {
    /// Each entry with its own notice (the SLA worker's breaches: readers react to each).
    Each,
    /// One notice for the batch, naming its last ticket and no entry: bulk history (an
    /// import, the demo seed), which readers take in with a catch-up pass rather than
    /// entry by entry.
    Once,
    /// None: a batch of bulk history that another batch of the same transaction
    /// announces.
    Silent,
}

/// Records several events of one organisation in one statement.
pub async fn record_many(db: &impl GenericClient, org_id: OrgId, events: &[Event], announce: Announce) -> Result<()> {
    let Some(last) = events.last() else { return Ok(()) };
    let tickets: Vec<TicketId> = events.iter().map(|e| e.ticket_id).collect();
    let actors: Vec<Option<UserId>> = events.iter().map(|e| e.actor.user_id()).collect();
    let actor_kinds: Vec<&str> = events.iter().map(|e| e.actor.kind().as_str()).collect();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    let befores: Vec<Option<Value>> = events.iter().map(|e| e.before.clone()).collect();
    let afters: Vec<Option<Value>> = events.iter().map(|e| e.after.clone()).collect();
    let times: Vec<Option<DateTime<Utc>>> = events.iter().map(|e| e.at).collect();
    let insert =
        "INSERT INTO ticket_events (org_id, ticket_id, actor_id, actor_kind, event_type, before, after, created_at)
             SELECT $1, t, a, ak, k, b, af, coalesce(at, now())
               FROM unnest($2::bigint[], $3::bigint[], $7::text[], $4::text[], $5::jsonb[], $6::jsonb[],
                           $8::timestamptz[]) AS r(t, a, ak, k, b, af, at)";
    match announce {
        Announce::Each => {
            db.execute(
                &format!(
                    "WITH e AS ({insert} RETURNING id, ticket_id)
                     SELECT pg_notify($9, $1::text || ':' || ticket_id || ':' || id) FROM e"
                ),
                &[&org_id, &tickets, &actors, &kinds, &befores, &afters, &actor_kinds, &times, &CHANNEL],
            )
            .await?;
        }
        Announce::Once | Announce::Silent => {
            db.execute(insert, &[&org_id, &tickets, &actors, &kinds, &befores, &afters, &actor_kinds, &times]).await?;
            if announce == Announce::Once {
                let notice = Notice { org_id, ticket_id: last.ticket_id, entry_id: None }.encode();
                db.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &notice]).await?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use strum::VariantArray;

    use super::*;

    #[test]
    fn every_kind_is_stored_under_a_stable_snake_case_name_that_reads_back() {
        assert_eq!(Kind::CommentAdded.as_str(), "comment_added");
        assert_eq!(Kind::SlaBreached.as_str(), "sla_breached");
        for kind in Kind::VARIANTS {
            assert_eq!(kind.as_str().parse::<Kind>().unwrap(), *kind);
        }
    }

    #[test]
    fn a_notice_round_trips_and_foreign_payloads_are_ignored() {
        let n = Notice { org_id: OrgId(7), ticket_id: TicketId(4012), entry_id: None };
        assert_eq!(Notice::parse(&n.encode()), Some(n));
        let n = Notice { entry_id: Some(99), ..n };
        assert_eq!(n.encode(), "7:4012:99");
        assert_eq!(Notice::parse(&n.encode()), Some(n));
        for junk in ["", "7", "7:", ":4", "a:b", "7:4:x", "7:4:1:2"] {
            assert_eq!(Notice::parse(junk), None, "{junk:?}");
        }
    }
}
