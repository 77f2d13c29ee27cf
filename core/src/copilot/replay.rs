//! Replaying a run: the replaying agent's rights are checked again, the run's tool
//! calls are made again with their recorded arguments, each step's result and sources
//! are compared with what was recorded, and the gate checks the stored answer against
//! the passages the tools return today.

use std::sync::Arc;

use deadpool_postgres::GenericClient;
use serde::Serialize;

use super::{execute, gate, get, tools::Tool};
use crate::{assist::Models, auth::Principal, db::DbPool, error::Result};

/// How one tool step compares with its recorded self.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = CopilotStepDiff)]
pub struct StepDiff {
    pub seq: i32,
    pub name: String,
    /// The same result and the same sources (by id and content hash).
    pub same: bool,
    pub before_sha256: Option<String>,
    pub after_sha256: Option<String>,
    pub sources_added: Vec<String>,
    pub sources_removed: Vec<String>,
    /// Sources returned both times whose text changed.
    pub sources_changed: Vec<String>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = CopilotReplay)]
pub struct Replay {
    pub run_id: i64,
    pub steps: Vec<StepDiff>,
    /// The stored answer, checked against today's passages.
    pub still_supported: bool,
    pub because: String,
    pub verdicts: Vec<gate::Verdict>,
}

pub async fn replay(
    db: &impl GenericClient,
    pool: &DbPool,
    models: Arc<dyn Models>,
    who: &Principal,
    run_id: i64,
) -> Result<Replay> {
    let run = get(db, who, run_id).await?;
    // The recorded model outputs are kept: only the tools run again.
    let recorded: Vec<_> = run.steps.iter().filter(|s| s.kind == "tool").collect();
    let calls: Vec<(Tool, serde_json::Value)> = recorded
        .iter()
        .filter_map(|s| {
            serde_json::from_value::<Tool>(serde_json::json!(s.name)).ok().map(|t| (t, s.arguments.clone()))
        })
        .collect();
    let first = recorded.first().map(|s| s.seq).unwrap_or(1);
    let again = execute(pool, models.as_ref(), who, &calls, first).await?;
    let steps = recorded
        .iter()
        .map(|before| {
            let after = again.steps.iter().find(|s| s.seq == before.seq);
            let ids = |s: Option<&super::Step>| -> Vec<(String, String)> {
                s.map(|s| s.sources.iter().map(|r| (r.source_id.clone(), r.content_hash.clone())).collect())
                    .unwrap_or_default()
            };
            let (old, new) = (ids(Some(before)), ids(after));
            let added =
                new.iter().filter(|(id, _)| !old.iter().any(|(o, _)| o == id)).map(|(id, _)| id.clone()).collect();
            let removed =
                old.iter().filter(|(id, _)| !new.iter().any(|(n, _)| n == id)).map(|(id, _)| id.clone()).collect();
            let changed = new
                .iter()
                .filter(|(id, hash)| old.iter().any(|(o, h)| o == id && h != hash))
                .map(|(id, _)| id.clone())
                .collect();
            StepDiff {
                seq: before.seq,
                name: before.name.clone(),
                same: after.is_some_and(|a| a.result_sha256 == before.result_sha256),
                before_sha256: before.result_sha256.clone(),
                after_sha256: after.and_then(|a| a.result_sha256.clone()),
                sources_added: added,
                sources_removed: removed,
                sources_changed: changed,
                error: after.map_or_else(|| Some("not run: an earlier step failed".into()), |a| a.error.clone()),
            }
        })
        .collect();
    let (still_supported, because, verdicts) = match &run.answer {
        None => (false, "the run has no answer to check".to_owned(), Vec::new()),
        Some(answer) => {
            let verdicts = if run.mode == "llm" {
                super::word::recheck(answer, &run.citations, &again.passages)
            } else {
                gate::check(answer, &run.citations, &again.passages)
            };
            match verdicts.iter().find(|v| !v.supported) {
                Some(bad) => (false, bad.because.clone(), verdicts.clone()),
                None => (
                    true,
                    "every sentence is still quoted exactly from a passage the tools return today".into(),
                    verdicts,
                ),
            }
        }
    };
    Ok(Replay { run_id, steps, still_supported, because, verdicts })
}
