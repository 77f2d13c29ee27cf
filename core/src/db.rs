//! The connection pool every binary uses.

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

use crate::config::DatabaseConfig;

pub use deadpool_postgres::{GenericClient, Object as Connection, Pool as DbPool, Transaction};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot build the connection pool: {0}")]
    Build(#[from] deadpool_postgres::BuildError),
    #[error("cannot reach the database at {target}: {reason}")]
    Unreachable { target: String, reason: String },
    #[error("cannot get a database connection: {0}")]
    Pool(String),
    #[error(transparent)]
    Query(#[from] tokio_postgres::Error),
}

pub fn pool(cfg: &DatabaseConfig) -> Result<Pool, DbError> {
    let manager = Manager::from_config(
        cfg.pg.clone(),
        NoTls,
        // Fast recycling trusts a connection that has not reported an error; the
        // watchdog tick exercises the pool often enough to catch a dead server.
        ManagerConfig { recycling_method: RecyclingMethod::Fast },
    );
    Ok(Pool::builder(manager)
        .max_size(cfg.pool_size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(std::time::Duration::from_secs(10)))
        .create_timeout(Some(std::time::Duration::from_secs(10)))
        .build()?)
}

/// Takes a connection from the pool, with the innermost cause as the message.
pub async fn connection(pool: &Pool) -> Result<Connection, DbError> {
    pool.get().await.map_err(|e| DbError::Pool(root_cause(&e)))
}

/// Opens a single connection outside any pool (the CLI, the LISTEN connection).
pub async fn connect(pg: &tokio_postgres::Config) -> Result<tokio_postgres::Client, DbError> {
    let (client, connection) = pg
        .connect(NoTls)
        .await
        .map_err(|e| DbError::Unreachable { target: crate::config::describe(pg), reason: root_cause(&e) })?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "database connection closed");
        }
    });
    Ok(client)
}

/// The innermost error message: "connection refused" rather than a chain of wrappers.
pub fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    let inner = cur.to_string();
    let outer = e.to_string();
    if inner == outer { outer } else { format!("{outer}: {inner}") }
}
