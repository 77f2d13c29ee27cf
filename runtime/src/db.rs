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

/// Whether a database error could go away on its own: no answer from the server (a
/// dropped connection), or an SQLSTATE of connection trouble (08), too many
/// connections or no memory (53), a shutdown (57), a serialization failure or deadlock
/// (40) or a lock timeout (55P03). A constraint or data error (23, 22) will recur.
pub fn is_transient(e: &tokio_postgres::Error) -> bool {
    match e.code().map(|c| c.code()) {
        None => true,
        Some(code) => ["08", "53", "57", "40"].iter().any(|class| code.starts_with(class)) || code == "55P03",
    }
}

/// What may be logged about a database error: its SQLSTATE, constraint, table and
/// message — never its DETAIL (which quotes the row's values) and never the query's
/// parameters. Messages of class 22 (data exceptions) can quote the offending input,
/// so theirs is withheld.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loggable {
    pub sqlstate: String,
    pub constraint: Option<String>,
    pub table: Option<String>,
    pub message: String,
}

impl Loggable {
    /// `None` for errors that did not come from the server (a closed connection…).
    pub fn of(e: &tokio_postgres::Error) -> Option<Loggable> {
        let db = e.as_db_error()?;
        let sqlstate = db.code().code().to_owned();
        let message = if sqlstate.starts_with("22") {
            "(withheld: a data exception's message may quote the input)".to_owned()
        } else {
            db.message().to_owned()
        };
        Some(Loggable {
            sqlstate,
            constraint: db.constraint().map(str::to_owned),
            table: db.table().map(str::to_owned),
            message,
        })
    }
}

/// An error for a log line: a database error anywhere in the chain as its
/// [`Loggable`] parts (never values), anything else as its [`root_cause`]. A bare
/// "db error" says nothing an operator can act on.
pub fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = Some(e);
    while let Some(level) = cur {
        if let Some(db) = level.downcast_ref::<tokio_postgres::Error>().and_then(Loggable::of) {
            let table = db.table.map(|t| format!(" (table {t})")).unwrap_or_default();
            return format!("database error {}{table}: {}", db.sqlstate, db.message);
        }
        cur = level.source();
    }
    root_cause(e)
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
