//! The request log: every request made to an organisation's model, what was sent,
//! what came back, how long it took and what became of it. Admins read it
//! (`GET /api/v1/ai/llm/requests`); the key is never in it.

use crate::auth::policy::Action;
use crate::ids::TicketId;
use deadpool_postgres::GenericClient;
use serde::Serialize;

use super::{
    client::{Exchange, Outcome, Request},
    endpoint::Endpoint,
};
use crate::{auth::Principal, error::Result, ids::OrgId};

/// The most of an answer kept: enough to see what a model did wrong.
const KEPT: usize = 64 * 1024;

fn truncated(s: &str) -> &str {
    if s.len() <= KEPT {
        return s;
    }
    let mut end = KEPT;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Records an exchange; its id.
pub async fn record(db: &impl GenericClient, endpoint: &Endpoint, request: &Request, x: &Exchange) -> Result<i64> {
    let outcome: &'static str = x.outcome.into();
    let provider: &'static str = endpoint.provider.into();
    let row = db
        .query_one(
            "INSERT INTO llm_requests (org_id, feature, ticket_id, provider, model, url, request, response, status,
                                       error, attempts, duration_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
            &[
                &endpoint.org_id,
                &request.feature,
                &request.ticket_id,
                &provider,
                &endpoint.model,
                &x.url,
                &x.sent,
                &x.raw.as_deref().map(truncated),
                &outcome,
                &x.error.as_deref().map(truncated),
                &(x.attempts.clamp(1, i16::MAX as u32) as i16),
                &i32::try_from(x.duration.as_millis()).unwrap_or(i32::MAX),
            ],
        )
        .await?;
    Ok(row.get(0))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RequestView {
    pub id: i64,
    /// `reply` (a draft reworded) or `test` (an admin's connection test).
    pub feature: String,
    #[schema(value_type = Option<i64>)]
    pub ticket_id: Option<TicketId>,
    pub provider: String,
    pub model: String,
    pub url: String,
    /// The JSON body sent.
    pub request: serde_json::Value,
    /// The answer as received (at most 64 KiB).
    pub response: Option<String>,
    pub status: Outcome,
    pub error: Option<String>,
    pub attempts: i16,
    pub duration_ms: i32,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

fn outcome(s: &str) -> Outcome {
    match s {
        "ok" => Outcome::Ok,
        "invalid" => Outcome::Invalid,
        "unsupported" => Outcome::Unsupported,
        "timeout" => Outcome::Timeout,
        "http_error" => Outcome::HttpError,
        _ => Outcome::Unreachable,
    }
}

/// The organisation's requests, newest first, before the id `before` (admins).
pub async fn list(
    db: &impl GenericClient,
    who: &Principal,
    limit: i64,
    before: Option<i64>,
) -> Result<Vec<RequestView>> {
    who.require(Action::Configure)?;
    list_for(db, who.org_id, limit, before).await
}

async fn list_for(db: &impl GenericClient, org_id: OrgId, limit: i64, before: Option<i64>) -> Result<Vec<RequestView>> {
    let rows = db
        .query(
            "SELECT id, feature, ticket_id, provider, model, url, request, response, status, error, attempts,
                    duration_ms, created_at
               FROM llm_requests WHERE org_id = $1 AND ($2::bigint IS NULL OR id < $2)
              ORDER BY id DESC LIMIT $3",
            &[&org_id, &before, &limit.clamp(1, 100)],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| RequestView {
            id: r.get("id"),
            feature: r.get("feature"),
            ticket_id: r.get("ticket_id"),
            provider: r.get("provider"),
            model: r.get("model"),
            url: r.get("url"),
            request: r.get("request"),
            response: r.get("response"),
            status: outcome(r.get("status")),
            error: r.get("error"),
            attempts: r.get("attempts"),
            duration_ms: r.get("duration_ms"),
            created_at: r.get("created_at"),
        })
        .collect())
}
