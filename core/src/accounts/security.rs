//! What admins set for their organisation's account security, and unlocking a person
//! the lockout stopped (by an admin, or the operator's CLI).

use crate::auth::policy::Action;
use std::net::IpAddr;

use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};

use crate::{
    auth::{
        Principal,
        audit::{self, Record, event},
        lockout::{self},
        totp,
    },
    error::{Error, Result},
    ids::{OrgId, UserId},
};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    /// Admins and agents must enrol TOTP before doing anything else.
    pub require_mfa: bool,
    /// Customers may create portal accounts (with a verified email).
    pub portal_signup: bool,
}

pub async fn settings(db: &impl GenericClient, who: &Principal) -> Result<SecuritySettings> {
    who.require(Action::Configure)?;
    let r = db.query_one("SELECT require_mfa, portal_signup FROM organizations WHERE id = $1", &[&who.org_id]).await?;
    Ok(SecuritySettings { require_mfa: r.get(0), portal_signup: r.get(1) })
}

pub async fn set_settings(
    db: &impl GenericClient,
    who: &Principal,
    new: &SecuritySettings,
    ip: Option<IpAddr>,
) -> Result<SecuritySettings> {
    let before = settings(db, who).await?;
    // Requiring a second factor you do not have would lock you into enrolment mid-change.
    if new.require_mfa && !before.require_mfa && !totp::is_enabled(db, who.user_id).await? {
        return Err(Error::Conflict {
            code: crate::error::Code::EnrolMfaFirst,
            message: "turn on two-factor authentication for your own account before requiring it".into(),
        });
    }
    db.execute(
        "UPDATE organizations SET require_mfa = $2, portal_signup = $3, updated_at = now() WHERE id = $1",
        &[&who.org_id, &new.require_mfa, &new.portal_signup],
    )
    .await?;
    if before != *new {
        let detail = serde_json::json!({ "before": before, "after": new });
        audit::record(db, Record::by(who, event::SETTINGS_CHANGED, ip).detail(detail)).await?;
    }
    Ok(new.clone())
}

/// The operator at the console (`atum user unlock`) lifts the lockout of the person
/// with `email` in `org_id`; recorded in that organisation's audit log as done by the
/// operator. Returns the user's id.
pub async fn unlock_as_operator(db: &impl GenericClient, org_id: OrgId, email: &str) -> Result<UserId> {
    let row = db
        .query_opt("SELECT id FROM users WHERE org_id = $1 AND lower(email) = lower($2)", &[&org_id, &email.trim()])
        .await?
        .ok_or(Error::NotFound("user"))?;
    let user_id: UserId = row.get(0);
    lockout::unlock(db, org_id, user_id).await?;
    let record = Record::about(org_id, user_id, event::UNLOCK, None)
        .actor(crate::actor::Actor::Operator)
        .detail(serde_json::json!({ "by": "operator" }));
    audit::record(db, record).await?;
    Ok(user_id)
}

/// An admin lifts a user's lockout.
pub async fn unlock(db: &impl GenericClient, who: &Principal, user_id: UserId, ip: Option<IpAddr>) -> Result<()> {
    who.require(Action::ManagePeople)?;
    if !lockout::unlock(db, who.org_id, user_id).await? {
        return Err(Error::NotFound("user"));
    }
    audit::record(db, Record::by(who, event::UNLOCK, ip).target(user_id)).await
}
