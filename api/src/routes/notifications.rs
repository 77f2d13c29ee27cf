//! `/api/v1/notifications`: the signed-in person's in-app notifications (an SLA's or
//! the AI's escalation of a ticket they are responsible for), and marking them read.

use actix_web::{HttpResponse, get, post, web};
use atum_core::notifications::{self, Inbox};
use serde::Deserialize;

use crate::{
    AppState,
    auth::Credentials,
    error::{ApiError, ErrorBody},
};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct InboxQuery {
    /// At most this many (1 to 100; 30 when absent).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// Only notifications older than this id (the last id of the page before).
    pub before: Option<i64>,
    /// Only the unread ones.
    pub unread: Option<bool>,
}

/// Your notifications, newest first, with how many are unread.
#[utoipa::path(operation_id = "list_notifications", tag = "notifications", security(("bearer" = [])),
    params(InboxQuery),
    responses((status = 200, description = "Your notifications", body = Inbox),
        (status = 422, description = "A limit outside 1 to 100", body = ErrorBody)))]
#[get("/notifications")]
pub async fn list(
    state: web::Data<AppState>,
    creds: Credentials,
    query: web::Query<InboxQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let limit = q.limit.unwrap_or(30);
    if !(1..=100).contains(&limit) {
        return Err(atum_core::error::FieldErrors::single("limit", "must be from 1 to 100").into());
    }
    let unread = q.unread.unwrap_or(false);
    let inbox =
        state.in_tx(&creds, async |tx, who| Ok(notifications::list(tx, &who, limit, q.before, unread).await?)).await?;
    Ok(HttpResponse::Ok().json(inbox))
}

/// Marks one of your notifications read.
#[utoipa::path(operation_id = "read_notification", tag = "notifications", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Notification id")),
    responses((status = 204, description = "Read"),
        (status = 404, description = "Not one of yours", body = ErrorBody)))]
#[post("/notifications/{id}/read")]
pub async fn read(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    state.in_tx(&creds, async |tx, who| Ok(notifications::mark_read(tx, &who, id).await?)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Marks all your notifications read.
#[utoipa::path(operation_id = "read_all_notifications", tag = "notifications", security(("bearer" = [])),
    responses((status = 204, description = "All read")))]
#[post("/notifications/read")]
pub async fn read_all(state: web::Data<AppState>, creds: Credentials) -> Result<HttpResponse, ApiError> {
    state.in_tx(&creds, async |tx, who| Ok(notifications::mark_all_read(tx, &who).await?)).await?;
    Ok(HttpResponse::NoContent().finish())
}
