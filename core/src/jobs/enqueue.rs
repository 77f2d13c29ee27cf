//! Putting jobs in the queue, inside the caller's transaction.
//!
//! The NOTIFY is sent with the queue name as payload, by the statement that inserts
//! (no second round trip), and only when it inserted a job; PostgreSQL delivers
//! identical notifications of one transaction once, at commit, so a transaction that
//! enqueues a thousand jobs wakes the workers once — and a rolled-back one not at all.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::Job;
use crate::error::{Error, Result};

/// Options a caller may set per enqueue.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub run_at: Option<chrono::DateTime<chrono::Utc>>,
    pub priority: Option<i16>,
}

/// Enqueues `job`; returns its id, or `None` when a job with the same unique key is
/// already pending or running.
pub async fn enqueue<J: Job>(db: &impl GenericClient, job: &J, opts: Options) -> Result<Option<i64>> {
    Ok(enqueue_many(db, std::slice::from_ref(job), opts).await?.into_iter().next().flatten())
}

/// Enqueues several jobs of one kind in one statement; ids in input order (`None`
/// for duplicates).
pub async fn enqueue_many<J: Job>(db: &impl GenericClient, jobs: &[J], opts: Options) -> Result<Vec<Option<i64>>> {
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let mut payloads = Vec::with_capacity(jobs.len());
    let mut keys = Vec::with_capacity(jobs.len());
    let mut orgs = Vec::with_capacity(jobs.len());
    for j in jobs {
        payloads.push(serde_json::to_value(j).map_err(|e| Error::Internal(format!("serialising {}: {e}", J::KIND)))?);
        keys.push(j.unique_key());
        orgs.push(j.org_id());
    }
    let priority = opts.priority.unwrap_or(J::PRIORITY).clamp(0, 9);
    let stmt = db
        .prepare_cached(
            "WITH input AS (
                 SELECT * FROM unnest($1::jsonb[], $2::text[], $3::bigint[]) WITH ORDINALITY AS t(payload, unique_key, org_id, n)
             ), inserted AS (
                 INSERT INTO job_queue (kind, queue, priority, max_attempts, run_at, payload, unique_key, org_id)
                 -- Typed as the domains' base types: a parameter inferred as a domain
                 -- is one the client library cannot encode.
                 SELECT $4::text, $5::text, $6::smallint, $7::integer, coalesce($8, now()), payload, unique_key, org_id
                 FROM input ORDER BY n
                 ON CONFLICT (kind, unique_key) WHERE unique_key IS NOT NULL AND state IN ('available', 'running')
                 DO NOTHING
                 RETURNING id, unique_key, payload
             ), events AS (
                 INSERT INTO job_events (job_id, kind, event) SELECT id, $4, 'enqueued' FROM inserted
             )
             SELECT id, unique_key FROM inserted, LATERAL (SELECT pg_notify('atum_jobs', $5)) wake ORDER BY id",
        )
        .await?;
    let rows: Vec<Row> = db
        .query(&stmt, &[&payloads, &keys, &orgs, &J::KIND, &J::QUEUE, &priority, &J::MAX_ATTEMPTS, &opts.run_at])
        .await?;
    // Match returned rows back to inputs: by unique key when there is one, else in order
    // (ids are handed out in insertion order, and the rows come back sorted by id).
    let mut ids: Vec<Option<i64>> = vec![None; jobs.len()];
    let mut unkeyed = rows.iter().filter(|r| r.get::<_, Option<String>>(1).is_none());
    for (i, key) in keys.iter().enumerate() {
        ids[i] = match key {
            Some(k) => rows.iter().find(|r| r.get::<_, Option<String>>(1).as_deref() == Some(k)).map(|r| r.get(0)),
            None => unkeyed.next().map(|r| r.get(0)),
        };
    }
    // Two inputs with the same key: only the first got the row.
    for i in 0..ids.len() {
        if ids[i].is_some() && keys[i].is_some() && ids[..i].contains(&ids[i]) {
            ids[i] = None;
        }
    }
    Ok(ids)
}
