//! A change to tickets and the clocks that follow it, in the caller's one transaction.
//!
//! `tickets` records what happened; the clocks are computed from it. The changes that
//! react with nothing but their clocks (an edit, an undone AI change, auto-triage's
//! own) are composed here, below the AI that makes some of them; `desk` composes the
//! ones that also set the AI to work.

use crate::ids::TicketId;
use deadpool_postgres::GenericClient;

use crate::{
    auth::Principal,
    error::Result,
    ids::OrgId,
    tickets::{
        self, Ticket,
        write::{self, AiChange, TicketChange},
    },
};

/// An agent's (or an admin's) change to a ticket.
pub async fn update_ticket(
    db: &impl GenericClient,
    who: &Principal,
    id: TicketId,
    expected_version: Option<i32>,
    change: &TicketChange,
) -> Result<Ticket> {
    write::update(db, who, id, expected_version, change).await?;
    refresh(db, who.org_id, &[id]).await?;
    tickets::get(db, who, id).await
}

/// Auto-triage's change to a ticket (a new priority moves its clocks).
pub async fn apply_ai(db: &impl GenericClient, org_id: OrgId, ticket_id: TicketId, change: &AiChange) -> Result<()> {
    write::apply_ai(db, org_id, ticket_id, change).await?;
    refresh(db, org_id, &[ticket_id]).await.map(drop)
}

/// Brings the clocks of `ids` up to date with what was just written; whether any
/// policy applies in the organisation (so the clocks were recomputed).
pub async fn refresh(db: &impl GenericClient, org_id: OrgId, ids: &[TicketId]) -> Result<bool> {
    let policies = super::policies::load(db, org_id).await?;
    if policies.is_empty() {
        return Ok(false);
    }
    let now = super::db_now(db).await?;
    super::refresh::refresh_with(db, org_id, ids, &policies, now).await?;
    Ok(true)
}
