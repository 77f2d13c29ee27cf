//! The domain's error type, shared by every module that serves a request.
//!
//! Each variant has exactly one HTTP meaning, assigned once in `atum-api`'s error
//! module. Messages are for people; `FieldErrors` keys are the JSON field names the
//! client sent, so a form can show each message next to its field.

use std::collections::BTreeMap;

/// Every stable error code the API answers with: `{"error": {"code": …}}`. One list,
/// used by the API's error mapping and stated as an enum in the OpenAPI document, so a
/// client can match on every code and a new one is a deliberate change here. Names are
/// snake_case and never change meaning.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    strum::IntoStaticStr,
    strum::VariantArray,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Code {
    // The request itself.
    InvalidJson,
    InvalidBody,
    InvalidQuery,
    InvalidIfMatch,
    PayloadTooLarge,
    UnsupportedMediaType,
    MethodNotAllowed,
    ValidationFailed,
    InvalidInput,
    NotFound,
    // Who is asking.
    Unauthenticated,
    InvalidCredentials,
    InvalidCode,
    InvalidToken,
    CsrfFailed,
    Forbidden,
    IpNotAllowed,
    EmailNotVerified,
    MfaEnrollmentRequired,
    RateLimited,
    // The state of things.
    VersionMismatch,
    PreconditionRequired,
    TicketLocked,
    TicketClosed,
    Closed,
    Conflict,
    Retry,
    EmailTaken,
    NameTaken,
    SlugTaken,
    DuplicatePending,
    CannotDemoteSelf,
    // Ticket links and merges.
    AlreadyLinked,
    AlreadyHasParent,
    AlreadyADuplicate,
    AlreadyMerged,
    Cycle,
    DuplicateOfDuplicate,
    DuplicateOfAnother,
    HasDuplicates,
    OriginalClosed,
    InvalidJobState,
    AllowlistExcludesYou,
    MfaNotConfigured,
    MfaAlreadyEnabled,
    MfaNotEnabled,
    MfaRequiredByOrg,
    EnrolMfaFirst,
    DraftSuperseded,
    SecretKeyNotConfigured,
    ModelNotLoaded,
    // Files.
    FileTooLarge,
    StorageQuotaExceeded,
    FileTypeNotAllowed,
    UploadIncomplete,
    AttachmentAlreadyUsed,
    FileInfected,
    RangeNotSatisfiable,
    // Ours.
    DatabaseUnavailable,
    Internal,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The resource does not exist *for this principal*: another organisation's
    /// ticket is reported exactly like a missing one.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    #[error("{message}")]
    Conflict { code: Code, message: String },
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("it was changed by someone else meanwhile; it is now at version {current}")]
    Stale { current: i32 },
    #[error("a change must name the version it was made against (If-Match)")]
    VersionRequired,
    #[error("authentication required")]
    Unauthenticated,
    /// Wrong password, unknown email and inactive account all look the same.
    #[error("wrong email or password")]
    InvalidCredentials,
    /// Too many requests or failed attempts from this client; try again after the wait.
    #[error("too many attempts; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// The organisation's IP allowlist does not include the client's address.
    #[error("your organisation does not allow access from this address")]
    IpNotAllowed,
    #[error("confirm your email address first: follow the link we sent you")]
    EmailNotVerified,
    /// The org requires two-factor authentication and this user has not enrolled.
    #[error("your organisation requires two-factor authentication: enrol first")]
    MfaEnrolmentRequired,
    /// A second-factor code or challenge that does not pass (wrong, reused, expired).
    #[error("the code is wrong, was already used, or the sign-in attempt expired")]
    InvalidCode,
    /// A one-time link's token that is unknown, used or expired.
    #[error("this link is invalid, has expired or was already used")]
    InvalidToken,
    /// Another agent holds the ticket's lock (423).
    #[error("{holder_name} is working on this ticket (since {since}); take the lock over to change it anyway")]
    Locked {
        holder_id: i64,
        holder_name: String,
        since: chrono::DateTime<chrono::Utc>,
        expires_at: chrono::DateTime<chrono::Utc>,
    },
    /// A body larger than a limit allows (413): an upload past the largest file or
    /// past the organisation's storage.
    #[error("{message}")]
    TooLarge { code: Code, message: String },
    /// A kind of content this request may not carry (415): a file type customers may
    /// not send.
    #[error("{message}")]
    Unsupported { code: Code, message: String },
    /// The request's body ended before it was whole (400): the connection dropped
    /// during an upload.
    #[error("{0}")]
    Incomplete(String),
    /// The database cannot be reached or gives no connection: try again later.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
    #[error(transparent)]
    Db(#[from] tokio_postgres::Error),
}

impl From<atum_runtime::db::DbError> for Error {
    fn from(e: atum_runtime::db::DbError) -> Self {
        match e {
            atum_runtime::db::DbError::Query(q) => Error::Db(q),
            other => Error::Unavailable(other.to_string()),
        }
    }
}

/// The queue's errors in the domain's words: a job the caller cannot see is "not
/// found", a state that forbids the action a conflict with its code.
impl From<atum_queue::Error> for Error {
    fn from(e: atum_queue::Error) -> Self {
        use atum_queue::Error as Q;
        match e {
            Q::Db(e) => Error::Db(e),
            Q::Pool(e) => e.into(),
            Q::Payload { .. } => Error::Internal(e.to_string()),
            Q::NotFound => Error::NotFound("job"),
            Q::Filters(refused) => {
                let mut f = FieldErrors::default();
                for (field, message) in refused {
                    f.add(field, message);
                }
                Error::Invalid(f)
            }
            Q::InvalidState(message) => Error::Conflict { code: Code::InvalidJobState, message },
            Q::DuplicatePending => Error::Conflict { code: Code::DuplicatePending, message: e.to_string() },
        }
    }
}

impl Error {
    /// Whether the same call could succeed later: the database was unreachable or
    /// busy, or a concurrent transaction got in the way. Not-found, invalid input,
    /// conflicts and rule violations will fail the same way every time.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Unavailable(_) | Error::Internal(_) => true,
            Error::Db(e) => atum_runtime::db::is_transient(e),
            _ => false,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Per-field validation messages, collected so the client sees every problem at once.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FieldErrors(pub BTreeMap<String, String>);

impl FieldErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.entry(field.to_owned()).or_insert_with(|| message.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when nothing was added.
    pub fn finish(self) -> Result<()> {
        if self.is_empty() { Ok(()) } else { Err(Error::Invalid(self)) }
    }

    pub fn single(field: &str, message: impl Into<String>) -> Error {
        let mut f = FieldErrors::default();
        f.add(field, message);
        Error::Invalid(f)
    }
}

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        f.write_str(&parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use strum::VariantArray;

    use super::Code;

    #[test]
    fn every_code_has_one_snake_case_name_in_json_and_in_text() {
        for code in Code::VARIANTS {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str(), "{code:?}");
            assert!(code.as_str().bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{code:?}");
        }
        assert_eq!(Code::AlreadyADuplicate.as_str(), "already_a_duplicate");
        assert_eq!(Code::MfaEnrollmentRequired.as_str(), "mfa_enrollment_required");
        assert_eq!(Code::DatabaseUnavailable.as_str(), "database_unavailable");
    }
}
