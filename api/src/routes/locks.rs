//! `/api/v1/tickets/{id}/lock`: an agent's lease on a ticket (`atum_core::tickets::locks`).

use actix_web::{HttpResponse, web};
use actix_web::{delete, get, post};
use atum_core::ids::TicketId;
use atum_core::tickets::locks::{self, Lock};
use serde::{Deserialize, Serialize};

use crate::json::OptionalJson;

use crate::{
    AppState,
    auth::Credentials,
    error::{ApiError, ErrorBody},
};

#[derive(Serialize, utoipa::ToSchema)]
pub struct LockState {
    pub locked: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock: Option<Lock>,
}

/// Who holds the ticket's lock (staff).
#[utoipa::path(tag = "workflow", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, description = "The lock, if any", body = LockState), (status = 403, description = "Staff only", body = ErrorBody), (status = 404, description = "Not found (or another organisation's)", body = ErrorBody)))]
#[get("/tickets/{id}/lock")]
pub async fn get_lock(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<TicketId>,
) -> Result<HttpResponse, ApiError> {
    let lock = state.in_tx(&creds, async |tx, who| Ok(locks::current(tx, &who, *id).await?)).await?;
    Ok(HttpResponse::Ok().json(LockState { locked: lock.is_some(), lock }))
}

#[derive(Deserialize, utoipa::ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct TakeLock {
    /// Take the lock from the agent holding it (recorded in the ticket's history).
    #[serde(default)]
    takeover: bool,
}

/// Take or renew the ticket's lock for 5 minutes (staff). Held by someone else: 423
/// with the holder, unless `takeover`.
#[utoipa::path(tag = "workflow", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket id")), request_body = Option<TakeLock>,
    responses((status = 200, description = "Yours until expires_at", body = Lock), (status = 403, description = "Staff only", body = ErrorBody), (status = 404, description = "Not found (or another organisation's)", body = ErrorBody), (status = 423, description = "Held by another agent (error.detail.holder)", body = ErrorBody)))]
#[post("/tickets/{id}/lock")]
pub async fn take_lock(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<TicketId>,
    body: OptionalJson<TakeLock>,
) -> Result<HttpResponse, ApiError> {
    let takeover = body.0.is_some_and(|b| b.takeover);
    let lock = state.in_tx(&creds, async |tx, who| Ok(locks::acquire(tx, &who, *id, takeover).await?)).await?;
    Ok(HttpResponse::Ok().json(lock))
}

/// Release your lock on the ticket.
#[utoipa::path(tag = "workflow", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 204, description = "Released"), (status = 404, description = "You hold no lock on it", body = ErrorBody)))]
#[delete("/tickets/{id}/lock")]
pub async fn release_lock(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<TicketId>,
) -> Result<HttpResponse, ApiError> {
    state
        .in_tx(&creds, async |tx, who| {
            if locks::release(tx, &who, *id).await? {
                Ok(())
            } else {
                Err(atum_core::error::Error::NotFound("lock").into())
            }
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
