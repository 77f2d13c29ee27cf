//! "What would this ticket's due times be?": the policy a new ticket of a priority and
//! category would match, and its clocks' due times from a moment, computed by the same
//! matching and clock code the tickets use (`policies::load`, `clocks::evaluate`).

use crate::auth::policy::Action;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};

use super::{
    clocks::{self, ClockKind, Facts},
    policies,
};
use crate::named::Named as _;
use crate::{
    auth::Principal,
    error::{FieldErrors, Result},
    tickets::Priority,
};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewInput {
    pub priority: Priority,
    /// The ticket's category, if it has one.
    #[serde(default)]
    #[schema(max_length = 100)]
    pub category: Option<String>,
    /// When the ticket would be created; now when left out.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PreviewClock {
    /// first_response or resolution; next_response starts only with the customer's
    /// first message after an agent's first reply, so it has a target and no due time.
    pub clock: &'static str,
    pub target_minutes: i64,
    /// Counted in the calendar's open hours (false: around the clock).
    pub business_hours: bool,
    pub due_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Preview {
    pub created_at: DateTime<Utc>,
    /// The first policy, in order, that matches (null: none does, no clocks would run).
    pub policy: Option<super::refresh::PolicyRef>,
    pub clocks: Vec<PreviewClock>,
}

/// The due times a ticket of `input`'s priority and category would have if created at
/// `input.created_at` (or now) and left untouched (staff).
pub async fn preview(db: &impl GenericClient, who: &Principal, input: &PreviewInput) -> Result<Preview> {
    who.require(Action::SeeDesk)?;
    let mut f = FieldErrors::default();
    if input.category.as_ref().is_some_and(|c| c.chars().count() > 100) {
        f.add("category", "must be at most 100 characters");
    }
    f.finish()?;
    let created_at = match input.created_at {
        Some(at) => at,
        None => super::db_now(db).await?,
    };
    let category = input.category.as_deref().map(str::trim).filter(|c| !c.is_empty());
    let all = policies::load(db, who.org_id).await?;
    let Some(policy) = all.iter().find(|p| p.matches(input.priority.as_str(), category)) else {
        return Ok(Preview { created_at, policy: None, clocks: Vec::new() });
    };
    let facts = Facts { created_at, periods: vec![("new".into(), created_at, None)], messages: Vec::new() };
    let business_hours = !policy.rules.calendar.is_always();
    let mut out: Vec<PreviewClock> = clocks::evaluate(&facts, &policy.rules, created_at)
        .into_iter()
        .map(|c| PreviewClock {
            clock: c.kind.as_str(),
            target_minutes: c.target_minutes,
            business_hours,
            due_at: c.due_at,
        })
        .collect();
    if let Some(target) = policy.rules.next_response {
        out.push(PreviewClock {
            clock: ClockKind::NextResponse.as_str(),
            target_minutes: target,
            business_hours,
            due_at: None,
        });
    }
    out.sort_by_key(|c| ClockKind::ALL.iter().position(|k| k.as_str() == c.clock));
    Ok(Preview {
        created_at,
        policy: Some(super::refresh::PolicyRef { id: policy.id, name: policy.name.clone() }),
        clocks: out,
    })
}
