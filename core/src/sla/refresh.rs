//! Recomputing tickets' clocks from their history and writing what follows from them:
//! the deadline copies on the ticket row, breaches and warnings (once each), and the
//! policy's escalation on a new breach.
//!
//! Batch-first: one round trip loads the facts of many tickets, one writes their
//! deadlines, so recomputing an organisation after a calendar change and the
//! sweeper's pass over due tickets cost a few statements per few hundred tickets.
//! Every ticket write in the API calls it for its one ticket, in its transaction.

use crate::ids::OrgId;
use crate::ids::TicketId;
use crate::ids::UserId;
use std::{collections::HashMap, sync::Arc};

use chrono::{DateTime, Duration, Utc};
use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};

use super::{
    clocks::{self, Author, Clock, ClockKind, ClockState, Facts, Summary},
    policies::{self, Policy},
};
use crate::{
    actor::Actor,
    error::Result,
    jobs::JobContext,
    notifications,
    tickets::events::{self, Event, Kind},
};
use atum_queue::{Job, JobError};

/// A ticket after its clocks were computed.
#[derive(Debug, Clone)]
pub struct Refreshed {
    pub ticket_id: TicketId,
    pub priority: String,
    pub category: Option<String>,
    pub policy: Option<Arc<Policy>>,
    pub clocks: Vec<Clock>,
    pub summary: Summary,
    /// The deadline copies the ticket row held when it was read.
    stored: Copies,
}

/// The deadline copies a ticket row carries (policy, the four clocks' due times, the
/// earliest, the warning time), as stored or as computed.
#[derive(Debug, Clone, PartialEq, Default)]
struct Copies {
    policy: Option<i64>,
    first_response: Option<DateTime<Utc>>,
    next_response: Option<DateTime<Utc>>,
    next_response_started: Option<DateTime<Utc>>,
    resolution: Option<DateTime<Utc>>,
    next_due: Option<DateTime<Utc>>,
    warn_at: Option<DateTime<Utc>>,
}

impl Refreshed {
    fn computed(&self) -> Copies {
        let warn = self.policy.as_ref().map_or(0, |p| p.warn_before_minutes);
        Copies {
            policy: self.policy.as_ref().map(|p| p.id),
            first_response: self.summary.first_response_due_at,
            next_response: self.summary.next_response_due_at,
            next_response_started: self.summary.next_response_started_at,
            resolution: self.summary.resolution_due_at,
            next_due: self.summary.next_due_at,
            warn_at: self.summary.next_due_at.map(|d| d - Duration::minutes(warn.into())),
        }
    }
}

struct TicketRow {
    id: i64,
    priority: String,
    category: Option<String>,
}

/// Loads the facts of `ids` (of `org_id`) and computes their clocks at `now`.
pub async fn evaluate(
    db: &impl GenericClient,
    org_id: OrgId,
    ids: &[TicketId],
    policies: &[Arc<Policy>],
    now: DateTime<Utc>,
) -> Result<Vec<Refreshed>> {
    let tickets = db
        .query(
            "SELECT id, created_at, priority, category, sla_policy_id, sla_first_response_due_at,
                    sla_next_response_due_at, sla_next_response_started_at, sla_resolution_due_at, sla_next_due_at,
                    sla_warn_at
             FROM tickets WHERE org_id = $1 AND id = ANY($2) ORDER BY id",
            &[&org_id, &ids],
        )
        .await?;
    let mut facts: HashMap<i64, Facts> = tickets
        .iter()
        .map(|r| (r.get("id"), Facts { created_at: r.get("created_at"), periods: Vec::new(), messages: Vec::new() }))
        .collect();
    for r in db
        .query(
            "SELECT ticket_id, status, started_at, ended_at FROM ticket_status_periods
             WHERE org_id = $1 AND ticket_id = ANY($2) ORDER BY ticket_id, started_at",
            &[&org_id, &ids],
        )
        .await?
    {
        if let Some(f) = facts.get_mut(&r.get(0)) {
            f.periods.push((r.get(1), r.get(2), r.get(3)));
        }
    }
    for r in db
        .query(
            "SELECT c.ticket_id, c.created_at, u.role = 'customer'
             FROM ticket_comments c JOIN users u ON u.org_id = c.org_id AND u.id = c.author_id
             WHERE c.org_id = $1 AND c.ticket_id = ANY($2) AND c.visibility = 'public'
             ORDER BY c.ticket_id, c.created_at, c.id",
            &[&org_id, &ids],
        )
        .await?
    {
        if let Some(f) = facts.get_mut(&r.get(0)) {
            let author = if r.get::<_, bool>(2) { Author::Customer } else { Author::Agent };
            f.messages.push((r.get(1), author));
        }
    }
    Ok(tickets
        .iter()
        .map(|r| {
            let t = TicketRow { id: r.get("id"), priority: r.get("priority"), category: r.get("category") };
            let policy = policies.iter().find(|p| p.matches(&t.priority, t.category.as_deref())).cloned();
            let (clocks, summary) = match (&policy, facts.get(&t.id)) {
                (Some(p), Some(f)) => {
                    let clocks = clocks::evaluate(f, &p.rules, now);
                    let summary = clocks::summarize(&clocks, Duration::minutes(p.warn_before_minutes.into()), now);
                    (clocks, summary)
                }
                _ => (Vec::new(), Summary::default()),
            };
            let stored = Copies {
                policy: r.get("sla_policy_id"),
                first_response: r.get("sla_first_response_due_at"),
                next_response: r.get("sla_next_response_due_at"),
                next_response_started: r.get("sla_next_response_started_at"),
                resolution: r.get("sla_resolution_due_at"),
                next_due: r.get("sla_next_due_at"),
                warn_at: r.get("sla_warn_at"),
            };
            Refreshed {
                ticket_id: TicketId(t.id),
                priority: t.priority,
                category: t.category,
                policy,
                clocks,
                summary,
                stored,
            }
        })
        .collect())
}

/// A breach or warning to record.
struct Mark {
    ticket_id: TicketId,
    kind: &'static str,
    clock: ClockKind,
    cycle_started_at: DateTime<Utc>,
    due_at: DateTime<Utc>,
    policy_id: i64,
    /// Escalate if this is a new breach: the clock is still open.
    open: bool,
}

fn marks(r: &Refreshed, now: DateTime<Utc>) -> Vec<Mark> {
    let Some(policy) = &r.policy else { return Vec::new() };
    let warn = Duration::minutes(policy.warn_before_minutes.into());
    let mut out = Vec::new();
    for c in &r.clocks {
        let Some(due) = c.due_at else { continue };
        let open = matches!(c.state, ClockState::Running | ClockState::Paused);
        let mark = |kind| Mark {
            ticket_id: r.ticket_id,
            kind,
            clock: c.kind,
            cycle_started_at: c.started_at,
            due_at: due,
            policy_id: policy.id,
            open,
        };
        if c.breached {
            out.push(mark("breach"));
        } else if c.state == ClockState::Running && due - warn <= now {
            out.push(mark("warning"));
        }
    }
    out
}

/// Recomputes `ids` at `now`, stores their deadlines, records new breaches and
/// warnings, and escalates new breaches. Returns the tickets as computed.
pub async fn refresh(
    db: &impl GenericClient,
    org_id: OrgId,
    ids: &[TicketId],
    now: DateTime<Utc>,
) -> Result<Vec<Refreshed>> {
    let policies = policies::load(db, org_id).await?;
    refresh_with(db, org_id, ids, &policies, now).await
}

pub async fn refresh_with(
    db: &impl GenericClient,
    org_id: OrgId,
    ids: &[TicketId],
    policies: &[Arc<Policy>],
    now: DateTime<Utc>,
) -> Result<Vec<Refreshed>> {
    let refreshed = evaluate(db, org_id, ids, policies, now).await?;
    let marks: Vec<Mark> = refreshed.iter().flat_map(|r| marks(r, now)).collect();
    store(db, org_id, &refreshed).await?;
    if marks.is_empty() {
        return Ok(refreshed);
    }
    let escalated = record(db, org_id, &marks, policies).await?;
    if escalated.is_empty() {
        return Ok(refreshed);
    }
    // A raised priority may match another policy: compute those tickets once more. Their
    // breaches are recorded now, so this does not escalate again.
    let again = evaluate(db, org_id, &escalated, policies, now).await?;
    store(db, org_id, &again).await?;
    Ok(refreshed.into_iter().map(|r| again.iter().find(|a| a.ticket_id == r.ticket_id).cloned().unwrap_or(r)).collect())
}

/// Writes the deadline copies of `refreshed` on the tickets and their next escalation
/// time in `ticket_sla_schedule`. Ticket rows whose copies did not change are not
/// rewritten, nor even sent: a ticket row carries many indexes, and a sweep that acts
/// on time passing changes no deadline (the statement still checks, in case another
/// transaction changed a row since it was read).
async fn store(db: &impl GenericClient, org_id: OrgId, refreshed: &[Refreshed]) -> Result<()> {
    if refreshed.is_empty() {
        return Ok(());
    }
    let changed: Vec<(TicketId, Copies)> = refreshed
        .iter()
        .map(|r| (r.ticket_id, r.computed()))
        .zip(refreshed)
        .filter(|((_, computed), r)| *computed != r.stored)
        .map(|(c, _)| c)
        .collect();
    if !changed.is_empty() {
        let col = |f: fn(&Copies) -> Option<DateTime<Utc>>| changed.iter().map(|(_, c)| f(c)).collect::<Vec<_>>();
        let ids: Vec<TicketId> = changed.iter().map(|(id, _)| *id).collect();
        let policy: Vec<Option<i64>> = changed.iter().map(|(_, c)| c.policy).collect();
        let stmt = db
            .prepare_cached(
                "UPDATE tickets t SET sla_policy_id = u.policy, sla_first_response_due_at = u.fr,
                     sla_next_response_due_at = u.nr, sla_next_response_started_at = u.nr_start,
                     sla_resolution_due_at = u.res, sla_next_due_at = u.next_due, sla_warn_at = u.warn_at
                 FROM unnest($2::bigint[], $3::bigint[], $4::timestamptz[], $5::timestamptz[], $6::timestamptz[],
                             $7::timestamptz[], $8::timestamptz[], $9::timestamptz[])
                      AS u(id, policy, fr, nr, nr_start, res, next_due, warn_at)
                 WHERE t.org_id = $1 AND t.id = u.id
                   AND (t.sla_policy_id, t.sla_first_response_due_at, t.sla_next_response_due_at,
                        t.sla_next_response_started_at, t.sla_resolution_due_at, t.sla_next_due_at, t.sla_warn_at)
                       IS DISTINCT FROM (u.policy, u.fr, u.nr, u.nr_start, u.res, u.next_due, u.warn_at)",
            )
            .await?;
        db.execute(
            &stmt,
            &[
                &org_id,
                &ids,
                &policy,
                &col(|c| c.first_response),
                &col(|c| c.next_response),
                &col(|c| c.next_response_started),
                &col(|c| c.resolution),
                &col(|c| c.next_due),
                &col(|c| c.warn_at),
            ],
        )
        .await?;
    }
    let col = |f: fn(&Refreshed) -> Option<DateTime<Utc>>| refreshed.iter().map(f).collect::<Vec<_>>();
    let ids: Vec<TicketId> = refreshed.iter().map(|r| r.ticket_id).collect();
    let schedule = db
        .prepare_cached(
            "WITH u AS (
                 SELECT * FROM unnest($2::bigint[], $3::timestamptz[]) AS u(id, next_escalation)
             ), gone AS (
                 DELETE FROM ticket_sla_schedule s USING u
                 WHERE s.ticket_id = u.id AND u.next_escalation IS NULL
             )
             INSERT INTO ticket_sla_schedule (ticket_id, org_id, next_escalation_at)
             SELECT id, $1, next_escalation FROM u WHERE next_escalation IS NOT NULL
             ON CONFLICT (ticket_id) DO UPDATE SET next_escalation_at = EXCLUDED.next_escalation_at
             WHERE ticket_sla_schedule.next_escalation_at IS DISTINCT FROM EXCLUDED.next_escalation_at",
        )
        .await?;
    db.execute(&schedule, &[&org_id, &ids, &col(|r| r.summary.next_escalation_at)]).await?;
    Ok(())
}

/// Inserts breaches and warnings (a second insert of the same one is a no-op: the
/// unique key is the clock cycle), writes a ticket event for each that is new, and
/// escalates new breaches of open clocks. Returns the tickets whose priority changed.
async fn record(
    db: &impl GenericClient,
    org_id: OrgId,
    marks: &[Mark],
    policies: &[Arc<Policy>],
) -> Result<Vec<TicketId>> {
    let ids: Vec<TicketId> = marks.iter().map(|m| m.ticket_id).collect();
    let kinds: Vec<&str> = marks.iter().map(|m| m.kind).collect();
    let clocks: Vec<&str> = marks.iter().map(|m| m.clock.as_str()).collect();
    let cycles: Vec<DateTime<Utc>> = marks.iter().map(|m| m.cycle_started_at).collect();
    let dues: Vec<DateTime<Utc>> = marks.iter().map(|m| m.due_at).collect();
    let policy_ids: Vec<i64> = marks.iter().map(|m| m.policy_id).collect();
    let stmt = db
        .prepare_cached(
            "INSERT INTO sla_breaches (org_id, ticket_id, kind, clock, cycle_started_at, due_at, policy_id)
             SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[],
                                      $7::bigint[])
             ON CONFLICT (ticket_id, clock, cycle_started_at, kind) DO NOTHING
             RETURNING ticket_id, kind, clock, cycle_started_at, due_at",
        )
        .await?;
    let new = db.query(&stmt, &[&org_id, &ids, &kinds, &clocks, &cycles, &dues, &policy_ids]).await?;
    let journal: Vec<Event> = new
        .iter()
        .map(|r| {
            let kind = if r.get::<_, &str>("kind") == "breach" { Kind::SlaBreached } else { Kind::SlaWarning };
            let (clock, cycle, due): (&str, DateTime<Utc>, DateTime<Utc>) =
                (r.get("clock"), r.get("cycle_started_at"), r.get("due_at"));
            Event::by_system(Actor::SlaWorker, org_id, r.get::<_, i64>("ticket_id"), kind)
                .after(serde_json::json!({ "clock": clock, "due_at": due, "cycle_started_at": cycle }))
        })
        .collect();
    events::record_many(db, org_id, &journal, events::Announce::Each).await?;
    let mut escalated = Vec::new();
    for row in new.iter().filter(|r| r.get::<_, &str>("kind") == "breach") {
        let (ticket_id, clock, cycle): (TicketId, &str, DateTime<Utc>) =
            (row.get("ticket_id"), row.get("clock"), row.get("cycle_started_at"));
        let Some(mark) =
            marks.iter().find(|m| m.ticket_id == ticket_id && m.clock.as_str() == clock && m.cycle_started_at == cycle)
        else {
            continue;
        };
        let Some(policy) = policies.iter().find(|p| p.id == mark.policy_id) else { continue };
        if mark.open && escalate(db, org_id, ticket_id, clock, policy).await? {
            escalated.push(ticket_id);
        }
    }
    escalated.dedup();
    Ok(escalated)
}

const PRIORITY_RANK: &str = "array_position(ARRAY['low', 'normal', 'high', 'urgent'], ";

/// The policy's escalation for a new breach: raise the priority (never lower it), route
/// to the escalation group and/or assignee, and notify through a job. Returns whether
/// the priority changed.
async fn escalate(
    db: &impl GenericClient,
    org_id: OrgId,
    ticket_id: TicketId,
    clock: &str,
    policy: &Policy,
) -> Result<bool> {
    if policy.escalate_priority.is_none()
        && policy.escalate_assignee_id.is_none()
        && policy.escalate_group_id.is_none()
        && !policy.escalate_notify
    {
        return Ok(false);
    }
    let row = db
        .query_one(
            &format!(
                "WITH old AS (SELECT priority, assignee_id, group_id FROM tickets WHERE org_id = $1 AND id = $2 FOR UPDATE),
                 new AS (
                     UPDATE tickets t SET
                         priority = CASE WHEN $3::text IS NOT NULL AND {PRIORITY_RANK}$3::text) > {PRIORITY_RANK}t.priority)
                                         THEN $3 ELSE t.priority END,
                         -- Escalated to a group without a named assignee: into the group's queue.
                         assignee_id = CASE WHEN $4::bigint IS NOT NULL THEN $4
                                            WHEN $5::bigint IS NOT NULL THEN NULL ELSE t.assignee_id END,
                         group_id = coalesce($5, t.group_id),
                         version = t.version + 1, updated_at = now()
                     WHERE t.org_id = $1 AND t.id = $2
                     RETURNING t.priority, t.assignee_id, t.group_id
                 )
                 SELECT old.priority AS old_priority, old.assignee_id AS old_assignee_id, old.group_id AS old_group_id,
                        new.priority, new.assignee_id, new.group_id
                 FROM old, new"
            ),
            &[&org_id, &ticket_id, &policy.escalate_priority, &policy.escalate_assignee_id, &policy.escalate_group_id],
        )
        .await?;
    let (old_priority, old_assignee, old_group): (String, Option<i64>, Option<i64>) =
        (row.get("old_priority"), row.get("old_assignee_id"), row.get("old_group_id"));
    let (priority, assignee, group): (String, Option<UserId>, Option<i64>) =
        (row.get("priority"), row.get("assignee_id"), row.get("group_id"));
    let escalated = Event::by_system(Actor::SlaWorker, org_id, ticket_id, Kind::SlaEscalated)
        .before(serde_json::json!({ "priority": old_priority, "assignee_id": old_assignee, "group_id": old_group }))
        .after(serde_json::json!({ "priority": priority, "assignee_id": assignee, "group_id": group, "clock": clock }));
    events::record(db, escalated).await?;
    let priority_changed = old_priority != priority;
    if policy.escalate_notify {
        let job =
            NotifyEscalation { org_id, ticket_id, clock: clock.to_owned(), assignee_id: assignee, group_id: group };
        atum_queue::enqueue(db, &job, Default::default()).await?;
    }
    Ok(priority_changed)
}

/// Tells people about an SLA escalation: an in-app notification for the assignee; when
/// nobody is assigned, for the members of the ticket's group, or else every admin.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyEscalation {
    pub org_id: OrgId,
    pub ticket_id: TicketId,
    pub clock: String,
    pub assignee_id: Option<UserId>,
    #[serde(default)]
    pub group_id: Option<i64>,
}

impl Job for NotifyEscalation {
    type Services = crate::jobs::Services;
    const KIND: &'static str = "SLA_NOTIFY";
    const PRIORITY: i16 = 2;

    fn org_id(&self) -> Option<impl Into<i64>> {
        Some(self.org_id)
    }

    async fn run(self, ctx: JobContext) -> Result<(), JobError> {
        let conn = ctx.pool.get().await.map_err(|e| JobError::Retry(e.to_string()))?;
        let to = notifications::Responsible { assignee_id: self.assignee_id, group_id: self.group_id };
        let body = serde_json::json!({ "clock": self.clock });
        // Every failure is retried, as it always was: a notification is worth another try.
        notifications::notify(&conn, self.org_id, self.ticket_id, "sla_escalation", &body, &to).await.map_err(|e| {
            JobError::Retry(match e {
                crate::error::Error::Db(db) => atum_runtime::db::root_cause(&db),
                other => other.to_string(),
            })
        })?;
        Ok(())
    }
}

/// The SLA of one ticket as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TicketSla {
    #[schema(value_type = i64)]
    pub ticket_id: TicketId,
    /// The matched policy (null: no policy applies, no clocks run).
    pub policy: Option<PolicyRef>,
    /// The current clock of each kind with a target (the latest next-response cycle).
    pub clocks: Vec<ClockView>,
    pub next_due_at: Option<DateTime<Utc>>,
    pub time_to_breach_minutes: Option<i32>,
    pub sla_risk_score: Option<i16>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PolicyRef {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClockView {
    /// first_response, next_response or resolution.
    pub clock: &'static str,
    pub target_minutes: i64,
    /// Business minutes (or calendar minutes, for a policy without a calendar).
    pub business_hours: bool,
    pub started_at: DateTime<Utc>,
    pub due_at: Option<DateTime<Utc>>,
    pub elapsed_minutes: i64,
    /// Negative once breached; whole minutes, rounded toward zero (so 120 minutes of
    /// target with 378 minutes and 30 seconds elapsed is -258).
    pub remaining_minutes: i64,
    /// running, paused, stopped (solved before it was met) or met.
    pub state: &'static str,
    pub paused: bool,
    pub breached: bool,
    pub met_at: Option<DateTime<Utc>>,
    /// How many next-response cycles there have been (1 for the other clocks).
    pub cycles: usize,
}

/// Whole minutes of `seconds`, rounded toward zero: an overdue clock 258½ minutes past
/// its target reads -258, as a running one 258½ minutes before it reads 258.
fn whole_minutes(seconds: i64) -> i64 {
    seconds / 60
}

pub fn view(ticket_id: TicketId, r: &Refreshed) -> TicketSla {
    let business = r.policy.as_ref().is_some_and(|p| !p.rules.calendar.is_always());
    let clocks = ClockKind::ALL
        .iter()
        .filter_map(|kind| {
            let of_kind: Vec<&Clock> = r.clocks.iter().filter(|c| c.kind == *kind).collect();
            let c = of_kind.last()?;
            Some(ClockView {
                clock: kind.as_str(),
                target_minutes: c.target_minutes,
                business_hours: business,
                started_at: c.started_at,
                due_at: c.due_at,
                elapsed_minutes: whole_minutes(c.elapsed_seconds),
                remaining_minutes: whole_minutes(c.remaining_seconds()),
                state: c.state.as_str(),
                paused: c.state == ClockState::Paused,
                breached: c.breached,
                met_at: c.met_at,
                cycles: of_kind.len(),
            })
        })
        .collect();
    TicketSla {
        ticket_id,
        policy: r.policy.as_ref().map(|p| PolicyRef { id: p.id, name: p.name.clone() }),
        clocks,
        next_due_at: r.summary.next_due_at,
        time_to_breach_minutes: None,
        sla_risk_score: None,
    }
}

/// `GET /tickets/{id}/sla`: computed fresh (nothing is written), for a ticket the
/// principal can see.
pub async fn for_ticket(db: &impl GenericClient, who: &crate::auth::Principal, id: TicketId) -> Result<TicketSla> {
    let ticket = crate::tickets::get(db, who, id).await?;
    let policies = policies::load(db, who.org_id).await?;
    let refreshed = evaluate(db, who.org_id, &[ticket.id], &policies, super::db_now(db).await?).await?;
    let r = refreshed.first().ok_or(crate::error::Error::NotFound("ticket"))?;
    let mut sla = view(ticket.id, r);
    let row =
        db.query_one("SELECT time_to_breach_minutes, sla_risk_score FROM tickets WHERE id = $1", &[&ticket.id]).await?;
    sla.time_to_breach_minutes = row.get(0);
    sla.sla_risk_score = row.get(1);
    Ok(sla)
}

#[cfg(test)]
mod tests {
    use super::whole_minutes;

    #[test]
    fn minutes_shown_round_toward_zero_on_both_sides_of_the_deadline() {
        // A 120-minute target with 378 minutes and 30 seconds counted.
        assert_eq!(whole_minutes(120 * 60 - (378 * 60 + 30)), -258);
        assert_eq!(whole_minutes(258 * 60 + 30), 258);
        assert_eq!(whole_minutes(-59), 0);
    }
}
