//! An organisation's settings that are not about account security (those are in
//! [`crate::auth::account::SecuritySettings`]). Stored one key per row in
//! `org_settings`; a key without a row has its default, so a new setting needs no
//! migration and an organisation that never changed anything has no rows.

use crate::ids::OrgId;
use std::net::IpAddr;

use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};

use crate::{
    auth::{
        Principal,
        audit::{self, Record, event},
    },
    error::Result,
};

/// Every setting, with its value for one organisation. `Default` is what an
/// organisation that never changed anything has.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OrgSettings {
    /// Customers may choose the priority and channel of the tickets they file. Off by
    /// default: a customer's ticket starts at normal priority on the portal channel,
    /// and triage or an agent changes it.
    pub customers_set_priority: bool,
}

/// A change: only the settings named are changed.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsChange {
    #[serde(default)]
    pub customers_set_priority: Option<bool>,
}

const CUSTOMERS_SET_PRIORITY: &str = "tickets.customers_set_priority";

/// The settings of `org_id`, for any code acting in that organisation.
pub async fn of_org(db: &impl GenericClient, org_id: OrgId) -> Result<OrgSettings> {
    let rows = db.query("SELECT key, value FROM org_settings WHERE org_id = $1", &[&org_id]).await?;
    let mut s = OrgSettings::default();
    for row in rows {
        let (key, value): (String, serde_json::Value) = (row.get(0), row.get(1));
        if key == CUSTOMERS_SET_PRIORITY {
            s.customers_set_priority = value.as_bool().unwrap_or(s.customers_set_priority);
        }
    }
    Ok(s)
}

/// The caller's organisation's settings (admins).
pub async fn get(db: &impl GenericClient, who: &Principal) -> Result<OrgSettings> {
    who.require_admin()?;
    of_org(db, who.org_id).await
}

/// Changes the named settings; the change is in the security audit log.
pub async fn change(
    db: &impl GenericClient,
    who: &Principal,
    change: &SettingsChange,
    ip: Option<IpAddr>,
) -> Result<OrgSettings> {
    let before = get(db, who).await?;
    if let Some(v) = change.customers_set_priority {
        db.execute(
            "INSERT INTO org_settings (org_id, key, value, updated_by) VALUES ($1, $2, $3, $4)
             ON CONFLICT (org_id, key) DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by,
                                                     updated_at = now()",
            &[&who.org_id, &CUSTOMERS_SET_PRIORITY, &serde_json::Value::Bool(v), &who.user_id],
        )
        .await?;
    }
    let after = of_org(db, who.org_id).await?;
    if before != after {
        let detail = serde_json::json!({ "before": before, "after": after });
        audit::record(db, Record::by(who, event::ORG_SETTINGS_CHANGED, ip).detail(detail)).await?;
    }
    Ok(after)
}
