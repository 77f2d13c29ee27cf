//! `ATTACHMENT_SWEEP`: removes what nobody can reach any more — uploads that were never
//! used a day after they came, bytes in the store that no row refers to (a deleted
//! ticket's or article's files, an upload whose row never committed because its
//! process died), and staged uploads a killed process left behind.
//!
//! Bytes are removed under the file's lock, held exclusively, after checking that no
//! row refers to them: an upload keeping the same bytes holds the lock shared until its
//! row commits, so the sweep sees that row or removes the bytes before they are kept
//! again (`attachments::upload`). The job worker enqueues it every hour; its unique key
//! keeps one at a time across workers.

use std::time::Duration;

use atum_queue::{Job, JobError};
use serde::{Deserialize, Serialize};

use super::upload::lock_exclusive;
use crate::jobs::{JobContext, Need};

/// How long an upload may stay pending.
pub const PENDING_FOR: Duration = Duration::from_secs(24 * 3600);
/// How long a staged file may go unwritten before it counts as abandoned.
pub const STAGED_FOR: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sweep {}

/// What one sweep removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub pending: u64,
    pub files: u64,
    pub staged: u64,
}

impl Job for Sweep {
    type Services = crate::jobs::Services;
    const KIND: &'static str = "ATTACHMENT_SWEEP";
    const PRIORITY: i16 = 8;
    const MAX_ATTEMPTS: i32 = 3;
    const NEEDS: &'static [Need] = &[Need::Attachments];

    fn unique_key(&self) -> Option<String> {
        Some("attachment-sweep".into())
    }

    async fn run(self, ctx: JobContext) -> Result<(), JobError> {
        let store = ctx.services.attachments()?;
        let swept = sweep(&ctx.pool, store).await?;
        tracing::info!(pending = swept.pending, files = swept.files, staged = swept.staged, "attachments swept");
        Ok(())
    }
}

/// One pass; see the module's documentation.
pub async fn sweep(pool: &deadpool_postgres::Pool, store: &crate::storage::Store) -> crate::error::Result<Swept> {
    let io = |e: std::io::Error| crate::error::Error::Internal(format!("the attachment store: {e}"));
    let mut conn = pool.get().await.map_err(|e| crate::error::Error::Unavailable(e.to_string()))?;
    let pending = conn
        .execute(
            "DELETE FROM attachments WHERE attached_at IS NULL AND created_at < now() - make_interval(secs => $1)",
            &[&(PENDING_FOR.as_secs() as f64)],
        )
        .await?;
    let mut files = 0;
    for stored in store.list().await.map_err(io)? {
        let tx = conn.transaction().await?;
        lock_exclusive(&tx, stored.org_id, &stored.sha256).await?;
        let used = tx
            .query_opt(
                "SELECT 1 FROM attachments WHERE org_id = $1 AND sha256 = $2 LIMIT 1",
                &[&stored.org_id, &&stored.sha256[..]],
            )
            .await?
            .is_some();
        if !used {
            store.remove(stored.org_id, &stored.sha256).await.map_err(io)?;
            files += 1;
        }
        tx.commit().await?;
    }
    let staged = store.sweep_staging(STAGED_FOR).await.map_err(io)? as u64;
    Ok(Swept { pending, files, staged })
}
