//! A copilot run as it is stored and read back: the question, the plan's steps with
//! what each tool returned, the answer with its citations or the refusal.

use crate::auth::policy::Action;
use crate::ids::TicketId;
use crate::ids::UserId;
use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    gate::{Citation, Verdict},
    tools::Provenance,
};
use crate::{
    auth::Principal,
    error::{Error, Result},
};

/// A question about a ticket.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[schema(as = CopilotAsk)]
#[serde(deny_unknown_fields)]
pub struct Ask {
    #[schema(value_type = i64)]
    pub ticket_id: TicketId,
    /// "How do I resolve this?", "Has this customer had this before?", "When does this breach?"
    #[schema(min_length = 1, max_length = 1000)]
    pub question: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[schema(as = CopilotRunStatus)]
pub enum RunStatus {
    Answered,
    Refused,
    Error,
}

/// A step of a run, as the trace shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = CopilotStep)]
pub struct Step {
    pub seq: i32,
    /// `plan`, `scope`, `tool`, `llm` or `gate`.
    pub kind: String,
    /// `gen_ai.tool.name` for a tool.
    pub name: String,
    /// `gen_ai.tool.call.arguments`: canonical JSON (keys sorted).
    pub arguments: Value,
    /// `gen_ai.tool.call.result`.
    pub result: Option<Value>,
    pub result_sha256: Option<String>,
    pub sources: Vec<SourceRef>,
    pub duration_ms: i32,
    pub error: Option<String>,
}

/// A passage a step returned, by id and content hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = CopilotSource)]
pub struct SourceRef {
    pub source_id: String,
    pub content_hash: String,
    pub provenance: Provenance,
}

/// A run as the agent sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = CopilotRun)]
pub struct Run {
    pub id: i64,
    #[schema(value_type = i64)]
    pub ticket_id: TicketId,
    #[schema(value_type = i64)]
    pub user_id: UserId,
    pub question: String,
    /// `offline`: quoted; `llm`: worded by the organisation's language model.
    pub mode: String,
    pub status: RunStatus,
    pub answer: Option<String>,
    pub citations: Vec<Citation>,
    /// Why there is no answer.
    pub refusal: Option<String>,
    pub verdicts: Vec<Verdict>,
    pub planner: String,
    pub answerer: String,
    pub gate: String,
    pub thresholds: Value,
    /// The language model and its parameters, in the `llm` mode.
    pub model: Option<Value>,
    pub index_version: String,
    pub duration_ms: i32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// The plan, each tool call and the gate, in order (with `GET /copilot/runs/{id}`).
    pub steps: Vec<Step>,
}

fn status(s: &str) -> RunStatus {
    match s {
        "answered" => RunStatus::Answered,
        "refused" => RunStatus::Refused,
        _ => RunStatus::Error,
    }
}

/// A run with its steps (staff of its organisation who can see its ticket).
pub async fn get(db: &impl GenericClient, who: &Principal, id: i64) -> Result<Run> {
    who.require(Action::UseAi)?;
    let r = db
        .query_opt(
            &format!("SELECT {RUN_COLUMNS} FROM copilot_runs WHERE org_id = $1 AND id = $2"),
            &[&who.org_id, &id],
        )
        .await?
        .ok_or(Error::NotFound("copilot run"))?;
    let ticket_id: TicketId = r.get("ticket_id");
    crate::tickets::get(db, who, ticket_id).await.map_err(|e| match e {
        Error::NotFound(_) => Error::NotFound("copilot run"),
        other => other,
    })?;
    let steps = db
        .query(
            "SELECT seq, kind, name, arguments, result, result_sha256, sources, duration_ms, error
               FROM copilot_steps WHERE run_id = $1 ORDER BY seq",
            &[&id],
        )
        .await?
        .iter()
        .map(|s| Step {
            seq: s.get("seq"),
            kind: s.get("kind"),
            name: s.get("name"),
            arguments: s.get("arguments"),
            result: s.get("result"),
            result_sha256: s.get("result_sha256"),
            sources: serde_json::from_value(s.get("sources")).unwrap_or_default(),
            duration_ms: s.get("duration_ms"),
            error: s.get("error"),
        })
        .collect();
    Ok(Run { steps, ..run(&r) })
}

const RUN_COLUMNS: &str = "id, ticket_id, user_id, question, mode, status, answer, citations, refusal, verdicts, \
                           planner, answerer, gate, thresholds, index_version, duration_ms, created_at, model";

/// A run from a row of [`RUN_COLUMNS`], without its steps.
fn run(r: &tokio_postgres::Row) -> Run {
    Run {
        id: r.get("id"),
        ticket_id: r.get("ticket_id"),
        user_id: r.get("user_id"),
        question: r.get("question"),
        mode: r.get("mode"),
        status: status(r.get("status")),
        answer: r.get("answer"),
        citations: serde_json::from_value(r.get("citations")).unwrap_or_default(),
        refusal: r.get("refusal"),
        verdicts: serde_json::from_value(r.get("verdicts")).unwrap_or_default(),
        planner: r.get("planner"),
        answerer: r.get("answerer"),
        gate: r.get("gate"),
        thresholds: r.get("thresholds"),
        index_version: r.get("index_version"),
        duration_ms: r.get("duration_ms"),
        created_at: r.get("created_at"),
        model: r.get("model"),
        steps: Vec::new(),
    }
}

/// The ticket's runs, newest first, without their steps (staff).
pub async fn for_ticket(db: &impl GenericClient, who: &Principal, ticket_id: TicketId) -> Result<Vec<Run>> {
    who.require(Action::UseAi)?;
    crate::tickets::get(db, who, ticket_id).await?;
    let rows = db
        .query(
            &format!(
                "SELECT {RUN_COLUMNS} FROM copilot_runs WHERE org_id = $1 AND ticket_id = $2 ORDER BY id DESC LIMIT 20"
            ),
            &[&who.org_id, &ticket_id],
        )
        .await?;
    Ok(rows.iter().map(run).collect())
}
