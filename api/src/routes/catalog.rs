//! The service catalog: admins define request types with forms; customers browse and
//! submit them, which files a ticket.

use crate::json::Json;
use actix_web::{HttpResponse, web};
use actix_web::{get, post, put};
use atum_core::catalog::{self, Item, ItemInput, Request, Submission};
use atum_core::ids::TicketId;
use serde::Serialize;

use crate::{
    AppState,
    auth::Credentials,
    error::{ApiError, ErrorBody},
};

#[derive(Serialize, utoipa::ToSchema)]
pub struct ItemList {
    pub items: Vec<Item>,
}

/// Published request types with their current forms (admins also see unpublished ones).
#[utoipa::path(operation_id = "list_catalog", tag = "catalog", security(("bearer" = [])),
    responses((status = 200, description = "Items", body = ItemList)))]
#[get("/catalog")]
pub async fn list(state: web::Data<AppState>, creds: Credentials) -> Result<HttpResponse, ApiError> {
    let items = state.in_tx(&creds, async |tx, who| Ok(catalog::list(tx, &who).await?)).await?;
    Ok(HttpResponse::Ok().json(ItemList { items }))
}

/// One request type and its current form.
#[utoipa::path(operation_id = "get_catalog_item", tag = "catalog", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Item id")),
    responses((status = 200, description = "The item", body = Item), (status = 404, description = "Not found or not published", body = ErrorBody)))]
#[get("/catalog/{id}")]
pub async fn get(state: web::Data<AppState>, creds: Credentials, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let item = state.in_tx(&creds, async |tx, who| Ok(catalog::get(tx, &who, *id).await?)).await?;
    Ok(HttpResponse::Ok().json(item))
}

/// Submit a request: the answers are checked field by field and become a ticket.
#[utoipa::path(operation_id = "submit_catalog_request", tag = "catalog", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Item id")), request_body = Submission,
    responses((status = 409, description = "An attachment already on a message (`attachment_already_used`) or quarantined (`file_infected`)", body = crate::error::ErrorBody), (status = 201, description = "The ticket filed", body = atum_core::tickets::Ticket), (status = 404, description = "Not found or not published", body = ErrorBody), (status = 422, description = "Invalid answers (fields: answers.<key>)", body = ErrorBody)))]
#[post("/catalog/{id}/requests")]
pub async fn submit(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<i64>,
    body: Json<Submission>,
) -> Result<HttpResponse, ApiError> {
    let ticket =
        state.in_tx(&creds, async |tx, who| Ok(atum_core::desk::submit_request(tx, &who, *id, &body).await?)).await?;
    Ok(HttpResponse::Created().json(ticket))
}

/// The request form and answers a ticket was filed with (its version of the form).
#[utoipa::path(tag = "catalog", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, description = "The request", body = Request), (status = 404, description = "No such ticket, or not filed from the catalog", body = ErrorBody)))]
#[get("/tickets/{id}/request")]
pub async fn ticket_request(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<TicketId>,
) -> Result<HttpResponse, ApiError> {
    let request = state.in_tx(&creds, async |tx, who| Ok(catalog::request_of(tx, &who, *id).await?)).await?;
    Ok(HttpResponse::Ok().json(request))
}

/// Publish a new request type with its form (admins).
#[utoipa::path(operation_id = "create_catalog_item", tag = "catalog", security(("bearer" = [])), request_body = ItemInput,
    responses((status = 201, description = "Created", body = Item), (status = 403, description = "Admins only", body = ErrorBody), (status = 409, description = "Name taken", body = ErrorBody), (status = 422, description = "Invalid definition (fields: fields[i].<property>)", body = ErrorBody)))]
#[post("/admin/catalog")]
pub async fn create(
    state: web::Data<AppState>,
    creds: Credentials,
    body: Json<ItemInput>,
) -> Result<HttpResponse, ApiError> {
    let item = state.in_tx(&creds, async |tx, who| Ok(catalog::create_item(tx, &who, &body).await?)).await?;
    Ok(HttpResponse::Created().json(item))
}

/// Change a request type; a changed form becomes a new version (admins).
#[utoipa::path(operation_id = "update_catalog_item", tag = "catalog", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Item id")), request_body = ItemInput,
    responses((status = 200, description = "Saved", body = Item), (status = 403, description = "Admins only", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 409, description = "Name taken", body = ErrorBody), (status = 422, description = "Invalid definition", body = ErrorBody)))]
#[put("/admin/catalog/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<i64>,
    body: Json<ItemInput>,
) -> Result<HttpResponse, ApiError> {
    let item = state.in_tx(&creds, async |tx, who| Ok(catalog::update_item(tx, &who, *id, &body).await?)).await?;
    Ok(HttpResponse::Ok().json(item))
}
