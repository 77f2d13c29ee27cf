//! `/api/v1/tickets/{id}/links` and `…/merge`: links between tickets and merging a
//! duplicate (`atum_core::tickets::relationships`).

use actix_web::{HttpResponse, web};
use actix_web::{delete, get, post};
use atum_core::ids::TicketId;
use atum_core::tickets::relationships::{self, Link, Merged, NewLink};
use serde::{Deserialize, Serialize};

use crate::{
    AppState,
    auth::Credentials,
    error::{ApiError, ErrorBody},
    json::Json,
};

#[derive(Serialize, utoipa::ToSchema)]
pub struct LinkList {
    pub items: Vec<Link>,
}

/// The ticket's links, from its side (staff).
#[utoipa::path(tag = "workflow", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, description = "Links", body = LinkList), (status = 403, description = "Staff only", body = ErrorBody), (status = 404, description = "Not found (or another organisation's)", body = ErrorBody)))]
#[get("/tickets/{id}/links")]
pub async fn list_links(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<TicketId>,
) -> Result<HttpResponse, ApiError> {
    let items = state.in_tx(&creds, async |tx, who| Ok(relationships::list(tx, &who, *id).await?)).await?;
    Ok(HttpResponse::Ok().json(LinkList { items }))
}

/// Link the ticket to another of your organisation (staff).
#[utoipa::path(tag = "workflow", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket id")), request_body = NewLink,
    responses((status = 201, description = "Linked", body = Link), (status = 403, description = "Staff only", body = ErrorBody), (status = 404, description = "Either ticket not found", body = ErrorBody), (status = 409, description = "Already linked, a cycle, or a duplicate of a duplicate", body = ErrorBody), (status = 422, description = "Invalid kind or a self-link", body = ErrorBody)))]
#[post("/tickets/{id}/links")]
pub async fn add_link(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<TicketId>,
    body: Json<NewLink>,
) -> Result<HttpResponse, ApiError> {
    let link = state.in_tx(&creds, async |tx, who| Ok(relationships::add(tx, &who, *id, &body).await?)).await?;
    Ok(HttpResponse::Created().json(link))
}

/// Remove one of the ticket's links (staff).
#[utoipa::path(tag = "workflow", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket id"), ("link_id" = i64, Path, description = "Link id")),
    responses((status = 204, description = "Removed"), (status = 403, description = "Staff only", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody)))]
#[delete("/tickets/{id}/links/{link_id}")]
pub async fn remove_link(
    state: web::Data<AppState>,
    creds: Credentials,
    path: web::Path<(TicketId, i64)>,
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
#[utoipa::path(tag = "workflow", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The duplicate's id")), request_body = MergeRequest,
    responses((status = 200, description = "Merged", body = Merged), (status = 403, description = "Staff only", body = ErrorBody), (status = 404, description = "Either ticket not found", body = ErrorBody), (status = 409, description = "Already merged, or the original is closed", body = ErrorBody), (status = 422, description = "Merging a ticket into itself", body = ErrorBody), (status = 423, description = "Either ticket is locked by another agent", body = ErrorBody)))]
#[post("/tickets/{id}/merge")]
pub async fn merge(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<TicketId>,
    body: Json<MergeRequest>,
) -> Result<HttpResponse, ApiError> {
    let merged = state
        .in_tx(&creds, async |tx, who| Ok(atum_core::desk::merge(tx, &who, *id, TicketId(body.into_id)).await?))
        .await?;
    Ok(HttpResponse::Ok().json(merged))
}
