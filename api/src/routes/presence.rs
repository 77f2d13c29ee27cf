//! `/api/v1/tickets/{id}/presence`: who has a ticket open, and who is typing
//! (`atum_core::tickets::presence`).

use actix_web::{HttpResponse, delete, get, put, web};
use atum_core::ids::TicketId;
use atum_core::tickets::presence::{self, Activity, Viewer};
use serde::{Deserialize, Serialize};

use crate::{
    AppState,
    auth::Credentials,
    error::{ApiError, ErrorBody},
    json::OptionalJson,
};

#[derive(Serialize, utoipa::ToSchema)]
pub struct Viewers {
    pub items: Vec<Viewer>,
}

/// Who has the ticket open now (staff).
#[utoipa::path(tag = "workflow", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, description = "The viewers, the caller included if present", body = Viewers), (status = 403, description = "Staff only", body = ErrorBody)))]
#[get("/tickets/{id}/presence")]
pub async fn list(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<TicketId>,
) -> Result<HttpResponse, ApiError> {
    let items = state.in_tx(&creds, async |tx, who| Ok(presence::viewers(tx, &who, *id).await?)).await?;
    Ok(HttpResponse::Ok().json(Viewers { items }))
}

#[derive(Deserialize, utoipa::ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Here {
    /// Typing a reply or a note right now.
    #[serde(default)]
    pub typing: bool,
}

/// I have the ticket open (renew every few seconds; the presence lasts 15 s).
#[utoipa::path(tag = "workflow", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket id")),
    request_body = Option<Here>,
    responses((status = 200, description = "Who has the ticket open now", body = Viewers), (status = 403, description = "Staff only", body = ErrorBody)))]
#[put("/tickets/{id}/presence")]
pub async fn here(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<TicketId>,
    body: OptionalJson<Here>,
) -> Result<HttpResponse, ApiError> {
    let typing = body.0.is_some_and(|b| b.typing);
    let items = state.in_tx(&creds, async |tx, who| Ok(presence::here(tx, &who, *id, typing).await?)).await?;
    Ok(HttpResponse::Ok().json(Viewers { items }))
}

/// I closed the ticket.
#[utoipa::path(tag = "workflow", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 204, description = "Gone"), (status = 403, description = "Staff only", body = ErrorBody)))]
#[delete("/tickets/{id}/presence")]
pub async fn gone(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<TicketId>,
) -> Result<HttpResponse, ApiError> {
    state.in_tx(&creds, async |tx, who| Ok(presence::gone(tx, &who, *id).await?)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ActivityList {
    pub items: Vec<Activity>,
}

/// Every ticket someone has open or locked now, for the ticket list's badges (staff).
/// A `presence` event on `/events` says when to ask again.
#[utoipa::path(operation_id = "ticket_activity", tag = "workflow", security(("bearer" = [])),
    responses((status = 200, description = "Tickets with viewers or a lock holder", body = ActivityList), (status = 403, description = "Staff only", body = ErrorBody)))]
#[get("/tickets/activity")]
pub async fn activity(state: web::Data<AppState>, creds: Credentials) -> Result<HttpResponse, ApiError> {
    let items = state.in_tx(&creds, async |tx, who| Ok(presence::activity(tx, &who).await?)).await?;
    Ok(HttpResponse::Ok().json(ActivityList { items }))
}
