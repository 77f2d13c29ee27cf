//! The security audit log: who did what to which account, from where and when.
//!
//! Rows are append-only (a trigger refuses updates) and scoped to one organisation;
//! only that org's admins read them. Events are written inside the transaction of the
//! change they describe, so a change and its record commit or vanish together —
//! except failed sign-ins, whose transaction commits precisely to keep the record.

use crate::auth::policy::Action;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Principal;
use crate::actor::{Actor, ActorKind};
use crate::error::{FieldErrors, Result};
use crate::ids::{OrgId, UserId};

/// The events the log records. Stable names: operators filter and alert on them.
pub mod event {
    pub const LOGIN_SUCCESS: &str = "login.success";
    pub const LOGIN_FAILURE: &str = "login.failure";
    pub const LOCKOUT: &str = "account.locked";
    pub const UNLOCK: &str = "account.unlocked";
    pub const MFA_ENROLLED: &str = "mfa.enrolled";
    pub const MFA_DISABLED: &str = "mfa.disabled";
    pub const MFA_FAILURE: &str = "mfa.failure";
    pub const RECOVERY_CODE_USED: &str = "mfa.recovery_code_used";
    pub const ALLOWLIST_CHANGED: &str = "ip_allowlist.changed";
    pub const IP_BLOCKED: &str = "ip_allowlist.blocked";
    pub const ROLE_CHANGED: &str = "user.role_changed";
    pub const USER_DEACTIVATED: &str = "user.deactivated";
    pub const PASSWORD_CHANGED: &str = "password.changed";
    pub const PASSWORD_RESET: &str = "password.reset";
    pub const PASSWORD_RESET_REQUESTED: &str = "password.reset_requested";
    pub const EMAIL_VERIFIED: &str = "email.verified";
    pub const SESSION_REVOKED: &str = "session.revoked";
    pub const SETTINGS_CHANGED: &str = "security.settings_changed";
    pub const ORG_SETTINGS_CHANGED: &str = "org.settings_changed";
    pub const SIGNUP: &str = "user.signed_up";
    pub const INVITED: &str = "user.invited";
    /// An unverified sign-up deleted by housekeeping once its link expired.
    pub const SIGNUP_EXPIRED: &str = "user.signup_expired";
}

/// One thing that happened, about to be written.
#[derive(Debug, Clone)]
pub struct Record {
    pub org_id: OrgId,
    pub event: &'static str,
    pub actor: Actor,
    pub target_user_id: Option<UserId>,
    pub ip: Option<IpAddr>,
    pub detail: Value,
}

impl Record {
    /// `who` did `event` to themselves.
    pub fn by(who: &Principal, event: &'static str, ip: Option<IpAddr>) -> Self {
        Record {
            org_id: who.org_id,
            event,
            actor: Actor::User(who.user_id),
            target_user_id: Some(who.user_id),
            ip,
            detail: Value::Object(Default::default()),
        }
    }

    /// Something that happened to `user_id` in a request without a session (a
    /// sign-in, a reset); [`Record::actor`] names another actor (the operator).
    pub fn about(org_id: OrgId, user_id: UserId, event: &'static str, ip: Option<IpAddr>) -> Self {
        Record {
            org_id,
            event,
            actor: Actor::Anonymous,
            target_user_id: Some(user_id),
            ip,
            detail: Value::Object(Default::default()),
        }
    }

    pub fn actor(mut self, actor: Actor) -> Self {
        self.actor = actor;
        self
    }

    pub fn target(mut self, user_id: UserId) -> Self {
        self.target_user_id = Some(user_id);
        self
    }

    pub fn detail(mut self, detail: Value) -> Self {
        self.detail = detail;
        self
    }
}

pub async fn record(db: &impl GenericClient, r: Record) -> Result<()> {
    let stmt = db
        .prepare_cached(
            "INSERT INTO security_audit_log (org_id, event, actor_id, actor_kind, target_user_id, ip, detail)
             VALUES ($1, $2, $3, $7, $4, $5, $6)",
        )
        .await?;
    db.execute(
        &stmt,
        &[&r.org_id, &r.event, &r.actor.user_id(), &r.target_user_id, &r.ip, &r.detail, &r.actor.kind().as_str()],
    )
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = AuditEntry)]
pub struct Entry {
    pub id: i64,
    pub event: String,
    /// A person (`actor_id` is theirs, or null once they were deleted), or which part
    /// of the system acted.
    pub actor_kind: ActorKind,
    #[schema(value_type = Option<i64>)]
    pub actor_id: Option<UserId>,
    pub target_user_id: Option<i64>,
    /// The client address the API saw (after the trusted-proxy rules).
    #[schema(value_type = Option<String>)]
    pub ip: Option<IpAddr>,
    pub detail: Value,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// Exact event name, e.g. `login.failure`.
    #[param(max_length = 100)]
    pub event: Option<String>,
    /// Events done by or to this user.
    pub user_id: Option<i64>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Entries older than this id (the previous page's last id).
    pub before_id: Option<i64>,
    /// 1 to 500, default 100.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// The org's log, newest first. Admins only (checked by the caller's route).
pub async fn list(db: &impl GenericClient, who: &Principal, f: &Filter) -> Result<Vec<Entry>> {
    who.require(Action::Configure)?;
    let limit = f.limit.unwrap_or(100);
    let mut errors = FieldErrors::default();
    if !(1..=500).contains(&limit) {
        errors.add("limit", "must be between 1 and 500");
    }
    if f.event.as_ref().is_some_and(|e| e.chars().count() > 100) {
        errors.add("event", "must be at most 100 characters");
    }
    errors.finish()?;
    let rows = db
        .query(
            "SELECT id, event, actor_id, target_user_id, ip, detail, created_at, actor_kind FROM security_audit_log
             WHERE org_id = $1
               AND ($2::text IS NULL OR event = $2)
               AND ($3::bigint IS NULL OR actor_id = $3 OR target_user_id = $3)
               AND ($4::timestamptz IS NULL OR created_at >= $4)
               AND ($5::timestamptz IS NULL OR created_at < $5)
               AND ($6::bigint IS NULL OR id < $6)
             ORDER BY created_at DESC, id DESC LIMIT $7",
            &[&who.org_id, &f.event, &f.user_id, &f.since, &f.until, &f.before_id, &limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Entry {
            id: r.get("id"),
            event: r.get("event"),
            actor_id: r.get("actor_id"),
            actor_kind: ActorKind::from_column(r.get("actor_kind")),
            target_user_id: r.get("target_user_id"),
            ip: r.get("ip"),
            detail: r.get("detail"),
            created_at: r.get("created_at"),
        })
        .collect())
}
