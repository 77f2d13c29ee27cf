//! Sessions ended on purpose: one's own (another device, every other one) and, by an
//! admin, a person's.

use crate::auth::policy::Action;
use std::net::IpAddr;

use deadpool_postgres::GenericClient;

use crate::{
    auth::{
        Principal,
        audit::{self, Record, event},
        session,
    },
    error::{Error, Result},
    ids::UserId,
    users,
};

/// Ends one of the caller's own sessions (another device, or this one).
pub async fn revoke_session(
    db: &impl GenericClient,
    who: &Principal,
    session_id: i64,
    ip: Option<IpAddr>,
) -> Result<()> {
    if !session::revoke_own(db, who, session_id).await? {
        return Err(Error::NotFound("session"));
    }
    let record = Record::by(who, event::SESSION_REVOKED, ip).detail(serde_json::json!({ "session_id": session_id }));
    audit::record(db, record).await
}

/// Ends every other session of the caller; returns how many.
pub async fn revoke_other_sessions(db: &impl GenericClient, who: &Principal, ip: Option<IpAddr>) -> Result<u64> {
    let n = session::revoke_others(db, who.org_id, who.user_id, who.session_id).await?;
    audit::record(db, Record::by(who, event::SESSION_REVOKED, ip).detail(serde_json::json!({ "others": n }))).await?;
    Ok(n)
}

/// An admin reads where a person of their organisation is signed in.
pub async fn sessions_of(
    db: &impl GenericClient,
    who: &Principal,
    user_id: UserId,
    policy: session::SessionPolicy,
) -> Result<Vec<session::SessionInfo>> {
    who.require(Action::ManagePeople)?;
    users::get(db, who, user_id).await?;
    session::list_live_of(db, who.org_id, user_id, who.session_id, policy).await
}

/// An admin signs out one session of a person of their organisation (a lost laptop),
/// recorded in the audit log as theirs.
pub async fn revoke_session_of(
    db: &impl GenericClient,
    who: &Principal,
    user_id: UserId,
    session_id: i64,
    ip: Option<IpAddr>,
) -> Result<()> {
    who.require(Action::ManagePeople)?;
    users::get(db, who, user_id).await?;
    if !session::revoke_of(db, who.org_id, user_id, session_id).await? {
        return Err(Error::NotFound("session"));
    }
    let record = Record::by(who, event::SESSION_REVOKED, ip)
        .target(user_id)
        .detail(serde_json::json!({ "session_id": session_id }));
    audit::record(db, record).await
}

/// An admin signs a person out everywhere; how many sessions ended.
pub async fn revoke_sessions_of(
    db: &impl GenericClient,
    who: &Principal,
    user_id: UserId,
    ip: Option<IpAddr>,
) -> Result<u64> {
    who.require(Action::ManagePeople)?;
    users::get(db, who, user_id).await?;
    let n = session::revoke_all(db, who.org_id, user_id).await?;
    let record = Record::by(who, event::SESSION_REVOKED, ip).target(user_id).detail(serde_json::json!({ "all": n }));
    audit::record(db, record).await?;
    Ok(n)
}
