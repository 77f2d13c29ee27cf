//! `/api/v1/users`: admins manage the people of their organisation.

use crate::json::Json;
use actix_web::{HttpResponse, web};
use actix_web::{get, patch, post};
use atum_core::users::{self, NewUser, UserChange};

use crate::{AppState, auth::Credentials, error::ApiError};

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct UserList {
    pub items: Vec<users::User>,
}

/// Add a person (admins only). Without a password the person is invited: mailed a
/// link, good for a week, to choose one.
#[utoipa::path(operation_id = "create_user", tag = "users", security(("bearer" = [])),
    request_body = atum_core::users::NewUser,
    responses((status = 201, description = "Created", body = atum_core::users::User), (status = 403, description = "Not allowed for this role (or CSRF check failed)", body = crate::error::ErrorBody), (status = 409, description = "Conflict", body = crate::error::ErrorBody), (status = 422, description = "Invalid fields", body = crate::error::ErrorBody)))]
#[post("/users")]
pub async fn create(
    state: web::Data<AppState>,
    creds: Credentials,
    body: Json<NewUser>,
) -> Result<HttpResponse, ApiError> {
    let new = body.into_inner();
    let public_url = &state.security.public_url;
    let user = state
        .in_tx(&creds, async |tx, who| {
            let user = users::create(tx, &who, &new).await?;
            if user.invited {
                atum_core::accounts::registration::invite(tx, public_url, &who, user.id).await?;
            }
            Ok(user)
        })
        .await?;
    Ok(HttpResponse::Created().json(user))
}

/// Mail an invited person a new link to choose their password (admins), when the
/// first expired or went astray; the older link stops working.
#[utoipa::path(operation_id = "invite_user", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    responses((status = 202, description = "The invitation is on its way"), (status = 403, description = "Admins only", body = crate::error::ErrorBody), (status = 404, description = "Not found, inactive, or another organisation's", body = crate::error::ErrorBody), (status = 409, description = "The person has a password already", body = crate::error::ErrorBody)))]
#[post("/users/{id}/invite")]
pub async fn invite(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<atum_core::ids::UserId>,
) -> Result<HttpResponse, ApiError> {
    let public_url = &state.security.public_url;
    state
        .in_tx(&creds, async |tx, who| Ok(atum_core::accounts::registration::invite(tx, public_url, &who, *id).await?))
        .await?;
    Ok(HttpResponse::Accepted().finish())
}

/// The people of your organisation (staff only).
#[utoipa::path(operation_id = "list_users", tag = "users", security(("bearer" = [])),
    responses((status = 200, description = "Users", body = UserList), (status = 403, description = "Not allowed for this role (or CSRF check failed)", body = crate::error::ErrorBody)))]
#[get("/users")]
pub async fn list(state: web::Data<AppState>, creds: Credentials) -> Result<HttpResponse, ApiError> {
    let items = state.in_tx(&creds, async |tx, who| Ok(users::list(tx, &who).await?)).await?;
    Ok(HttpResponse::Ok().json(UserList { items }))
}

/// One person (customers may only read themselves).
#[utoipa::path(operation_id = "get_user", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, description = "The user", body = atum_core::users::User), (status = 404, description = "Not found (or another organisation's)", body = crate::error::ErrorBody)))]
#[get("/users/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<atum_core::ids::UserId>,
) -> Result<HttpResponse, ApiError> {
    let user = state.in_tx(&creds, async |tx, who| Ok(users::get(tx, &who, *id).await?)).await?;
    Ok(HttpResponse::Ok().json(user))
}

/// Change role, name or activity (admins only); deactivation revokes sessions.
#[utoipa::path(operation_id = "update_user", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    request_body = atum_core::users::UserChange,
    responses((status = 200, description = "Updated", body = atum_core::users::User), (status = 403, description = "Not allowed for this role (or CSRF check failed)", body = crate::error::ErrorBody), (status = 404, description = "Not found (or another organisation's)", body = crate::error::ErrorBody), (status = 409, description = "Conflict", body = crate::error::ErrorBody), (status = 422, description = "Invalid fields", body = crate::error::ErrorBody)))]
#[patch("/users/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<atum_core::ids::UserId>,
    body: Json<UserChange>,
) -> Result<HttpResponse, ApiError> {
    let user = state.in_tx(&creds, async |tx, who| Ok(users::update(tx, &who, *id, &body, creds.ip).await?)).await?;
    Ok(HttpResponse::Ok().json(user))
}
