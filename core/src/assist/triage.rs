//! Auto-triage: the job that triages a ticket with its organisation's models
//! (`TRIAGE_TICKET`; they are trained in [`super::training`]), and what an agent reads
//! back.
//!
//! A ticket's triage is one row of `ticket_ai_triage`, replaced when its inputs (the
//! text, the models) change; a re-run over the same inputs writes nothing. A value at
//! or above the organisation's apply threshold is set on the ticket by the AI actor —
//! only on a field no person has set, once per ticket — so the history says who did
//! it and an agent undoes it as any change (or by rejecting it, [`super::feedback`]).

use crate::auth::policy::Action;
use std::{collections::HashMap, sync::Arc};

use deadpool_postgres::GenericClient;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::retrieve::{hex, input};
use crate::models::{Guess, Models, SentimentLabel};
use crate::named::Named;
use crate::{
    auth::Principal,
    error::{Error, Result},
    ids::{OrgId, TicketId},
    jobs::JobContext,
    settings::{self, AiSettings},
    tickets::{self, Priority, Status},
};
use atum_queue::{JobError, enqueue::Options};

use super::training::{Field, retrain_if_due};

/// What an answer's confidence lets triage do under an organisation's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// At or above the apply threshold.
    Apply,
    /// Between the suggest and apply thresholds: shown to the agent.
    Suggest,
    /// Below the suggest threshold: not shown.
    Hidden,
}

pub fn tier(confidence: f32, s: &AiSettings) -> Tier {
    // Compared as f32, the precision the confidence has: widened, 0.9f32 is
    // 0.8999999761 and would fall below a threshold of 0.9.
    if s.apply_threshold.is_some_and(|a| confidence >= a as f32) {
        Tier::Apply
    } else if confidence >= s.suggest_threshold as f32 {
        Tier::Suggest
    } else {
        Tier::Hidden
    }
}

super::ticket_job::ticket_job!(
    /// Triages a ticket: when it is filed, and after each message from its requester.
    TriageTicket,
    kind = "TRIAGE_TICKET",
    priority = 3,
    run = run_triage
);

async fn run_triage(job: TriageTicket, ctx: JobContext) -> std::result::Result<(), JobError> {
    let models = ctx.services.models()?;
    triage(&ctx.pool, models.clone(), job.org_id, job.ticket_id).await?;
    escalate(&ctx.pool, models, job.org_id, job.ticket_id, job.after_comment).await
}

/// Enqueues the triage of a ticket, in the caller's transaction.
pub async fn enqueue(db: &impl GenericClient, org_id: OrgId, ticket_id: TicketId, after_comment: i64) -> Result<()> {
    let job = TriageTicket { org_id, ticket_id, after_comment };
    atum_queue::enqueue(db, &job, Options::default()).await?;
    Ok(())
}

async fn triage(
    pool: &deadpool_postgres::Pool,
    models: Arc<dyn Models>,
    org_id: OrgId,
    ticket_id: TicketId,
) -> std::result::Result<(), JobError> {
    let mut db = pool.get().await.map_err(|e| JobError::Retry(e.to_string()))?;
    let Some(input) = input(&db, org_id, ticket_id).await? else {
        return Ok(()); // deleted since: nothing to triage
    };
    let current = db
        .query(
            "SELECT DISTINCT ON (field) id, field, embedder, format FROM triage_models
              WHERE org_id = $1 AND status = 'ready' ORDER BY field, id DESC",
            &[&org_id],
        )
        .await?;
    let mut stale_model = false;
    let mut ids: Vec<(i64, Field)> = Vec::new();
    for r in &current {
        let (id, field, embedder, format): (i64, &str, &str, i32) =
            (r.get("id"), r.get("field"), r.get("embedder"), r.get("format"));
        if embedder != models.embedder() || format != models.format() {
            stale_model = true;
            continue;
        }
        if let Some(f) = Field::parse(field) {
            ids.push((id, f));
        }
    }
    let inputs = {
        let mut h = Sha256::new();
        for part in [input.text.as_str(), input.latest.as_str(), models.embedder()] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        for (id, _) in &ids {
            h.update(id.to_le_bytes());
        }
        hex(&h.finalize())
    };
    let stored: Option<String> = db
        .query_opt("SELECT inputs FROM ticket_ai_triage WHERE org_id = $1 AND ticket_id = $2", &[&org_id, &ticket_id])
        .await?
        .map(|r| r.get(0));
    if stored.as_deref() != Some(inputs.as_str()) {
        let mut in_use = Vec::new();
        for (id, field) in ids {
            if !models.is_loaded(id) {
                let bytes: Vec<u8> =
                    db.query_one("SELECT model FROM triage_models WHERE id = $1", &[&id]).await?.get(0);
                let models = models.clone();
                let loaded = tokio::task::spawn_blocking(move || models.load(id, &bytes))
                    .await
                    .map_err(|e| JobError::Retry(format!("loading a model stopped: {e}")))?;
                if let Err(why) = loaded {
                    tracing::warn!(org = org_id.0, model = id, error = %why, "a triage model could not be read");
                    stale_model = true;
                    continue;
                }
            }
            in_use.push((id, field));
        }
        let answers = {
            let models = models.clone();
            let (text, latest) = (input.text.clone(), input.latest.clone());
            tokio::task::spawn_blocking(move || {
                let guesses: Vec<(i64, Field, std::result::Result<Guess, String>)> =
                    in_use.into_iter().map(|(id, field)| (id, field, models.predict(id, &text))).collect();
                (guesses, models.sentiment(&latest), models.language(&text))
            })
            .await
            .map_err(|e| JobError::Retry(format!("triage stopped: {e}")))?
        };
        let (guesses, sentiment, language) = answers;
        let mut fields: HashMap<Field, serde_json::Value> = HashMap::new();
        for (id, field, g) in guesses {
            match g {
                Ok(g) => {
                    fields.insert(field, stored_guess(&g, id));
                }
                // The embedder could not read the model: train again rather than fail.
                Err(why) => {
                    tracing::warn!(org = org_id.0, model = id, error = %why, "a triage model could not be used");
                    stale_model = true;
                }
            }
        }
        let tx = db.transaction().await?;
        store(&tx, org_id, ticket_id, &inputs, &fields, sentiment, language).await?;
        tx.commit().await?;
    }
    retrain_if_due(&db, org_id, stale_model).await?;
    Ok(())
}

/// The tone of the message this triage was for, recorded, and the organisation's
/// escalation rules applied ([`super::escalate`]).
async fn escalate(
    pool: &deadpool_postgres::Pool,
    models: Arc<dyn Models>,
    org_id: OrgId,
    ticket_id: TicketId,
    comment_id: i64,
) -> std::result::Result<(), JobError> {
    let mut db = pool.get().await.map_err(|e| JobError::Retry(e.to_string()))?;
    let text: Option<String> = if comment_id == 0 {
        db.query_opt(
            "SELECT CASE WHEN btrim(description) = '' THEN subject ELSE description END FROM tickets
              WHERE org_id = $1 AND id = $2",
            &[&org_id, &ticket_id],
        )
        .await?
        .map(|r| r.get(0))
    } else {
        db.query_opt(
            "SELECT c.body FROM ticket_comments c JOIN tickets t ON t.org_id = c.org_id AND t.id = c.ticket_id
              WHERE c.org_id = $1 AND c.ticket_id = $2 AND c.id = $3 AND c.author_id = t.requester_id
                AND c.visibility = 'public'",
            &[&org_id, &ticket_id, &comment_id],
        )
        .await?
        .map(|r| r.get(0))
    };
    let Some(text) = text else { return Ok(()) };
    let score = tokio::task::spawn_blocking(move || models.sentiment(&text).score)
        .await
        .map_err(|e| JobError::Retry(format!("reading the tone stopped: {e}")))?;
    let tx = db.transaction().await?;
    super::escalate::after_message(&tx, org_id, ticket_id, comment_id, score).await?;
    tx.commit().await?;
    Ok(())
}

fn stored_guess(g: &Guess, model_id: i64) -> serde_json::Value {
    let mut v = serde_json::to_value(g).unwrap_or_default();
    v["model_id"] = serde_json::json!(model_id);
    v
}

/// Writes the triage row and applies what the settings allow, with the ticket locked
/// so a person's concurrent change wins or waits.
#[allow(clippy::too_many_arguments)]
async fn store(
    tx: &impl GenericClient,
    org_id: OrgId,
    ticket_id: TicketId,
    inputs: &str,
    fields: &HashMap<Field, serde_json::Value>,
    sentiment: crate::models::Sentiment,
    language: Option<crate::models::Language>,
) -> Result<()> {
    let Some(ticket) = tx
        .query_opt(
            "SELECT status, category, priority FROM tickets WHERE org_id = $1 AND id = $2 FOR UPDATE",
            &[&org_id, &ticket_id],
        )
        .await?
    else {
        return Ok(());
    };
    let status = Status::parse(ticket.get(0));
    let (category, priority): (Option<String>, String) = (ticket.get(1), ticket.get(2));
    let applied: serde_json::Value = tx
        .query_opt("SELECT applied FROM ticket_ai_triage WHERE org_id = $1 AND ticket_id = $2", &[&org_id, &ticket_id])
        .await?
        .map(|r| r.get(0))
        .unwrap_or_else(|| serde_json::json!({}));
    let settings = settings::of_org(tx, org_id).await?.ai;
    let set_by_person: Vec<String> = tx
        .query(
            "SELECT DISTINCT k FROM ticket_events e, jsonb_object_keys(e.after) k
              WHERE e.org_id = $1 AND e.ticket_id = $2 AND e.actor_kind = 'user' AND e.event_type = 'updated'
                AND jsonb_typeof(e.after) = 'object'",
            &[&org_id, &ticket_id],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let open = !matches!(status, Some(Status::Solved | Status::Closed));

    let mut applied = applied;
    let mut change = tickets::write::AiChange::default();
    for (field, guess) in fields {
        let value = guess["value"].as_str().unwrap_or_default();
        let confidence = guess["confidence"].as_f64().unwrap_or(0.0) as f32;
        let untouched = open
            && applied.get(field.as_str()).is_none()
            && !set_by_person.iter().any(|k| k == field.as_str())
            && match field {
                Field::Category => category.is_none(),
                Field::Priority => priority == Priority::Normal.as_str(),
            };
        if !untouched || tier(confidence, &settings) != Tier::Apply {
            continue;
        }
        match field {
            Field::Category => {
                change.category = Some(value.to_owned());
                applied[field.as_str()] = serde_json::json!({ "before": category, "after": value });
            }
            Field::Priority => {
                let Some(p) = Priority::parse(value) else { continue };
                if p == Priority::Normal {
                    continue;
                }
                change.priority = Some(p);
                applied[field.as_str()] = serde_json::json!({ "before": priority, "after": value });
            }
        }
    }
    let (code, confidence) = language.map(|l| (Some(l.code), Some(l.confidence))).unwrap_or((None, None));
    tx.execute(
        "INSERT INTO ticket_ai_triage (org_id, ticket_id, inputs, category, priority, sentiment_score,
                                       sentiment_label, language, language_confidence, applied)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (org_id, ticket_id) DO UPDATE
            SET inputs = excluded.inputs, category = excluded.category, priority = excluded.priority,
                sentiment_score = excluded.sentiment_score, sentiment_label = excluded.sentiment_label,
                language = excluded.language, language_confidence = excluded.language_confidence,
                applied = excluded.applied, updated_at = now()",
        &[
            &org_id,
            &ticket_id,
            &inputs,
            &fields.get(&Field::Category),
            &fields.get(&Field::Priority),
            &sentiment.score.clamp(-1.0, 1.0),
            &<&'static str>::from(sentiment.label),
            &code,
            &confidence,
            &applied,
        ],
    )
    .await?;
    if !change.is_empty() {
        crate::sla::follow::apply_ai(tx, org_id, ticket_id, &change).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// Reading it back

/// One field's answer as an agent sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldAnswer {
    #[serde(flatten)]
    pub guess: Guess,
    pub tier: Tier,
    /// The AI set this value on the ticket.
    pub applied: bool,
    /// The model that answered (`GET /ai/triage` has its evaluation).
    pub model_id: i64,
    /// An agent's answer to it, if any: accepted, corrected or rejected.
    pub verdict: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SentimentView {
    pub score: f32,
    pub label: SentimentLabel,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LanguageView {
    /// ISO 639-3 (`eng`, `deu`, `fra`, …).
    pub code: String,
    pub confidence: f32,
}

/// What triage said about a ticket. A field is `null` when there is no model for it
/// yet, or its answer is below the suggest threshold (and was not applied).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TriageView {
    pub category: Option<FieldAnswer>,
    pub priority: Option<FieldAnswer>,
    /// The tone of the requester's newest message.
    pub sentiment: SentimentView,
    pub language: Option<LanguageView>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// The ticket's triage (staff), or `None` before it ran.
pub async fn view(db: &impl GenericClient, who: &Principal, ticket_id: TicketId) -> Result<Option<TriageView>> {
    who.require(Action::UseAi)?;
    tickets::get(db, who, ticket_id).await?;
    let Some(r) = db
        .query_opt(
            "SELECT category, priority, sentiment_score, sentiment_label, language, language_confidence, applied,
                    updated_at
               FROM ticket_ai_triage WHERE org_id = $1 AND ticket_id = $2",
            &[&who.org_id, &ticket_id],
        )
        .await?
    else {
        return Ok(None);
    };
    let settings = settings::of_org(db, who.org_id).await?.ai;
    let applied: serde_json::Value = r.get("applied");
    let verdicts: HashMap<String, String> = db
        .query(
            "SELECT DISTINCT ON (field) field, verdict FROM ai_feedback
              WHERE org_id = $1 AND ticket_id = $2 ORDER BY field, id DESC",
            &[&who.org_id, &ticket_id],
        )
        .await?
        .iter()
        .map(|r| (r.get("field"), r.get("verdict")))
        .collect();
    let answer = |field: Field, stored: Option<serde_json::Value>| -> Option<FieldAnswer> {
        let stored = stored?;
        let model_id = stored["model_id"].as_i64()?;
        let guess: Guess = serde_json::from_value(stored).ok()?;
        let tier = tier(guess.confidence, &settings);
        let applied = applied.get(field.as_str()).is_some();
        if tier == Tier::Hidden && !applied {
            return None;
        }
        Some(FieldAnswer { guess, tier, applied, model_id, verdict: verdicts.get(field.as_str()).cloned() })
    };
    let label: String = r.get("sentiment_label");
    let language: Option<String> = r.get("language");
    Ok(Some(TriageView {
        category: answer(Field::Category, r.get("category")),
        priority: answer(Field::Priority, r.get("priority")),
        sentiment: SentimentView {
            score: r.get("sentiment_score"),
            label: label.parse().map_err(|_| Error::Internal(format!("sentiment label {label:?}")))?,
        },
        language: language.map(|code| LanguageView {
            code,
            confidence: r.get::<_, Option<f32>>("language_confidence").unwrap_or(0.0),
        }),
        updated_at: r.get("updated_at"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_confidence_is_applied_suggested_or_hidden_by_the_organisations_thresholds() {
        let s = AiSettings { suggest_threshold: 0.5, apply_threshold: Some(0.9), escalation: Vec::new(), llm: None };
        assert_eq!(tier(0.95, &s), Tier::Apply);
        assert_eq!(tier(0.9, &s), Tier::Apply);
        assert_eq!(tier(0.7, &s), Tier::Suggest);
        assert_eq!(tier(0.49, &s), Tier::Hidden);
        let never = AiSettings { apply_threshold: None, ..s };
        assert_eq!(tier(0.99, &never), Tier::Suggest);
    }
}
