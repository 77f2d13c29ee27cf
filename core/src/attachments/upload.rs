//! An upload, in the order it happens: [`admit`] checks who asks, the name and the
//! announced length against the organisation's limits before a byte is read; the
//! caller streams the body into the store ([`Store::stage`]) with the limit
//! admitted; [`record`] reads the type from the bytes, checks it and the quota, keeps
//! the bytes under their hash and writes the pending row, in one transaction.
//!
//! The bytes and the row are kept apart by a lock per file (organisation and hash):
//! [`record`] holds it shared from keeping the bytes until its row commits, and the
//! sweep holds it exclusively while it checks that nothing refers to bytes and removes
//! them. So a file just kept again is never removed under a new row.

use deadpool_postgres::GenericClient;

use super::{
    Attachment, COLUMNS, Scan, from_row, kind,
    limits::{self, Limits},
    name,
};
use crate::{
    auth::{Principal, policy::Action},
    error::{Code, Error, FieldErrors, Result},
    ids::OrgId,
    storage::{StageError, Staged, Store},
};

/// What an upload may be, decided before its first byte is read.
#[derive(Debug, Clone)]
pub struct Admission {
    /// The file's name, checked.
    pub name: String,
    /// The bytes past which the upload is cut off: the organisation's largest file.
    pub limit: u64,
    limits: Limits,
    staff: bool,
}

/// Checks an upload before its body is read: the name, and the length the request
/// announces (`Content-Length`) against the limits; a body of unknown length is cut off
/// at the limit while it streams.
pub async fn admit(
    db: &impl GenericClient,
    who: &Principal,
    file_name: &str,
    length: Option<u64>,
) -> Result<Admission> {
    let name = name::check(file_name).map_err(|m| FieldErrors::single("name", m))?;
    let limits = limits::of_org(db, who.org_id).await?;
    // A full organisation is refused at once; otherwise the quota is checked once the
    // bytes are known (bytes it already stores cost nothing more).
    if let Some(quota) = limits.quota_bytes
        && super::usage(db, who.org_id).await?.bytes >= quota
    {
        return Err(over_quota(quota));
    }
    let limit = limits.max_file_bytes.max(0) as u64;
    let admission = Admission { name, limit, staff: who.may(Action::WorkTickets), limits };
    match length {
        Some(0) => Err(empty()),
        Some(l) if l > limit => Err(admission.past_limit()),
        _ => Ok(admission),
    }
}

impl Admission {
    /// Why staging stopped, in the words of the limit it passed.
    pub fn stage_failed(&self, e: StageError) -> Error {
        match e {
            StageError::TooLarge { .. } => self.past_limit(),
            other => other.into(),
        }
    }

    fn past_limit(&self) -> Error {
        too_large(self.limit)
    }
}

/// The file, kept and recorded as a pending upload of `who`. `declared` is the type the
/// request named (`Content-Type`).
pub async fn record(
    db: &impl GenericClient,
    store: &Store,
    who: &Principal,
    admission: &Admission,
    staged: Staged,
    declared: Option<&str>,
) -> Result<Attachment> {
    let content_type = kind::detect(&staged.head, &admission.name);
    if !admission.staff && !kind::allowed(&admission.limits.customer_types, &content_type) {
        return Err(Error::Unsupported {
            code: Code::FileTypeNotAllowed,
            message: format!(
                "{} is {content_type} by its content, which customers may not send here; allowed: {}",
                admission.name,
                admission.limits.customer_types.join(", ")
            ),
        });
    }
    lock_shared(db, who.org_id, &staged.sha256).await?;
    if let Some(quota) = admission.limits.quota_bytes {
        // Bytes the organisation has already cost nothing more.
        let known = db
            .query_opt(
                "SELECT 1 FROM attachments WHERE org_id = $1 AND sha256 = $2 LIMIT 1",
                &[&who.org_id, &&staged.sha256[..]],
            )
            .await?
            .is_some();
        if !known && super::usage(db, who.org_id).await?.bytes + staged.size as i64 > quota {
            return Err(over_quota(quota));
        }
    }
    let (sha256, size) = (staged.sha256, staged.size as i64);
    store.keep(staged, who.org_id).await.map_err(|e| Error::Internal(format!("keeping an upload: {e}")))?;
    let declared_type = kind::mismatch(declared, &content_type);
    let row = db
        .query_one(
            &format!(
                "INSERT INTO attachments AS a (org_id, uploader_id, sha256, size, name, content_type, declared_type, scan)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}"
            ),
            &[
                &who.org_id,
                &who.user_id,
                &&sha256[..],
                &size,
                &admission.name,
                &content_type,
                &declared_type,
                &<&str>::from(Scan::NotRequired),
            ],
        )
        .await?;
    Ok(from_row(&row).attachment)
}

/// Waits for the file's lock, shared: several uploads of the same bytes may keep them
/// at once; the sweep may not remove them meanwhile. Released when the transaction ends.
pub(super) async fn lock_shared(db: &impl GenericClient, org_id: OrgId, sha256: &[u8; 32]) -> Result<()> {
    db.execute("SELECT pg_advisory_xact_lock_shared($1)", &[&lock_key(org_id, sha256)]).await?;
    Ok(())
}

/// The file's lock, exclusively (the sweep).
pub(super) async fn lock_exclusive(db: &impl GenericClient, org_id: OrgId, sha256: &[u8; 32]) -> Result<()> {
    db.execute("SELECT pg_advisory_xact_lock($1)", &[&lock_key(org_id, sha256)]).await?;
    Ok(())
}

/// One 64-bit key per organisation and hash: the hash's first bytes mixed with the
/// organisation. A collision only makes two files wait for each other.
fn lock_key(org_id: OrgId, sha256: &[u8; 32]) -> i64 {
    let mut head = [0u8; 8];
    head.copy_from_slice(&sha256[..8]);
    i64::from_be_bytes(head) ^ org_id.0.rotate_left(32)
}

impl From<StageError> for Error {
    fn from(e: StageError) -> Self {
        match e {
            StageError::TooLarge { limit } => too_large(limit),
            StageError::Empty => empty(),
            StageError::Body(why) => {
                Error::Incomplete(format!("the upload did not finish ({why}); send the file again"))
            }
            StageError::Io(e) => Error::Internal(format!("staging an upload: {e}")),
        }
    }
}

fn too_large(limit: u64) -> Error {
    Error::TooLarge {
        code: Code::FileTooLarge,
        message: format!("the file is larger than the limit of {limit} bytes ({})", human(limit)),
    }
}

fn over_quota(quota: i64) -> Error {
    Error::TooLarge {
        code: Code::StorageQuotaExceeded,
        message: format!("your organisation's storage of {quota} bytes ({}) is full", human(quota.max(0) as u64)),
    }
}

fn empty() -> Error {
    FieldErrors::single("file", "the file is empty")
}

/// A size as people read it (25 MB, 1.5 GB), in powers of 1000 like file managers.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KB", "MB", "GB", "TB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit < UNITS.len() - 1 {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else if v < 10.0 && v.fract() >= 0.05 {
        format!("{v:.1} {}", UNITS[unit])
    } else {
        format!("{v:.0} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human(25_000_000), "25 MB");
        assert_eq!(human(1_500_000_000), "1.5 GB");
        assert_eq!(human(999), "999 bytes");
    }

    #[test]
    fn the_lock_key_differs_by_organisation() {
        let sha = [7u8; 32];
        assert_ne!(lock_key(OrgId(1), &sha), lock_key(OrgId(2), &sha));
    }
}
