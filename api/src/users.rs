//! `/api/v1/users`: admins manage the people of their organisation.

use actix_web::{HttpResponse, web};
use atum_core::users::{self, NewUser, UserChange};
use serde_json::json;

use crate::{AppState, auth::Credentials, error::ApiError};

pub async fn create(
    state: web::Data<AppState>,
    creds: Credentials,
    body: web::Json<NewUser>,
) -> Result<HttpResponse, ApiError> {
    let new = body.into_inner();
    let mut conn = state.conn().await?;
    let tx = atum_core::db::client(&mut conn).transaction().await?;
    let who = creds.principal(&tx, &state).await?;
    who.require_admin()?;
    new.validate()?;
    let hashing = new.clone();
    let hash = web::block(move || users::hash_for(&hashing)).await.map_err(ApiError::internal)??;
    let user = users::insert(&tx, who.org_id, &new, hash).await?;
    tx.commit().await?;
    Ok(HttpResponse::Created().json(user))
}

pub async fn list(state: web::Data<AppState>, creds: Credentials) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn().await?;
    let tx = atum_core::db::client(&mut conn).transaction().await?;
    let who = creds.principal(&tx, &state).await?;
    let items = users::list(&tx, &who).await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(json!({ "items": items })))
}

pub async fn get(state: web::Data<AppState>, creds: Credentials, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn().await?;
    let tx = atum_core::db::client(&mut conn).transaction().await?;
    let who = creds.principal(&tx, &state).await?;
    let user = users::get(&tx, &who, *id).await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(user))
}

pub async fn update(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<i64>,
    body: web::Json<UserChange>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn().await?;
    let tx = atum_core::db::client(&mut conn).transaction().await?;
    let who = creds.principal(&tx, &state).await?;
    let user = users::update(&tx, &who, *id, &body).await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(user))
}
