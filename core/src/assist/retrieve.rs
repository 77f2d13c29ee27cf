//! What the AI jobs read of a ticket, and the passages they find for it: the same
//! hybrid search agents use (`GET /kb/search`), run for the organisation by the job.

use deadpool_postgres::GenericClient;
use sha2::{Digest, Sha256};

use crate::models::Models;
use crate::{
    error::Result,
    ids::{OrgId, TicketId},
    retrieval::search::{self, Hit, Retrievers},
};
use atum_runtime::db::DbPool;

/// The text a model reads for a ticket: what the customer wrote when filing it.
pub(super) const TICKET_TEXT: &str = "t.subject || E'\\n\\n' || t.description";

/// What the AI reads of a ticket.
pub(super) struct Input {
    /// The subject and description, as filed.
    pub text: String,
    pub subject: String,
    /// The requester's newest public message (the description until they write
    /// again): what they are asking now.
    pub latest: String,
    pub requester_name: String,
}

impl Input {
    /// The question a search and a draft answer: the subject and what the customer
    /// said last, cut to what a search takes.
    pub fn question(&self) -> String {
        let q = if self.latest.trim() == self.text.trim() || self.text.contains(self.latest.trim()) {
            self.text.clone()
        } else {
            format!("{}\n\n{}", self.subject, self.latest)
        };
        q.replace('\0', " ").chars().take(search::MAX_QUERY).collect::<String>().trim().to_owned()
    }
}

pub(super) async fn input(db: &impl GenericClient, org_id: OrgId, ticket_id: TicketId) -> Result<Option<Input>> {
    let row = db
        .query_opt(
            &format!(
                "SELECT {TICKET_TEXT} AS text, t.description, c.body AS latest, t.subject, u.display_name AS requester_name
                   FROM tickets t
                   JOIN users u ON u.org_id = t.org_id AND u.id = t.requester_id
                   LEFT JOIN LATERAL (
                        SELECT body FROM ticket_comments
                         WHERE org_id = t.org_id AND ticket_id = t.id AND author_id = t.requester_id
                           AND visibility = 'public'
                         ORDER BY created_at DESC, id DESC LIMIT 1) c ON true
                  WHERE t.org_id = $1 AND t.id = $2"
            ),
            &[&org_id, &ticket_id],
        )
        .await?;
    Ok(row.map(|r| {
        let text: String = r.get("text");
        let description: String = r.get("description");
        let latest: Option<String> = r.get("latest");
        let latest = latest.unwrap_or_else(|| if description.trim().is_empty() { text.clone() } else { description });
        Input { text, latest, subject: r.get("subject"), requester_name: r.get("requester_name") }
    }))
}

/// `org`'s best passages for `question`, at most `limit`, one per source (hybrid:
/// full text, typo-tolerant and dense, fused). A question with no words is no search.
pub(crate) async fn passages(
    db: &impl GenericClient,
    pool: &DbPool,
    models: &dyn Models,
    org: OrgId,
    question: &str,
    limit: usize,
) -> Result<Vec<Hit>> {
    if search::query(question).is_err() {
        return Ok(Vec::new());
    }
    let (dense, lexical) = futures_util::future::join(
        models.nearest(pool, org, question, 40),
        search::lexical(db, org, question, Retrievers::default()),
    )
    .await;
    search::fuse(db, org, lexical?, dense?, limit).await
}

/// The version of `org`'s passages: it changes when a passage is written, removed or
/// embedded, so a job that found passages before can tell whether looking again
/// could find others.
pub(crate) async fn index_version(db: &impl GenericClient, org: OrgId) -> Result<String> {
    let r = db
        .query_one(
            // One pass over the organisation's passages: this runs for every ticket.
            "SELECT (SELECT coalesce(max(indexed_to)::text, '') FROM kb_index_state WHERE org_id = $1),
                    count(*), count(embedding)
               FROM kb_chunks WHERE org_id = $1",
            &[&org],
        )
        .await?;
    Ok(format!("{}/{}/{}", r.get::<_, String>(0), r.get::<_, i64>(1), r.get::<_, i64>(2)))
}

/// Names a job's inputs: the same parts give the same name (each length-prefixed, so
/// moving text from one part to the next is another input).
pub(super) fn fingerprint(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for part in parts {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    hex(&h.finalize())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(text: &str, subject: &str, latest: &str) -> Input {
        Input { text: text.into(), subject: subject.into(), latest: latest.into(), requester_name: "Ana".into() }
    }

    #[test]
    fn the_question_is_what_was_filed_until_the_customer_writes_again() {
        assert_eq!(input("VPN\n\nIt drops", "VPN", "It drops").question(), "VPN\n\nIt drops");
        assert_eq!(input("VPN\n\nIt drops", "VPN", "Still dropping today").question(), "VPN\n\nStill dropping today");
        let long = "x".repeat(5_000);
        assert_eq!(input(&long, "s", &long).question().chars().count(), search::MAX_QUERY);
        assert!(!input("a\0b", "a", "a\0b").question().contains('\0'));
    }

    #[test]
    fn a_fingerprint_is_length_prefixed() {
        assert_eq!(fingerprint(&["ab", "c"]), fingerprint(&["ab", "c"]));
        assert_ne!(fingerprint(&["ab", "c"]), fingerprint(&["a", "bc"]));
    }
}
