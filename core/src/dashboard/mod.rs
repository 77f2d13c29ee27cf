//! The managers' dashboard: figures about one organisation's desk, computed from the
//! tickets (live) or read back from `metrics_snapshots` (the time series that
//! atum-metrics-worker writes).
//!
//! Two kinds of figure. *State* figures describe the desk at an instant: open tickets
//! by status and priority, SLA breaches and at-risk tickets, backlog age, per-agent
//! load, job queue depth. *Flow* figures describe an interval: tickets created and
//! solved in it, and the median and 90th-percentile first-response and resolution
//! times of the tickets answered or solved in it.

pub mod snapshots;

use crate::auth::policy::Action;
use crate::ids::OrgId;
use crate::ids::UserId;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// Statuses that count as open (the backlog).
pub const OPEN: &str = "('new', 'open', 'pending', 'on_hold')";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Quantiles {
    pub p50: Option<f64>,
    pub p90: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AgentLoad {
    #[schema(value_type = i64)]
    pub user_id: UserId,
    pub display_name: String,
    /// Open tickets assigned to this agent.
    pub open: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Figures {
    pub open_total: i64,
    pub open_by_status: BTreeMap<String, i64>,
    pub open_by_priority: BTreeMap<String, i64>,
    /// Tickets created in the interval.
    pub created: i64,
    /// Tickets that reached solved in the interval.
    pub solved: i64,
    /// Minutes from creation to the first public reply, for tickets first answered in
    /// the interval.
    pub first_response_minutes: Quantiles,
    /// Minutes from creation to solved, for tickets solved in the interval.
    pub resolution_minutes: Quantiles,
    /// Open tickets with a recorded SLA breach.
    pub sla_breached_open: i64,
    /// Open tickets past their SLA warning but not yet due.
    pub sla_at_risk: i64,
    /// Age of the oldest open ticket, and of the middle one (of an even count, the older
    /// of the two), in minutes.
    pub backlog_oldest_minutes: Option<f64>,
    pub backlog_median_age_minutes: Option<f64>,
    /// The organisation's background jobs by state.
    pub jobs_by_state: BTreeMap<String, i64>,
    /// Open tickets per active agent (and admin), busiest first.
    pub agent_load: Vec<AgentLoad>,
    /// Visits of the portal's request form that were shown suggested articles and
    /// ended in the interval (abandoned or submitted), and those that ended without a
    /// request: deflected ([`crate::kb::deflection`]).
    #[serde(default)]
    pub deflection_sessions: i64,
    #[serde(default)]
    pub deflected: i64,
    /// Draft replies agents inserted into a reply and rejected in the interval, those
    /// sent, and the mean edit distance of those sent (0: sent as drafted, 1: nothing
    /// of the draft left).
    #[serde(default)]
    pub drafts_inserted: i64,
    #[serde(default)]
    pub drafts_rejected: i64,
    #[serde(default)]
    pub drafts_sent: i64,
    #[serde(default)]
    pub draft_edit_distance: Option<f64>,
}

/// The state figures now and the flow figures of `[start, end)`. Run it in a
/// REPEATABLE READ transaction so every figure sees the same moment.
pub async fn compute(
    db: &impl GenericClient,
    org_id: OrgId,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Figures> {
    let mut f = state(db, org_id).await?;
    flow(db, org_id, start, end, &mut f).await?;
    Ok(f)
}

/// The state figures (as of now).
pub async fn state(db: &impl GenericClient, org_id: OrgId) -> Result<Figures> {
    let mut f = Figures::default();
    for r in db
        .query(
            &format!(
                "SELECT status, priority, count(*) FROM tickets
                 WHERE org_id = $1 AND status IN {OPEN} GROUP BY status, priority"
            ),
            &[&org_id],
        )
        .await?
    {
        let n: i64 = r.get(2);
        *f.open_by_status.entry(r.get(0)).or_default() += n;
        *f.open_by_priority.entry(r.get(1)).or_default() += n;
        f.open_total += n;
    }
    // The median sorts every open ticket; in memory that takes a fraction of the time
    // it takes spilled to disk (PostgreSQL's default 4 MB), so allow more for this
    // transaction only.
    db.batch_execute("SET LOCAL work_mem = '64MB'").await?;
    let backlog = db
        .query_one(
            &format!(
                "SELECT extract(epoch FROM now() - min(created_at))::float8 / 60,
                        extract(epoch FROM now() - percentile_disc(0.5) WITHIN GROUP (ORDER BY created_at))::float8 / 60,
                        count(*) FILTER (WHERE sla_warn_at <= now() AND sla_next_due_at > now())
                 FROM tickets WHERE org_id = $1 AND status IN {OPEN}"
            ),
            &[&org_id],
        )
        .await?;
    f.backlog_oldest_minutes = backlog.get(0);
    f.backlog_median_age_minutes = backlog.get(1);
    f.sla_at_risk = backlog.get(2);
    // Driven from the breaches, not from every open ticket: far fewer rows to visit.
    f.sla_breached_open = db
        .query_one(
            &format!(
                "SELECT count(DISTINCT b.ticket_id) FROM sla_breaches b
                 JOIN tickets t ON t.org_id = b.org_id AND t.id = b.ticket_id
                 WHERE b.org_id = $1 AND b.kind = 'breach' AND t.status IN {OPEN}"
            ),
            &[&org_id],
        )
        .await?
        .get(0);
    f.jobs_by_state = db
        .query("SELECT state, count(*) FROM job_queue WHERE org_id = $1 GROUP BY state", &[&org_id])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    f.agent_load = db
        .query(
            &format!(
                "SELECT u.id, u.display_name, count(t.id)
                 FROM users u LEFT JOIN tickets t
                      ON t.org_id = u.org_id AND t.assignee_id = u.id AND t.status IN {OPEN}
                 WHERE u.org_id = $1 AND u.role IN ('admin', 'agent') AND u.is_active
                 GROUP BY u.id, u.display_name
                 ORDER BY count(t.id) DESC, u.display_name, u.id"
            ),
            &[&org_id],
        )
        .await?
        .iter()
        .map(|r| AgentLoad { user_id: r.get(0), display_name: r.get(1), open: r.get(2) })
        .collect();
    Ok(f)
}

/// Fills in the flow figures of `[start, end)`.
pub async fn flow(
    db: &impl GenericClient,
    org_id: OrgId,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    f: &mut Figures,
) -> Result<()> {
    let flow = db
        .query_one(
            "SELECT
                 (SELECT count(*) FROM tickets WHERE org_id = $1 AND created_at >= $2 AND created_at < $3),
                 (SELECT count(*) FROM tickets WHERE org_id = $1 AND solved_at >= $2 AND solved_at < $3),
                 (SELECT ARRAY[percentile_cont(0.5) WITHIN GROUP (ORDER BY m), percentile_cont(0.9) WITHIN GROUP (ORDER BY m)]
                  FROM (SELECT extract(epoch FROM first_responded_at - created_at)::float8 / 60 AS m FROM tickets
                        WHERE org_id = $1 AND first_responded_at >= $2 AND first_responded_at < $3) fr),
                 (SELECT ARRAY[percentile_cont(0.5) WITHIN GROUP (ORDER BY m), percentile_cont(0.9) WITHIN GROUP (ORDER BY m)]
                  FROM (SELECT extract(epoch FROM solved_at - created_at)::float8 / 60 AS m FROM tickets
                        WHERE org_id = $1 AND solved_at >= $2 AND solved_at < $3) res)",
            &[&org_id, &start, &end],
        )
        .await?;
    f.created = flow.get(0);
    f.solved = flow.get(1);
    let quantiles = |v: Option<Vec<Option<f64>>>| {
        let v = v.unwrap_or_default();
        Quantiles { p50: v.first().copied().flatten(), p90: v.get(1).copied().flatten() }
    };
    f.first_response_minutes = quantiles(flow.get(2));
    f.resolution_minutes = quantiles(flow.get(3));

    // A visit counts when it ends; one that ended both ways (left, came back, sent)
    // was not deflected.
    let deflection = db
        .query_one(
            "SELECT count(*), count(*) FILTER (WHERE NOT submitted) FROM (
                 SELECT bool_or(event = 'submitted') AS submitted,
                        max(created_at) FILTER (WHERE event IN ('abandoned', 'submitted')) AS ended
                   FROM kb_deflection_events
                  WHERE org_id = $1 AND session IN (
                        SELECT session FROM kb_deflection_events
                         WHERE org_id = $1 AND event IN ('abandoned', 'submitted')
                           AND created_at >= $2 AND created_at < $3)
                  GROUP BY session
                 HAVING bool_or(event = 'shown')) s
              WHERE ended >= $2 AND ended < $3",
            &[&org_id, &start, &end],
        )
        .await?;
    f.deflection_sessions = deflection.get(0);
    f.deflected = deflection.get(1);
    let drafts = db
        .query_one(
            "SELECT count(*) FILTER (WHERE status IN ('inserted', 'sent') AND decided_at >= $2 AND decided_at < $3),
                    count(*) FILTER (WHERE status = 'rejected' AND decided_at >= $2 AND decided_at < $3),
                    count(*) FILTER (WHERE sent_at >= $2 AND sent_at < $3),
                    avg(sent_distance) FILTER (WHERE sent_at >= $2 AND sent_at < $3)::float8
               FROM ai_suggestions
              WHERE org_id = $1 AND (decided_at >= $2 AND decided_at < $3 OR sent_at >= $2 AND sent_at < $3)",
            &[&org_id, &start, &end],
        )
        .await?;
    f.drafts_inserted = drafts.get(0);
    f.drafts_rejected = drafts.get(1);
    f.drafts_sent = drafts.get(2);
    f.draft_edit_distance = drafts.get(3);
    Ok(())
}

/// What a dashboard answer depends on, for its ETag: the newest snapshot, the last
/// ticket change, and the current minute (live figures age by the minute).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Freshness {
    pub snapshot_id: Option<i64>,
    pub tickets_changed: Option<String>,
    pub minute: i64,
    pub now: chrono::DateTime<chrono::Utc>,
}

impl Freshness {
    /// A short, stable tag of this state for one organisation and range.
    pub fn tag(&self, org_id: OrgId, range: &str) -> String {
        use sha2::Digest;
        let Freshness { snapshot_id, tickets_changed, minute, .. } = self;
        let digest =
            sha2::Sha256::digest(format!("{org_id}|{range}|{snapshot_id:?}|{tickets_changed:?}|{minute}").as_bytes());
        crate::auth::session::hex(&digest[..12])
    }
}

/// The dashboard's freshness for the caller's organisation (staff).
pub async fn freshness(db: &impl GenericClient, who: &crate::auth::Principal) -> Result<Freshness> {
    who.require(Action::SeeDesk)?;
    let row = db
        .query_one(
            "SELECT (SELECT max(id) FROM metrics_snapshots WHERE org_id = $1),
                    (SELECT max(updated_at) FROM tickets WHERE org_id = $1)::text,
                    floor(extract(epoch FROM now()) / 60)::bigint, now()",
            &[&who.org_id],
        )
        .await?;
    Ok(Freshness { snapshot_id: row.get(0), tickets_changed: row.get(1), minute: row.get(2), now: row.get(3) })
}
