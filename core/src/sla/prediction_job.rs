//! The `SLA_PREDICT` job: fits the organisation's model from its recent history and
//! writes `time_to_breach_minutes` and `sla_risk_score` on open tickets.

use crate::ids::{OrgId, TicketId};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};

use super::{
    clocks::{ClockKind, ClockState},
    policies::{self, Policy},
    predict::{Model, Sample, loads_at_arrival},
    refresh,
};
use crate::{error::Result, jobs::JobContext};
use atum_queue::{Job, JobError};

/// History the model is fitted on.
const HISTORY_DAYS: i64 = 180;
const HISTORY_LIMIT: i64 = 20_000;
const BATCH: usize = 500;

/// Predicts for `ticket_ids` of the organisation, or for all its unsolved tickets when
/// the list is empty (the periodic refresh; one at a time per organisation).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Predict {
    pub org_id: OrgId,
    #[serde(default)]
    pub ticket_ids: Vec<TicketId>,
}

impl Job for Predict {
    type Services = crate::jobs::Services;
    const KIND: &'static str = "SLA_PREDICT";
    const PRIORITY: i16 = 6;
    const MAX_ATTEMPTS: i32 = 3;

    fn unique_key(&self) -> Option<String> {
        self.ticket_ids.is_empty().then(|| format!("{}:all", self.org_id))
    }

    fn org_id(&self) -> Option<impl Into<i64>> {
        Some(self.org_id)
    }

    async fn run(self, ctx: JobContext) -> Result<(), JobError> {
        let retry = |e: crate::error::Error| JobError::Retry(atum_runtime::db::root_cause(&e));
        let conn = ctx.pool.get().await.map_err(|e| JobError::Retry(atum_runtime::db::root_cause(&e)))?;
        let ids = if self.ticket_ids.is_empty() {
            conn.query(
                "SELECT id FROM tickets WHERE org_id = $1 AND status NOT IN ('solved', 'closed') ORDER BY id",
                &[&self.org_id],
            )
            .await
            .map_err(|e| retry(e.into()))?
            .iter()
            .map(|r| r.get(0))
            .collect()
        } else {
            self.ticket_ids
        };
        let models = Models::load(&conn, self.org_id).await.map_err(retry)?;
        for chunk in ids.chunks(BATCH) {
            if ctx.is_cancelled() {
                return Err(JobError::Cancelled);
            }
            predict(&conn, self.org_id, chunk, &models).await.map_err(retry)?;
        }
        Ok(())
    }
}

/// The organisation's fitted models and the facts predictions need.
pub struct Models {
    pub policies: Vec<Arc<Policy>>,
    pub first_response: Model,
    pub resolution: Model,
    /// Open tickets per active agent now.
    pub open_per_agent: Option<f64>,
}

impl Models {
    pub async fn load(db: &impl GenericClient, org_id: OrgId) -> Result<Models> {
        let policies = policies::load(db, org_id).await?;
        let rows = db
            .query(
                "SELECT priority, category, created_at, first_responded_at, solved_at FROM tickets
                 WHERE org_id = $1 AND created_at > now() - make_interval(days => $2::int)
                 ORDER BY created_at DESC LIMIT $3",
                &[&org_id, &(HISTORY_DAYS as i32), &HISTORY_LIMIT],
            )
            .await?;
        let counts = db
            .query_one(
                "SELECT (SELECT count(*) FROM users WHERE org_id = $1 AND role <> 'customer' AND is_active),
                        (SELECT count(*) FROM tickets WHERE org_id = $1 AND status NOT IN ('solved', 'closed'))",
                &[&org_id],
            )
            .await?;
        let (agents, open): (i64, i64) = (counts.get(0), counts.get(1));
        // Load at each arrival, from the history itself (today's agent count).
        let epoch = |t: DateTime<Utc>| t.timestamp() as f64 / 60.0;
        let spans: Vec<(f64, Option<f64>)> =
            rows.iter().map(|r| (epoch(r.get(2)), r.get::<_, Option<DateTime<Utc>>>(4).map(epoch))).collect();
        let loads = loads_at_arrival(&spans, agents.max(1) as usize);
        let (mut first, mut resolved) = (Vec::new(), Vec::new());
        for (r, load) in rows.iter().zip(loads) {
            let (priority, category): (String, Option<String>) = (r.get(0), r.get(1));
            let created: DateTime<Utc> = r.get(2);
            // Measured in the minutes of the policy that applies to such a ticket today.
            let Some(policy) = policies.iter().find(|p| p.matches(&priority, category.as_deref())) else { continue };
            let minutes = |end: DateTime<Utc>| policy.rules.calendar.business_seconds(created, end) as f64 / 60.0;
            let sample = |m: f64| Sample {
                priority: priority.clone(),
                category: category.clone(),
                minutes: m,
                load: Some(load),
            };
            if let Some(at) = r.get::<_, Option<DateTime<Utc>>>(3) {
                first.push(sample(minutes(at)));
            }
            if let Some(at) = r.get::<_, Option<DateTime<Utc>>>(4) {
                resolved.push(sample(minutes(at)));
            }
        }
        Ok(Models {
            policies,
            first_response: Model::fit(&first),
            resolution: Model::fit(&resolved),
            open_per_agent: (agents > 0).then(|| open as f64 / agents as f64),
        })
    }
}

/// Computes and stores the prediction of `ids`: for the running clock due first,
/// the business minutes left (negative once past) and the breach probability in %.
pub async fn predict(db: &impl GenericClient, org_id: OrgId, ids: &[TicketId], models: &Models) -> Result<usize> {
    let now = super::db_now(db).await?;
    let refreshed = refresh::evaluate(db, org_id, ids, &models.policies, now).await?;
    let (mut out_ids, mut minutes, mut scores) = (Vec::new(), Vec::<Option<i32>>::new(), Vec::<Option<i16>>::new());
    for r in &refreshed {
        out_ids.push(r.ticket_id);
        let next =
            r.clocks.iter().filter(|c| c.state == ClockState::Running && c.due_at.is_some()).min_by_key(|c| c.due_at);
        let (Some(clock), Some(policy)) = (next, &r.policy) else {
            minutes.push(None);
            scores.push(None);
            continue;
        };
        let due = clock.due_at.unwrap_or(now);
        let cal = &policy.rules.calendar;
        let left = if due >= now {
            cal.business_seconds(now, due) as f64 / 60.0
        } else {
            -(cal.business_seconds(due, now) as f64 / 60.0)
        };
        let model = if clock.kind == ClockKind::Resolution { &models.resolution } else { &models.first_response };
        let (p, _) = model.breach_probability(
            &r.priority,
            r.category.as_deref(),
            clock.elapsed_seconds as f64 / 60.0,
            left,
            clock.target_minutes as f64,
            models.open_per_agent,
        );
        minutes.push(Some(left.round().clamp(i32::MIN as f64, i32::MAX as f64) as i32));
        scores.push(Some((p * 100.0).round() as i16));
    }
    db.execute(
        "UPDATE tickets t SET time_to_breach_minutes = u.minutes, sla_risk_score = u.score
         FROM unnest($2::bigint[], $3::int[], $4::smallint[]) AS u(id, minutes, score)
         WHERE t.org_id = $1 AND t.id = u.id",
        &[&org_id, &out_ids, &minutes, &scores],
    )
    .await?;
    Ok(out_ids.len())
}
