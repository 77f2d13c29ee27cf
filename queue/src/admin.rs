//! What operators do with jobs: look, retry, cancel.
//!
//! Every function takes a `scope`: `Some(org_id)` limits it to one organisation's jobs
//! (the admin API: another organisation's job is "not found"); `None` is the
//! instance-wide view of the `atum jobs` command on the server itself.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;
use serde_json::Value;
use tokio_postgres::Row;

use crate::{Error, Result};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct JobRecord {
    pub id: i64,
    pub kind: String,
    pub queue: String,
    pub org_id: Option<i64>,
    pub state: String,
    pub priority: i16,
    pub attempt: i32,
    pub max_attempts: i32,
    pub run_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub locked_by: Option<String>,
    pub cancel_requested: bool,
    #[schema(value_type = Object)]
    pub payload: Value,
    /// Every failed attempt's error, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub errors: Value,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct JobEvent {
    pub event: String,
    pub worker_id: Option<String>,
    pub attempt: Option<i32>,
    pub duration_ms: Option<i32>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, kind, queue, org_id, state, priority, attempt, max_attempts, run_at, created_at, \
     started_at, finished_at, locked_by, cancel_requested_at IS NOT NULL AS cancel_requested, payload, errors";

fn record(r: &Row) -> JobRecord {
    JobRecord {
        id: r.get("id"),
        kind: r.get("kind"),
        queue: r.get("queue"),
        org_id: r.get("org_id"),
        state: r.get("state"),
        priority: r.get("priority"),
        attempt: r.get("attempt"),
        max_attempts: r.get("max_attempts"),
        run_at: r.get("run_at"),
        created_at: r.get("created_at"),
        started_at: r.get("started_at"),
        finished_at: r.get("finished_at"),
        locked_by: r.get("locked_by"),
        cancel_requested: r.get("cancel_requested"),
        payload: shown_payload(r.get("payload")),
        errors: r.get("errors"),
    }
}

/// A payload marked sensitive shows its `text` to nobody, not even admins: a mail with a
/// one-time link could sign them in as someone else until it is sent (and scrubbed).
fn shown_payload(mut payload: Value) -> Value {
    if payload.get("sensitive").and_then(Value::as_bool) == Some(true)
        && let Some(text) = payload.get_mut("text")
    {
        *text = Value::String(crate::REDACTED.into());
    }
    payload
}

pub const STATES: [&str; 5] = ["available", "running", "succeeded", "discarded", "cancelled"];

/// How many jobs are in each state (finished ones until housekeeping prunes them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StateCounts {
    pub available: i64,
    pub running: i64,
    pub succeeded: i64,
    pub discarded: i64,
    pub cancelled: i64,
}

pub async fn counts(db: &impl GenericClient, scope: Option<i64>) -> Result<StateCounts> {
    let rows = db
        .query(
            "SELECT state, count(*) FROM job_queue WHERE ($1::bigint IS NULL OR org_id = $1) GROUP BY state",
            &[&scope],
        )
        .await?;
    let mut c = StateCounts::default();
    for r in rows {
        let n: i64 = r.get(1);
        match r.get::<_, &str>(0) {
            "available" => c.available = n,
            "running" => c.running = n,
            "succeeded" => c.succeeded = n,
            "discarded" => c.discarded = n,
            _ => c.cancelled += n,
        }
    }
    Ok(c)
}

/// Newest first; `before` is the last id of the previous page.
pub async fn list(
    db: &impl GenericClient,
    scope: Option<i64>,
    state: Option<&str>,
    kind: Option<&str>,
    queue: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<JobRecord>> {
    let mut refused = Vec::new();
    if state.is_some_and(|s| !STATES.contains(&s)) {
        refused.push(("state", format!("must be one of: {}", STATES.join(", "))));
    }
    if !(1..=500).contains(&limit) {
        refused.push(("limit", "must be a whole number from 1 to 500".to_owned()));
    }
    for (field, value) in [("kind", kind), ("queue", queue)] {
        if value.is_some_and(|v| v.chars().count() > 64) {
            refused.push((field, "must be at most 64 characters".to_owned()));
        }
    }
    if !refused.is_empty() {
        return Err(Error::Filters(refused));
    }
    let rows = db
        .query(
            &format!(
                "SELECT {COLUMNS} FROM job_queue
                 WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR kind = $2)
                   AND ($3::text IS NULL OR queue = $3) AND ($4::bigint IS NULL OR id < $4)
                   AND ($6::bigint IS NULL OR org_id = $6)
                 ORDER BY id DESC LIMIT $5"
            ),
            &[&state, &kind, &queue, &before, &limit, &scope],
        )
        .await?;
    Ok(rows.iter().map(record).collect())
}

pub async fn get(db: &impl GenericClient, scope: Option<i64>, id: i64) -> Result<(JobRecord, Vec<JobEvent>)> {
    let job = db
        .query_opt(
            &format!("SELECT {COLUMNS} FROM job_queue WHERE id = $1 AND ($2::bigint IS NULL OR org_id = $2)"),
            &[&id, &scope],
        )
        .await?
        .map(|r| record(&r))
        .ok_or(Error::NotFound)?;
    let events = db
        .query(
            "SELECT event, worker_id, attempt, duration_ms, error, created_at FROM job_events WHERE job_id = $1 ORDER BY id",
            &[&id],
        )
        .await?
        .iter()
        .map(|r| JobEvent {
            event: r.get("event"),
            worker_id: r.get("worker_id"),
            attempt: r.get("attempt"),
            duration_ms: r.get("duration_ms"),
            error: r.get("error"),
            created_at: r.get("created_at"),
        })
        .collect();
    Ok((job, events))
}

/// Runs a discarded or cancelled job again now, granting it one more attempt if it
/// had used them all. Its error history stays.
pub async fn retry(db: &impl GenericClient, scope: Option<i64>, id: i64) -> Result<JobRecord> {
    let row = db
        .query_opt(
            &format!(
                "WITH r AS (
                     UPDATE job_queue SET state = 'available', run_at = now(), finished_at = NULL,
                            cancel_requested_at = NULL, max_attempts = greatest(max_attempts, attempt + 1)
                     WHERE id = $1 AND state IN ('discarded', 'cancelled') AND ($2::bigint IS NULL OR org_id = $2)
                     RETURNING *
                 ), e AS (
                     INSERT INTO job_events (job_id, kind, event, attempt) SELECT id, kind, 'retried', attempt FROM r
                 )
                 SELECT {COLUMNS} FROM r"
            ),
            &[&id, &scope],
        )
        .await;
    match row {
        Ok(Some(r)) => {
            let job = record(&r);
            crate::wake(db, crate::Wake::Queue(&job.queue)).await?;
            Ok(job)
        }
        Ok(None) => Err(conflict_or_missing(db, scope, id, "only discarded or cancelled jobs can be retried").await),
        // Another job with the same unique key is pending: retrying would duplicate it.
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) => Err(Error::DuplicatePending),
        Err(e) => Err(e.into()),
    }
}

/// Cancels a job: an available one at once; a running one is asked to stop (its
/// worker sees the request at its next heartbeat and the handler at its next check).
pub async fn cancel(db: &impl GenericClient, scope: Option<i64>, id: i64) -> Result<JobRecord> {
    let row = db
        .query_opt(
            &format!(
                "WITH c AS (
                     UPDATE job_queue SET
                         state = CASE WHEN state = 'available' THEN 'cancelled' ELSE state END,
                         finished_at = CASE WHEN state = 'available' THEN now() ELSE finished_at END,
                         cancel_requested_at = coalesce(cancel_requested_at, now())
                     WHERE id = $1 AND state IN ('available', 'running') AND ($2::bigint IS NULL OR org_id = $2)
                     RETURNING *
                 ), e AS (
                     INSERT INTO job_events (job_id, kind, event, attempt)
                     SELECT id, kind, 'cancelled', attempt FROM c WHERE state = 'cancelled'
                 )
                 SELECT {COLUMNS} FROM c"
            ),
            &[&id, &scope],
        )
        .await?;
    match row {
        Some(r) => Ok(record(&r)),
        None => Err(conflict_or_missing(db, scope, id, "the job has already finished").await),
    }
}

async fn conflict_or_missing(db: &impl GenericClient, scope: Option<i64>, id: i64, why: &str) -> Error {
    match db
        .query_opt("SELECT 1 FROM job_queue WHERE id = $1 AND ($2::bigint IS NULL OR org_id = $2)", &[&id, &scope])
        .await
    {
        Ok(Some(_)) => Error::InvalidState(why.to_owned()),
        Ok(None) => Error::NotFound,
        Err(e) => e.into(),
    }
}
