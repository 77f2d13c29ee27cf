//! `/api/v1/tickets`: thin handlers — one transaction each, the rules live in
//! `atum_core::tickets`.

use crate::json::Json;
use actix_web::{HttpRequest, HttpResponse, http::header, web};
use actix_web::{get, patch, post};
use atum_core::desk;
use atum_core::ids::TicketId;
use atum_core::tickets::{self, comments, write};

use crate::{AppState, auth::Credentials, error::ApiError};

/// Open a ticket. Customers open tickets for themselves; staff may name a requester.
#[utoipa::path(operation_id = "create_ticket", tag = "tickets", security(("bearer" = [])),
    request_body = atum_core::tickets::write::NewTicket,
    responses((status = 409, description = "An attachment already on a message (`attachment_already_used`) or quarantined (`file_infected`)", body = crate::error::ErrorBody), (status = 404, description = "Not found (or another organisation's); an attachment id that is not your pending upload", body = crate::error::ErrorBody), (status = 201, description = "Created", body = atum_core::tickets::Ticket), (status = 403, description = "Not allowed for this role (or CSRF check failed)", body = crate::error::ErrorBody), (status = 422, description = "Invalid fields", body = crate::error::ErrorBody)))]
#[post("/tickets")]
pub async fn create(
    state: web::Data<AppState>,
    creds: Credentials,
    body: Json<write::NewTicket>,
) -> Result<HttpResponse, ApiError> {
    let ticket = state.in_tx(&creds, async |tx, who| Ok(desk::create_ticket(tx, &who, &body).await?)).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/tickets/{}", ticket.id)))
        .insert_header((header::ETAG, format!("\"{}\"", ticket.version)))
        .json(ticket))
}

/// A ticket as read on its own: with the agent lock on it, if any (staff only).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct TicketView {
    #[serde(flatten)]
    pub ticket: atum_core::tickets::Ticket,
    /// Who is working on it right now (omitted for customers and when nobody is).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock: Option<atum_core::tickets::locks::Lock>,
    /// The files on its description (those on replies and notes come with them).
    pub attachments: Vec<atum_core::attachments::Attachment>,
}

/// One ticket; `ETag` carries its version for a later `If-Match`.
#[utoipa::path(operation_id = "get_ticket", tag = "tickets", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, description = "The ticket", body = TicketView), (status = 404, description = "Not found (or another organisation's)", body = crate::error::ErrorBody)))]
#[get("/tickets/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<TicketId>,
) -> Result<HttpResponse, ApiError> {
    let view = state
        .in_tx(&creds, async |tx, who| {
            let ticket = tickets::get(tx, &who, *id).await?;
            let lock = atum_core::tickets::locks::for_reader(tx, &who, *id).await?;
            let attachments = atum_core::attachments::link::of_ticket(tx, who.org_id, *id).await?;
            Ok(TicketView { ticket, lock, attachments })
        })
        .await?;
    Ok(HttpResponse::Ok().insert_header((header::ETAG, format!("\"{}\"", view.ticket.version))).json(view))
}

/// How many open tickets each standard view holds (staff): the workspace's rail.
#[utoipa::path(operation_id = "ticket_counts", tag = "tickets", security(("bearer" = [])),
    responses((status = 200, description = "The counts", body = atum_core::tickets::counts::Counts), (status = 403, description = "Staff only", body = crate::error::ErrorBody)))]
#[get("/tickets/counts")]
pub async fn counts(state: web::Data<AppState>, creds: Credentials) -> Result<HttpResponse, ApiError> {
    let counts =
        state.in_tx(&creds, async |tx, who| Ok(atum_core::tickets::counts::standard_views(tx, &who).await?)).await?;
    Ok(HttpResponse::Ok().json(counts))
}

/// Tickets in your scope, newest first by default, one cursor page at a time.
#[utoipa::path(operation_id = "list_tickets", tag = "tickets", security(("bearer" = [])),
    params(atum_core::tickets::list::ListQuery),
    responses((status = 200, description = "A page; carries a weak ETag of its content", body = atum_core::tickets::list::Page), (status = 304, description = "Not modified since the ETag sent in If-None-Match"), (status = 422, description = "Invalid fields", body = crate::error::ErrorBody)))]
#[get("/tickets")]
pub async fn list(
    state: web::Data<AppState>,
    creds: Credentials,
    req: HttpRequest,
    query: web::Query<tickets::list::ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = state.in_tx(&creds, async |tx, who| Ok(tickets::list::list(tx, &who, &query).await?)).await?;
    // A client polling a list (the UI while its event stream is down) gets 304s.
    crate::http::conditional::json(&req, &page)
}

/// Change status, priority, category, tags, subject or assignee (staff only).
#[utoipa::path(operation_id = "update_ticket", tag = "tickets", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket id"),
           ("If-Match" = String, Header, pattern = r#"^(\*|(W/)?"[0-9]{1,9}")$"#, description = "The ticket's version from its ETag, e.g. \"3\"; `*` updates whatever version it is at")),
    request_body = atum_core::tickets::write::TicketChange,
    responses((status = 200, description = "Updated", body = atum_core::tickets::Ticket), (status = 403, description = "Not allowed for this role (or CSRF check failed)", body = crate::error::ErrorBody), (status = 404, description = "Not found (or another organisation's)", body = crate::error::ErrorBody), (status = 412, description = "Stale If-Match version", body = crate::error::ErrorBody), (status = 422, description = "Invalid fields", body = crate::error::ErrorBody), (status = 428, description = "If-Match missing", body = crate::error::ErrorBody)))]
#[patch("/tickets/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    creds: Credentials,
    req: HttpRequest,
    id: web::Path<TicketId>,
    body: Json<write::TicketChange>,
) -> Result<HttpResponse, ApiError> {
    let ticket = state
        .in_tx(&creds, async |tx, who| {
            // Scope first: a ticket outside it is a 404 even without If-Match.
            tickets::get(tx, &who, *id).await?;
            let version = crate::http::conditional::if_match(&req)?;
            Ok(desk::update_ticket(tx, &who, *id, version, &body).await?)
        })
        .await?;
    Ok(HttpResponse::Ok().insert_header((header::ETAG, format!("\"{}\"", ticket.version))).json(ticket))
}

/// The requester marks their request solved (the portal's "close"); a later reply from
/// them reopens it. Customers only: staff set the status with `PATCH`.
#[utoipa::path(operation_id = "solve_request", tag = "tickets", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, description = "Solved (or already was)", body = atum_core::tickets::Ticket), (status = 403, description = "Staff (or CSRF check failed)", body = crate::error::ErrorBody), (status = 404, description = "Not found (or not the caller's)", body = crate::error::ErrorBody), (status = 409, description = "Closed already (`ticket_closed`)", body = crate::error::ErrorBody)))]
#[post("/tickets/{id}/solve")]
pub async fn solve(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<TicketId>,
) -> Result<HttpResponse, ApiError> {
    let ticket = state.in_tx(&creds, async |tx, who| Ok(desk::solve_request(tx, &who, *id).await?)).await?;
    Ok(HttpResponse::Ok().insert_header((header::ETAG, format!("\"{}\"", ticket.version))).json(ticket))
}

/// Reply publicly or add an internal note (staff only).
#[utoipa::path(tag = "tickets", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket id")),
    request_body = atum_core::tickets::comments::NewComment,
    responses((status = 201, description = "Added", body = atum_core::tickets::comments::Comment), (status = 403, description = "Not allowed for this role (or CSRF check failed)", body = crate::error::ErrorBody), (status = 404, description = "Not found (or another organisation's)", body = crate::error::ErrorBody), (status = 409, description = "Conflict", body = crate::error::ErrorBody), (status = 422, description = "Invalid fields", body = crate::error::ErrorBody)))]
#[post("/tickets/{id}/comments")]
pub async fn add_comment(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<TicketId>,
    body: Json<comments::NewComment>,
) -> Result<HttpResponse, ApiError> {
    let comment = state.in_tx(&creds, async |tx, who| Ok(desk::add_comment(tx, &who, *id, &body).await?)).await?;
    Ok(HttpResponse::Created().json(comment))
}

/// A page of the ticket's comments, from the oldest (default) or the newest; customers
/// see public ones only. `total` counts them all, so a client can say how many it has
/// not loaded.
#[utoipa::path(tag = "tickets", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket id"), atum_core::paging::ThreadQuery),
    responses((status = 200, description = "Comments", body = atum_core::tickets::comments::CommentPage), (status = 404, description = "Not found (or another organisation's)", body = crate::error::ErrorBody), (status = 422, description = "Invalid parameters", body = crate::error::ErrorBody)))]
#[get("/tickets/{id}/comments")]
pub async fn list_comments(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<TicketId>,
    query: web::Query<atum_core::paging::ThreadQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.check("c")?;
    let page = state.in_tx(&creds, async |tx, who| Ok(comments::list(tx, &who, *id, &page).await?)).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// A page of the ticket's history, from the oldest (default) or the newest (staff only).
#[utoipa::path(operation_id = "ticket_history", tag = "tickets", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket id"), atum_core::paging::ThreadQuery),
    responses((status = 200, description = "Events", body = atum_core::tickets::history::EventPage), (status = 403, description = "Not allowed for this role (or CSRF check failed)", body = crate::error::ErrorBody), (status = 404, description = "Not found (or another organisation's)", body = crate::error::ErrorBody), (status = 422, description = "Invalid parameters", body = crate::error::ErrorBody)))]
#[get("/tickets/{id}/history")]
pub async fn history(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<TicketId>,
    query: web::Query<atum_core::paging::ThreadQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.check("h")?;
    let page = state.in_tx(&creds, async |tx, who| Ok(tickets::history::list(tx, &who, *id, &page).await?)).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// The person who asked, beside their ticket (staff only): name, e-mail and domain,
/// language, when they were last seen, and their other open and recent tickets.
#[utoipa::path(operation_id = "ticket_requester", tag = "tickets", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, description = "The requester", body = atum_core::tickets::requester::Requester), (status = 403, description = "Not allowed for this role (or CSRF check failed)", body = crate::error::ErrorBody), (status = 404, description = "Not found (or another organisation's)", body = crate::error::ErrorBody)))]
#[get("/tickets/{id}/requester")]
pub async fn requester(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<TicketId>,
) -> Result<HttpResponse, ApiError> {
    let found = state.in_tx(&creds, async |tx, who| Ok(tickets::requester::of_ticket(tx, &who, *id).await?)).await?;
    Ok(HttpResponse::Ok().json(found))
}
