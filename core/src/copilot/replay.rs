//! Replaying a run: the replaying agent's rights are checked again, the run's tool
//! calls are made again with their recorded arguments, each step's result and sources
//! are compared with what was recorded, and the gate checks the stored answer against
//! the passages the tools return today. The recorded model outputs are kept unless
//! the agent asks for the model to be asked again (`rerun_llm`): then the answer is
//! worded again from today's passages and put through the gate, beside the stored one.

use std::sync::Arc;

use deadpool_postgres::GenericClient;
use serde::Serialize;

use super::{execute::execute, gate, get, tools::Tool, word};
use crate::{
    auth::Principal,
    error::Result,
    llm::{
        client::chat_async,
        endpoint::{self, Feature},
    },
    models::Models,
    secret_key::SecretKey,
};
use atum_runtime::db::DbPool;

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
    /// With `rerun_llm`, on a run the model worded: its wording today.
    pub rerun: Option<Rerun>,
}

/// The model asked again, from today's passages.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = CopilotRerun)]
pub struct Rerun {
    pub model: Option<String>,
    /// Today's answer, when it passed the gate.
    pub answer: Option<String>,
    /// Why today's answer was refused (or why the model could not be asked).
    pub refusal: Option<String>,
    /// Today's answer is the stored one, word for word.
    pub same_answer: bool,
    /// Its request in the request log.
    pub request_id: Option<i64>,
}

pub async fn replay(
    db: &impl GenericClient,
    pool: &DbPool,
    models: Arc<dyn Models>,
    key: Option<&SecretKey>,
    who: &Principal,
    run_id: i64,
    rerun_llm: bool,
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
    let rerun =
        if rerun_llm && run.mode == "llm" { Some(reword(db, key, who, &run, &again.passages).await?) } else { None };
    Ok(Replay { run_id, steps, still_supported, because, verdicts, rerun })
}

/// The run's answer worded again by the organisation's model from today's versions of
/// the passages it cited.
async fn reword(
    db: &impl GenericClient,
    key: Option<&SecretKey>,
    who: &Principal,
    run: &super::Run,
    passages: &[super::tools::Passage],
) -> Result<Rerun> {
    let refused = |why: &str| Rerun {
        model: None,
        answer: None,
        refusal: Some(why.to_owned()),
        same_answer: false,
        request_id: None,
    };
    let Some(e) = endpoint::load(db, key, who.org_id).await?.filter(|e| e.serves(Feature::Copilot)) else {
        return Ok(refused("no language model serves the copilot any more"));
    };
    let mut sources = Vec::new();
    for c in &run.citations {
        if let Some(p) = passages.iter().find(|p| p.source_id == c.source_id)
            && !sources.iter().any(|s: &&super::tools::Passage| s.source_id == p.source_id)
        {
            sources.push(p);
        }
    }
    if sources.is_empty() {
        return Ok(refused("none of the passages the answer cited is returned by the tools today"));
    }
    let ticket = super::tools::ticket_query(db, who, run.ticket_id).await?;
    let request = word::word_request(run.ticket_id, &run.question, &ticket, &sources);
    let x = chat_async(e.clone(), request.clone()).await;
    let checked = x.content.as_deref().map(|c| word::check(c, &sources));
    let x = match &checked {
        Some(Err((why, _))) => x.judged(crate::llm::Outcome::Unsupported, Some(why.clone())),
        _ => x,
    };
    let request_id = crate::llm::log::record(db, &e, &request, &x).await?;
    let (answer, refusal) = match checked {
        Some(Ok(w)) => (Some(w.answer), None),
        Some(Err((why, _))) => (None, Some(format!("the model's answer failed its check: {why}"))),
        None => (None, Some(format!("the language model gave no answer: {}", x.error.unwrap_or_default()))),
    };
    Ok(Rerun {
        model: Some(e.model.clone()),
        same_answer: answer.is_some() && answer == run.answer,
        answer,
        refusal,
        request_id: Some(request_id),
    })
}
