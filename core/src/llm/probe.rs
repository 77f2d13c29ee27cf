//! An admin's connection test: one small request to the organisation's endpoint, made
//! and logged like a feature's, that says whether the model answers the JSON asked for
//! and how long it took.

use crate::auth::policy::Action;
use deadpool_postgres::GenericClient;
use serde::Serialize;
use serde_json::json;

use super::{Outcome, Request, client, endpoint, log};
use crate::{
    auth::Principal,
    error::{Error, Result},
    secret_key::SecretKey,
};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Probe {
    /// `ok` when the model answered `{"ok": true}`.
    pub status: Outcome,
    pub error: Option<String>,
    pub attempts: u32,
    pub duration_ms: u64,
    /// The request log's row for it.
    pub request_id: i64,
}

pub async fn probe(db: &impl GenericClient, key: Option<&SecretKey>, who: &Principal) -> Result<Probe> {
    who.require(Action::Configure)?;
    let endpoint = endpoint::load(db, key, who.org_id).await?.ok_or(Error::NotFound("language model endpoint"))?;
    let request = Request {
        feature: "test",
        ticket_id: None,
        system: "You check that a connection works. Answer with JSON only: {\"ok\": true}.".into(),
        user: "Answer {\"ok\": true}.".into(),
        schema_name: "connection_test",
        schema: json!({
            "type": "object", "additionalProperties": false, "required": ["ok"],
            "properties": { "ok": { "type": "boolean" } }
        }),
    };
    let exchange = client::chat_async(endpoint.clone(), request.clone()).await;
    let exchange = match exchange.content.as_deref().map(|c| serde_json::from_str::<serde_json::Value>(c.trim())) {
        Some(Ok(v)) if v == json!({ "ok": true }) => exchange,
        Some(_) => exchange.judged(Outcome::Invalid, Some("the answer is not {\"ok\": true}".into())),
        None => exchange,
    };
    let request_id = log::record(db, &endpoint, &request, &exchange).await?;
    Ok(Probe {
        status: exchange.outcome,
        error: exchange.error,
        attempts: exchange.attempts,
        duration_ms: exchange.duration.as_millis() as u64,
        request_id,
    })
}
