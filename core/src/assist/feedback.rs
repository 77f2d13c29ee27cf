//! An agent's answer to a triage suggestion. Accepting sets the suggested value,
//! correcting sets the agent's, rejecting takes back what the AI applied — each as
//! the agent's own change to the ticket (journal, SLA clocks), so the next training
//! learns from it — and the answer itself is kept for the acceptance metrics.

use crate::auth::policy::Action;
use crate::ids::TicketId;
use deadpool_postgres::GenericClient;
use serde::Deserialize;

use super::training::Field;
use crate::named::Named as _;
use crate::{
    auth::Principal,
    error::{Error, FieldErrors, Result},
    sla,
    tickets::write::TicketChange,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Verdict {
    /// The suggestion is right: it is set on the ticket if it is not already.
    Accepted,
    /// It is wrong and `value` is right: `value` is set.
    Corrected,
    /// It is wrong: a value the AI applied is taken back; nothing else changes.
    Rejected,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFeedback {
    pub field: Field,
    pub verdict: Verdict,
    /// The right value, for `corrected` only.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 100)]
    pub value: Option<String>,
}

/// Records `fb` on the ticket's current suggestion for its field and makes the change
/// it implies. Answering a suggestion the ticket does not have is a 404.
pub async fn give(db: &impl GenericClient, who: &Principal, ticket_id: TicketId, fb: &NewFeedback) -> Result<()> {
    who.require(Action::UseAi)?;
    let ticket = crate::tickets::get(db, who, ticket_id).await?;
    let mut f = FieldErrors::default();
    match (fb.verdict, &fb.value) {
        (Verdict::Corrected, None) => f.add("value", "the right value is needed to correct a suggestion"),
        (Verdict::Accepted | Verdict::Rejected, Some(_)) => f.add("value", "only a correction carries a value"),
        _ => {}
    }
    f.finish()?;
    let column = match fb.field {
        Field::Category => "category",
        Field::Priority => "priority",
    };
    let row = db
        .query_opt(
            &format!(
                "SELECT {column}, applied -> $3 FROM ticket_ai_triage
                  WHERE org_id = $1 AND ticket_id = $2 FOR UPDATE"
            ),
            &[&who.org_id, &ticket_id, &fb.field.as_str()],
        )
        .await?
        .ok_or(Error::NotFound("triage suggestion"))?;
    let stored: Option<serde_json::Value> = row.get(0);
    let stored = stored.ok_or(Error::NotFound("triage suggestion"))?;
    let suggested = stored["value"].as_str().unwrap_or_default().to_owned();
    let confidence = stored["confidence"].as_f64().unwrap_or(0.0) as f32;
    let model_id = stored["model_id"].as_i64();
    let applied: Option<serde_json::Value> = row.get(1);

    let current = match fb.field {
        Field::Category => ticket.category.clone(),
        Field::Priority => Some(ticket.priority.as_str().to_owned()),
    };
    let target: Option<Option<String>> = match fb.verdict {
        Verdict::Accepted => Some(Some(suggested.clone())),
        Verdict::Corrected => Some(fb.value.clone()),
        // Only what the AI set, and only while nobody changed it since.
        Verdict::Rejected => applied
            .filter(|a| a["after"].as_str() == current.as_deref())
            .map(|a| a["before"].as_str().map(str::to_owned)),
    };
    if let Some(value) = target.filter(|v| *v != current) {
        let change = match fb.field {
            Field::Category => TicketChange { category: Some(value), ..Default::default() },
            Field::Priority => TicketChange { priority: value, ..Default::default() },
        };
        sla::follow::update_ticket(db, who, ticket_id, None, &change).await?;
    }
    db.execute(
        "INSERT INTO ai_feedback (org_id, ticket_id, field, suggested, confidence, verdict, value, model_id, user_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7,
                 (SELECT id FROM triage_models WHERE org_id = $1 AND id = $8), $9)",
        &[
            &who.org_id,
            &ticket_id,
            &fb.field.as_str(),
            &suggested,
            &confidence.clamp(0.0, 1.0),
            &<&'static str>::from(fb.verdict),
            &fb.value,
            &model_id,
            &who.user_id,
        ],
    )
    .await?;
    Ok(())
}
