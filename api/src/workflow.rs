//! Agent workflow on tickets: the lock, links between tickets, and merging.

use crate::json::{Json, OptionalJson};
use actix_web::{HttpResponse, web};
use atum_core::tickets::{
    locks::{self, Lock},
    relationships::{self, Link, Merged, NewLink},
};
use serde::{Deserialize, Serialize};

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
#[utoipa::path(get, path = "/api/v1/tickets/{id}/lock", tag = "workflow", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, description = "The lock, if any", body = LockState), (status = 403, description = "Staff only", body = ErrorBody), (status = 404, description = "Not found (or another organisation's)", body = ErrorBody)))]
pub async fn get_lock(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<i64>,
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
#[utoipa::path(post, path = "/api/v1/tickets/{id}/lock", tag = "workflow", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket id")), request_body = Option<TakeLock>,
    responses((status = 200, description = "Yours until expires_at", body = Lock), (status = 403, description = "Staff only", body = ErrorBody), (status = 404, description = "Not found (or another organisation's)", body = ErrorBody), (status = 423, description = "Held by another agent (error.detail.holder)", body = ErrorBody)))]
pub async fn take_lock(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<i64>,
    body: OptionalJson<TakeLock>,
) -> Result<HttpResponse, ApiError> {
    let takeover = body.0.is_some_and(|b| b.takeover);
    let lock = state.in_tx(&creds, async |tx, who| Ok(locks::acquire(tx, &who, *id, takeover).await?)).await?;
    Ok(HttpResponse::Ok().json(lock))
}

/// Release your lock on the ticket.
#[utoipa::path(delete, path = "/api/v1/tickets/{id}/lock", tag = "workflow", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 204, description = "Released"), (status = 404, description = "You hold no lock on it", body = ErrorBody)))]
pub async fn release_lock(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<i64>,
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

#[derive(Serialize, utoipa::ToSchema)]
pub struct LinkList {
    pub items: Vec<Link>,
}

/// The ticket's links, from its side (staff).
#[utoipa::path(get, path = "/api/v1/tickets/{id}/links", tag = "workflow", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, description = "Links", body = LinkList), (status = 403, description = "Staff only", body = ErrorBody), (status = 404, description = "Not found (or another organisation's)", body = ErrorBody)))]
pub async fn list_links(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let items = state.in_tx(&creds, async |tx, who| Ok(relationships::list(tx, &who, *id).await?)).await?;
    Ok(HttpResponse::Ok().json(LinkList { items }))
}

/// Link the ticket to another of your organisation (staff).
#[utoipa::path(post, path = "/api/v1/tickets/{id}/links", tag = "workflow", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket id")), request_body = NewLink,
    responses((status = 201, description = "Linked", body = Link), (status = 403, description = "Staff only", body = ErrorBody), (status = 404, description = "Either ticket not found", body = ErrorBody), (status = 409, description = "Already linked, a cycle, or a duplicate of a duplicate", body = ErrorBody), (status = 422, description = "Invalid kind or a self-link", body = ErrorBody)))]
pub async fn add_link(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<i64>,
    body: Json<NewLink>,
) -> Result<HttpResponse, ApiError> {
    let link = state.in_tx(&creds, async |tx, who| Ok(relationships::add(tx, &who, *id, &body).await?)).await?;
    Ok(HttpResponse::Created().json(link))
}

/// Remove one of the ticket's links (staff).
#[utoipa::path(delete, path = "/api/v1/tickets/{id}/links/{link_id}", tag = "workflow", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket id"), ("link_id" = i64, Path, description = "Link id")),
    responses((status = 204, description = "Removed"), (status = 403, description = "Staff only", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody)))]
pub async fn remove_link(
    state: web::Data<AppState>,
    creds: Credentials,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (id, link) = path.into_inner();
    state.in_tx(&creds, async |tx, who| Ok(relationships::remove(tx, &who, id, link).await?)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The original this ticket duplicates.
    into_id: i64,
}

/// Merge this ticket (a duplicate) into its original: comments move, the requester can
/// see the original, this one is closed with a pointer (staff).
#[utoipa::path(post, path = "/api/v1/tickets/{id}/merge", tag = "workflow", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The duplicate's id")), request_body = MergeRequest,
    responses((status = 200, description = "Merged", body = Merged), (status = 403, description = "Staff only", body = ErrorBody), (status = 404, description = "Either ticket not found", body = ErrorBody), (status = 409, description = "Already merged, or the original is closed", body = ErrorBody), (status = 422, description = "Merging a ticket into itself", body = ErrorBody), (status = 423, description = "Either ticket is locked by another agent", body = ErrorBody)))]
pub async fn merge(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<i64>,
    body: Json<MergeRequest>,
) -> Result<HttpResponse, ApiError> {
    let merged =
        state.in_tx(&creds, async |tx, who| Ok(relationships::merge(tx, &who, *id, body.into_id).await?)).await?;
    Ok(HttpResponse::Ok().json(merged))
}
