//! The AI's answers about a ticket and an agent's feedback on them
//! (`/api/v1/tickets/{id}/ai`), and the organisation's triage models
//! (`/api/v1/ai/triage`, admins). Thresholds are organisation settings
//! (`/api/v1/admin/settings`, `ai`).

use actix_web::{HttpResponse, get, post, web};
use atum_core::assist::{
    self, TicketAi,
    feedback::{self, NewFeedback},
    reply::{self, DraftView, ReplyStats, Verdict},
    training::{self, TriageStatus},
};
use atum_core::ids::TicketId;
use atum_core::llm::{
    log::{self as llm_log, RequestView},
    probe::{self, Probe},
};
use serde::{Deserialize, Serialize};

use crate::{
    AppState,
    auth::Credentials,
    error::{ApiError, ErrorBody},
    json::Json,
};

/// What the AI says about a ticket: its triage (category and priority with their
/// confidence, tier and reasons — the most similar labelled tickets — the
/// requester's tone and the language), the articles that best match it, and a draft
/// reply quoted from public articles and solved tickets, each quote cited by its
/// passage, offsets and content hash. Staff only.
#[utoipa::path(operation_id = "get_ticket_ai", tag = "ai", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, description = "The ticket's AI view", body = TicketAi),
        (status = 403, description = "Staff only", body = ErrorBody)))]
#[get("/tickets/{id}/ai")]
pub async fn ticket_ai(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<TicketId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let view = state.in_tx(&creds, async |tx, who| Ok(assist::ticket(tx, &who, id).await?)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Answer a triage suggestion: `accepted` sets it on the ticket, `corrected` sets
/// `value` instead, `rejected` takes back a value the AI applied. Each is the agent's
/// change to the ticket (in its history) and teaches the next training. Returns the
/// ticket's AI view after it.
#[utoipa::path(operation_id = "give_ai_feedback", tag = "ai", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket id")), request_body = NewFeedback,
    responses((status = 200, description = "The ticket's AI view after the answer", body = TicketAi),
        (status = 403, description = "Staff only", body = ErrorBody),
        (status = 409, description = "The ticket is closed", body = ErrorBody),
        (status = 422, description = "A correction without its value, or a value on another verdict", body = ErrorBody),
        (status = 423, description = "Another agent holds the ticket's lock", body = ErrorBody)))]
#[post("/tickets/{id}/ai/feedback")]
pub async fn give_feedback(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<TicketId>,
    body: Json<NewFeedback>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let view = state
        .in_tx(&creds, async |tx, who| {
            feedback::give(tx, &who, id, &body).await?;
            Ok(assist::ticket(tx, &who, id).await?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The organisation's triage models: the newest training of each field — the model
/// in use with its evaluation on the held-back slice of the organisation's own
/// tickets, or why there is none (how many more labelled tickets it needs). Admins.
#[utoipa::path(operation_id = "get_triage_status", tag = "ai", security(("bearer" = [])),
    responses((status = 200, description = "Training state", body = TriageStatus),
        (status = 403, description = "Admins only", body = ErrorBody)))]
#[get("/ai/triage")]
pub async fn triage_status(state: web::Data<AppState>, creds: Credentials) -> Result<HttpResponse, ApiError> {
    let status = state.in_tx(&creds, async |tx, who| Ok(training::status(tx, &who).await?)).await?;
    Ok(HttpResponse::Ok().json(status))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TrainingRequested {
    /// `false`: a training was already queued or running, and that one will do.
    pub queued: bool,
}

/// Train the organisation's triage models now, from its labelled tickets (admins).
/// A training over the same tickets as the last one changes nothing.
#[utoipa::path(operation_id = "train_triage", tag = "ai", security(("bearer" = [])),
    responses((status = 202, description = "Queued", body = TrainingRequested),
        (status = 403, description = "Admins only", body = ErrorBody)))]
#[post("/ai/triage/train")]
pub async fn train(state: web::Data<AppState>, creds: Credentials) -> Result<HttpResponse, ApiError> {
    let queued = state.in_tx(&creds, async |tx, who| Ok(training::request_training(tx, &who).await?)).await?;
    Ok(HttpResponse::Accepted().json(TrainingRequested { queued }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftDecision {
    /// `inserted` (put into the reply box, to edit and send) or `rejected`.
    pub verdict: Verdict,
}

/// Record what the agent did with a draft reply: `inserted` it into the reply box or
/// `rejected` it. The agent's next public reply on the ticket after inserting it
/// counts as the draft sent, with how far it was edited. Returns the draft.
#[utoipa::path(operation_id = "decide_draft", tag = "ai", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket id"), ("draft_id" = i64, Path, description = "Draft id")),
    request_body = DraftDecision,
    responses((status = 200, description = "The draft after the decision", body = DraftView),
        (status = 403, description = "Staff only", body = ErrorBody),
        (status = 404, description = "No such draft on this ticket", body = ErrorBody),
        (status = 409, description = "A newer draft replaced it, or it was sent", body = ErrorBody)))]
#[post("/tickets/{id}/ai/drafts/{draft_id}")]
pub async fn decide_draft(
    state: web::Data<AppState>,
    creds: Credentials,
    path: web::Path<(TicketId, i64)>,
    body: Json<DraftDecision>,
) -> Result<HttpResponse, ApiError> {
    let (id, draft_id) = path.into_inner();
    let view =
        state.in_tx(&creds, async |tx, who| Ok(reply::decide(tx, &who, id, draft_id, body.verdict).await?)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// How the organisation's agents used draft replies over the last 30 days: drafts
/// shown, inserted, rejected and sent, the acceptance rate and the mean edit distance
/// of what was sent. Admins.
#[utoipa::path(operation_id = "get_reply_stats", tag = "ai", security(("bearer" = [])),
    responses((status = 200, description = "Draft figures", body = ReplyStats),
        (status = 403, description = "Admins only", body = ErrorBody)))]
#[get("/ai/replies")]
pub async fn reply_stats(state: web::Data<AppState>, creds: Credentials) -> Result<HttpResponse, ApiError> {
    let stats = state.in_tx(&creds, async |tx, who| Ok(reply::stats(tx, &who, 30).await?)).await?;
    Ok(HttpResponse::Ok().json(stats))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LlmRequestsQuery {
    /// At most this many (1 to 100; 50 when absent).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// Only requests older than this id (the last id of the page before).
    pub before: Option<i64>,
}

/// The requests made to the organisation's language model, newest first: what was
/// sent, what came back, how long it took and whether the answer was used. Admins.
#[utoipa::path(operation_id = "list_llm_requests", tag = "ai", security(("bearer" = [])),
    params(LlmRequestsQuery),
    responses((status = 200, description = "The request log", body = Vec<RequestView>),
        (status = 403, description = "Admins only", body = ErrorBody),
        (status = 422, description = "A limit outside 1 to 100", body = ErrorBody)))]
#[get("/ai/llm/requests")]
pub async fn llm_requests(
    state: web::Data<AppState>,
    creds: Credentials,
    query: web::Query<LlmRequestsQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let limit = q.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(atum_core::error::FieldErrors::single("limit", "must be from 1 to 100").into());
    }
    let rows = state.in_tx(&creds, async |tx, who| Ok(llm_log::list(tx, &who, limit, q.before).await?)).await?;
    Ok(HttpResponse::Ok().json(rows))
}

/// Sends the configured language model a small request and says whether it answered
/// the JSON asked for, and how fast. Logged with the other requests. Admins.
#[utoipa::path(operation_id = "test_llm", tag = "ai", security(("bearer" = [])),
    responses((status = 200, description = "How the test went (`status` ok, or why not)", body = Probe),
        (status = 403, description = "Admins only", body = ErrorBody),
        (status = 404, description = "No language model is configured", body = ErrorBody)))]
#[post("/ai/llm/test")]
pub async fn test_llm(state: web::Data<AppState>, creds: Credentials) -> Result<HttpResponse, ApiError> {
    let key = state.security.key.as_ref();
    let probe = state.in_tx(&creds, async |tx, who| Ok(probe::probe(tx, key, &who).await?)).await?;
    Ok(HttpResponse::Ok().json(probe))
}
