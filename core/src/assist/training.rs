//! Training auto-triage's models: the job that fits an organisation's models to its
//! labelled tickets (`TRAIN_TRIAGE`), when it runs again, and what admins read of it.

use crate::auth::policy::Action;
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::retrieve::{TICKET_TEXT, hex};
use crate::jobs::AI_QUEUE as QUEUE;
use crate::models::{Labelled, Models, TrainFailure, Trained};
use crate::{
    auth::Principal,
    error::Result,
    ids::OrgId,
    jobs::{JobContext, Need},
    named::Named,
};
use atum_queue::{Job, JobError, enqueue::Options};

/// An organisation's models are trained again at most this often by activity (a
/// triaged ticket notices an older training); an admin can ask at any time.
pub const RETRAIN_AFTER: Duration = Duration::from_secs(24 * 3600);

crate::named_enum! {
    /// A ticket field triage predicts.
    // The catalog's form field is `Field` in the OpenAPI document.
    #[schema(as = TriageField)]
    pub enum Field {
        Category,
        Priority,
    }
}

impl Field {
    pub const ALL: [Field; 2] = [Field::Category, Field::Priority];
}

/// Trains the organisation's triage models, one a field, from its labelled tickets.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainTriage {
    pub org_id: OrgId,
}

impl Job for TrainTriage {
    type Services = crate::jobs::Services;
    const KIND: &'static str = "TRAIN_TRIAGE";
    const QUEUE: &'static str = QUEUE;
    const MAX_ATTEMPTS: i32 = 3;
    const NEEDS: &'static [Need] = &[Need::Models];

    fn unique_key(&self) -> Option<String> {
        Some(self.org_id.to_string())
    }

    fn org_id(&self) -> Option<impl Into<i64>> {
        Some(self.org_id)
    }

    async fn run(self, ctx: JobContext) -> std::result::Result<(), JobError> {
        let models = ctx.services.models()?;
        for field in Field::ALL {
            if ctx.is_cancelled() {
                return Err(JobError::Cancelled);
            }
            train_field(&ctx.pool, models.clone(), self.org_id, field).await?;
        }
        Ok(())
    }
}

/// One training of one field; nothing is written when the newest training saw the
/// same history with the same embedder.
async fn train_field(
    pool: &deadpool_postgres::Pool,
    models: Arc<dyn Models>,
    org_id: OrgId,
    field: Field,
) -> std::result::Result<(), JobError> {
    let db = pool.get().await.map_err(|e| JobError::Retry(e.to_string()))?;
    let examples = labelled(&db, org_id, field, models.max_examples()).await?;
    let inputs = fingerprint(models.embedder(), models.format(), &examples);
    let newest: Option<String> = db
        .query_opt(
            "SELECT inputs FROM triage_models WHERE org_id = $1 AND field = $2 ORDER BY id DESC LIMIT 1",
            &[&org_id, &field.as_str()],
        )
        .await?
        .map(|r| r.get(0));
    if newest.as_deref() == Some(inputs.as_str()) {
        return Ok(());
    }
    let started = Instant::now();
    let count = examples.len();
    // The seed is the organisation's: the same history gives the same model.
    let seed = org_id.0 as u64;
    let fit = {
        let models = models.clone();
        tokio::task::spawn_blocking(move || models.train(&examples, seed))
            .await
            .map_err(|e| JobError::Retry(format!("training stopped: {e}")))?
    };
    let ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    let (status, model, format, labels, evaluation, needed, detail) = match fit {
        Ok(Trained { model, format, labels, evaluation }) => {
            let evaluation = serde_json::to_value(&evaluation).map_err(|e| JobError::Permanent(e.to_string()))?;
            ("ready", Some(model), format, labels, Some(evaluation), None, None)
        }
        Err(TrainFailure::TooLittle { need, .. }) => {
            ("too_little", None, models.format(), Vec::new(), None, i32::try_from(need.max(1)).ok(), None)
        }
        Err(TrainFailure::Failed(why)) => ("failed", None, models.format(), Vec::new(), None, None, Some(why)),
    };
    db.execute(
        "INSERT INTO triage_models (org_id, field, status, embedder, format, model, labels, examples, needed,
                                    evaluation, detail, duration_ms, inputs)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        &[
            &org_id,
            &field.as_str(),
            &status,
            &models.embedder(),
            &format,
            &model,
            &labels,
            &(count as i32),
            &needed,
            &evaluation,
            &detail,
            &ms,
            &inputs,
        ],
    )
    .await?;
    tracing::info!(org = org_id.0, field = field.as_str(), status, examples = count, ms, "triage model trained");
    Ok(())
}

/// The organisation's tickets labelled by people for `field`, newest first.
///
/// A value the AI applied and nobody accepted is left out (the model would learn its
/// own guesses); a correction is in, because it changed the ticket. Priority is
/// learnt from tickets a person handled: solved or closed, or whose priority a
/// person set; every other ticket has the default only because nobody looked.
pub async fn labelled(db: &impl GenericClient, org_id: OrgId, field: Field, limit: usize) -> Result<Vec<Labelled>> {
    let (label, handled) = match field {
        Field::Category => ("t.category", "t.category IS NOT NULL"),
        Field::Priority => (
            "t.priority",
            "(t.status IN ('solved', 'closed') OR EXISTS (
                 SELECT 1 FROM ticket_events e
                  WHERE e.org_id = t.org_id AND e.ticket_id = t.id AND e.actor_kind = 'user'
                    AND e.event_type = 'updated' AND e.after ? 'priority'))",
        ),
    };
    let sql = format!(
        "SELECT t.id, {TICKET_TEXT}, {label}
           FROM tickets t
           LEFT JOIN ticket_ai_triage a ON a.org_id = t.org_id AND a.ticket_id = t.id
          WHERE t.org_id = $1 AND {handled}
            AND NOT (coalesce(a.applied -> $2 ->> 'after', '') = {label}
                     AND NOT EXISTS (SELECT 1 FROM ai_feedback f
                                      WHERE f.org_id = t.org_id AND f.ticket_id = t.id AND f.field = $2
                                        AND f.verdict = 'accepted'))
          ORDER BY t.created_at DESC, t.id DESC
          LIMIT $3"
    );
    let rows = db.query(&sql, &[&org_id, &field.as_str(), &(limit as i64)]).await?;
    Ok(rows.iter().map(|r| Labelled { ticket_id: r.get(0), text: r.get(1), label: r.get(2) }).collect())
}

/// Names a training's inputs: the same history and embedder give the same name.
fn fingerprint(embedder: &str, format: i32, examples: &[Labelled]) -> String {
    let mut h = Sha256::new();
    h.update(embedder.as_bytes());
    h.update(format.to_le_bytes());
    for e in examples {
        h.update(e.ticket_id.0.to_le_bytes());
        h.update((e.label.len() as u64).to_le_bytes());
        h.update(e.label.as_bytes());
        h.update((e.text.len() as u64).to_le_bytes());
        h.update(e.text.as_bytes());
    }
    hex(&h.finalize())
}

/// Enqueues a training when the organisation's newest is older than
/// [`RETRAIN_AFTER`] or it has none, or when a model was made for another embedder.
pub(super) async fn retrain_if_due(db: &impl GenericClient, org_id: OrgId, stale_model: bool) -> Result<()> {
    let due: bool = db
        .query_one(
            "SELECT $2 OR coalesce(max(created_at) < now() - make_interval(secs => $3), true)
               FROM triage_models WHERE org_id = $1",
            &[&org_id, &stale_model, &(RETRAIN_AFTER.as_secs_f64())],
        )
        .await?
        .get(0);
    if due {
        atum_queue::enqueue(db, &TrainTriage { org_id }, Options::default()).await?;
    }
    Ok(())
}

/// Asks for a training now (an admin). `false` when one is already queued or running.
pub async fn request_training(db: &impl GenericClient, who: &Principal) -> Result<bool> {
    who.require(Action::Configure)?;
    Ok(atum_queue::enqueue(db, &TrainTriage { org_id: who.org_id }, Options::default()).await?.is_some())
}

/// The newest training of one field, as an admin sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Training {
    pub field: Field,
    pub model_id: i64,
    /// `ready`: the model in use; `too_little`: no model, `needed` more labelled
    /// tickets are; `failed`: see `detail`.
    pub status: String,
    pub examples: i32,
    pub needed: Option<i32>,
    pub labels: Vec<String>,
    /// Accuracy, macro-F1, the majority-class baseline, calibration (ECE and the
    /// reliability table) and coverage per confidence tier on the held-back slice.
    pub evaluation: Option<crate::models::Evaluation>,
    pub detail: Option<String>,
    pub duration_ms: i32,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The state of the organisation's triage: the newest training of each field, and
/// whether one is queued or running.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TriageStatus {
    pub trainings: Vec<Training>,
    /// A training is queued or running.
    pub training_pending: bool,
}

pub async fn status(db: &impl GenericClient, who: &Principal) -> Result<TriageStatus> {
    who.require(Action::Configure)?;
    let rows = db
        .query(
            "SELECT DISTINCT ON (field) field, id, status, examples, needed, labels, evaluation, detail, duration_ms,
                    created_at
               FROM triage_models WHERE org_id = $1 ORDER BY field, id DESC",
            &[&who.org_id],
        )
        .await?;
    let trainings = rows
        .iter()
        .filter_map(|r| {
            Some(Training {
                field: Field::parse(r.get("field"))?,
                model_id: r.get("id"),
                status: r.get("status"),
                examples: r.get("examples"),
                needed: r.get("needed"),
                labels: r.get("labels"),
                evaluation: r
                    .get::<_, Option<serde_json::Value>>("evaluation")
                    .and_then(|v| serde_json::from_value(v).ok()),
                detail: r.get("detail"),
                duration_ms: r.get("duration_ms"),
                created_at: r.get("created_at"),
            })
        })
        .collect();
    let training_pending: bool = db
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM job_queue WHERE kind = $1 AND unique_key = $2
                             AND state IN ('available', 'running'))",
            &[&TrainTriage::KIND, &who.org_id.to_string()],
        )
        .await?
        .get(0);
    Ok(TriageStatus { trainings, training_pending })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_changes_with_a_label_a_text_or_the_embedder() {
        let e = |label: &str, text: &str| Labelled {
            ticket_id: crate::ids::TicketId(1),
            text: text.into(),
            label: label.into(),
        };
        let base = fingerprint("m", 1, &[e("billing", "refund please")]);
        assert_eq!(base, fingerprint("m", 1, &[e("billing", "refund please")]));
        assert_ne!(base, fingerprint("m", 1, &[e("orders", "refund please")]));
        assert_ne!(base, fingerprint("m", 1, &[e("billing", "refund now")]));
        assert_ne!(base, fingerprint("n", 1, &[e("billing", "refund please")]));
        // Length prefixes: moving a character from label to text is another history.
        assert_ne!(fingerprint("m", 1, &[e("ab", "c")]), fingerprint("m", 1, &[e("a", "bc")]));
    }
}
