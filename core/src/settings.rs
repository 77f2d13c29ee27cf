//! An organisation's settings that are not about account security (those are in
//! [`crate::accounts::security::SecuritySettings`]). Stored one key per row in
//! `org_settings`; a key without a row has its default, so a new setting needs no
//! migration and an organisation that never changed anything has no rows.

use crate::auth::policy::Action;
use crate::ids::OrgId;
use std::net::IpAddr;

use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};

use crate::{
    auth::{
        Principal,
        audit::{self, Record, event},
    },
    error::{FieldErrors, Result},
    llm::{EndpointChange, EndpointView, endpoint},
    secret_key::SecretKey,
};

/// Every setting, with its value for one organisation. `Default` is what an
/// organisation that never changed anything has.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct OrgSettings {
    /// Customers may choose the priority and channel of the tickets they file. Off by
    /// default: a customer's ticket starts at normal priority on the portal channel,
    /// and triage or an agent changes it.
    pub customers_set_priority: bool,
    pub ai: AiSettings,
    pub attachments: crate::attachments::limits::Limits,
}

/// How sure auto-triage must be before its answer is shown, and before it is applied;
/// and when the customer's tone escalates a ticket.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AiSettings {
    /// Below this confidence a triage answer is not shown.
    pub suggest_threshold: f64,
    /// At or above this confidence the answer is applied to the ticket by the AI
    /// (recorded in its history, undoable); `null`: never applied, only suggested.
    pub apply_threshold: Option<f64>,
    /// Rules applied after each customer message is triaged ([`crate::assist::escalate`]).
    pub escalation: Vec<EscalationRule>,
    /// The language model the features named in it may use; `null`: none, nothing
    /// leaves the machine. Read by the settings' API ([`get`]); [`of_org`] leaves it out.
    pub llm: Option<EndpointView>,
}

impl Default for AiSettings {
    /// A model's "0.9" is right about nine times in ten on held-back tickets, so an
    /// applied value is wrong about once in ten at worst: agents see and undo it.
    fn default() -> Self {
        AiSettings { suggest_threshold: 0.5, apply_threshold: Some(0.9), escalation: Vec::new(), llm: None }
    }
}

/// Escalates a ticket whose customer wrote `consecutive` negative messages in a row:
/// done by the AI, in the ticket's history, once per rule until a person acts on the
/// ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalationRule {
    /// Its name in the ticket's history ("Angry customer").
    #[schema(
        min_length = 1,
        max_length = 80,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: String,
    /// A customer message whose tone scores at or below this (−1, most negative, to 0)
    /// counts as negative.
    #[schema(minimum = -1, maximum = 0)]
    pub threshold: f64,
    /// Negative customer messages in a row that set the rule off (1 to 10).
    #[schema(minimum = 1, maximum = 10)]
    pub consecutive: u32,
    pub action: EscalationAction,
    /// `move_to_group`: the group the ticket moves to. `notify`: whose members are told
    /// when nobody is assigned (else the ticket's group, else the admins).
    #[serde(default)]
    pub group_id: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum EscalationAction {
    /// One step up: low → normal → high → urgent.
    RaisePriority,
    MoveToGroup,
    /// An in-app notification for the assignee (else the group's members, else the admins).
    Notify,
}

/// Rules an organisation may have.
pub const MAX_ESCALATION_RULES: usize = 10;

/// A change: only the settings named are changed.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsChange {
    #[serde(default)]
    pub customers_set_priority: Option<bool>,
    #[serde(default, deserialize_with = "object")]
    pub ai: Option<AiSettingsChange>,
    #[serde(default, deserialize_with = "object")]
    pub attachments: Option<crate::attachments::limits::Change>,
}

/// An object or null, never an array: serde's derive would read `[0.6, null]` into a
/// struct's fields by position, and `null` there turns applying off.
fn object<'de, D, T>(d: D) -> std::result::Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    use serde::de::Error as _;
    let map = Option::<serde_json::Map<String, serde_json::Value>>::deserialize(d)?;
    map.map(|m| serde_json::from_value(serde_json::Value::Object(m)).map_err(D::Error::custom)).transpose()
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AiSettingsChange {
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1)]
    pub suggest_threshold: Option<f64>,
    /// `null` turns applying off.
    #[serde(default, deserialize_with = "crate::change::present")]
    #[schema(value_type = Option<f64>, minimum = 0, maximum = 1)]
    pub apply_threshold: Option<Option<f64>>,
    /// Replaces every escalation rule (`[]` removes them all).
    #[serde(default)]
    pub escalation: Option<Vec<EscalationRule>>,
    /// Replaces the language model's endpoint; `null` removes it.
    #[serde(default, deserialize_with = "crate::change::present")]
    #[schema(value_type = Option<EndpointChange>)]
    pub llm: Option<Option<EndpointChange>>,
}

const CUSTOMERS_SET_PRIORITY: &str = "tickets.customers_set_priority";
const AI_SUGGEST_THRESHOLD: &str = "ai.suggest_threshold";
const AI_APPLY_THRESHOLD: &str = "ai.apply_threshold";
const AI_ESCALATION: &str = "ai.escalation";

/// The settings of `org_id`, for any code acting in that organisation.
pub async fn of_org(db: &impl GenericClient, org_id: OrgId) -> Result<OrgSettings> {
    let rows = db.query("SELECT key, value FROM org_settings WHERE org_id = $1", &[&org_id]).await?;
    let mut s = OrgSettings::default();
    for row in rows {
        let (key, value): (String, serde_json::Value) = (row.get(0), row.get(1));
        match key.as_str() {
            CUSTOMERS_SET_PRIORITY => s.customers_set_priority = value.as_bool().unwrap_or(s.customers_set_priority),
            AI_SUGGEST_THRESHOLD => s.ai.suggest_threshold = value.as_f64().unwrap_or(s.ai.suggest_threshold),
            // A stored null is "never apply"; anything unreadable keeps the default.
            AI_APPLY_THRESHOLD if value.is_null() => s.ai.apply_threshold = None,
            AI_APPLY_THRESHOLD => s.ai.apply_threshold = value.as_f64().or(s.ai.apply_threshold),
            AI_ESCALATION => s.ai.escalation = serde_json::from_value(value).unwrap_or_default(),
            key if key.starts_with(crate::attachments::limits::PREFIX) => s.attachments.read(key, value),
            _ => {}
        }
    }
    Ok(s)
}

/// [`of_org`] with the language model's endpoint, which only the settings' readers
/// need: the code acting in the organisation (a ticket's write, triage) reads the
/// endpoint itself where it uses it.
async fn with_llm(db: &impl GenericClient, org_id: OrgId) -> Result<OrgSettings> {
    let mut s = of_org(db, org_id).await?;
    s.ai.llm = endpoint::view(db, org_id).await?;
    Ok(s)
}

/// The values a change would write, checked together: a threshold is a probability,
/// and applying below the level at which a value is even shown makes no sense.
fn check(current: &OrgSettings, change: &SettingsChange) -> Result<Vec<(&'static str, serde_json::Value)>> {
    let mut writes = Vec::new();
    if let Some(v) = change.customers_set_priority {
        writes.push((CUSTOMERS_SET_PRIORITY, serde_json::Value::Bool(v)));
    }
    let mut f = FieldErrors::default();
    if let Some(files) = &change.attachments {
        crate::attachments::limits::check(&mut f, files);
        writes.extend(crate::attachments::limits::writes(files));
    }
    let Some(ai) = &change.ai else {
        f.finish()?;
        return Ok(writes);
    };
    let probability = |f: &mut FieldErrors, field: &str, v: f64| {
        if !(0.0..=1.0).contains(&v) {
            f.add(field, "must be between 0 and 1");
        }
    };
    let suggest = ai.suggest_threshold.unwrap_or(current.ai.suggest_threshold);
    let apply = ai.apply_threshold.unwrap_or(current.ai.apply_threshold);
    probability(&mut f, "ai.suggest_threshold", suggest);
    if let Some(a) = apply {
        probability(&mut f, "ai.apply_threshold", a);
        if a < suggest {
            f.add("ai.apply_threshold", "must be at least the suggest threshold");
        }
    }
    if let Some(rules) = &ai.escalation {
        check_rules(&mut f, rules);
    }
    if let Some(Some(llm)) = &ai.llm {
        endpoint::check(&mut f, "ai.llm", llm);
    }
    f.finish()?;
    if let Some(v) = ai.suggest_threshold {
        writes.push((AI_SUGGEST_THRESHOLD, serde_json::json!(v)));
    }
    if let Some(v) = ai.apply_threshold {
        writes.push((AI_APPLY_THRESHOLD, serde_json::json!(v)));
    }
    if let Some(rules) = &ai.escalation {
        writes.push((AI_ESCALATION, serde_json::json!(rules)));
    }
    Ok(writes)
}

/// Each rule on its own terms; that its group is the organisation's is checked with
/// the database ([`change`]).
fn check_rules(f: &mut FieldErrors, rules: &[EscalationRule]) {
    if rules.len() > MAX_ESCALATION_RULES {
        f.add("ai.escalation", format!("at most {MAX_ESCALATION_RULES} rules"));
    }
    for (i, r) in rules.iter().enumerate() {
        let field = |name: &str| format!("ai.escalation[{i}].{name}");
        let name = r.name.trim();
        crate::text::line(f, &field("name"), &r.name, 80);
        if crate::text::is_line(&r.name) && rules[..i].iter().any(|o| o.name.trim() == name) {
            f.add(&field("name"), "another rule has this name");
        }
        if !(-1.0..0.0).contains(&r.threshold) {
            f.add(&field("threshold"), "must be from -1 up to (not including) 0");
        }
        if !(1..=10).contains(&r.consecutive) {
            f.add(&field("consecutive"), "must be from 1 to 10");
        }
        match (r.action, r.group_id) {
            (EscalationAction::MoveToGroup, None) => f.add(&field("group_id"), "names the group to move the ticket to"),
            (EscalationAction::RaisePriority, Some(_)) => f.add(&field("group_id"), "is only for moving or notifying"),
            _ => {}
        }
    }
}

/// The caller's organisation's settings (admins).
pub async fn get(db: &impl GenericClient, who: &Principal) -> Result<OrgSettings> {
    who.require(Action::Configure)?;
    with_llm(db, who.org_id).await
}

/// Changes the named settings; the change is in the security audit log. `key` seals
/// a language model's API key.
pub async fn change(
    db: &impl GenericClient,
    key: Option<&SecretKey>,
    who: &Principal,
    change: &SettingsChange,
    ip: Option<IpAddr>,
) -> Result<OrgSettings> {
    let before = get(db, who).await?;
    let writes = check(&before, change)?;
    if let Some(rules) = change.ai.as_ref().and_then(|ai| ai.escalation.as_ref()) {
        let ids: Vec<i64> = rules.iter().filter_map(|r| r.group_id).collect();
        let known: Vec<i64> = db
            .query("SELECT id FROM agent_groups WHERE org_id = $1 AND id = ANY($2)", &[&who.org_id, &ids])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut f = FieldErrors::default();
        for (i, r) in rules.iter().enumerate() {
            if r.group_id.is_some_and(|g| !known.contains(&g)) {
                f.add(&format!("ai.escalation[{i}].group_id"), "must be a group of your organisation");
            }
        }
        f.finish()?;
    }
    for (key, value) in writes {
        db.execute(
            "INSERT INTO org_settings (org_id, key, value, updated_by) VALUES ($1, $2, $3, $4)
             ON CONFLICT (org_id, key) DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by,
                                                     updated_at = now()",
            &[&who.org_id, &key, &value, &who.user_id],
        )
        .await?;
    }
    if let Some(llm) = change.ai.as_ref().and_then(|ai| ai.llm.as_ref()) {
        endpoint::save(db, key, who, llm.as_ref()).await?;
    }
    let after = with_llm(db, who.org_id).await?;
    // A new API key changes nothing the settings show, but is a change to audit.
    let key_changed = change
        .ai
        .as_ref()
        .and_then(|ai| ai.llm.as_ref())
        .is_some_and(|l| l.as_ref().is_some_and(|c| c.api_key.is_some()));
    if before != after || key_changed {
        let detail = serde_json::json!({ "before": before, "after": after, "api_key_changed": key_changed });
        audit::record(db, Record::by(who, event::ORG_SETTINGS_CHANGED, ip).detail(detail)).await?;
    }
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ai_change_is_an_object_and_an_array_in_its_place_is_refused() {
        assert!(serde_json::from_str::<SettingsChange>(r#"{"ai": [null, null]}"#).is_err());
        let c: SettingsChange = serde_json::from_str(r#"{"ai": {"apply_threshold": null}}"#).unwrap();
        assert_eq!(c.ai.unwrap().apply_threshold, Some(None));
        assert!(serde_json::from_str::<SettingsChange>(r#"{"ai": null}"#).unwrap().ai.is_none());
    }

    #[test]
    fn thresholds_are_checked_against_what_they_leave_in_place() {
        let current = OrgSettings::default();
        let change = |json: &str| serde_json::from_str::<SettingsChange>(json).unwrap();
        // Suggesting from 0.95 under the default apply threshold of 0.9 is refused...
        assert!(check(&current, &change(r#"{"ai": {"suggest_threshold": 0.95}}"#)).is_err());
        // ...unless applying is turned off in the same change.
        let writes =
            check(&current, &change(r#"{"ai": {"suggest_threshold": 0.95, "apply_threshold": null}}"#)).unwrap();
        assert_eq!(writes.len(), 2);
        assert!(check(&current, &change(r#"{"ai": {"apply_threshold": 1.01}}"#)).is_err());
    }

    #[test]
    fn escalation_rules_are_checked_field_by_field() {
        let current = OrgSettings::default();
        let change = |json: &str| serde_json::from_str::<SettingsChange>(json).unwrap();
        let ok = r#"{"ai": {"escalation": [{"name": "Angry", "threshold": -0.5, "consecutive": 2, "action": "raise_priority"}]}}"#;
        assert_eq!(check(&current, &change(ok)).unwrap().len(), 1);
        let bad = r#"{"ai": {"escalation": [
            {"name": "Angry", "threshold": -0.5, "consecutive": 2, "action": "raise_priority", "group_id": 3},
            {"name": " Angry ", "threshold": 0.2, "consecutive": 0, "action": "move_to_group"}]}}"#;
        let Err(crate::error::Error::Invalid(f)) = check(&current, &change(bad)) else { panic!("refused") };
        let fields: Vec<&str> = f.0.keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            [
                "ai.escalation[0].group_id",
                "ai.escalation[1].consecutive",
                "ai.escalation[1].group_id",
                "ai.escalation[1].name",
                "ai.escalation[1].threshold"
            ]
        );
    }
}
