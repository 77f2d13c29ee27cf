//! Files on tickets, replies, notes and articles.
//!
//! The bytes live in the attachment store ([`crate::storage`]), content-addressed per
//! organisation; an upload is streamed and hashed into a staged file before it is kept.
//!
//! - [`name`] and [`kind`]: what a file may be called, and what it is (read from its
//!   bytes, never from its name).
//! - [`limits`]: what an organisation allows (largest file, files per message, the
//!   types customers may send, storage).
//! - [`upload`]: an upload's checks before its first byte is read, and the pending row
//!   written after its bytes are kept.
//! - [`link`]: a pending upload becoming part of a ticket, a comment or an article, and
//!   the files a message carries.
//! - [`sweep`]: the job that removes unused uploads and bytes nothing refers to.
//!
//! Who may fetch a file is decided with the ticket or article it is on
//! (`desk::attachment`): this module sits beneath tickets and knows nothing of them.

pub mod kind;
pub mod limits;
pub mod link;
pub mod name;
pub mod sweep;
pub mod upload;

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;
use tokio_postgres::Row;

use crate::{
    error::{Error, Result},
    ids::{AttachmentId, OrgId, TicketId, UserId},
};

/// A virus scan's verdict on a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema, strum::IntoStaticStr, strum::EnumString)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Scan {
    /// No scanner is configured.
    NotRequired,
    /// Waiting for the scanner: only its uploader may fetch it.
    Pending,
    Clean,
    /// Quarantined: never served.
    Infected,
    /// The scanner could not be reached or the file was over its limit: not known to
    /// be clean.
    Unscanned,
}

/// A file as people see it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Attachment {
    #[schema(value_type = i64)]
    pub id: AttachmentId,
    pub name: String,
    /// Read from the file's bytes; what it is served as.
    pub content_type: String,
    /// What the uploader said the type was, when the bytes say otherwise.
    pub declared_type: Option<String>,
    /// Bytes.
    pub size: i64,
    /// SHA-256 of the bytes, lowercase hex (also the download's ETag).
    pub sha256: String,
    /// Shown in the browser (raster images and PDFs); everything else downloads.
    pub inline: bool,
    pub scan: Scan,
    /// Where to fetch it, with its name in the path.
    pub url: String,
    #[schema(value_type = i64)]
    pub uploader_id: UserId,
    /// Not yet on a ticket, comment or article: only its uploader sees it, and it is
    /// removed a day after its upload unless used.
    pub pending: bool,
    pub created_at: DateTime<Utc>,
}

/// What a file is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum On {
    Nothing,
    /// The ticket's description (its first message).
    Ticket(TicketId),
    Comment {
        ticket_id: TicketId,
        comment_id: i64,
    },
    Article(i64),
}

/// A file's row with what deciding access needs.
#[derive(Debug, Clone)]
pub struct Found {
    pub attachment: Attachment,
    pub org_id: OrgId,
    pub sha256: [u8; 32],
    pub on: On,
}

const COLUMNS: &str = "a.id, a.org_id, a.uploader_id, a.sha256, a.size, a.name, a.content_type, a.declared_type, \
                       a.scan, a.ticket_id, a.comment_id, a.article_id, a.attached_at, a.created_at";

fn from_row(r: &Row) -> Found {
    let id: AttachmentId = r.get("id");
    let name: String = r.get("name");
    let content_type: String = r.get("content_type");
    let hash: Vec<u8> = r.get("sha256");
    let sha256: [u8; 32] = hash.try_into().unwrap_or([0; 32]);
    let on = match (r.get::<_, Option<TicketId>>("ticket_id"), r.get("comment_id"), r.get("article_id")) {
        (Some(ticket_id), Some(comment_id), _) => On::Comment { ticket_id, comment_id },
        (Some(t), None, _) => On::Ticket(t),
        (None, _, Some(a)) => On::Article(a),
        _ => On::Nothing,
    };
    let scan: &str = r.get("scan");
    Found {
        attachment: Attachment {
            url: url(id, &name),
            inline: kind::inline(&content_type),
            id,
            name,
            content_type,
            declared_type: r.get("declared_type"),
            size: r.get("size"),
            sha256: crate::storage::hex(&sha256),
            scan: scan.parse().unwrap_or(Scan::Unscanned),
            uploader_id: r.get("uploader_id"),
            pending: r.get::<_, Option<DateTime<Utc>>>("attached_at").is_none(),
            created_at: r.get("created_at"),
        },
        org_id: r.get("org_id"),
        sha256,
        on,
    }
}

/// `/api/v1/attachments/{id}/{name}`, the name percent-encoded as a path segment.
pub fn url(id: AttachmentId, name: &str) -> String {
    let mut encoded = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("/api/v1/attachments/{id}/{encoded}")
}

/// The file `id` of `org_id`, whoever may see it: the caller decides that.
pub async fn find(db: &impl GenericClient, org_id: OrgId, id: AttachmentId) -> Result<Found> {
    let row = db
        .query_opt(&format!("SELECT {COLUMNS} FROM attachments a WHERE a.org_id = $1 AND a.id = $2"), &[&org_id, &id])
        .await?
        .ok_or(Error::NotFound("attachment"))?;
    Ok(from_row(&row))
}

/// Bytes an organisation stores, identical files counted once, and how many files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Usage {
    pub bytes: i64,
    pub files: i64,
}

pub async fn usage(db: &impl GenericClient, org_id: OrgId) -> Result<Usage> {
    let row = db
        .query_one(
            "SELECT coalesce(sum(size), 0)::bigint AS bytes, coalesce(sum(n), 0)::bigint AS files
               FROM (SELECT max(size) AS size, count(*) AS n FROM attachments WHERE org_id = $1 GROUP BY sha256) blobs",
            &[&org_id],
        )
        .await?;
    Ok(Usage { bytes: row.get("bytes"), files: row.get("files") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_files_url_carries_its_name_as_one_path_segment() {
        assert_eq!(url(AttachmentId(3), "log 1.txt"), "/api/v1/attachments/3/log%201.txt");
        assert_eq!(url(AttachmentId(3), "a/../b"), "/api/v1/attachments/3/a%2F..%2Fb");
        assert_eq!(url(AttachmentId(4), "é.png"), "/api/v1/attachments/4/%C3%A9.png");
    }
}
