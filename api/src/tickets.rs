//! `/api/v1/tickets`: thin handlers — one transaction each, the rules live in
//! `atum_core::tickets`.

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use atum_core::{
    error::Error,
    tickets::{self, comments, history, list, write},
};
use serde_json::json;

use crate::{AppState, auth::Credentials, error::ApiError};

pub async fn create(
    state: web::Data<AppState>,
    creds: Credentials,
    body: web::Json<write::NewTicket>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn().await?;
    let tx = atum_core::db::client(&mut conn).transaction().await?;
    let who = creds.principal(&tx, &state).await?;
    let ticket = write::create(&tx, &who, &body).await?;
    tx.commit().await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/tickets/{}", ticket.id)))
        .insert_header((header::ETAG, format!("\"{}\"", ticket.version)))
        .json(ticket))
}

pub async fn get(state: web::Data<AppState>, creds: Credentials, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn().await?;
    let tx = atum_core::db::client(&mut conn).transaction().await?;
    let who = creds.principal(&tx, &state).await?;
    let ticket = tickets::get(&tx, &who, *id).await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().insert_header((header::ETAG, format!("\"{}\"", ticket.version))).json(ticket))
}

pub async fn list(
    state: web::Data<AppState>,
    creds: Credentials,
    query: web::Query<list::ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn().await?;
    let tx = atum_core::db::client(&mut conn).transaction().await?;
    let who = creds.principal(&tx, &state).await?;
    let page = list::list(&tx, &who, &query).await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(page))
}

/// The version in `If-Match` (`"3"`, `W/"3"` or `3`).
fn if_match(req: &HttpRequest) -> Result<i32, ApiError> {
    let raw = req.headers().get(header::IF_MATCH).ok_or(Error::VersionRequired)?;
    raw.to_str()
        .ok()
        .map(|v| v.trim().trim_start_matches("W/").trim_matches('"'))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| {
            ApiError::new(
                actix_web::http::StatusCode::BAD_REQUEST,
                "invalid_if_match",
                "If-Match must hold the ticket's version, e.g. \"3\"",
            )
        })
}

pub async fn update(
    state: web::Data<AppState>,
    creds: Credentials,
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Json<write::TicketChange>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn().await?;
    let tx = atum_core::db::client(&mut conn).transaction().await?;
    let who = creds.principal(&tx, &state).await?;
    // Scope first: a ticket outside it is a 404 even without If-Match.
    tickets::get(&tx, &who, *id).await?;
    let version = if_match(&req)?;
    let ticket = write::update(&tx, &who, *id, version, &body).await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().insert_header((header::ETAG, format!("\"{}\"", ticket.version))).json(ticket))
}

pub async fn add_comment(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<i64>,
    body: web::Json<comments::NewComment>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn().await?;
    let tx = atum_core::db::client(&mut conn).transaction().await?;
    let who = creds.principal(&tx, &state).await?;
    let comment = comments::add(&tx, &who, *id, &body).await?;
    tx.commit().await?;
    Ok(HttpResponse::Created().json(comment))
}

pub async fn list_comments(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn().await?;
    let tx = atum_core::db::client(&mut conn).transaction().await?;
    let who = creds.principal(&tx, &state).await?;
    let items = comments::list(&tx, &who, *id).await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(json!({ "items": items })))
}

pub async fn history(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn().await?;
    let tx = atum_core::db::client(&mut conn).transaction().await?;
    let who = creds.principal(&tx, &state).await?;
    let items = history::list(&tx, &who, *id).await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(json!({ "items": items })))
}
