pub mod calendar;
pub mod calendars;
pub mod clocks;
pub mod follow;
pub mod policies;
pub mod predict;
pub mod prediction_job;
pub mod preview;
pub mod refresh;

use crate::ids::{OrgId, TicketId};
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};

use crate::{error::Result, jobs::JobContext};
use atum_queue::{Job, JobError};

/// Queues a recompute of the organisation's tickets (after a policy or calendar change).
pub async fn schedule_recompute(db: &impl GenericClient, org_id: OrgId) -> Result<()> {
    atum_queue::enqueue(db, &Recompute { org_id }, Default::default()).await?;
    Ok(())
}

/// The transaction's clock: the time status periods and comments were stamped with.
pub async fn db_now(db: &impl GenericClient) -> Result<DateTime<Utc>> {
    Ok(db.query_one("SELECT now()", &[]).await?.get(0))
}

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub tickets: usize,
    pub batches: usize,
}

/// Refreshes every ticket whose next warning or deadline has come, `batch` at a time,
/// each batch its own transaction. Tickets another sweeper holds are skipped (it is
/// refreshing them), so two sla-workers never record the same breach twice — and the
/// unique key on `sla_breaches` would refuse it if they tried.
/// Index: ticket_sla_schedule_due_idx.
pub async fn sweep(conn: &mut deadpool_postgres::Object, batch: i64) -> Result<Swept> {
    let mut swept = Swept::default();
    loop {
        let tx = conn.transaction().await?;
        let rows = tx
            .query(
                "SELECT org_id, ticket_id FROM ticket_sla_schedule WHERE next_escalation_at <= now()
                 ORDER BY next_escalation_at LIMIT $1 FOR UPDATE SKIP LOCKED",
                &[&batch],
            )
            .await?;
        let now = db_now(&tx).await?;
        let mut by_org: std::collections::BTreeMap<OrgId, Vec<TicketId>> = Default::default();
        for r in &rows {
            by_org.entry(r.get(0)).or_default().push(r.get(1));
        }
        for (org, ids) in &by_org {
            refresh::refresh(&tx, *org, ids, now).await?;
        }
        tx.commit().await?;
        swept.tickets += rows.len();
        swept.batches += 1;
        if (rows.len() as i64) < batch {
            return Ok(swept);
        }
    }
}

/// [`sweep`] on `lanes` connections at once: each lane skips the tickets the others
/// hold, so they split the due tickets between them (a database server has more than
/// one core to refresh with).
pub async fn sweep_parallel(pool: &deadpool_postgres::Pool, batch: i64, lanes: usize) -> Result<Swept> {
    let runs = (0..lanes.max(1)).map(|_| async {
        let mut conn = atum_runtime::db::connection(pool).await?;
        sweep(&mut conn, batch).await
    });
    let mut total = Swept::default();
    for r in futures_util::future::join_all(runs).await {
        let r = r?;
        total.tickets += r.tickets;
        total.batches += r.batches;
    }
    Ok(total)
}

/// Recomputes every unsolved ticket of an organisation after its policies or
/// calendars changed, in batches with a transaction each, so the API is never
/// blocked for longer than one batch of tickets. Every change enqueues one (no unique
/// key: a change made while a recompute runs must not be skipped); a recompute is
/// idempotent, so extra runs only cost time.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recompute {
    pub org_id: OrgId,
}

pub const RECOMPUTE_BATCH: i64 = 500;

impl Job for Recompute {
    type Services = crate::jobs::Services;
    const KIND: &'static str = "SLA_RECOMPUTE";
    const PRIORITY: i16 = 3;

    fn org_id(&self) -> Option<impl Into<i64>> {
        Some(self.org_id)
    }

    async fn run(self, ctx: JobContext) -> Result<(), JobError> {
        let mut conn = ctx.pool.get().await.map_err(|e| JobError::Retry(atum_runtime::db::root_cause(&e)))?;
        recompute_org(&mut conn, self.org_id, RECOMPUTE_BATCH, || ctx.is_cancelled())
            .await
            .map_err(|e| JobError::Retry(atum_runtime::db::root_cause(&e)))?;
        Ok(())
    }
}

/// The work of [`Recompute`]; returns how many tickets were recomputed.
pub async fn recompute_org(
    conn: &mut deadpool_postgres::Object,
    org_id: OrgId,
    batch: i64,
    cancelled: impl Fn() -> bool,
) -> Result<usize> {
    let policies = policies::load(&*conn, org_id).await?;
    let mut after = TicketId(0);
    let mut total = 0;
    while !cancelled() {
        let tx = conn.transaction().await?;
        let ids: Vec<TicketId> = tx
            .query(
                "SELECT id FROM tickets WHERE org_id = $1 AND id > $2 AND status NOT IN ('solved', 'closed')
                 ORDER BY id LIMIT $3",
                &[&org_id, &after, &batch],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let Some(&last) = ids.last() else { break };
        let now = db_now(&tx).await?;
        refresh::refresh_with(&tx, org_id, &ids, &policies, now).await?;
        tx.commit().await?;
        total += ids.len();
        after = last;
    }
    Ok(total)
}
