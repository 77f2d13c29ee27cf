//! People in an organisation: creation (with or without a password, i.e. invited),
//! listing, role changes and deactivation (which revokes every session).

use crate::auth::policy::Action;
use crate::ids::{OrgId, UserId};
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};
use tokio_postgres::Row;

use crate::{
    auth::{
        Principal, Role,
        audit::{self, Record, event},
        password, session,
    },
    email::Email,
    error::{Error, FieldErrors, Result},
};

pub const MIN_PASSWORD_LEN: usize = 12;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct User {
    #[schema(value_type = i64)]
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub is_active: bool,
    /// Invited users have no password yet.
    pub invited: bool,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
    /// Set while repeated failed sign-ins keep the account locked.
    pub locked_until: Option<DateTime<Utc>>,
}

const COLUMNS: &str =
    "id, email, display_name, role, is_active, password_hash IS NULL AS invited, created_at, last_login_at,
    CASE WHEN locked_until > now() THEN locked_until END AS locked_until";

fn from_row(r: &Row) -> User {
    User {
        id: r.get("id"),
        email: r.get("email"),
        display_name: r.get("display_name"),
        role: Role::parse(r.get("role")).unwrap_or(Role::Customer),
        is_active: r.get("is_active"),
        invited: r.get("invited"),
        created_at: r.get("created_at"),
        last_login_at: r.get("last_login_at"),
        locked_until: r.get("locked_until"),
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    #[schema(inline)]
    pub email: Email,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub display_name: String,
    pub role: Role,
    /// Omit to invite: the user sets a password later.
    #[serde(default)]
    #[schema(min_length = 12, max_length = 1024)]
    pub password: Option<String>,
}

pub fn validate_password(fields: &mut FieldErrors, field: &str, password: &str) {
    let len = password.chars().count();
    if len < MIN_PASSWORD_LEN {
        fields.add(field, format!("must be at least {MIN_PASSWORD_LEN} characters"));
    } else if len > 1024 {
        fields.add(field, "must be at most 1024 characters");
    }
}

/// A person's name: a line (`text::LINE`) of 1 to 200 characters as sent.
pub fn validate_name(fields: &mut FieldErrors, field: &str, name: &str) {
    crate::text::line(fields, field, name, 200);
}

impl NewUser {
    pub fn validate(&self) -> Result<()> {
        let mut f = FieldErrors::default();
        self.email.check(&mut f, "email");
        validate_name(&mut f, "display_name", &self.display_name);
        if let Some(p) = &self.password {
            validate_password(&mut f, "password", p);
        }
        f.finish()
    }
}

/// Inserts a user into `org_id`. Hashing happens here, so call it from a blocking
/// context or accept ~30 ms on the executor (the CLI does).
pub async fn insert(
    db: &impl GenericClient,
    org_id: OrgId,
    new: &NewUser,
    password_hash: Option<String>,
) -> Result<User> {
    new.validate()?;
    let row = db
        .query_opt(
            &format!(
                "INSERT INTO users (org_id, email, display_name, role, password_hash)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT DO NOTHING
                 RETURNING {COLUMNS}"
            ),
            &[&org_id, &new.email.trimmed(), &new.display_name.trim(), &new.role.as_str(), &password_hash],
        )
        .await?;
    match row {
        Some(r) => Ok(from_row(&r)),
        None => Err(Error::Conflict {
            code: crate::error::Code::EmailTaken,
            message: "a user with this email already exists".into(),
        }),
    }
}

/// Hashes the optional password of `new` (blocking work).
/// An admin adds a person to their organisation (the password, if any, is hashed off
/// the async threads).
pub async fn create(db: &impl GenericClient, who: &Principal, new: &NewUser) -> Result<User> {
    who.require(Action::ManagePeople)?;
    new.validate()?;
    let hashing = new.clone();
    let hash = tokio::task::spawn_blocking(move || hash_for(&hashing))
        .await
        .map_err(|e| Error::Internal(format!("password hashing: {e}")))??;
    insert(db, who.org_id, new, hash).await
}

pub fn hash_for(new: &NewUser) -> Result<Option<String>> {
    new.password.as_deref().map(password::hash).transpose().map_err(Error::from)
}

pub async fn list(db: &impl GenericClient, who: &Principal) -> Result<Vec<User>> {
    who.require(Action::SeeDesk)?;
    let rows = db
        .query(
            &format!("SELECT {COLUMNS} FROM users WHERE org_id = $1 ORDER BY role, display_name, id"),
            &[&who.org_id],
        )
        .await?;
    Ok(rows.iter().map(from_row).collect())
}

pub async fn get(db: &impl GenericClient, who: &Principal, id: UserId) -> Result<User> {
    if !who.may(Action::SeeDesk) && id != who.user_id {
        return Err(Error::NotFound("user"));
    }
    db.query_opt(&format!("SELECT {COLUMNS} FROM users WHERE org_id = $1 AND id = $2"), &[&who.org_id, &id])
        .await?
        .map(|r| from_row(&r))
        .ok_or(Error::NotFound("user"))
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    #[serde(default)]
    pub role: Option<Role>,
    #[serde(default)]
    pub is_active: Option<bool>,
    #[serde(default)]
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub display_name: Option<String>,
}

/// Admin-only: changes role, name or activity. Deactivation revokes all sessions.
/// An admin cannot demote or deactivate themselves (an org must keep an admin).
pub async fn update(
    db: &impl GenericClient,
    who: &Principal,
    id: UserId,
    change: &UserChange,
    ip: Option<std::net::IpAddr>,
) -> Result<User> {
    who.require(Action::ManagePeople)?;
    let mut f = FieldErrors::default();
    if let Some(name) = &change.display_name {
        validate_name(&mut f, "display_name", name);
    }
    f.finish()?;
    let current = get(db, who, id).await?;
    if id == who.user_id && (change.role.is_some_and(|r| r != Role::Admin) || change.is_active == Some(false)) {
        return Err(Error::Conflict {
            code: crate::error::Code::CannotDemoteSelf,
            message: "you cannot remove your own admin role or deactivate yourself".into(),
        });
    }
    let row = db
        .query_one(
            &format!(
                "UPDATE users SET role = coalesce($3, role), is_active = coalesce($4, is_active),
                        display_name = coalesce($5, display_name), updated_at = now()
                 WHERE org_id = $1 AND id = $2 RETURNING {COLUMNS}"
            ),
            &[
                &who.org_id,
                &id,
                &change.role.map(Role::as_str),
                &change.is_active,
                &change.display_name.as_deref().map(str::trim),
            ],
        )
        .await?;
    let updated = from_row(&row);
    if current.is_active && change.is_active == Some(false) {
        let revoked = session::revoke_all(db, who.org_id, id).await?;
        let record = Record::by(who, event::USER_DEACTIVATED, ip)
            .target(id)
            .detail(serde_json::json!({ "sessions_revoked": revoked }));
        audit::record(db, record).await?;
    }
    if current.role != updated.role {
        let record = Record::by(who, event::ROLE_CHANGED, ip)
            .target(id)
            .detail(serde_json::json!({ "from": current.role, "to": updated.role }));
        audit::record(db, record).await?;
    }
    Ok(updated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_passwords_are_refused() {
        let mut f = FieldErrors::default();
        validate_password(&mut f, "password", "short");
        assert_eq!(f.0.get("password").map(String::as_str), Some("must be at least 12 characters"));
    }
}
