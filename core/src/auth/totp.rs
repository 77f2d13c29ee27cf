//! TOTP two-factor authentication (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps,
//! one step of clock drift either way) and single-use recovery codes.
//!
//! - Secrets are 160 random bits, shown once at enrolment (base32, an `otpauth://` URI
//!   and its QR code) and stored sealed with the [`SecretKey`], bound to the user id.
//! - Enrolment takes effect only when confirmed with a first code.
//! - A code is good once: the highest step accepted is kept and only later steps
//!   pass, so a code seen over someone's shoulder cannot be replayed within its window.
//! - Ten recovery codes (80 random bits each) are issued at confirmation and stored as
//!   SHA-256; each works once.

use crate::ids::{OrgId, UserId};
use std::time::{SystemTime, UNIX_EPOCH};

use deadpool_postgres::GenericClient;
use rand::RngExt;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::Principal;
use crate::{
    error::{Error, FieldErrors, Result},
    secret_key::{Sealed, SecretKey},
};

pub const STEP_SECS: u64 = 30;
pub const DIGITS: u32 = 6;
pub const RECOVERY_CODES: usize = 10;
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// What enrolment shows the user, once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Enrolment {
    /// The shared secret in base32, for typing into an authenticator app.
    pub secret: String,
    pub otpauth_uri: String,
    /// The URI as a QR code (SVG document).
    pub qr_svg: String,
}

pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// The code for the step containing `unix_secs`.
pub fn code_at(secret: &[u8], unix_secs: u64) -> String {
    totp_lite::totp_custom::<totp_lite::Sha1>(STEP_SECS, DIGITS, secret, unix_secs)
}

/// Compares without an early exit, so timing does not reveal how many digits matched.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The step `code` belongs to, if it is the current step's or a neighbour's and later
/// than `last_used_step` (a code already used, or an older one, is refused).
pub fn matching_step(secret: &[u8], code: &str, unix_secs: u64, last_used_step: u64) -> Option<u64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = unix_secs / STEP_SECS;
    let mut found = None;
    // Check every candidate (no early return): the work done does not depend on which matched.
    for step in [now.saturating_sub(1), now, now + 1] {
        if same(code_at(secret, step * STEP_SECS).as_bytes(), code.as_bytes()) && step > last_used_step {
            found = Some(step);
        }
    }
    found
}

pub fn base32(secret: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(secret)
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode_component(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The Key URI Format authenticator apps read.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let (issuer, account) = (encode_component(issuer), encode_component(account));
    format!(
        "otpauth://totp/{issuer}:{account}?secret={}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        base32(secret)
    )
}

pub fn qr_svg(data: &str) -> Result<String> {
    let code = qrcode::QrCode::new(data.as_bytes()).map_err(|e| Error::Internal(format!("QR code: {e}")))?;
    Ok(code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(200, 200).build())
}

fn context(user_id: UserId) -> Vec<u8> {
    format!("atum-totp:user:{user_id}").into_bytes()
}

fn key_or_unavailable(key: Option<&SecretKey>) -> Result<&SecretKey> {
    key.ok_or(Error::Conflict {
        code: crate::error::Code::MfaNotConfigured,
        message: "two-factor authentication needs ATUM_SECRET_KEY_FILE on the server; ask your operator".into(),
    })
}

/// Whether the user has confirmed TOTP.
pub async fn is_enabled(db: &impl GenericClient, user_id: UserId) -> Result<bool> {
    Ok(db
        .query_opt("SELECT 1 FROM user_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL", &[&user_id])
        .await?
        .is_some())
}

/// Starts (or restarts) enrolment with a new secret; refused while TOTP is on.
pub async fn begin(db: &impl GenericClient, key: Option<&SecretKey>, who: &Principal) -> Result<Enrolment> {
    let key = key_or_unavailable(key)?;
    if is_enabled(db, who.user_id).await? {
        return Err(Error::Conflict {
            code: crate::error::Code::MfaAlreadyEnabled,
            message: "two-factor authentication is already on; disable it first to enrol a new device".into(),
        });
    }
    let row = db
        .query_one(
            "SELECT o.name, u.email FROM users u JOIN organizations o ON o.id = u.org_id WHERE u.id = $1",
            &[&who.user_id],
        )
        .await?;
    let (issuer, email): (String, String) = (format!("ATUM Desk ({})", row.get::<_, String>(0)), row.get(1));
    let secret: [u8; 20] = rand::rng().random();
    let sealed = key.seal(&secret, &context(who.user_id));
    db.execute(
        "INSERT INTO user_totp (org_id, user_id, secret_sealed, nonce) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id) DO UPDATE
         SET secret_sealed = EXCLUDED.secret_sealed, nonce = EXCLUDED.nonce, last_used_step = 0,
             created_at = now(), confirmed_at = NULL",
        &[&who.org_id, &who.user_id, &sealed.ciphertext, &sealed.nonce.as_slice()],
    )
    .await?;
    let uri = otpauth_uri(&issuer, &email, &secret);
    Ok(Enrolment { secret: base32(&secret), qr_svg: qr_svg(&uri)?, otpauth_uri: uri })
}

/// Which secret a check is against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Pending,
    Confirmed,
}

/// Checks `code` against the user's secret at `stage` and, if it passes, records its
/// step so it cannot be used again. The row is locked: two requests racing with the
/// same code cannot both pass.
async fn check(db: &impl GenericClient, key: &SecretKey, user_id: UserId, code: &str, stage: Stage) -> Result<bool> {
    let Some(row) = db
        .query_opt(
            "SELECT secret_sealed, nonce, last_used_step, confirmed_at IS NOT NULL FROM user_totp
             WHERE user_id = $1 FOR UPDATE",
            &[&user_id],
        )
        .await?
    else {
        return Ok(false);
    };
    if row.get::<_, bool>(3) != (stage == Stage::Confirmed) {
        return Ok(false);
    }
    let nonce: Vec<u8> = row.get(1);
    let sealed = Sealed { ciphertext: row.get(0), nonce: nonce.try_into().unwrap_or([0; 12]) };
    let secret = key.open(&sealed, &context(user_id)).ok_or_else(|| {
        Error::Internal(
            "a TOTP secret does not open with the configured key (was ATUM_SECRET_KEY_FILE changed?)".into(),
        )
    })?;
    let last: i64 = row.get(2);
    match matching_step(&secret, code, unix_now(), last.max(0) as u64) {
        Some(step) => {
            db.execute("UPDATE user_totp SET last_used_step = $2 WHERE user_id = $1", &[&user_id, &(step as i64)])
                .await?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Confirms a pending enrolment with its first code; returns the recovery codes (shown
/// once). The caller revokes the user's other sessions and writes the audit record.
pub async fn confirm(
    db: &impl GenericClient,
    key: Option<&SecretKey>,
    who: &Principal,
    code: &str,
) -> Result<Vec<String>> {
    let key = key_or_unavailable(key)?;
    if !check(db, key, who.user_id, code, Stage::Pending).await? {
        return Err(FieldErrors::single(
            "code",
            "the code does not match; check the device's clock and try the next code",
        ));
    }
    db.execute("UPDATE user_totp SET confirmed_at = now() WHERE user_id = $1", &[&who.user_id]).await?;
    replace_recovery_codes(db, who.org_id, who.user_id).await
}

/// A TOTP code for a user with TOTP on (sign-in, or confirming a sensitive change).
pub async fn verify(db: &impl GenericClient, key: Option<&SecretKey>, user_id: UserId, code: &str) -> Result<bool> {
    check(db, key_or_unavailable(key)?, user_id, code, Stage::Confirmed).await
}

/// Recovery codes are compared in one canonical form: lower case, no separators.
fn normalise_recovery_code(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect()
}

fn hash_recovery_code(code: &str) -> Vec<u8> {
    Sha256::digest(normalise_recovery_code(code).as_bytes()).to_vec()
}

fn new_recovery_code() -> String {
    let mut rng = rand::rng();
    let chars: Vec<char> =
        (0..16).map(|_| RECOVERY_ALPHABET[rng.random_range(0..RECOVERY_ALPHABET.len())] as char).collect();
    chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

async fn replace_recovery_codes(db: &impl GenericClient, org_id: OrgId, user_id: UserId) -> Result<Vec<String>> {
    db.execute("DELETE FROM user_recovery_codes WHERE user_id = $1", &[&user_id]).await?;
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
    let hashes: Vec<Vec<u8>> = codes.iter().map(|c| hash_recovery_code(c)).collect();
    db.execute(
        "INSERT INTO user_recovery_codes (org_id, user_id, code_hash) SELECT $1, $2, h FROM unnest($3::bytea[]) AS h",
        &[&org_id, &user_id, &hashes],
    )
    .await?;
    Ok(codes)
}

/// Spends one recovery code; false if it is not one of the user's unused codes.
pub async fn use_recovery_code(db: &impl GenericClient, user_id: UserId, code: &str) -> Result<bool> {
    let normal = normalise_recovery_code(code);
    if normal.len() != 16 {
        return Ok(false);
    }
    Ok(db
        .query_opt(
            "UPDATE user_recovery_codes SET used_at = now()
             WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL RETURNING id",
            &[&user_id, &hash_recovery_code(&normal)],
        )
        .await?
        .is_some())
}

/// How many unused recovery codes the user has left.
pub async fn recovery_codes_left(db: &impl GenericClient, user_id: UserId) -> Result<i64> {
    Ok(db
        .query_one("SELECT count(*) FROM user_recovery_codes WHERE user_id = $1 AND used_at IS NULL", &[&user_id])
        .await?
        .get(0))
}

/// Turns TOTP off and deletes the recovery codes (the caller checked password and code).
pub async fn disable(db: &impl GenericClient, user_id: UserId) -> Result<()> {
    db.execute("DELETE FROM user_totp WHERE user_id = $1", &[&user_id]).await?;
    db.execute("DELETE FROM user_recovery_codes WHERE user_id = $1", &[&user_id]).await?;
    Ok(())
}

/// A TOTP code or a recovery code, whichever `code` looks like. Returns what was used.
pub async fn verify_any(
    db: &impl GenericClient,
    key: Option<&SecretKey>,
    user_id: UserId,
    code: &str,
) -> Result<Option<SecondFactor>> {
    let digits = code.trim();
    if digits.len() == DIGITS as usize && digits.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(verify(db, key, user_id, digits).await?.then_some(SecondFactor::Totp));
    }
    Ok(use_recovery_code(db, user_id, code).await?.then_some(SecondFactor::RecoveryCode))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactor {
    Totp,
    RecoveryCode,
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 appendix B: the SHA-1 secret "12345678901234567890", 8-digit codes; the
    // last six digits are the 6-digit code of the same step.
    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        let secret = b"12345678901234567890";
        for (t, code8) in
            [(59u64, "94287082"), (1111111109, "07081804"), (1234567890, "89005924"), (2000000000, "69279037")]
        {
            assert_eq!(code_at(secret, t), code8[2..], "t = {t}");
        }
    }

    #[test]
    fn a_code_is_accepted_one_step_either_side_and_never_twice() {
        let secret = b"12345678901234567890";
        let t = 1_700_000_000;
        let now = t / STEP_SECS;
        let current = code_at(secret, t);
        assert_eq!(matching_step(secret, &current, t, 0), Some(now));
        assert_eq!(matching_step(secret, &current, t, now), None, "replayed");
        let previous = code_at(secret, t - STEP_SECS);
        assert_eq!(matching_step(secret, &previous, t, 0), Some(now - 1));
        let next = code_at(secret, t + STEP_SECS);
        assert_eq!(matching_step(secret, &next, t, 0), Some(now + 1));
        let stale = code_at(secret, t - 2 * STEP_SECS);
        assert_eq!(matching_step(secret, &stale, t, 0), None, "two steps old");
        // An older step than the last one used is refused even inside the window.
        assert_eq!(matching_step(secret, &previous, t, now), None);
        assert_eq!(matching_step(secret, "12345", t, 0), None);
        assert_eq!(matching_step(secret, "abcdef", t, 0), None);
    }

    #[test]
    fn the_otpauth_uri_names_issuer_account_and_parameters() {
        let uri = otpauth_uri("ATUM Desk (Acme)", "ann@acme.test", b"12345678901234567890");
        assert_eq!(
            uri,
            "otpauth://totp/ATUM%20Desk%20%28Acme%29:ann%40acme.test?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=ATUM%20Desk%20%28Acme%29&algorithm=SHA1&digits=6&period=30"
        );
        let svg = qr_svg(&uri).unwrap();
        assert!(svg.contains("<svg") && svg.contains("</svg>"), "{}", &svg[..100.min(svg.len())]);
    }

    #[test]
    fn recovery_codes_are_80_bits_and_match_however_they_are_typed() {
        let code = new_recovery_code();
        assert_eq!(code.len(), 19, "{code}");
        assert_eq!(normalise_recovery_code(&code).len(), 16);
        assert_eq!(hash_recovery_code(&code), hash_recovery_code(&code.to_uppercase().replace('-', " ")));
        assert_ne!(new_recovery_code(), code);
    }
}
