//! SLA routes: admins manage calendars and policies under `/api/v1/admin/sla`; staff
//! read them; anyone who can see a ticket reads its clocks at `/tickets/{id}/sla`.
//! Changing a calendar or policy queues a recompute of the organisation's tickets.

use crate::json::Json;
use actix_web::{HttpResponse, web};
use actix_web::{delete, get, post, put};
use atum_core::ids::TicketId;
use atum_core::sla::{
    calendars::{self, CalendarInput, CalendarRecord},
    policies::{self, PolicyInput, PolicyRecord},
    refresh::{self, TicketSla},
};
use serde::Serialize;

use crate::{AppState, auth::Credentials, error::ApiError};

#[derive(Serialize, utoipa::ToSchema)]
pub struct CalendarList {
    pub items: Vec<CalendarRecord>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PolicyList {
    pub items: Vec<PolicyRecord>,
}

/// Business-hours calendars of your organisation (staff).
#[utoipa::path(operation_id = "list_sla_calendars", tag = "sla", security(("bearer" = [])),
    responses((status = 200, description = "Calendars", body = CalendarList), (status = 403, description = "Staff only", body = crate::error::ErrorBody)))]
#[get("/admin/sla/calendars")]
pub async fn list_calendars(state: web::Data<AppState>, creds: Credentials) -> Result<HttpResponse, ApiError> {
    let items = state.in_tx(&creds, async |tx, who| Ok(calendars::list_calendars(tx, &who).await?)).await?;
    Ok(HttpResponse::Ok().json(CalendarList { items }))
}

/// Define a calendar (admins): timezone, open ranges per weekday, holidays.
#[utoipa::path(operation_id = "create_sla_calendar", tag = "sla", security(("bearer" = [])),
    request_body = CalendarInput,
    responses((status = 201, description = "Created", body = CalendarRecord), (status = 403, description = "Admins only (or CSRF check failed)", body = crate::error::ErrorBody), (status = 409, description = "Name taken", body = crate::error::ErrorBody), (status = 422, description = "Invalid fields: unknown timezone, overlapping or reversed ranges", body = crate::error::ErrorBody)))]
#[post("/admin/sla/calendars")]
pub async fn create_calendar(
    state: web::Data<AppState>,
    creds: Credentials,
    body: Json<CalendarInput>,
) -> Result<HttpResponse, ApiError> {
    let cal = state.in_tx(&creds, async |tx, who| Ok(calendars::create_calendar(tx, &who, &body).await?)).await?;
    Ok(HttpResponse::Created().json(cal))
}

/// Replace a calendar (admins); the organisation's open tickets are recomputed.
#[utoipa::path(operation_id = "update_sla_calendar", tag = "sla", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Calendar id")),
    request_body = CalendarInput,
    responses((status = 200, description = "Updated", body = CalendarRecord), (status = 403, description = "Admins only (or CSRF check failed)", body = crate::error::ErrorBody), (status = 404, description = "Not found (or another organisation's)", body = crate::error::ErrorBody), (status = 409, description = "Name taken", body = crate::error::ErrorBody), (status = 422, description = "Invalid fields", body = crate::error::ErrorBody)))]
#[put("/admin/sla/calendars/{id}")]
pub async fn update_calendar(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<i64>,
    body: Json<CalendarInput>,
) -> Result<HttpResponse, ApiError> {
    let cal = state.in_tx(&creds, async |tx, who| Ok(calendars::update_calendar(tx, &who, *id, &body).await?)).await?;
    Ok(HttpResponse::Ok().json(cal))
}

/// SLA policies of your organisation in match order (staff).
#[utoipa::path(operation_id = "list_sla_policies", tag = "sla", security(("bearer" = [])),
    responses((status = 200, description = "Policies, first match first", body = PolicyList), (status = 403, description = "Staff only", body = crate::error::ErrorBody)))]
#[get("/admin/sla/policies")]
pub async fn list_policies(state: web::Data<AppState>, creds: Credentials) -> Result<HttpResponse, ApiError> {
    let items = state.in_tx(&creds, async |tx, who| Ok(policies::list_policies(tx, &who).await?)).await?;
    Ok(HttpResponse::Ok().json(PolicyList { items }))
}

/// Define a policy (admins); the organisation's open tickets are recomputed.
#[utoipa::path(operation_id = "create_sla_policy", tag = "sla", security(("bearer" = [])),
    request_body = PolicyInput,
    responses((status = 201, description = "Created", body = PolicyRecord), (status = 403, description = "Admins only (or CSRF check failed)", body = crate::error::ErrorBody), (status = 422, description = "Invalid fields: targets out of range, unknown statuses or calendar", body = crate::error::ErrorBody)))]
#[post("/admin/sla/policies")]
pub async fn create_policy(
    state: web::Data<AppState>,
    creds: Credentials,
    body: Json<PolicyInput>,
) -> Result<HttpResponse, ApiError> {
    let p = state.in_tx(&creds, async |tx, who| Ok(policies::create_policy(tx, &who, &body).await?)).await?;
    Ok(HttpResponse::Created().json(p))
}

/// Replace a policy (admins); the organisation's open tickets are recomputed.
#[utoipa::path(operation_id = "update_sla_policy", tag = "sla", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Policy id")),
    request_body = PolicyInput,
    responses((status = 200, description = "Updated", body = PolicyRecord), (status = 403, description = "Admins only (or CSRF check failed)", body = crate::error::ErrorBody), (status = 404, description = "Not found (or another organisation's)", body = crate::error::ErrorBody), (status = 422, description = "Invalid fields", body = crate::error::ErrorBody)))]
#[put("/admin/sla/policies/{id}")]
pub async fn update_policy(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<i64>,
    body: Json<PolicyInput>,
) -> Result<HttpResponse, ApiError> {
    let p = state.in_tx(&creds, async |tx, who| Ok(policies::update_policy(tx, &who, *id, &body).await?)).await?;
    Ok(HttpResponse::Ok().json(p))
}

/// Delete a policy (admins); its tickets fall to the next matching policy.
#[utoipa::path(operation_id = "delete_sla_policy", tag = "sla", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Policy id")),
    responses((status = 204, description = "Deleted"), (status = 403, description = "Admins only (or CSRF check failed)", body = crate::error::ErrorBody), (status = 404, description = "Not found (or another organisation's)", body = crate::error::ErrorBody)))]
#[delete("/admin/sla/policies/{id}")]
pub async fn delete_policy(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    state.in_tx(&creds, async |tx, who| Ok(policies::delete_policy(tx, &who, *id).await?)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The policy a new ticket of this priority and category would match and its due
/// times, computed as for a real ticket (staff): a check of calendars and policies.
#[utoipa::path(operation_id = "preview_sla", tag = "sla", security(("bearer" = [])),
    request_body = atum_core::sla::preview::PreviewInput,
    responses((status = 200, description = "The matched policy and its clocks' due times", body = atum_core::sla::preview::Preview), (status = 403, description = "Staff only (or CSRF check failed)", body = crate::error::ErrorBody), (status = 422, description = "Invalid fields", body = crate::error::ErrorBody)))]
#[post("/admin/sla/preview")]
pub async fn preview(
    state: web::Data<AppState>,
    creds: Credentials,
    body: Json<atum_core::sla::preview::PreviewInput>,
) -> Result<HttpResponse, ApiError> {
    let p = state.in_tx(&creds, async |tx, who| Ok(atum_core::sla::preview::preview(tx, &who, &body).await?)).await?;
    Ok(HttpResponse::Ok().json(p))
}

/// A ticket's SLA clocks, computed now: target, due time, elapsed and remaining
/// minutes, paused, breached, met.
#[utoipa::path(operation_id = "get_ticket_sla", tag = "sla", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, description = "The ticket's clocks", body = TicketSla), (status = 404, description = "Not found (or another organisation's)", body = crate::error::ErrorBody)))]
#[get("/tickets/{id}/sla")]
pub async fn ticket_sla(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<TicketId>,
) -> Result<HttpResponse, ApiError> {
    let sla = state.in_tx(&creds, async |tx, who| Ok(refresh::for_ticket(tx, &who, *id).await?)).await?;
    Ok(HttpResponse::Ok().json(sla))
}
