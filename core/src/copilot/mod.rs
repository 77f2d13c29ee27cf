//! The caged copilot: an agent asks about a ticket and gets an answer whose every
//! sentence is quoted from a passage a tool of this run returned — or a refusal that
//! says why. The cage is code, not a prompt:
//!
//! - [`plan`]: the tools are chosen from the agent's question alone, before any
//!   customer-written text is read;
//! - [`scope`]: the question as a whole must ask what the plan says it asks, or the
//!   run is refused before any tool runs;
//! - [`tools`]: a fixed allowlist of read-only tools with checked arguments, run as the
//!   agent in a read-only transaction, with limits on calls, sizes and time;
//! - the answerer quotes knowledge-base passages, replies that solved similar tickets
//!   and facts the desk states (SLA clocks, ticket history) — never customer text;
//! - [`gate`]: every sentence must be an exact, cited span of a passage of this run.
//!
//! Every run is stored with its steps (`copilot_runs`, `copilot_steps`) and can be
//! replayed ([`replay`]) against today's data.

mod answer;
mod execute;
pub mod gate;
pub mod plan;
pub mod replay;
mod run;
pub mod scope;
pub mod tools;
pub mod word;

use self::{
    answer::answer,
    execute::{MAX_CALLS, TOOL_BUDGET, bind, execute},
};
use crate::auth::policy::Action;
pub use answer::ANSWERER;
pub use execute::{canonical, sha256};
pub use run::{Ask, Run, RunStatus, SourceRef, Step, for_ticket, get};

use std::{sync::Arc, time::Instant};

use deadpool_postgres::GenericClient;
use serde_json::{Value, json};

use self::{
    gate::GATE,
    plan::{Intent, PLANNER, Plan},
    tools::{Passage, Tool},
};
use crate::{
    assist::retrieve,
    auth::Principal,
    error::{Error, FieldErrors, Result},
    llm::{
        Outcome,
        client::chat_async,
        endpoint::{self, Feature},
    },
    models::Models,
    secret_key::SecretKey,
};
use atum_runtime::db::DbPool;

const MAX_QUESTION_CHARS: usize = 1_000;

const SCOPE: &str = "I answer three things about a ticket: how to resolve it (from the knowledge base and similar \
                     solved tickets), whether its customer had it before, and when its SLA is due.";

/// Asks the copilot about a ticket (staff). The run is stored, answered or refused.
pub async fn ask(
    db: &impl GenericClient,
    pool: &DbPool,
    models: Arc<dyn Models>,
    key: Option<&SecretKey>,
    who: &Principal,
    ask: &Ask,
) -> Result<Run> {
    who.require(Action::UseAi)?;
    let question = ask.question.trim();
    if question.is_empty() || question.chars().count() > MAX_QUESTION_CHARS || question.contains('\0') {
        return Err(FieldErrors::single("question", "must be 1 to 1000 characters"));
    }
    let ticket = crate::tickets::get(db, who, ask.ticket_id).await?;
    let started = Instant::now();
    let llm = endpoint::load(db, key, who.org_id).await?.filter(|e| e.serves(Feature::Copilot));
    let mut steps = Vec::new();
    // With a model, the plan is asked of it from the question alone; anything but the
    // JSON asked for falls back to the rules.
    let planned = match &llm {
        None => None,
        Some(e) => {
            let request = word::plan_request(question);
            let x = chat_async(e.clone(), request.clone()).await;
            let intents = x.content.as_deref().and_then(word::parse_plan);
            let x = match (&intents, x.outcome) {
                (None, Outcome::Ok) => x.judged(Outcome::Invalid, Some("not the plan asked for".into())),
                _ => x,
            };
            steps.push(llm_step(db, e, &request, &x, "plan").await?);
            intents
        }
    };
    let from_model = planned.is_some();
    let mut plan: Plan = planned.map(plan::for_intents).unwrap_or_else(|| plan::plan(question));
    steps.push(Step {
        seq: 0,
        kind: "plan".into(),
        name: if from_model { "llm".into() } else { PLANNER.into() },
        arguments: canonical(&json!({ "question": question })),
        result_sha256: Some(sha256(&serde_json::to_value(&plan).unwrap_or_default())),
        result: Some(canonical(&serde_json::to_value(&plan).unwrap_or_default())),
        sources: Vec::new(),
        duration_ms: 0,
        error: None,
    });
    // The second gate: the question as a whole, scored against each intent.
    let scoped = {
        let (models, asked, intents) = (models.clone(), question.to_owned(), plan.intents.clone());
        let checked = Instant::now();
        let verdict = tokio::task::spawn_blocking(move || scope::check(models.as_ref(), &asked, &intents))
            .await
            .map_err(|e| Error::Internal(format!("the scope check stopped: {e}")))?
            .map_err(Error::Internal)?;
        let result = canonical(&serde_json::to_value(&verdict).unwrap_or_default());
        steps.push(Step {
            seq: 0,
            kind: "scope".into(),
            name: scope::SCOPE_CHECK.into(),
            arguments: canonical(&json!({ "question": question, "planned": plan.intents })),
            result_sha256: Some(sha256(&result)),
            result: Some(result),
            sources: Vec::new(),
            duration_ms: checked.elapsed().as_millis().min(i32::MAX as u128) as i32,
            error: None,
        });
        verdict
    };
    let below_floor = plan.intents.len() > scoped.kept.len();
    if below_floor {
        plan = plan::for_intents(scoped.kept.clone());
    }
    // The ticket's text is read only now, after the plan; a question outside the
    // scope runs no tool at all.
    let topic = if plan.calls.is_empty() { String::new() } else { tools::query_of(&ticket) };
    let calls: Vec<(Tool, Value)> = plan.calls.iter().map(|c| (c.tool, bind(c, ticket.id, &topic))).collect();
    let executed = execute(pool, models.as_ref(), who, &calls, 0).await?;
    steps.extend(executed.steps);
    let (status, text, citations, verdicts, refusal) = if let Some(e) = executed.error {
        (RunStatus::Error, None, Vec::new(), Vec::new(), Some(format!("a tool failed: {e}")))
    } else if plan.intents.is_empty() {
        let why = if below_floor {
            format!(
                "The question does not read as one I answer (its closest match scored {:.2}, below {:.2}). {SCOPE}",
                scoped.dropped.iter().map(|i| scoped.score(*i)).fold(0.0_f32, f32::max),
                scoped.floor
            )
        } else {
            format!("The question is outside what I answer. {SCOPE}")
        };
        (RunStatus::Refused, None, Vec::new(), Vec::new(), Some(why))
    } else {
        let (text, citations, unanswered) = answer(&models, &plan.intents, &executed.passages, &topic).await?;
        let verdicts = gate::check(&text, &citations, &executed.passages);
        if citations.is_empty() {
            let refusal = "Nothing the tools found answers this closely enough: no article, solved ticket or \
                           fact of the desk says it."
                .to_owned();
            (RunStatus::Refused, None, citations, verdicts, Some(refusal))
        } else if let Some(bad) = verdicts.iter().find(|v| !v.supported) {
            (
                RunStatus::Refused,
                None,
                citations,
                verdicts.clone(),
                Some(format!("The answer failed its check: {}.", bad.because)),
            )
        } else if let Some(e) = &llm {
            // The model words the answer from the passages the quotes came from.
            let mut sources: Vec<&Passage> = Vec::new();
            for c in &citations {
                if let Some(p) = executed.passages.iter().find(|p| p.source_id == c.source_id)
                    && !sources.iter().any(|s| s.source_id == p.source_id)
                {
                    sources.push(p);
                }
            }
            let request = word::word_request(ticket.id, question, &topic, &sources);
            let x = chat_async(e.clone(), request.clone()).await;
            let checked = x.content.as_deref().map(|c| word::check(c, &sources));
            let x = match &checked {
                Some(Err((why, _))) => x.judged(Outcome::Unsupported, Some(why.clone())),
                _ => x,
            };
            let outcome: &'static str = x.outcome.into();
            let why = x.error.clone().unwrap_or_default();
            steps.push(llm_step(db, e, &request, &x, "word").await?);
            match checked {
                Some(Ok(w)) => (RunStatus::Answered, Some(w.answer), w.citations, w.verdicts, None),
                Some(Err((why, verdicts))) => (
                    RunStatus::Refused,
                    None,
                    Vec::new(),
                    verdicts,
                    Some(format!("The model's answer failed its check: {why}.")),
                ),
                None => (
                    RunStatus::Refused,
                    None,
                    Vec::new(),
                    Vec::new(),
                    Some(format!("The language model gave no answer ({outcome}: {why}).")),
                ),
            }
        } else {
            let note = (!unanswered.is_empty()).then(|| {
                let names: Vec<&str> = unanswered
                    .iter()
                    .map(|i| match i {
                        Intent::Resolve => "how to resolve it",
                        Intent::History => "the customer's history",
                        Intent::Sla => "the SLA",
                    })
                    .collect();
                format!("Nothing found answers {}.", names.join(" or "))
            });
            (RunStatus::Answered, Some(text), citations, verdicts, note)
        }
    };
    // A question refused before its tools had nothing to check.
    let checked = !plan.intents.is_empty();
    steps.extend(checked.then(|| Step {
        seq: 0,
        kind: "gate".into(),
        name: if llm.is_some() { word::WORDER.into() } else { GATE.into() },
        arguments: canonical(&json!({ "sentences": citations.len() })),
        result_sha256: Some(sha256(&serde_json::to_value(&verdicts).unwrap_or_default())),
        result: Some(canonical(&json!({ "verdicts": verdicts }))),
        sources: Vec::new(),
        duration_ms: 0,
        error: None,
    }));
    let thresholds = json!({
        "min_similarity": 0.3, "max_calls": MAX_CALLS, "tool_budget_ms": TOOL_BUDGET.as_millis() as u64,
        "max_passage_chars": 4000, "scope_floor": scope::FLOOR,
    });
    for (i, s) in steps.iter_mut().enumerate() {
        s.seq = i as i32;
    }
    let mode = if llm.is_some() { "llm" } else { "offline" };
    let model = llm.as_ref().map(|e| json!({ "provider": e.provider, "model": e.model, "temperature": 0 }));
    let (answerer, gate) = if llm.is_some() { (word::WORDER, word::WORDER) } else { (ANSWERER, GATE) };
    let planner = if from_model { "llm" } else { PLANNER };
    let version = retrieve::index_version(db, who.org_id).await?;
    let ms = started.elapsed().as_millis().min(i32::MAX as u128) as i32;
    let status_str: &'static str = status.into();
    let id: i64 = db
        .query_one(
            "INSERT INTO copilot_runs (org_id, user_id, ticket_id, question, mode, planner, answerer, gate, thresholds,
                                       index_version, status, answer, citations, refusal, verdicts, duration_ms, model)
             VALUES ($1, $2, $3, $4, $16, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $17) RETURNING id",
            &[
                &who.org_id,
                &who.user_id,
                &ticket.id,
                &question,
                &planner,
                &answerer,
                &gate,
                &thresholds,
                &version,
                &status_str,
                &text,
                &serde_json::to_value(&citations).unwrap_or_default(),
                &refusal,
                &serde_json::to_value(&verdicts).unwrap_or_default(),
                &ms,
                &mode,
                &model,
            ],
        )
        .await?
        .get(0);
    for s in &steps {
        db.execute(
            "INSERT INTO copilot_steps (run_id, seq, kind, name, arguments, result, result_sha256, sources, duration_ms,
                                        error)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                &id,
                &s.seq,
                &s.kind,
                &s.name,
                &s.arguments,
                &s.result,
                &s.result_sha256,
                &serde_json::to_value(&s.sources).unwrap_or_default(),
                &s.duration_ms,
                &s.error,
            ],
        )
        .await?;
    }
    get(db, who, id).await
}

/// A model call as a step, after it is in the request log.
async fn llm_step(
    db: &impl GenericClient,
    e: &crate::llm::Endpoint,
    request: &crate::llm::Request,
    x: &crate::llm::Exchange,
    name: &str,
) -> Result<Step> {
    let id = crate::llm::log::record(db, e, request, x).await?;
    let outcome: &'static str = x.outcome.into();
    let result = canonical(&word::trace(&e.model, outcome, x.content.as_deref(), x.error.as_deref()));
    Ok(Step {
        seq: 0,
        kind: "llm".into(),
        name: name.into(),
        arguments: canonical(&json!({ "model": e.model, "request_id": id, "schema": request.schema_name })),
        result_sha256: Some(sha256(&result)),
        result: Some(result),
        sources: Vec::new(),
        duration_ms: x.duration.as_millis().min(i32::MAX as u128) as i32,
        error: x.error.clone(),
    })
}
