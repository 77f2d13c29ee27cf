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

pub mod gate;
pub mod plan;
pub mod replay;
pub mod scope;
pub mod tools;
pub mod word;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use unicode_segmentation::UnicodeSegmentation;

use self::{
    gate::{Citation, GATE, Verdict},
    plan::{Intent, PLANNER, Plan},
    tools::{Passage, Provenance, Tool},
};
use crate::{
    assist::{citation::content_hash, retrieve},
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

pub const ANSWERER: &str = "extractive-1";
/// Tool calls a run may make, and the time its tools may take together.
const MAX_CALLS: usize = 6;
const TOOL_BUDGET: Duration = Duration::from_secs(10);
const MAX_QUESTION_CHARS: usize = 1_000;

/// A question about a ticket.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[schema(as = CopilotAsk)]
#[serde(deny_unknown_fields)]
pub struct Ask {
    pub ticket_id: i64,
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
    pub ticket_id: i64,
    pub user_id: i64,
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
fn bind(call: &plan::Call, ticket_id: i64, ticket_text: &str) -> Value {
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

struct Executed {
    steps: Vec<Step>,
    passages: Vec<Passage>,
    error: Option<String>,
}

/// Runs the calls in a read-only transaction as `who`, recording each as a step from
/// `first_seq`; stops at the first failure.
async fn execute(
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
        let called = match tools::check(*tool, arguments) {
            Err(e) => Err(e),
            Ok(args) => {
                let left = deadline.saturating_duration_since(Instant::now());
                tokio::time::timeout(left, tools::call(&tx, pool, models, who, *tool, &args)).await.unwrap_or_else(
                    |_| Err(Error::Internal(format!("the tools took longer than {} s", TOOL_BUDGET.as_secs()))),
                )
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

/// The sentences of a desk-stated passage (SLA, history), each cited.
fn quote_all(answer: &mut String, citations: &mut Vec<Citation>, p: &Passage) {
    for (at, sentence) in p.text.split_sentence_bound_indices() {
        let trimmed = sentence.trim_end();
        if trimmed.is_empty() {
            continue;
        }
        push_quote(answer, citations, p, at, at + trimmed.len());
    }
}

fn push_quote(answer: &mut String, citations: &mut Vec<Citation>, p: &Passage, start: usize, end: usize) {
    // Offsets from the composer are the passage's own sentence bounds; anything else is
    // no quote.
    let Some(quote) = p.text.get(start..end) else { return };
    if !answer.is_empty() {
        let joined = citations.last().is_some_and(|c| c.source_id == p.source_id && c.quote_end <= start);
        answer.push_str(if joined { " " } else { "\n\n" });
    }
    let at = answer.len();
    answer.push_str(quote);
    citations.push(Citation {
        start: at,
        end: answer.len(),
        source_id: p.source_id.clone(),
        source: p.source.clone(),
        id: p.id,
        title: p.title.clone(),
        provenance: p.provenance,
        quote_start: start,
        quote_end: end,
        content_hash: p.content_hash.clone(),
    });
}

/// The extractive answer: for each intent, the quotes that answer it.
async fn answer(
    models: &Arc<dyn Models>,
    intents: &[Intent],
    passages: &[Passage],
    topic: &str,
) -> Result<(String, Vec<Citation>, Vec<Intent>)> {
    let (mut text, mut citations, mut unanswered) = (String::new(), Vec::new(), Vec::new());
    for intent in intents {
        let before = citations.len();
        match intent {
            Intent::Sla => {
                for p in passages.iter().filter(|p| p.source == "sla") {
                    quote_all(&mut text, &mut citations, p);
                }
            }
            Intent::History => {
                for p in passages.iter().filter(|p| p.source == "history") {
                    quote_all(&mut text, &mut citations, p);
                }
            }
            Intent::Resolve => {
                let usable: Vec<&Passage> = passages
                    .iter()
                    .filter(|p| matches!(p.provenance, Provenance::Kb | Provenance::SolvedTicket))
                    .collect();
                let candidates: Vec<crate::models::Passage> = usable
                    .iter()
                    .enumerate()
                    .map(|(i, p)| crate::models::Passage { chunk_id: i as i64, body: p.text.clone(), from: 0, rank: i })
                    .collect();
                let quotes = {
                    let (models, topic) = (models.clone(), topic.to_owned());
                    tokio::task::spawn_blocking(move || models.compose(&topic, &candidates))
                        .await
                        .map_err(|e| Error::Internal(format!("answering stopped: {e}")))?
                        .map_err(Error::Internal)?
                };
                for q in quotes {
                    if let Some(p) = usable.get(q.chunk_id as usize) {
                        push_quote(&mut text, &mut citations, p, q.start, q.end);
                    }
                }
            }
        }
        if citations.len() == before {
            unanswered.push(*intent);
        }
    }
    Ok((text, citations, unanswered))
}

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
    who.require_staff()?;
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

fn status(s: &str) -> RunStatus {
    match s {
        "answered" => RunStatus::Answered,
        "refused" => RunStatus::Refused,
        _ => RunStatus::Error,
    }
}

/// A run with its steps (staff of its organisation who can see its ticket).
pub async fn get(db: &impl GenericClient, who: &Principal, id: i64) -> Result<Run> {
    who.require_staff()?;
    let r = db
        .query_opt(
            &format!("SELECT {RUN_COLUMNS} FROM copilot_runs WHERE org_id = $1 AND id = $2"),
            &[&who.org_id, &id],
        )
        .await?
        .ok_or(Error::NotFound("copilot run"))?;
    let ticket_id: i64 = r.get(1);
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
            seq: s.get(0),
            kind: s.get(1),
            name: s.get(2),
            arguments: s.get(3),
            result: s.get(4),
            result_sha256: s.get(5),
            sources: serde_json::from_value(s.get(6)).unwrap_or_default(),
            duration_ms: s.get(7),
            error: s.get(8),
        })
        .collect();
    Ok(Run { steps, ..run(&r) })
}

const RUN_COLUMNS: &str = "id, ticket_id, user_id, question, mode, status, answer, citations, refusal, verdicts, \
                           planner, answerer, gate, thresholds, index_version, duration_ms, created_at, model";

/// A run from a row of [`RUN_COLUMNS`], without its steps.
fn run(r: &tokio_postgres::Row) -> Run {
    Run {
        id: r.get(0),
        ticket_id: r.get(1),
        user_id: r.get(2),
        question: r.get(3),
        mode: r.get(4),
        status: status(r.get(5)),
        answer: r.get(6),
        citations: serde_json::from_value(r.get(7)).unwrap_or_default(),
        refusal: r.get(8),
        verdicts: serde_json::from_value(r.get(9)).unwrap_or_default(),
        planner: r.get(10),
        answerer: r.get(11),
        gate: r.get(12),
        thresholds: r.get(13),
        index_version: r.get(14),
        duration_ms: r.get(15),
        created_at: r.get(16),
        model: r.get(17),
        steps: Vec::new(),
    }
}

/// The ticket's runs, newest first, without their steps (staff).
pub async fn for_ticket(db: &impl GenericClient, who: &Principal, ticket_id: i64) -> Result<Vec<Run>> {
    who.require_staff()?;
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
