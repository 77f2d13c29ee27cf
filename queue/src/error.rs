//! The queue's one error type; the domain maps it onto its own (`atum_core::error`).

use atum_runtime::db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Db(#[from] tokio_postgres::Error),
    /// No connection could be had from the pool.
    #[error(transparent)]
    Pool(#[from] DbError),
    /// A job that cannot be written as JSON: a bug in its type, not the caller's input.
    #[error("serialising a {kind} job: {reason}")]
    Payload { kind: &'static str, reason: String },
    /// No job with that id in the caller's scope.
    #[error("job not found")]
    NotFound,
    /// Filters the admin queries refuse: each parameter named with what it must be.
    #[error("{}", .0.iter().map(|(f, m)| format!("{f}: {m}")).collect::<Vec<_>>().join("; "))]
    Filters(Vec<(&'static str, String)>),
    /// The job is in a state that does not allow what was asked (retrying a running
    /// job, cancelling a finished one).
    #[error("{0}")]
    InvalidState(String),
    /// Another job with the same unique key is pending or running.
    #[error("a job with the same unique key is already pending or running")]
    DuplicatePending,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
