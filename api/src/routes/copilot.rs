//! `/api/v1/copilot/runs`: asking the caged copilot about a ticket, reading a run
//! with its trace, and replaying it (staff).

use atum_core::ids::TicketId;
use std::sync::Arc;

use actix_web::{HttpResponse, get, post, web};
use atum_core::{
    copilot::{self, Ask, Run, replay},
    error::{Code, Error},
    models::Models,
};

use crate::{
    AppState,
    auth::Credentials,
    error::{ApiError, ErrorBody},
    json::Json,
};

/// The models the copilot answers with: the API's embedder and passage vectors.
fn models(state: &AppState) -> Result<Arc<dyn Models>, Error> {
    match atum_ai::LocalModels::over(state.retrieval.clone()) {
        Some(m) => Ok(Arc::new(m)),
        None => Err(Error::Conflict {
            code: Code::ModelNotLoaded,
            message: "the copilot needs the embedding model (ATUM_EMBED_MODEL_DIR) on the API; ask your operator"
                .into(),
        }),
    }
}

/// Ask about a ticket: the answer, every sentence quoted from a passage this run's
/// tools returned and cited — or a refusal that says why. Stored with its steps.
#[utoipa::path(operation_id = "ask_copilot", tag = "copilot", security(("bearer" = [])), request_body = Ask,
    responses((status = 201, description = "The run: answered, refused or error", body = Run),
        (status = 403, description = "Staff only", body = ErrorBody),
        (status = 404, description = "No such ticket", body = ErrorBody),
        (status = 409, description = "The embedding model is not loaded (`model_not_loaded`)", body = ErrorBody),
        (status = 422, description = "An empty or overlong question", body = ErrorBody)))]
#[post("/copilot/runs")]
pub async fn ask(state: web::Data<AppState>, creds: Credentials, body: Json<Ask>) -> Result<HttpResponse, ApiError> {
    let pool = state.pool.clone();
    let run = state
        .in_tx(&creds, async |tx, who| {
            let models = models(&state)?;
            Ok(copilot::ask(tx, &pool, models, state.security.key.as_ref(), &who, &body).await?)
        })
        .await?;
    Ok(HttpResponse::Created().json(run))
}

/// A run with its plan, tool calls and gate, in order.
#[utoipa::path(operation_id = "get_copilot_run", tag = "copilot", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Run id")),
    responses((status = 200, description = "The run and its steps", body = Run),
        (status = 403, description = "Staff only", body = ErrorBody),
        (status = 404, description = "No such run", body = ErrorBody)))]
#[get("/copilot/runs/{id}")]
pub async fn get_run(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let found = state.in_tx(&creds, async |tx, who| Ok(copilot::get(tx, &who, id).await?)).await?;
    Ok(HttpResponse::Ok().json(found))
}

/// The ticket's runs, newest first (without their steps).
#[utoipa::path(operation_id = "list_ticket_copilot_runs", tag = "copilot", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, description = "The runs", body = Vec<Run>),
        (status = 403, description = "Staff only", body = ErrorBody),
        (status = 404, description = "No such ticket", body = ErrorBody)))]
#[get("/tickets/{id}/copilot/runs")]
pub async fn for_ticket(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<TicketId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let runs = state.in_tx(&creds, async |tx, who| Ok(copilot::for_ticket(tx, &who, id).await?)).await?;
    Ok(HttpResponse::Ok().json(runs))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReplayQuery {
    /// Ask the language model again (a run it worded) instead of keeping its recorded
    /// answer.
    pub rerun_llm: Option<bool>,
}

/// Replays a run as the asking agent: their rights checked again, the tools run
/// again with the recorded arguments, each step compared, and the stored answer
/// checked against today's passages; with `rerun_llm`, the model words it again.
#[utoipa::path(operation_id = "replay_copilot_run", tag = "copilot", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Run id"), ReplayQuery),
    responses((status = 200, description = "What changed, and whether the answer still holds", body = replay::Replay),
        (status = 403, description = "Staff only", body = ErrorBody),
        (status = 404, description = "No such run", body = ErrorBody),
        (status = 409, description = "The embedding model is not loaded (`model_not_loaded`)", body = ErrorBody)))]
#[post("/copilot/runs/{id}/replay")]
pub async fn replay_run(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<i64>,
    query: web::Query<ReplayQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let rerun = query.rerun_llm.unwrap_or(false);
    let pool = state.pool.clone();
    let report = state
        .in_tx(&creds, async |tx, who| {
            let models = models(&state)?;
            Ok(replay::replay(tx, &pool, models, state.security.key.as_ref(), &who, id, rerun).await?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(report))
}
