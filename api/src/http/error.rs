//! The one place where errors become HTTP responses.
//!
//! Every error body has the same shape, pinned by a test:
//! `{"error": {"code": "stable_snake_case", "message": "…", "fields": {…}}}` (`fields`
//! only for validation errors). Codes are a stable contract; messages may improve.
//! Database errors that bad input can still cause (a constraint the validation missed)
//! become 4xx here, so no client input produces a 500.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, ResponseError, http::StatusCode};
pub use atum_core::error::Code;
use atum_core::error::Error;
use atum_runtime::db::Loggable;
use tokio_postgres::error::SqlState;

/// The body of every error response.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: `not_found`, `validation_failed`, `version_mismatch`, …
    pub code: Code,
    /// For people; may change between versions.
    pub message: String,
    /// Per-field messages, only for `validation_failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<BTreeMap<String, String>>,
    /// More about the error, for some codes (e.g. the lock holder for `ticket_locked`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<serde_json::Value>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: Code,
    pub message: String,
    pub fields: Option<Box<BTreeMap<String, String>>>,
    /// Seconds for `Retry-After` (429).
    pub retry_after: Option<u64>,
    pub detail: Option<Box<serde_json::Value>>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: Code, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), fields: None, retry_after: None, detail: None }
    }

    pub fn rate_limited(wait: std::time::Duration) -> Self {
        Error::RateLimited { retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64 }.into()
    }

    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, Code::Internal, "something went wrong on our side")
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message.clone(),
                fields: self.fields.as_deref().cloned(),
                detail: self.detail.as_deref().cloned(),
            },
        };
        let mut res = HttpResponse::build(self.status);
        if self.status == StatusCode::UNAUTHORIZED {
            res.insert_header(("WWW-Authenticate", "Bearer"));
        }
        if let Some(secs) = self.retry_after {
            res.insert_header(("Retry-After", secs.to_string()));
        }
        res.json(body)
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        use StatusCode as S;
        match e {
            Error::NotFound(what) => ApiError::new(S::NOT_FOUND, Code::NotFound, format!("{what} not found")),
            Error::Invalid(fields) => ApiError {
                status: S::UNPROCESSABLE_ENTITY,
                code: Code::ValidationFailed,
                message: format!("some fields are invalid: {fields}"),
                fields: Some(Box::new(fields.0)),
                retry_after: None,
                detail: None,
            },
            Error::Conflict { code, message } => ApiError::new(S::CONFLICT, code, message),
            Error::Forbidden(why) => ApiError::new(S::FORBIDDEN, Code::Forbidden, why),
            e @ Error::Stale { .. } => ApiError::new(S::PRECONDITION_FAILED, Code::VersionMismatch, e.to_string()),
            Error::VersionRequired => ApiError::new(
                S::PRECONDITION_REQUIRED,
                Code::PreconditionRequired,
                "send If-Match with the ticket's version from its ETag (or * for whatever version it is at)",
            ),
            Error::Unauthenticated => ApiError::new(
                S::UNAUTHORIZED,
                Code::Unauthenticated,
                "sign in first: your session is missing or has ended",
            ),
            e @ Error::InvalidCredentials => ApiError::new(S::UNAUTHORIZED, Code::InvalidCredentials, e.to_string()),
            e @ Error::RateLimited { retry_after_secs } => ApiError {
                retry_after: Some(retry_after_secs),
                ..ApiError::new(S::TOO_MANY_REQUESTS, Code::RateLimited, e.to_string())
            },
            e @ Error::IpNotAllowed => ApiError::new(S::FORBIDDEN, Code::IpNotAllowed, e.to_string()),
            e @ Error::EmailNotVerified => ApiError::new(S::FORBIDDEN, Code::EmailNotVerified, e.to_string()),
            e @ Error::MfaEnrolmentRequired => {
                ApiError::new(S::FORBIDDEN, Code::MfaEnrollmentRequired, format!("{e} (POST /api/v1/auth/mfa/totp)"))
            }
            e @ Error::InvalidCode => ApiError::new(S::UNAUTHORIZED, Code::InvalidCode, e.to_string()),
            e @ Error::InvalidToken => ApiError::new(S::BAD_REQUEST, Code::InvalidToken, e.to_string()),
            e @ Error::Locked { .. } => locked(e),
            Error::TooLarge { code, message } => ApiError::new(S::PAYLOAD_TOO_LARGE, code, message),
            Error::Unsupported { code, message } => ApiError::new(S::UNSUPPORTED_MEDIA_TYPE, code, message),
            Error::Incomplete(message) => ApiError::new(S::BAD_REQUEST, Code::UploadIncomplete, message),
            Error::Unavailable(detail) => {
                tracing::warn!(error = %detail, "database unavailable");
                ApiError::new(
                    S::SERVICE_UNAVAILABLE,
                    Code::DatabaseUnavailable,
                    "the database is unavailable; try again",
                )
            }
            Error::Internal(detail) => ApiError::internal(detail),
            Error::Db(e) => from_db(&e),
        }
    }
}

/// 423 with the holder, so the client can say who is working on the ticket.
fn locked(e: Error) -> ApiError {
    let message = e.to_string();
    let Error::Locked { holder_id, holder_name, since, expires_at } = e else {
        return ApiError::internal(message);
    };
    let detail = serde_json::json!({
        "holder": {"id": holder_id, "name": holder_name},
        "since": since,
        "expires_at": expires_at,
    });
    ApiError { detail: Some(Box::new(detail)), ..ApiError::new(StatusCode::LOCKED, Code::TicketLocked, message) }
}

impl From<atum_runtime::db::DbError> for ApiError {
    fn from(e: atum_runtime::db::DbError) -> Self {
        tracing::warn!(error = %e, "database unavailable");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            Code::DatabaseUnavailable,
            "the database is unavailable; try again",
        )
    }
}

/// The queue's admin queries answer in the domain's words (`atum_core::error`).
impl From<atum_queue::Error> for ApiError {
    fn from(e: atum_queue::Error) -> Self {
        Error::from(e).into()
    }
}

impl From<tokio_postgres::Error> for ApiError {
    fn from(e: tokio_postgres::Error) -> Self {
        from_db(&e)
    }
}

/// Maps a database error to its answer and logs it once, here, with what may be
/// logged ([`Loggable`]: SQLSTATE, constraint, table, message — never values). The
/// request's span adds its route and id.
fn from_db(e: &tokio_postgres::Error) -> ApiError {
    use StatusCode as S;
    let Some(db) = Loggable::of(e) else {
        return ApiError::internal(e);
    };
    let (code, constraint, table) = (&db.sqlstate, db.constraint.as_deref(), db.table.as_deref());
    let state = SqlState::from_code(code);
    // Input the validation should have caught; still the client's, never a 500.
    if state == SqlState::UNIQUE_VIOLATION {
        tracing::warn!(db.sqlstate = code, db.constraint = constraint, db.table = table, db.message = %db.message, "a write conflicted with an existing row");
        ApiError::new(S::CONFLICT, Code::Conflict, "this conflicts with an existing record")
    } else if [SqlState::CHECK_VIOLATION, SqlState::FOREIGN_KEY_VIOLATION, SqlState::NOT_NULL_VIOLATION]
        .contains(&state)
        || code.starts_with("22")
    {
        tracing::warn!(db.sqlstate = code, db.constraint = constraint, db.table = table, db.message = %db.message, "input rejected by the database");
        ApiError::new(S::UNPROCESSABLE_ENTITY, Code::InvalidInput, "the input is not acceptable")
    } else if state == SqlState::T_R_SERIALIZATION_FAILURE || state == SqlState::T_R_DEADLOCK_DETECTED {
        tracing::info!(db.sqlstate = code, db.message = %db.message, "a concurrent change got in the way");
        ApiError::new(S::CONFLICT, Code::Retry, "a concurrent change got in the way; try again")
    } else {
        tracing::error!(db.sqlstate = code, db.constraint = constraint, db.table = table, db.message = %db.message, "database error");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, Code::Internal, "something went wrong on our side")
    }
}

#[cfg(test)]
mod tests {
    use actix_web::body::MessageBody;
    use serde_json::json;

    use super::*;

    fn body(e: ApiError) -> (u16, serde_json::Value) {
        let res = e.error_response();
        let status = res.status().as_u16();
        let bytes = res.into_body().try_into_bytes().unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[test]
    fn the_error_shape_is_pinned() {
        let mut fields = atum_core::error::FieldErrors::default();
        fields.add("subject", "must be 1 to 300 characters");
        let (status, json) = body(Error::Invalid(fields).into());
        assert_eq!(status, 422);
        assert_eq!(
            json,
            json!({"error": {
                "code": "validation_failed",
                "message": "some fields are invalid: subject: must be 1 to 300 characters",
                "fields": {"subject": "must be 1 to 300 characters"}
            }})
        );
        let (status, json) = body(Error::NotFound("ticket").into());
        assert_eq!(status, 404);
        assert_eq!(json, json!({"error": {"code": "not_found", "message": "ticket not found"}}));
    }
}
