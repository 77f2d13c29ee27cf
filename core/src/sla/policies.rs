//! SLA policies: what admins define (targets per priority, pauses, warnings, the
//! calendar they count in), validated before it is stored, and loaded back as the
//! `Rules` the clocks are computed with.

use crate::auth::policy::Action;
use crate::ids::OrgId;
use crate::named::Named as _;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio_postgres::{Row, types::ToSql};

use super::calendars::calendar_from;
use super::{calendar::Calendar, clocks::Rules};
use crate::{
    auth::Principal,
    error::{Error, FieldErrors, Result},
    tickets::Priority,
};

/// A policy as admins write it. Targets are minutes; `calendar_id` null means the
/// targets are calendar minutes (around the clock).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyInput {
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: String,
    #[serde(default)]
    pub position: i32,
    /// Empty: any priority.
    #[serde(default)]
    #[schema(value_type = Vec<crate::tickets::Priority>)]
    pub priorities: Vec<String>,
    /// Empty: any category.
    #[serde(default)]
    pub categories: Vec<String>,
    #[serde(default)]
    pub calendar_id: Option<i64>,
    /// At least one of the three targets is needed; each 1 to 525600 minutes.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 525600)]
    pub first_response_minutes: Option<i32>,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 525600)]
    pub next_response_minutes: Option<i32>,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 525600)]
    pub resolution_minutes: Option<i32>,
    /// Statuses in which the clocks pause (default pending and on_hold); `new`,
    /// `open`, `pending` or `on_hold`.
    #[serde(default = "default_pauses")]
    #[schema(value_type = Vec<crate::tickets::Status>)]
    pub pause_statuses: Vec<String>,
    #[serde(default = "default_warn")]
    #[schema(minimum = 0, maximum = 10080)]
    pub warn_before_minutes: i32,
    #[serde(default)]
    #[schema(value_type = Option<crate::tickets::Priority>)]
    pub escalate_priority: Option<String>,
    #[serde(default)]
    pub escalate_assignee_id: Option<i64>,
    /// Route a breached ticket to this agent group (unassigned there, unless
    /// `escalate_assignee_id` names someone).
    #[serde(default)]
    pub escalate_group_id: Option<i64>,
    #[serde(default)]
    pub escalate_notify: bool,
}

fn default_pauses() -> Vec<String> {
    vec!["pending".into(), "on_hold".into()]
}

fn default_warn() -> i32 {
    30
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PolicyRecord {
    pub id: i64,
    #[serde(flatten)]
    pub input: PolicyInput,
    pub updated_at: DateTime<Utc>,
}

const PAUSABLE: [&str; 4] = ["new", "open", "pending", "on_hold"];

/// A year: beyond it a target is a typo, not a promise.
const MAX_TARGET_MINUTES: i32 = 525_600;

impl PolicyInput {
    fn validate(&self) -> Result<()> {
        let mut f = FieldErrors::default();
        crate::text::line(&mut f, "name", &self.name, 100);
        for p in &self.priorities {
            if Priority::parse(p).is_none() {
                f.add("priorities", format!("{p:?} is not a priority: use low, normal, high, urgent"));
            }
        }
        if self.categories.iter().any(|c| c.trim().is_empty() || c.chars().count() > 100) {
            f.add("categories", "each must be 1 to 100 characters");
        }
        for (field, v) in [
            ("first_response_minutes", self.first_response_minutes),
            ("next_response_minutes", self.next_response_minutes),
            ("resolution_minutes", self.resolution_minutes),
        ] {
            if let Some(v) = v
                && !(1..=MAX_TARGET_MINUTES).contains(&v)
            {
                f.add(field, format!("must be a whole number of minutes from 1 to {MAX_TARGET_MINUTES}"));
            }
        }
        if self.first_response_minutes.is_none()
            && self.next_response_minutes.is_none()
            && self.resolution_minutes.is_none()
        {
            f.add("first_response_minutes", "a policy needs at least one target");
        }
        for s in &self.pause_statuses {
            if !PAUSABLE.contains(&s.as_str()) {
                f.add("pause_statuses", format!("{s:?} cannot pause a clock: use new, open, pending, on_hold"));
            }
        }
        if !(0..=10_080).contains(&self.warn_before_minutes) {
            f.add("warn_before_minutes", "must be from 0 to 10080 (a week)");
        }
        if let Some(p) = &self.escalate_priority
            && Priority::parse(p).is_none()
        {
            f.add("escalate_priority", "use low, normal, high, urgent");
        }
        f.finish()
    }
}

const POLICY_COLUMNS: &str = "id, name, position, priorities, categories, calendar_id, first_response_minutes, \
     next_response_minutes, resolution_minutes, pause_statuses, warn_before_minutes, escalate_priority, \
     escalate_assignee_id, escalate_notify, updated_at, escalate_group_id";

fn policy_record(r: &Row) -> PolicyRecord {
    PolicyRecord {
        id: r.get("id"),
        input: PolicyInput {
            name: r.get("name"),
            position: r.get("position"),
            priorities: r.get("priorities"),
            categories: r.get("categories"),
            calendar_id: r.get("calendar_id"),
            first_response_minutes: r.get("first_response_minutes"),
            next_response_minutes: r.get("next_response_minutes"),
            resolution_minutes: r.get("resolution_minutes"),
            pause_statuses: r.get("pause_statuses"),
            warn_before_minutes: r.get("warn_before_minutes"),
            escalate_priority: r.get("escalate_priority"),
            escalate_assignee_id: r.get("escalate_assignee_id"),
            escalate_notify: r.get("escalate_notify"),
            escalate_group_id: r.get("escalate_group_id"),
        },
        updated_at: r.get("updated_at"),
    }
}

/// Foreign keys into the org: another org's calendar or user reads as missing.
fn reference_error(e: tokio_postgres::Error) -> Error {
    match e.as_db_error().and_then(|d| d.constraint()) {
        Some(c) if c.contains("calendar") => FieldErrors::single("calendar_id", "no such calendar"),
        Some(c) if c.contains("escalate_assignee") => FieldErrors::single("escalate_assignee_id", "no such user"),
        Some(c) if c.contains("escalate_group") => FieldErrors::single("escalate_group_id", "no such group"),
        _ => Error::Db(e),
    }
}

async fn check_assignee(db: &impl GenericClient, who: &Principal, input: &PolicyInput) -> Result<()> {
    if let Some(user) = input.escalate_assignee_id {
        let staff = db
            .query_opt(
                "SELECT 1 FROM users WHERE org_id = $1 AND id = $2 AND role <> 'customer'",
                &[&who.org_id, &user],
            )
            .await?;
        if staff.is_none() {
            return Err(FieldErrors::single("escalate_assignee_id", "must be an agent or admin of this organisation"));
        }
    }
    Ok(())
}

/// The organisation and the fields of a policy, as `$1..$15` of the insert and update.
fn policy_params<'a>(org_id: &'a OrgId, name: &'a &'a str, i: &'a PolicyInput) -> [&'a (dyn ToSql + Sync); 15] {
    [
        org_id,
        name,
        &i.position,
        &i.priorities,
        &i.categories,
        &i.calendar_id,
        &i.first_response_minutes,
        &i.next_response_minutes,
        &i.resolution_minutes,
        &i.pause_statuses,
        &i.warn_before_minutes,
        &i.escalate_priority,
        &i.escalate_assignee_id,
        &i.escalate_notify,
        &i.escalate_group_id,
    ]
}

pub async fn create_policy(db: &impl GenericClient, who: &Principal, input: &PolicyInput) -> Result<PolicyRecord> {
    who.require(Action::Configure)?;
    input.validate()?;
    check_assignee(db, who, input).await?;
    let name = input.name.trim();
    let row = db
        .query_one(
            &format!(
                "INSERT INTO sla_policies (org_id, name, position, priorities, categories, calendar_id,
                     first_response_minutes, next_response_minutes, resolution_minutes, pause_statuses,
                     warn_before_minutes, escalate_priority, escalate_assignee_id, escalate_notify,
                     escalate_group_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING {POLICY_COLUMNS}"
            ),
            &policy_params(&who.org_id, &name, input),
        )
        .await
        .map_err(reference_error)?;
    super::schedule_recompute(db, who.org_id).await?;
    Ok(policy_record(&row))
}

pub async fn update_policy(
    db: &impl GenericClient,
    who: &Principal,
    id: i64,
    input: &PolicyInput,
) -> Result<PolicyRecord> {
    who.require(Action::Configure)?;
    input.validate()?;
    check_assignee(db, who, input).await?;
    let name = input.name.trim();
    let mut params = policy_params(&who.org_id, &name, input).to_vec();
    params.push(&id);
    let row = db
        .query_opt(
            &format!(
                "UPDATE sla_policies SET name = $2, position = $3, priorities = $4, categories = $5, calendar_id = $6,
                     first_response_minutes = $7, next_response_minutes = $8, resolution_minutes = $9,
                     pause_statuses = $10, warn_before_minutes = $11, escalate_priority = $12,
                     escalate_assignee_id = $13, escalate_notify = $14, escalate_group_id = $15, updated_at = now()
                 WHERE org_id = $1 AND id = $16 RETURNING {POLICY_COLUMNS}"
            ),
            &params,
        )
        .await
        .map_err(reference_error)?
        .ok_or(Error::NotFound("policy"))?;
    super::schedule_recompute(db, who.org_id).await?;
    Ok(policy_record(&row))
}

pub async fn delete_policy(db: &impl GenericClient, who: &Principal, id: i64) -> Result<()> {
    who.require(Action::Configure)?;
    let n = db.execute("DELETE FROM sla_policies WHERE org_id = $1 AND id = $2", &[&who.org_id, &id]).await?;
    if n == 0 {
        return Err(Error::NotFound("policy"));
    }
    super::schedule_recompute(db, who.org_id).await
}

pub async fn list_policies(db: &impl GenericClient, who: &Principal) -> Result<Vec<PolicyRecord>> {
    who.require(Action::SeeDesk)?;
    let rows = db
        .query(
            &format!("SELECT {POLICY_COLUMNS} FROM sla_policies WHERE org_id = $1 ORDER BY position, id"),
            &[&who.org_id],
        )
        .await?;
    Ok(rows.iter().map(policy_record).collect())
}

/// A policy ready to be matched and applied.
#[derive(Debug, Clone)]
pub struct Policy {
    pub id: i64,
    pub name: String,
    pub priorities: Vec<String>,
    pub categories: Vec<String>,
    pub rules: Rules,
    pub warn_before_minutes: i32,
    pub escalate_priority: Option<String>,
    pub escalate_assignee_id: Option<i64>,
    pub escalate_group_id: Option<i64>,
    pub escalate_notify: bool,
}

impl Policy {
    pub fn matches(&self, priority: &str, category: Option<&str>) -> bool {
        (self.priorities.is_empty() || self.priorities.iter().any(|p| p == priority))
            && (self.categories.is_empty()
                || category.is_some_and(|c| self.categories.iter().any(|p| p.eq_ignore_ascii_case(c))))
    }
}

/// An organisation's policies in match order, calendars resolved.
pub async fn load(db: &impl GenericClient, org_id: OrgId) -> Result<Vec<Arc<Policy>>> {
    let rows = db
        .query(
            "SELECT p.id, p.name, p.priorities, p.categories, p.first_response_minutes, p.next_response_minutes,
                    p.resolution_minutes, p.pause_statuses, p.warn_before_minutes, p.escalate_priority,
                    p.escalate_assignee_id, p.escalate_notify, c.timezone, c.hours, c.holidays, p.escalate_group_id
             FROM sla_policies p LEFT JOIN sla_calendars c ON c.org_id = p.org_id AND c.id = p.calendar_id
             WHERE p.org_id = $1 ORDER BY p.position, p.id",
            &[&org_id],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let calendar = match r.get::<_, Option<String>>("timezone") {
                Some(tz) => calendar_from(&tz, &r.get::<_, Value>("hours"), r.get("holidays"))?,
                None => Calendar::always(),
            };
            let minutes = |column: &str| r.get::<_, Option<i32>>(column).map(i64::from);
            Ok(Arc::new(Policy {
                id: r.get("id"),
                name: r.get("name"),
                priorities: r.get("priorities"),
                categories: r.get("categories"),
                rules: Rules {
                    first_response: minutes("first_response_minutes"),
                    next_response: minutes("next_response_minutes"),
                    resolution: minutes("resolution_minutes"),
                    pause_statuses: r.get("pause_statuses"),
                    calendar,
                },
                warn_before_minutes: r.get("warn_before_minutes"),
                escalate_priority: r.get("escalate_priority"),
                escalate_assignee_id: r.get("escalate_assignee_id"),
                escalate_notify: r.get("escalate_notify"),
                escalate_group_id: r.get("escalate_group_id"),
            }))
        })
        .collect()
}
