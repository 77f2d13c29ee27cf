//! Signing in: password, then (when enrolled) a second factor, under the lockout and
//! throttling rules of [`super::lockout`] and the org's IP allowlist.
//!
//! Every path costs one argon2 verification — an unknown email is checked against a
//! dummy hash — so response time does not reveal which addresses have accounts, and a
//! wrong password, an unknown address, a locked and an inactive account all get the
//! same answer. Only someone who knows the password learns more (that the address is
//! outside the allowlist, or the email is unverified).
//!
//! A refused attempt still commits: the transaction carries the attempt's record and
//! the failure count. [`Outcome::Refused`] is returned as a value for that reason; the
//! caller commits, then answers with [`Refusal::error`].

use crate::ids::{OrgId, UserId};
use std::{net::IpAddr, sync::LazyLock};

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;

use super::{
    audit::{self, Record, event},
    lockout::{self, AttemptResult, LoginPolicy},
    password,
    principal::Role,
    session::{hash_token, new_token},
    totp::{self, SecondFactor},
};
use crate::{
    error::{Error, Result},
    secret_key::SecretKey,
};

/// How long the password step's MFA challenge lasts, and how many codes it accepts.
pub const CHALLENGE_SECS: f64 = 300.0;
pub const CHALLENGE_MAX_FAILURES: i32 = 5;

/// The account behind an email, as needed to decide a login.
#[derive(Debug, Clone)]
pub struct Account {
    pub user_id: UserId,
    pub org_id: OrgId,
    pub role: Role,
    pub password_hash: Option<String>,
    pub is_active: bool,
    pub locked: bool,
    pub must_verify: bool,
    /// The org requires TOTP of staff and this user has none.
    pub must_enrol_mfa: bool,
    pub has_totp: bool,
}

/// Which account an attempt is about: an address within an organisation (the
/// password step), or the user a second-factor challenge was issued to.
enum Lookup<'a> {
    Email { org_id: OrgId, email: &'a str },
    User(UserId),
}

/// Finds the account and locks its row for the rest of the attempt, so concurrent
/// guesses are counted one after another.
async fn find_account(db: &impl GenericClient, lookup: Lookup<'_>) -> Result<Option<Account>> {
    const SELECT: &str =
        "SELECT u.id, u.org_id, u.role, u.password_hash, u.is_active, coalesce(u.locked_until > now(), false) AS locked,
                u.must_verify_email AND u.email_verified_at IS NULL AS must_verify,
                o.require_mfa AND u.role IN ('admin', 'agent') AS must_enrol_mfa,
                EXISTS (SELECT 1 FROM user_totp t WHERE t.user_id = u.id AND t.confirmed_at IS NOT NULL) AS has_totp
         FROM users u JOIN organizations o ON o.id = u.org_id";
    let row = match lookup {
        // users_org_email_key
        Lookup::Email { org_id, email } => {
            db.query_opt(
                &format!("{SELECT} WHERE u.org_id = $1 AND lower(u.email) = lower($2) FOR UPDATE OF u"),
                &[&org_id, &email.trim()],
            )
            .await?
        }
        Lookup::User(id) => db.query_opt(&format!("{SELECT} WHERE u.id = $1 FOR UPDATE OF u"), &[&id]).await?,
    };
    row.map(|r| {
        let has_totp: bool = r.get("has_totp");
        Ok(Account {
            user_id: r.get("id"),
            org_id: r.get("org_id"),
            role: Role::parse(r.get("role")).ok_or_else(|| Error::Internal("unknown role in users".into()))?,
            password_hash: r.get("password_hash"),
            is_active: r.get("is_active"),
            locked: r.get("locked"),
            must_verify: r.get("must_verify"),
            must_enrol_mfa: r.get::<_, bool>("must_enrol_mfa") && !has_totp,
            has_totp,
        })
    })
    .transpose()
}

/// A hash no password matches, checked for unknown addresses so they cost the same
/// time as known ones. A constant computed once, not configuration.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| password::hash("atum-dummy-password-for-timing").unwrap_or_default());

fn dummy_hash() -> &'static str {
    &DUMMY_HASH
}

/// Whether `password` matches the account's hash (a dummy hash when there is none, so
/// the work is the same). Blocking (argon2): call it from a blocking pool.
pub fn check_password(hash: Option<&str>, password: &str) -> bool {
    match hash {
        Some(h) => password::verify(password, h),
        None => {
            let _ = password::verify(password, dummy_hash());
            false
        }
    }
}

/// Runs [`check_password`] on tokio's blocking pool.
pub async fn check_password_blocking(hash: Option<String>, password: String) -> Result<bool> {
    tokio::task::spawn_blocking(move || check_password(hash.as_deref(), &password))
        .await
        .map_err(|e| Error::Internal(format!("password check: {e}")))
}

#[derive(Debug)]
pub enum Outcome {
    /// Issue a session for this account.
    SignedIn(Account),
    /// Ask for the second factor: the challenge token goes back to the client.
    MfaRequired { challenge: String, expires_at: DateTime<Utc> },
    /// Commit (the record of the attempt), then answer with [`Refusal::error`].
    Refused(Refusal),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Wrong password, unknown email, locked or inactive: one answer for all.
    InvalidCredentials,
    InvalidCode,
    Throttled {
        retry_after_secs: u64,
    },
    IpNotAllowed,
    EmailNotVerified,
}

impl Refusal {
    pub fn error(self) -> Error {
        match self {
            Refusal::InvalidCredentials => Error::InvalidCredentials,
            Refusal::InvalidCode => Error::InvalidCode,
            Refusal::Throttled { retry_after_secs } => Error::RateLimited { retry_after_secs },
            Refusal::IpNotAllowed => Error::IpNotAllowed,
            Refusal::EmailNotVerified => Error::EmailNotVerified,
        }
    }
}

/// What the sign-in needs besides the database.
#[derive(Clone, Copy)]
pub struct Rules<'a> {
    pub policy: &'a LoginPolicy,
    pub key: Option<&'a SecretKey>,
}

/// The password step. `org` is the organisation's slug; it may be left out on an
/// instance with exactly one organisation (see [`org_for_sign_in`]).
pub async fn sign_in(
    db: &impl GenericClient,
    rules: Rules<'_>,
    org: Option<&str>,
    email: &str,
    password: String,
    ip: Option<IpAddr>,
) -> Result<Outcome> {
    let org_id = org_for_sign_in(db, org).await?;
    if let Some(wait) = lockout::ip_throttled(db, rules.policy, ip).await? {
        lockout::record_attempt(db, org_id, email, ip, None, AttemptResult::Throttled).await?;
        return Ok(Outcome::Refused(Refusal::Throttled { retry_after_secs: wait.as_secs() }));
    }
    let account = match org_id {
        Some(org_id) => find_account(db, Lookup::Email { org_id, email }).await?,
        None => None,
    };
    let ok = check_password_blocking(account.as_ref().and_then(|a| a.password_hash.clone()), password).await?;
    let Some(account) = account else {
        lockout::record_attempt(db, org_id, email, ip, None, AttemptResult::UnknownEmail).await?;
        return Ok(Outcome::Refused(Refusal::InvalidCredentials));
    };
    let failure = |result: AttemptResult, reason: &'static str| {
        let record = Record::about(account.org_id, account.user_id, event::LOGIN_FAILURE, ip)
            .detail(serde_json::json!({ "reason": reason }));
        (result, record)
    };
    let refused = if account.locked {
        Some(failure(AttemptResult::Locked, "locked"))
    } else if !ok {
        Some(failure(AttemptResult::BadPassword, "bad_password"))
    } else if !account.is_active {
        Some(failure(AttemptResult::Inactive, "inactive"))
    } else {
        None
    };
    if let Some((result, record)) = refused {
        lockout::record_attempt(db, Some(account.org_id), email, ip, Some(account.user_id), result).await?;
        audit::record(db, record).await?;
        if result == AttemptResult::BadPassword {
            count_failure(db, rules.policy, &account, ip).await?;
        }
        return Ok(Outcome::Refused(Refusal::InvalidCredentials));
    }
    if let Some(refusal) = after_password(db, &account, email, ip).await? {
        return Ok(Outcome::Refused(refusal));
    }
    if account.has_totp {
        let challenge = new_token();
        let expires_at: DateTime<Utc> = db
            .query_one(
                "INSERT INTO mfa_challenges (org_id, user_id, token_hash, expires_at, ip)
                 VALUES ($1, $2, $3, now() + make_interval(secs => $4), $5) RETURNING expires_at",
                &[&account.org_id, &account.user_id, &hash_token(&challenge), &CHALLENGE_SECS, &ip],
            )
            .await?
            .get(0);
        lockout::record_attempt(db, Some(account.org_id), email, ip, Some(account.user_id), AttemptResult::MfaRequired)
            .await?;
        return Ok(Outcome::MfaRequired { challenge, expires_at });
    }
    succeed(db, &account, email, ip, None).await?;
    Ok(Outcome::SignedIn(account))
}

/// Checks that apply once the password is known to be right.
async fn after_password(
    db: &impl GenericClient,
    account: &Account,
    email: &str,
    ip: Option<IpAddr>,
) -> Result<Option<Refusal>> {
    if !super::allowlist::allows(db, account.org_id, ip).await? {
        lockout::record_attempt(db, Some(account.org_id), email, ip, Some(account.user_id), AttemptResult::IpBlocked)
            .await?;
        audit::record(db, Record::about(account.org_id, account.user_id, event::IP_BLOCKED, ip)).await?;
        return Ok(Some(Refusal::IpNotAllowed));
    }
    if account.must_verify {
        lockout::record_attempt(db, Some(account.org_id), email, ip, Some(account.user_id), AttemptResult::NotVerified)
            .await?;
        return Ok(Some(Refusal::EmailNotVerified));
    }
    Ok(None)
}

async fn count_failure(
    db: &impl GenericClient,
    policy: &LoginPolicy,
    account: &Account,
    ip: Option<IpAddr>,
) -> Result<()> {
    if let Some(lock) = lockout::note_failure(db, policy, account.user_id).await? {
        let detail = serde_json::json!({ "locked_for_secs": lock.as_secs() });
        audit::record(db, Record::about(account.org_id, account.user_id, event::LOCKOUT, ip).detail(detail)).await?;
    }
    Ok(())
}

async fn succeed(
    db: &impl GenericClient,
    account: &Account,
    email: &str,
    ip: Option<IpAddr>,
    factor: Option<SecondFactor>,
) -> Result<()> {
    lockout::note_success(db, account.user_id).await?;
    lockout::record_attempt(db, Some(account.org_id), email, ip, Some(account.user_id), AttemptResult::Success).await?;
    let mfa = match factor {
        None => "none",
        Some(SecondFactor::Totp) => "totp",
        Some(SecondFactor::RecoveryCode) => "recovery_code",
    };
    let record = Record::about(account.org_id, account.user_id, event::LOGIN_SUCCESS, ip)
        .detail(serde_json::json!({ "second_factor": mfa }));
    audit::record(db, record).await
}

/// The second step: a TOTP or recovery code for the challenge the password step
/// issued. Wrong codes count against the account like wrong passwords do (a known
/// password buys no extra guesses at the code), and a challenge dies after
/// [`CHALLENGE_MAX_FAILURES`] wrong codes.
pub async fn complete_mfa(
    db: &impl GenericClient,
    rules: Rules<'_>,
    challenge: &str,
    code: &str,
    ip: Option<IpAddr>,
) -> Result<Outcome> {
    let challenge = challenge.trim();
    if challenge.len() != 64 || !challenge.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(Outcome::Refused(Refusal::InvalidCode));
    }
    let Some(row) = db
        .query_opt(
            "SELECT c.id, u.id, u.email FROM mfa_challenges c JOIN users u ON u.org_id = c.org_id AND u.id = c.user_id
             WHERE c.token_hash = $1 AND c.used_at IS NULL AND c.expires_at > now()
             FOR UPDATE OF c",
            &[&hash_token(challenge)],
        )
        .await?
    else {
        return Ok(Outcome::Refused(Refusal::InvalidCode));
    };
    let (challenge_id, user_id, email): (i64, UserId, String) = (row.get(0), row.get(1), row.get(2));
    let account =
        find_account(db, Lookup::User(user_id)).await?.ok_or(Error::Internal("challenge without user".into()))?;
    if account.locked || !account.is_active {
        lockout::record_attempt(db, Some(account.org_id), &email, ip, Some(account.user_id), AttemptResult::Locked)
            .await?;
        return Ok(Outcome::Refused(Refusal::InvalidCode));
    }
    let Some(factor) = totp::verify_any(db, rules.key, account.user_id, code).await? else {
        lockout::record_attempt(db, Some(account.org_id), &email, ip, Some(account.user_id), AttemptResult::MfaFailed)
            .await?;
        audit::record(db, Record::about(account.org_id, account.user_id, event::MFA_FAILURE, ip)).await?;
        count_failure(db, rules.policy, &account, ip).await?;
        db.execute(
            "UPDATE mfa_challenges SET failures = failures + 1,
                    used_at = CASE WHEN failures + 1 >= $2 THEN now() END
             WHERE id = $1",
            &[&challenge_id, &CHALLENGE_MAX_FAILURES],
        )
        .await?;
        return Ok(Outcome::Refused(Refusal::InvalidCode));
    };
    db.execute("UPDATE mfa_challenges SET used_at = now() WHERE id = $1", &[&challenge_id]).await?;
    if let Some(refusal) = after_password(db, &account, &email, ip).await? {
        return Ok(Outcome::Refused(refusal));
    }
    if factor == SecondFactor::RecoveryCode {
        let left = totp::recovery_codes_left(db, account.user_id).await?;
        let record = Record::about(account.org_id, account.user_id, event::RECOVERY_CODE_USED, ip)
            .detail(serde_json::json!({ "codes_left": left }));
        audit::record(db, record).await?;
    }
    succeed(db, &account, &email, ip, Some(factor)).await?;
    Ok(Outcome::SignedIn(account))
}

/// The organisation a sign-in, reset or verification request names: by slug, or —
/// when the request names none — the only organisation of an instance that has
/// exactly one. `Ok(None)` for a slug that names nothing; the caller answers as it
/// would for an unknown address, so a guessed slug learns nothing more than a
/// guessed e-mail address does.
pub async fn org_for_sign_in(db: &impl GenericClient, slug: Option<&str>) -> Result<Option<OrgId>> {
    if let Some(slug) = slug {
        if !crate::text::is_slug(slug) {
            return Err(crate::error::FieldErrors::single("org", crate::text::SLUG_RULE));
        }
        let row = db.query_opt("SELECT id FROM organizations WHERE slug = $1", &[&slug]).await?;
        return Ok(row.map(|r| r.get(0)));
    }
    let rows = db.query("SELECT id FROM organizations ORDER BY id LIMIT 2", &[]).await?;
    match rows.as_slice() {
        [only] => Ok(Some(only.get(0))),
        [] => Ok(None),
        _ => Err(crate::error::FieldErrors::single(
            "org",
            "name the organisation to sign in to (its short name, as in the sign-in address)",
        )),
    }
}
