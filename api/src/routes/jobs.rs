//! `/api/v1/admin/jobs`: an organisation's admins see and steer their background jobs.

use actix_web::{HttpResponse, web};
use actix_web::{get, post};
use atum_queue::admin::{self, JobEvent, JobRecord};
use serde::{Deserialize, Serialize};

use crate::{AppState, auth::Credentials, error::ApiError};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct JobsQuery {
    #[param(value_type = Option<JobState>)]
    state: Option<String>,
    #[param(max_length = 64)]
    kind: Option<String>,
    #[param(max_length = 64)]
    queue: Option<String>,
    /// The last id of the previous page (newest first).
    before: Option<i64>,
    /// 1–500, default 50.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

/// A job's state, for the OpenAPI document: one of [`admin::STATES`].
pub struct JobState;

impl utoipa::PartialSchema for JobState {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new().schema_type(Type::String).enum_values(Some(admin::STATES)).into()
    }
}

impl utoipa::ToSchema for JobState {}

#[derive(Serialize, utoipa::ToSchema)]
pub struct JobList {
    pub items: Vec<JobRecord>,
    /// The organisation's jobs per state, whatever the filter.
    pub counts: admin::StateCounts,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct JobDetail {
    pub job: JobRecord,
    pub events: Vec<JobEvent>,
}

/// Your organisation's jobs, newest first.
#[utoipa::path(operation_id = "list_jobs", tag = "jobs", security(("bearer" = [])),
    params(JobsQuery),
    responses((status = 200, description = "Jobs", body = JobList),
              (status = 403, description = "Admins only", body = crate::error::ErrorBody),
              (status = 422, description = "Invalid filter", body = crate::error::ErrorBody)))]
#[get("/admin/jobs")]
pub async fn list(
    state: web::Data<AppState>,
    creds: Credentials,
    q: web::Query<JobsQuery>,
) -> Result<HttpResponse, ApiError> {
    let list = state
        .in_tx(&creds, async |tx, who| {
            let (state, kind, queue) = (q.state.as_deref(), q.kind.as_deref(), q.queue.as_deref());
            let scope = who.job_scope()?;
            let items = admin::list(tx, scope, state, kind, queue, q.before, q.limit.unwrap_or(50)).await?;
            Ok(JobList { items, counts: admin::counts(tx, scope).await? })
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// One job with its full event history.
#[utoipa::path(operation_id = "get_job", tag = "jobs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Job id")),
    responses((status = 200, description = "The job", body = JobDetail),
              (status = 403, description = "Admins only", body = crate::error::ErrorBody),
              (status = 404, description = "Not found (or another organisation's)", body = crate::error::ErrorBody)))]
#[get("/admin/jobs/{id}")]
pub async fn get(state: web::Data<AppState>, creds: Credentials, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let (job, events) = state.in_tx(&creds, async |tx, who| Ok(admin::get(tx, who.job_scope()?, *id).await?)).await?;
    Ok(HttpResponse::Ok().json(JobDetail { job, events }))
}

/// Run a discarded or cancelled job again.
#[utoipa::path(operation_id = "retry_job", tag = "jobs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Job id")),
    responses((status = 200, description = "Queued again", body = JobRecord),
              (status = 403, description = "Admins only (or CSRF check failed)", body = crate::error::ErrorBody),
              (status = 404, description = "Not found (or another organisation's)", body = crate::error::ErrorBody),
              (status = 409, description = "The job is not discarded or cancelled, or a duplicate is pending", body = crate::error::ErrorBody)))]
#[post("/admin/jobs/{id}/retry")]
pub async fn retry(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let job = state.in_tx(&creds, async |tx, who| Ok(admin::retry(tx, who.job_scope()?, *id).await?)).await?;
    Ok(HttpResponse::Ok().json(job))
}

/// Cancel a pending job, or ask a running one to stop.
#[utoipa::path(operation_id = "cancel_job", tag = "jobs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Job id")),
    responses((status = 200, description = "Cancelled (or cancellation requested)", body = JobRecord),
              (status = 403, description = "Admins only (or CSRF check failed)", body = crate::error::ErrorBody),
              (status = 404, description = "Not found (or another organisation's)", body = crate::error::ErrorBody),
              (status = 409, description = "The job has already finished", body = crate::error::ErrorBody)))]
#[post("/admin/jobs/{id}/cancel")]
pub async fn cancel(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let job = state.in_tx(&creds, async |tx, who| Ok(admin::cancel(tx, who.job_scope()?, *id).await?)).await?;
    Ok(HttpResponse::Ok().json(job))
}
