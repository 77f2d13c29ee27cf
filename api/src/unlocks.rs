//! Forgets an unlocked account's sign-in rate in this process: an admin's or the
//! operator's unlock (`lockout::UNLOCKED`, sent at its commit) lets the person
//! straight back in, instead of a minute of 429s from the per-account limiter, which
//! lives in each API process's memory.

use std::sync::Arc;

use atum_core::auth::lockout;
use atum_runtime::{Metrics, db::DbPool, listener};
use tokio_util::sync::CancellationToken;

use crate::state::Security;

/// Listens for unlocks until `shutdown`.
pub fn start(
    pool: DbPool,
    pg: tokio_postgres::Config,
    metrics: Metrics,
    security: Arc<Security>,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    let mut wakeups = listener::spawn(pg, vec![lockout::UNLOCKED], metrics, shutdown);
    tokio::spawn(async move {
        while let Some(wakeup) = wakeups.recv().await {
            let listener::Wakeup::Notification { payload, .. } = wakeup else { continue };
            let Some(unlocked) = lockout::Unlocked::parse(&payload) else { continue };
            let keys = async {
                let conn = atum_runtime::db::connection(&pool).await?;
                lockout::sign_in_keys(&conn, unlocked.org_id, unlocked.user_id).await
            };
            match keys.await {
                Ok(keys) => keys.iter().for_each(|k| security.per_account.forget(k)),
                Err(e) => tracing::warn!(error = %e, "forgetting an unlocked account's sign-in rate failed"),
            }
        }
    })
}
