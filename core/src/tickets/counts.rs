//! How many open tickets each of the workspace's standard views holds, for the
//! navigation rail. One statement over the organisation's open tickets; the filters
//! are the ones `tickets::list` applies for the same view (`status` new, open, pending
//! or on hold, then `assignee_id=me|none`, `status=pending`, `sla=breached|at_risk`).

use crate::auth::policy::Action;
use deadpool_postgres::GenericClient;
use serde::Serialize;

use crate::{auth::Principal, error::Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Counts {
    /// Open tickets assigned to the caller.
    pub mine: i64,
    pub unassigned: i64,
    pub open: i64,
    pub pending: i64,
    /// Open tickets with a recorded SLA breach.
    pub breached: i64,
    /// Open tickets whose next deadline is within the policy's warning time.
    pub at_risk: i64,
}

/// The counts of the caller's organisation (staff).
pub async fn standard_views(db: &impl GenericClient, who: &Principal) -> Result<Counts> {
    who.require(Action::WorkTickets)?;
    let stmt = db
        .prepare_cached(
            "SELECT count(*) FILTER (WHERE assignee_id = $2) AS mine,
                    count(*) FILTER (WHERE assignee_id IS NULL) AS unassigned,
                    count(*) AS open,
                    count(*) FILTER (WHERE status = 'pending') AS pending,
                    count(*) FILTER (WHERE id IN (SELECT ticket_id FROM sla_breaches WHERE org_id = $1 AND kind = 'breach'))
                        AS breached,
                    count(*) FILTER (WHERE sla_warn_at <= now() AND sla_next_due_at > now()) AS at_risk
             FROM tickets WHERE org_id = $1 AND status IN ('new', 'open', 'pending', 'on_hold')",
        )
        .await?;
    let r = db.query_one(&stmt, &[&who.org_id, &who.user_id]).await?;
    Ok(Counts {
        mine: r.get("mine"),
        unassigned: r.get("unassigned"),
        open: r.get("open"),
        pending: r.get("pending"),
        breached: r.get("breached"),
        at_risk: r.get("at_risk"),
    })
}
