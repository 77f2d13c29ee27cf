//! `/api/v1/admin/groups`: admins define agent groups (teams tickets are routed to).

use crate::json::Json;
use actix_web::{HttpResponse, web};
use actix_web::{get, post, put};
use atum_core::groups::{self, Group, GroupInput};
use serde::Serialize;

use crate::{AppState, auth::Credentials, error::ApiError};

#[derive(Serialize, utoipa::ToSchema)]
pub struct GroupList {
    pub items: Vec<Group>,
}

/// Agent groups of your organisation (staff).
#[utoipa::path(operation_id = "list_groups", tag = "groups", security(("bearer" = [])),
    responses((status = 200, description = "Groups", body = GroupList), (status = 403, description = "Staff only", body = crate::error::ErrorBody)))]
#[get("/admin/groups")]
pub async fn list(state: web::Data<AppState>, creds: Credentials) -> Result<HttpResponse, ApiError> {
    let items = state.in_tx(&creds, async |tx, who| Ok(groups::list(tx, &who).await?)).await?;
    Ok(HttpResponse::Ok().json(GroupList { items }))
}

/// Create a group with its members (admins).
#[utoipa::path(operation_id = "create_group", tag = "groups", security(("bearer" = [])),
    request_body = GroupInput,
    responses((status = 201, description = "Created", body = Group), (status = 403, description = "Admins only (or CSRF check failed)", body = crate::error::ErrorBody), (status = 409, description = "Name taken", body = crate::error::ErrorBody), (status = 422, description = "Invalid fields (members must be staff of this organisation)", body = crate::error::ErrorBody)))]
#[post("/admin/groups")]
pub async fn create(
    state: web::Data<AppState>,
    creds: Credentials,
    body: Json<GroupInput>,
) -> Result<HttpResponse, ApiError> {
    let group = state.in_tx(&creds, async |tx, who| Ok(groups::create(tx, &who, &body).await?)).await?;
    Ok(HttpResponse::Created().json(group))
}

/// Rename a group and replace its members (admins).
#[utoipa::path(operation_id = "update_group", tag = "groups", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Group id")),
    request_body = GroupInput,
    responses((status = 200, description = "Updated", body = Group), (status = 403, description = "Admins only (or CSRF check failed)", body = crate::error::ErrorBody), (status = 404, description = "Not found (or another organisation's)", body = crate::error::ErrorBody), (status = 409, description = "Name taken", body = crate::error::ErrorBody), (status = 422, description = "Invalid fields", body = crate::error::ErrorBody)))]
#[put("/admin/groups/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<i64>,
    body: Json<GroupInput>,
) -> Result<HttpResponse, ApiError> {
    let group = state.in_tx(&creds, async |tx, who| Ok(groups::update(tx, &who, *id, &body).await?)).await?;
    Ok(HttpResponse::Ok().json(group))
}
