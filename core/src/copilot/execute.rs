//! Running the plan's tool calls: bound to the ticket asked about, run as the agent in
//! a read-only transaction, within a number of calls and a time budget, each step
//! recorded with a hash of its canonical arguments and result.

use crate::ids::TicketId;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::run::{SourceRef, Step};
use super::tools::{Passage, Tool};
use crate::{
    assist::citation::content_hash,
    auth::Principal,
    error::{Error, Result},
    models::Models,
};
use atum_runtime::db::DbPool;

/// Tool calls a run may make, and the time its tools may take together.
pub(super) const MAX_CALLS: usize = 6;

pub(super) const TOOL_BUDGET: Duration = Duration::from_secs(10);

/// Canonical JSON: object keys sorted at every level, so the same call has one text
/// and one hash.
pub fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut out = serde_json::Map::new();
            for k in keys {
                out.insert(k.clone(), canonical(&m[k]));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

pub fn sha256(v: &Value) -> String {
    content_hash(&canonical(v).to_string())
}

/// The concrete arguments of a planned call: `"ticket"` becomes the run's ticket (its
/// id, or its text as a search query — data to match, never instructions).
pub(super) fn bind(call: &super::plan::Call, ticket_id: TicketId, ticket_text: &str) -> Value {
    let mut args = call.arguments.clone();
    if let Some(map) = args.as_object_mut() {
        if map.get("ticket_id") == Some(&json!("ticket")) {
            map.insert("ticket_id".into(), json!(ticket_id));
        }
        if map.get("query") == Some(&json!("ticket")) {
            map.insert("query".into(), json!(ticket_text));
        }
    }
    canonical(&args)
}

pub(super) struct Executed {
    pub(super) steps: Vec<Step>,
    pub(super) passages: Vec<Passage>,
    pub(super) error: Option<String>,
}

/// Runs the calls in a read-only transaction as `who`, recording each as a step from
/// `first_seq`; stops at the first failure.
pub(super) async fn execute(
    pool: &DbPool,
    models: &dyn Models,
    who: &Principal,
    calls: &[(Tool, Value)],
    first_seq: i32,
) -> Result<Executed> {
    if calls.is_empty() {
        return Ok(Executed { steps: Vec::new(), passages: Vec::new(), error: None });
    }
    let mut conn = pool.get().await.map_err(|e| Error::Unavailable(e.to_string()))?;
    let tx = conn.build_transaction().read_only(true).start().await?;
    let mut out = Executed { steps: Vec::new(), passages: Vec::new(), error: None };
    let deadline = Instant::now() + TOOL_BUDGET;
    for (i, (tool, arguments)) in calls.iter().take(MAX_CALLS).enumerate() {
        let started = Instant::now();
        let name: &'static str = (*tool).into();
        let called = match super::tools::check(*tool, arguments) {
            Err(e) => Err(e),
            Ok(args) => {
                let left = deadline.saturating_duration_since(Instant::now());
                tokio::time::timeout(left, super::tools::call(&tx, pool, models, who, *tool, &args))
                    .await
                    .unwrap_or_else(|_| {
                        Err(Error::Internal(format!("the tools took longer than {} s", TOOL_BUDGET.as_secs())))
                    })
            }
        };
        let ms = started.elapsed().as_millis().min(i32::MAX as u128) as i32;
        let seq = first_seq + i as i32;
        match called {
            Ok(o) => {
                let result = canonical(&o.result);
                out.steps.push(Step {
                    seq,
                    kind: "tool".into(),
                    name: name.into(),
                    arguments: arguments.clone(),
                    result_sha256: Some(sha256(&json!({ "result": result, "passages": o.passages }))),
                    result: Some(result),
                    sources: o
                        .passages
                        .iter()
                        .map(|p| SourceRef {
                            source_id: p.source_id.clone(),
                            content_hash: p.content_hash.clone(),
                            provenance: p.provenance,
                        })
                        .collect(),
                    duration_ms: ms,
                    error: None,
                });
                out.passages.extend(o.passages);
            }
            Err(e) => {
                let message = match &e {
                    Error::Invalid(f) => format!("invalid arguments: {f}"),
                    other => other.to_string(),
                };
                out.steps.push(Step {
                    seq,
                    kind: "tool".into(),
                    name: name.into(),
                    arguments: arguments.clone(),
                    result: None,
                    result_sha256: None,
                    sources: Vec::new(),
                    duration_ms: ms,
                    error: Some(message.clone()),
                });
                out.error = Some(format!("{name}: {message}"));
                break;
            }
        }
    }
    tx.commit().await?;
    Ok(out)
}
