//! Putting jobs in the queue, inside the caller's transaction.
//!
//! The NOTIFY is sent with the queue name as payload, by the statement that inserts
//! (no second round trip), and only when it inserted a job; PostgreSQL delivers
//! identical notifications of one transaction once, at commit, so a transaction that
//! enqueues a thousand jobs wakes the workers once — and a rolled-back one not at all.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use crate::{CHANNEL, Error, Job, Result};

/// Options a caller may set per enqueue.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub run_at: Option<chrono::DateTime<chrono::Utc>>,
    pub priority: Option<i16>,
}

/// Enqueues `job`; returns its id, or `None` when a job with the same unique key is
/// already pending or running.
pub async fn enqueue<J: Job>(db: &impl GenericClient, job: &J, opts: Options) -> Result<Option<i64>> {
    let mut batch = Batch::default();
    batch.push(job, opts)?;
    Ok(batch.enqueue(db).await?.into_iter().next().flatten())
}

/// Enqueues several jobs of one kind in one statement; ids in input order (`None`
/// for duplicates).
pub async fn enqueue_many<J: Job>(db: &impl GenericClient, jobs: &[J], opts: Options) -> Result<Vec<Option<i64>>> {
    let mut batch = Batch::default();
    for job in jobs {
        batch.push(job, opts)?;
    }
    batch.enqueue(db).await
}

/// Jobs of any kinds, put in the queue by one statement: what one change to a ticket
/// sets off (its triage, articles and draft) costs one round trip, not one per job.
#[derive(Debug, Default)]
pub struct Batch {
    payloads: Vec<serde_json::Value>,
    keys: Vec<Option<String>>,
    orgs: Vec<Option<i64>>,
    kinds: Vec<&'static str>,
    queues: Vec<&'static str>,
    priorities: Vec<i16>,
    max_attempts: Vec<i32>,
    run_at: Vec<Option<chrono::DateTime<chrono::Utc>>>,
}

impl Batch {
    pub fn push<J: Job>(&mut self, job: &J, opts: Options) -> Result<()> {
        self.payloads
            .push(serde_json::to_value(job).map_err(|e| Error::Payload { kind: J::KIND, reason: e.to_string() })?);
        self.keys.push(job.unique_key());
        self.orgs.push(job.org_id().map(Into::into));
        self.kinds.push(J::KIND);
        self.queues.push(J::QUEUE);
        self.priorities.push(opts.priority.unwrap_or(J::PRIORITY).clamp(0, 9));
        self.max_attempts.push(J::MAX_ATTEMPTS);
        self.run_at.push(opts.run_at);
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.kinds.len()
    }

    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }

    /// Inserts the jobs; ids in the order they were pushed (`None` where a job with
    /// the same kind and unique key is already pending or running, or came earlier in
    /// the batch).
    pub async fn enqueue(self, db: &impl GenericClient) -> Result<Vec<Option<i64>>> {
        if self.is_empty() {
            return Ok(Vec::new());
        }
        let stmt = db
            .prepare_cached(
                "WITH input AS (
                     SELECT * FROM unnest($1::jsonb[], $2::text[], $3::bigint[], $4::text[], $5::text[],
                                          $6::smallint[], $7::integer[], $8::timestamptz[])
                         WITH ORDINALITY AS t(payload, unique_key, org_id, kind, queue, priority, max_attempts, run_at, n)
                 ), inserted AS (
                     -- Typed as the domains' base types: a parameter inferred as a domain
                     -- is one the client library cannot encode.
                     INSERT INTO job_queue (kind, queue, priority, max_attempts, run_at, payload, unique_key, org_id)
                     SELECT kind, queue, priority, max_attempts, coalesce(run_at, now()), payload, unique_key, org_id
                     FROM input ORDER BY n
                     ON CONFLICT (kind, unique_key) WHERE unique_key IS NOT NULL AND state IN ('available', 'running')
                     DO NOTHING
                     RETURNING id, kind, queue, unique_key
                 ), events AS (
                     INSERT INTO job_events (job_id, kind, event) SELECT id, kind, 'enqueued' FROM inserted
                 )
                 SELECT id, kind::text, unique_key FROM inserted, LATERAL (SELECT pg_notify($9, queue)) wake
                 ORDER BY id",
            )
            .await?;
        let rows: Vec<Row> = db
            .query(
                &stmt,
                &[
                    &self.payloads,
                    &self.keys,
                    &self.orgs,
                    &self.kinds,
                    &self.queues,
                    &self.priorities,
                    &self.max_attempts,
                    &self.run_at,
                    &CHANNEL,
                ],
            )
            .await?;
        // Match returned rows back to inputs: by kind and unique key when there is one,
        // else in order (ids are handed out in insertion order, and the rows come back
        // sorted by id).
        let mut ids: Vec<Option<i64>> = vec![None; self.len()];
        let mut unkeyed = rows.iter().filter(|r| r.get::<_, Option<String>>(2).is_none());
        for (i, key) in self.keys.iter().enumerate() {
            ids[i] = match key {
                Some(k) => rows
                    .iter()
                    .find(|r| {
                        r.get::<_, &str>(1) == self.kinds[i] && r.get::<_, Option<String>>(2).as_deref() == Some(k)
                    })
                    .map(|r| r.get(0)),
                None => unkeyed.next().map(|r| r.get(0)),
            };
        }
        // Two inputs with the same kind and key: only the first got the row.
        for i in 0..ids.len() {
            if ids[i].is_some() && ids[..i].contains(&ids[i]) {
                ids[i] = None;
            }
        }
        Ok(ids)
    }
}
