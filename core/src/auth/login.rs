//! Checking an email and password.
//!
//! Every path costs one argon2 verification — an unknown email is checked against a
//! dummy hash — so response time does not reveal which addresses have accounts. The
//! caller runs [`check_password`] off the async executor (it takes tens of ms).

use std::sync::OnceLock;

use deadpool_postgres::GenericClient;

use super::{password, principal::Role};
use crate::error::{Error, Result};

/// The account behind an email, as needed to decide a login.
#[derive(Debug, Clone)]
pub struct Account {
    pub user_id: i64,
    pub org_id: i64,
    pub role: Role,
    pub password_hash: Option<String>,
    pub is_active: bool,
}

pub async fn find_account(db: &impl GenericClient, email: &str) -> Result<Option<Account>> {
    let row = db
        .query_opt(
            "SELECT id, org_id, role, password_hash, is_active FROM users WHERE lower(email) = lower($1)",
            &[&email.trim()],
        )
        .await?;
    row.map(|r| {
        Ok(Account {
            user_id: r.get(0),
            org_id: r.get(1),
            role: Role::parse(r.get(2)).ok_or_else(|| Error::Internal("unknown role in users".into()))?,
            password_hash: r.get(3),
            is_active: r.get(4),
        })
    })
    .transpose()
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| password::hash("atum-dummy-password-for-timing").unwrap_or_default())
}

/// Whether `password` opens `account`. Blocking (argon2): call it from a blocking pool.
pub fn check_password(account: Option<&Account>, password: &str) -> bool {
    match account.and_then(|a| a.password_hash.as_deref().map(|h| (a, h))) {
        Some((a, hash)) => password::verify(password, hash) && a.is_active,
        None => {
            let _ = password::verify(password, dummy_hash());
            false
        }
    }
}

pub async fn record_login(db: &impl GenericClient, user_id: i64) -> Result<()> {
    db.execute("UPDATE users SET last_login_at = now() WHERE id = $1", &[&user_id]).await?;
    Ok(())
}
