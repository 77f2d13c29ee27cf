//! What files an organisation's people may attach: the largest file, the most files on
//! one message, the types customers may send, and the storage the organisation may
//! use. Kept among the organisation's settings (`org_settings`, keys `attachments.*`);
//! `settings` shows and changes them with the rest.

use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};

use super::kind;
use crate::{
    error::{FieldErrors, Result},
    ids::OrgId,
};

/// The settings' keys start with this.
pub const PREFIX: &str = "attachments.";
const MAX_FILE_BYTES_KEY: &str = "attachments.max_file_bytes";
const MAX_FILES_KEY: &str = "attachments.max_files";
const CUSTOMER_TYPES_KEY: &str = "attachments.customer_types";
const QUOTA_KEY: &str = "attachments.quota_bytes";

/// The largest file any organisation may allow: 5 GiB.
pub const MAX_FILE_BYTES: i64 = 5 << 30;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Limits {
    /// The largest file, in bytes (default 25 MB; 1 byte to 5 GiB).
    pub max_file_bytes: i64,
    /// The most files on one message: a new ticket, a reply or a note (default 20).
    pub max_files: i32,
    /// The types customers may send: whole media types or families (`image/*`). Agents
    /// and admins may send any type. A file's type is read from its bytes.
    pub customer_types: Vec<String>,
    /// The most bytes the organisation may store (identical files count once);
    /// `null`: no limit.
    pub quota_bytes: Option<i64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 25_000_000,
            max_files: 20,
            customer_types: kind::CUSTOMER_DEFAULT.iter().map(|t| (*t).to_owned()).collect(),
            quota_bytes: None,
        }
    }
}

impl Limits {
    /// Takes a stored setting; an unreadable value keeps the default.
    pub fn read(&mut self, key: &str, value: serde_json::Value) {
        match key {
            MAX_FILE_BYTES_KEY => self.max_file_bytes = value.as_i64().unwrap_or(self.max_file_bytes),
            MAX_FILES_KEY => {
                self.max_files = value.as_i64().and_then(|v| i32::try_from(v).ok()).unwrap_or(self.max_files)
            }
            CUSTOMER_TYPES_KEY => {
                if let Ok(types) = serde_json::from_value(value) {
                    self.customer_types = types;
                }
            }
            QUOTA_KEY => self.quota_bytes = value.as_i64(),
            _ => {}
        }
    }
}

/// An organisation's limits, without reading the rest of its settings.
pub async fn of_org(db: &impl GenericClient, org_id: OrgId) -> Result<Limits> {
    let rows = db
        .query("SELECT key, value FROM org_settings WHERE org_id = $1 AND starts_with(key, $2)", &[&org_id, &PREFIX])
        .await?;
    let mut limits = Limits::default();
    for row in rows {
        limits.read(row.get("key"), row.get("value"));
    }
    Ok(limits)
}

/// A change: only the limits named are changed.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Change {
    #[serde(default)]
    #[schema(minimum = 1, maximum = 5368709120i64)]
    pub max_file_bytes: Option<i64>,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 100)]
    pub max_files: Option<i32>,
    /// Replaces the list (`[]`: customers may send no files).
    #[serde(default)]
    #[schema(max_items = 100)]
    pub customer_types: Option<Vec<String>>,
    /// `null` removes the limit.
    #[serde(default, deserialize_with = "crate::change::present")]
    #[schema(value_type = Option<i64>, minimum = 1)]
    pub quota_bytes: Option<Option<i64>>,
}

/// Each value on its own terms, under the field names the settings' document uses.
pub fn check(f: &mut FieldErrors, c: &Change) {
    if c.max_file_bytes.is_some_and(|v| !(1..=MAX_FILE_BYTES).contains(&v)) {
        f.add("attachments.max_file_bytes", format!("must be from 1 to {MAX_FILE_BYTES} bytes"));
    }
    if c.max_files.is_some_and(|v| !(1..=100).contains(&v)) {
        f.add("attachments.max_files", "must be from 1 to 100");
    }
    if let Some(types) = &c.customer_types {
        if types.len() > 100 {
            f.add("attachments.customer_types", "at most 100 types");
        } else if let Some(bad) = types.iter().find(|t| !kind::is_media_type(t)) {
            f.add("attachments.customer_types", format!("{bad:?} is not a media type such as image/png or image/*"));
        }
    }
    if c.quota_bytes.is_some_and(|q| q.is_some_and(|v| v < 1)) {
        f.add("attachments.quota_bytes", "must be at least 1 byte, or null for no limit");
    }
}

/// The settings rows a checked change writes.
pub fn writes(c: &Change) -> Vec<(&'static str, serde_json::Value)> {
    let mut w = Vec::new();
    if let Some(v) = c.max_file_bytes {
        w.push((MAX_FILE_BYTES_KEY, serde_json::json!(v)));
    }
    if let Some(v) = c.max_files {
        w.push((MAX_FILES_KEY, serde_json::json!(v)));
    }
    if let Some(v) = &c.customer_types {
        w.push((CUSTOMER_TYPES_KEY, serde_json::json!(v)));
    }
    if let Some(v) = c.quota_bytes {
        w.push((QUOTA_KEY, serde_json::json!(v)));
    }
    w
}
