//! Keeping `kb_chunks` in step with its sources. Every article and ticket changed
//! since an organisation's mark (or in the last five minutes, for transactions that
//! commit after a later one) is looked at again: published articles and solved tickets with a public
//! reply are (re)chunked, anything else loses its chunks. A chunk whose text did not
//! change is left alone, so its embedding is kept and a re-run costs little.
//!
//! Work goes in batches of [`BATCH`] sources, each batch one transaction that also
//! moves the mark: an interrupted run resumes where it stopped.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::chunk::{self, Chunk};
use crate::{error::Result, ids::OrgId};
use atum_runtime::db::{Connection, DbPool};

/// Sources per transaction.
pub const BATCH: i64 = 200;
/// Where a pass starts (`$2` is the mark): at the mark, or, while a transaction begun
/// before it may still commit a change older than the mark (we allow transactions
/// five minutes), five minutes ago. Not five minutes before the mark for good: after
/// a bulk import, every pass would look at the whole import again.
const SINCE: &str = "CASE WHEN $2::timestamptz IS NULL THEN '-infinity'::timestamptz
                          ELSE least($2::timestamptz, now() - interval '5 minutes') END";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Article,
    Ticket,
}

impl Source {
    pub const ALL: [Source; 2] = [Source::Article, Source::Ticket];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Article => "article",
            Source::Ticket => "ticket",
        }
    }
}

/// What a pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Sources looked at.
    pub sources: u64,
    /// Chunks written (new or changed).
    pub written: u64,
    /// Chunks removed.
    pub removed: u64,
}

impl std::ops::AddAssign for Stats {
    fn add_assign(&mut self, o: Stats) {
        self.sources += o.sources;
        self.written += o.written;
        self.removed += o.removed;
    }
}

/// Brings the index up to date for every organisation (or one); `on_batch` hears of
/// each batch done (for a progress bar).
pub async fn catch_up(pool: &DbPool, org: Option<OrgId>, mut on_batch: impl FnMut(&Stats)) -> Result<Stats> {
    let mut conn = atum_runtime::db::connection(pool).await?;
    let orgs: Vec<OrgId> = match org {
        Some(o) => vec![o],
        None => conn.query("SELECT id FROM organizations ORDER BY id", &[]).await?.iter().map(|r| r.get(0)).collect(),
    };
    let mut total = Stats::default();
    for org in orgs {
        for source in Source::ALL {
            let mut cursor = None;
            loop {
                let (stats, more) = batch(&mut conn, org, source, &mut cursor).await?;
                total += stats;
                on_batch(&total);
                if !more {
                    break;
                }
            }
        }
    }
    Ok(total)
}

/// Forgets the marks, so the next pass looks at every source again (`atum kb
/// reindex`; unchanged chunks are still skipped).
pub async fn reset(db: &impl GenericClient, org: Option<OrgId>) -> Result<u64> {
    Ok(db.execute("DELETE FROM kb_index_state WHERE $1::bigint IS NULL OR org_id = $1", &[&org]).await?)
}

/// How many sources of each organisation a full pass would look at (for a progress bar).
pub async fn sources(db: &impl GenericClient, org: Option<OrgId>) -> Result<u64> {
    let n: i64 = db
        .query_one(
            "SELECT (SELECT count(*) FROM kb_articles WHERE $1::bigint IS NULL OR org_id = $1)
                  + (SELECT count(*) FROM tickets WHERE $1::bigint IS NULL OR org_id = $1)",
            &[&org],
        )
        .await?
        .get(0);
    Ok(n as u64)
}

type Cursor = (chrono::DateTime<chrono::Utc>, i64);

/// One batch: the next sources after `cursor` (at the start of a pass: after the mark,
/// less the margin), indexed, and the mark moved past them.
async fn batch(
    conn: &mut Connection,
    org: OrgId,
    source: Source,
    cursor: &mut Option<Cursor>,
) -> Result<(Stats, bool)> {
    let tx = conn.transaction().await?;
    let mark: Option<chrono::DateTime<chrono::Utc>> = tx
        .query_opt(
            "SELECT indexed_to FROM kb_index_state WHERE org_id = $1 AND source = $2 FOR UPDATE",
            &[&org, &source.as_str()],
        )
        .await?
        .map(|r| r.get(0));
    let (after_at, after_id): (Option<chrono::DateTime<chrono::Utc>>, i64) = match cursor {
        Some((at, id)) => (Some(*at), *id),
        None => (None, 0),
    };
    let rows = match source {
        Source::Article => {
            tx.query(
                &format!(
                    "SELECT id, updated_at, status = 'published' AS live, visibility, title, body AS text FROM kb_articles
                     WHERE org_id = $1
                       AND (updated_at, id) > (coalesce($5::timestamptz, {SINCE}), $3)
                     ORDER BY updated_at, id LIMIT $4"
                ),
                &[&org, &mark, &after_id, &BATCH, &after_at],
            )
            .await?
        }
        Source::Ticket => {
            tx.query(
                &format!(
                    "SELECT t.id, t.updated_at, t.status IN ('solved', 'closed') AS live, 'internal' AS visibility, t.subject AS title,
                            t.description AS text,
                            CASE WHEN t.status IN ('solved', 'closed') THEN (
                                SELECT c.body FROM ticket_comments c
                                JOIN users u ON u.org_id = c.org_id AND u.id = c.author_id
                                WHERE c.org_id = t.org_id AND c.ticket_id = t.id AND c.visibility = 'public'
                                  AND u.role <> 'customer'
                                ORDER BY c.created_at DESC, c.id DESC LIMIT 1) END AS reply
                     FROM tickets t
                     WHERE t.org_id = $1
                       AND (t.updated_at, t.id) > (coalesce($5::timestamptz, {SINCE}), $3)
                     ORDER BY t.updated_at, t.id LIMIT $4"
                ),
                &[&org, &mark, &after_id, &BATCH, &after_at],
            )
            .await?
        }
    };
    let mut stats = write(&tx, org, source, &rows).await?;
    stats.sources = rows.len() as u64;
    let more = rows.len() as i64 == BATCH;
    if let Some(last) = rows.last() {
        let last_at: chrono::DateTime<chrono::Utc> = last.get("updated_at");
        *cursor = Some((last_at, last.get("id")));
        tx.execute(
            "INSERT INTO kb_index_state (org_id, source, indexed_to) VALUES ($1, $2, $3)
             ON CONFLICT (org_id, source) DO UPDATE
             SET indexed_to = greatest(kb_index_state.indexed_to, EXCLUDED.indexed_to), updated_at = now()",
            &[&org, &source.as_str(), &last_at],
        )
        .await?;
    }
    tx.commit().await?;
    Ok((stats, more))
}

/// Indexes source rows with the columns `id, updated_at, live, visibility, title, text` (and
/// `reply` for tickets): all
/// their passages in one statement and the passages they no longer have removed in
/// another, so the vocabulary's triggers run once per batch, not once per passage.
async fn write(db: &impl GenericClient, org: OrgId, source: Source, rows: &[Row]) -> Result<Stats> {
    let mut ids = Vec::new();
    let mut counts = Vec::new();
    let (mut source_ids, mut ordinals, mut titles, mut bodies, mut visibilities, mut hashes) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for r in rows {
        let id: i64 = r.get("id");
        let live: bool = r.get("live");
        let chunks: Vec<Chunk> = match source {
            Source::Article if live => chunk::article(r.get("title"), r.get("text")),
            Source::Ticket if live => match r.get::<_, Option<&str>>("reply") {
                Some(reply) => vec![chunk::ticket(r.get("title"), r.get("text"), reply)],
                None => Vec::new(),
            },
            _ => Vec::new(),
        };
        ids.push(id);
        counts.push(chunks.len() as i32);
        for (ordinal, c) in chunks.into_iter().enumerate() {
            source_ids.push(id);
            ordinals.push(ordinal as i32);
            visibilities.push(r.get::<_, String>("visibility"));
            hashes.push(c.hash());
            titles.push(c.title);
            bodies.push(c.body);
        }
    }
    let written = db
        .execute(
            "INSERT INTO kb_chunks (org_id, source, source_id, ordinal, title, body, visibility, content_hash)
             SELECT $1, $2, * FROM unnest($3::bigint[], $4::int[], $5::text[], $6::text[], $7::text[], $8::bytea[])
             ON CONFLICT (source, source_id, ordinal) DO UPDATE
             SET title = EXCLUDED.title, body = EXCLUDED.body, visibility = EXCLUDED.visibility,
                 embedding = CASE WHEN kb_chunks.content_hash = EXCLUDED.content_hash THEN kb_chunks.embedding END,
                 model = CASE WHEN kb_chunks.content_hash = EXCLUDED.content_hash THEN kb_chunks.model END,
                 content_hash = EXCLUDED.content_hash, indexed_at = now()
             WHERE kb_chunks.content_hash <> EXCLUDED.content_hash OR kb_chunks.visibility <> EXCLUDED.visibility",
            &[&org, &source.as_str(), &source_ids, &ordinals, &titles, &bodies, &visibilities, &hashes],
        )
        .await?;
    let removed = db
        .execute(
            "DELETE FROM kb_chunks k USING unnest($2::bigint[], $3::int[]) AS s (id, chunks)
             WHERE k.source = $1 AND k.source_id = s.id AND k.ordinal >= s.chunks",
            &[&source.as_str(), &ids, &counts],
        )
        .await?;
    Ok(Stats { sources: 0, written, removed })
}

/// Chunks per organisation, and how far each organisation's index trails its newest
/// change (seconds; 0 when up to date), for `/metrics`. Before its first pass an
/// organisation trails by the span of its changes: measuring from `-infinity` would
/// overflow the interval and fail the whole query.
pub async fn health(db: &impl GenericClient) -> Result<Vec<(OrgId, i64, f64)>> {
    let rows = db
        .query(
            "SELECT o.id,
                    (SELECT count(*) FROM kb_chunks c WHERE c.org_id = o.id),
                    greatest(0, extract(epoch FROM greatest(
                        (SELECT max(updated_at) - coalesce(
                                    (SELECT indexed_to FROM kb_index_state s WHERE s.org_id = o.id AND s.source = 'article'),
                                    min(updated_at))
                           FROM kb_articles a WHERE a.org_id = o.id),
                        (SELECT max(updated_at) - coalesce(
                                    (SELECT indexed_to FROM kb_index_state s WHERE s.org_id = o.id AND s.source = 'ticket'),
                                    min(updated_at))
                           FROM tickets t WHERE t.org_id = o.id),
                        interval '0')))::float8
             FROM organizations o ORDER BY o.id",
            &[],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect())
}

/// The NOTIFY channel on which new vectors are announced (payload: the [`OrgId`], as
/// its `Display` writes it and `FromStr` reads it), so each API process refreshes its
/// in-memory vectors of that organisation.
pub const VECTORS_CHANNEL: &str = "atum_kb_vectors";

/// Passages that still need a vector from the model `model` (none yet, or another
/// model's): `(id, org, text)`, at most `limit`.
pub async fn pending_vectors(db: &impl GenericClient, model: &str, limit: i64) -> Result<Vec<(i64, OrgId, String)>> {
    let rows = db
        .query(
            "SELECT id, org_id, title || E'\\n' || body FROM kb_chunks
             WHERE model IS DISTINCT FROM $1 ORDER BY id LIMIT $2",
            &[&model, &limit],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect())
}

/// Stores vectors made by `model` (unit length, f32) and announces the organisations
/// whose vectors changed.
pub async fn store_vectors(db: &impl GenericClient, model: &str, vectors: &[(i64, OrgId, Vec<f32>)]) -> Result<()> {
    let mut orgs: Vec<OrgId> = Vec::new();
    for (id, org, v) in vectors {
        db.execute("UPDATE kb_chunks SET embedding = $2, model = $3 WHERE id = $1", &[id, &to_bytes(v), &model])
            .await?;
        if !orgs.contains(org) {
            orgs.push(*org);
        }
    }
    for org in orgs {
        db.execute("SELECT pg_notify($1, $2)", &[&VECTORS_CHANNEL, &org.to_string()]).await?;
    }
    Ok(())
}

/// A vector as stored: little-endian f32s.
pub fn to_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A stored vector back, or `None` for bytes that are not whole f32s.
pub fn from_bytes(b: &[u8]) -> Option<Vec<f32>> {
    b.len().is_multiple_of(4).then(|| b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vector_survives_its_stored_form_and_torn_bytes_are_refused() {
        let v = vec![0.5f32, -1.25, f32::MIN_POSITIVE, 3.0e7];
        assert_eq!(from_bytes(&to_bytes(&v)), Some(v));
        assert_eq!(from_bytes(&[1, 2, 3]), None);
    }
}
