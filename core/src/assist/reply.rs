//! Smart replies: a draft for the agent quoted from the organisation's public
//! articles and the replies that solved similar tickets (`SMART_REPLY`), every quote
//! cited by its passage, offsets and content hash; and what agents do with drafts —
//! insert (then send, edited or not) or reject — which the acceptance rate and the
//! edit distance are measured over.
//!
//! Internal articles are not quoted: a draft is written to the customer.

use crate::auth::policy::Action;
use std::sync::Arc;

use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};

use super::citation::{Citation, content_hash};
use super::{
    retrieve::{self, fingerprint, input},
    reword,
};
use crate::models::{Models, Passage, Quote};
use crate::{
    auth::Principal,
    error::{Code, Error, Result},
    ids::{OrgId, TicketId},
    jobs::JobContext,
    llm::endpoint::{self, Feature},
    retrieval::chunk,
    tickets,
};
use atum_queue::JobError;

/// The passages a draft may quote from: the best few sources.
pub const PASSAGES: usize = 3;
/// Sources searched before the internal articles among them are left out.
const SEARCHED: usize = 12;
/// The composer's version, part of a draft's inputs: a new one drafts again.
const COMPOSER: &str = "extractive-2";
/// Characters of a draft and of the reply sent compared for the edit distance: the
/// distance costs their product, and what an agent changed shows in the first pages.
const COMPARED_CHARS: usize = 3_000;

super::ticket_job::ticket_job!(
    /// Drafts a reply for a ticket: when it is filed, and after each message from its
    /// requester.
    SmartReply,
    kind = "SMART_REPLY",
    priority = 4,
    run = run_draft
);

async fn run_draft(job: SmartReply, ctx: JobContext) -> std::result::Result<(), JobError> {
    let models = ctx.services.models()?;
    draft(&ctx.pool, models, job.org_id, job.ticket_id).await
}

/// A source passage as the composer gets it, with what a citation names.
struct Source {
    passage: Passage,
    source: String,
    source_id: i64,
    title: String,
}

async fn draft(
    pool: &deadpool_postgres::Pool,
    models: Arc<dyn Models>,
    org_id: OrgId,
    ticket_id: TicketId,
) -> std::result::Result<(), JobError> {
    let started = std::time::Instant::now();
    let mut db = pool.get().await.map_err(|e| JobError::Retry(e.to_string()))?;
    let Some(input) = input(&db, org_id, ticket_id).await? else { return Ok(()) };
    let question = input.question();
    let version = retrieve::index_version(&db, org_id).await?;
    let llm = endpoint::view(&db, org_id).await?.filter(|e| e.features.contains(&Feature::Reply));
    // Another model (or none) words the draft differently: a change drafts again.
    let wording = llm.as_ref().map(|e| format!("{:?}|{}|{}", e.provider, e.base_url, e.model)).unwrap_or_default();
    let inputs = fingerprint(&[&question, &version, models.embedder(), COMPOSER, &wording]);
    let newest: Option<String> = db
        .query_opt(
            "SELECT inputs FROM ai_suggestions WHERE org_id = $1 AND ticket_id = $2 AND kind = 'reply'
              ORDER BY id DESC LIMIT 1",
            &[&org_id, &ticket_id],
        )
        .await?
        .map(|r| r.get(0));
    if newest.as_deref() == Some(inputs.as_str()) {
        return Ok(());
    }
    // One transaction: the search's settings are local to it.
    let tx = db.transaction().await?;
    let hits = retrieve::passages(&tx, pool, models.as_ref(), org_id, &question, SEARCHED).await?;
    let chosen: Vec<_> = hits
        .into_iter()
        .filter(|h| match h.source.as_str() {
            "article" => h.visibility == "public",
            _ => h.id != ticket_id.0,
        })
        .take(PASSAGES)
        .collect();
    let sources = sources(&tx, org_id, &chosen).await?;
    // The search only read: nothing is held open while the draft is composed.
    tx.commit().await?;
    let passages: Vec<Passage> = sources.iter().map(|s| s.passage.clone()).collect();
    let quotes = {
        let models = models.clone();
        let question = question.clone();
        tokio::task::spawn_blocking(move || models.compose(&question, &passages))
            .await
            .map_err(|e| JobError::Retry(format!("drafting stopped: {e}")))?
            .map_err(JobError::Retry)?
    };
    let language = models.language(&input.latest).map(|l| l.code);
    let (body, citations) = assemble(&greeting(language.as_deref(), &input.requester_name), &quotes, &sources);
    let tx = db.transaction().await?;
    let confidence = if quotes.is_empty() {
        0.0
    } else {
        (quotes.iter().map(|q| q.score).sum::<f32>() / quotes.len() as f32).clamp(-1.0, 1.0)
    };
    let status = if quotes.is_empty() { "empty" } else { "pending" };
    let citations = serde_json::to_value(&citations).map_err(|e| JobError::Permanent(e.to_string()))?;
    let ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    tx.execute(
        "UPDATE ai_suggestions SET status = 'superseded'
          WHERE org_id = $1 AND ticket_id = $2 AND status IN ('pending', 'empty')",
        &[&org_id, &ticket_id],
    )
    .await?;
    // With a language model for replies, the quoted draft is stored now and worded on
    // the `llm` queue ([`reword::WordReply`]): a slow model never holds up triage.
    let wording = (llm.is_some() && status == "pending").then_some("asked");
    let row = tx
        .query_opt(
            // The clock's time, not the transaction's start: the draft is stored now.
            "INSERT INTO ai_suggestions (org_id, ticket_id, inputs, body, citations, confidence, language, status,
                                         duration_ms, wording, created_at)
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, clock_timestamp()
              WHERE EXISTS (SELECT 1 FROM tickets WHERE org_id = $1 AND id = $2)
             RETURNING id",
            &[&org_id, &ticket_id, &inputs, &body, &citations, &confidence, &language, &status, &ms, &wording],
        )
        .await?;
    if let (Some(row), Some(_)) = (row, wording) {
        reword::enqueue(&tx, org_id, ticket_id, row.get(0)).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The chosen hits' passages, with where a solved ticket's reply begins.
async fn sources(
    db: &impl GenericClient,
    org_id: OrgId,
    hits: &[crate::retrieval::search::Hit],
) -> Result<Vec<Source>> {
    let ids: Vec<i64> = hits.iter().map(|h| h.chunk_id).collect();
    let rows = db
        .query(
            "SELECT k.id, k.body, t.description FROM kb_chunks k
               LEFT JOIN tickets t ON k.source = 'ticket' AND t.org_id = k.org_id AND t.id = k.source_id
              WHERE k.org_id = $1 AND k.id = ANY($2)",
            &[&org_id, &ids],
        )
        .await?;
    let mut out = Vec::new();
    for (rank, h) in hits.iter().enumerate() {
        let Some(r) = rows.iter().find(|r| r.get::<_, i64>(0) == h.chunk_id) else { continue };
        let body: String = r.get(1);
        let from = match r.get::<_, Option<String>>(2) {
            Some(description) => chunk::ticket_reply_start(&description, &body),
            None => 0,
        };
        out.push(Source {
            passage: Passage { chunk_id: h.chunk_id, body, from, rank },
            source: h.source.clone(),
            source_id: h.id,
            title: h.title.clone(),
        });
    }
    Ok(out)
}

/// "Hi Ana," in the customer's language where we have it (English otherwise).
pub fn greeting(language: Option<&str>, name: &str) -> String {
    let first = name.split_whitespace().next().unwrap_or("");
    let hello = match language {
        Some("deu") | Some("nld") => "Hallo",
        Some("fra") => "Bonjour",
        Some("spa") => "Hola",
        Some("ita") => "Ciao",
        Some("por") => "Olá",
        _ => "Hi",
    };
    if first.is_empty() { format!("{hello},") } else { format!("{hello} {first},") }
}

/// The draft's text — the greeting, then the quotes, one paragraph per passage — and
/// each quote's citation. Quotes that follow each other in one passage share a
/// paragraph.
fn assemble(greeting: &str, quotes: &[Quote], sources: &[Source]) -> (String, Vec<Citation>) {
    if quotes.is_empty() {
        return (String::new(), Vec::new());
    }
    let mut body = greeting.to_owned();
    let mut citations = Vec::new();
    // The passage and the end of the quote before: quotes of one passage are joined
    // as the passage joins them (a paragraph, a line of a list, a space).
    let mut last: Option<(i64, usize)> = None;
    for q in quotes {
        let Some(s) = sources.iter().find(|s| s.passage.chunk_id == q.chunk_id) else { continue };
        let Some(text) = s.passage.body.get(q.start..q.end) else { continue };
        let between = match last {
            Some((chunk, end)) if chunk == q.chunk_id && end <= q.start => s.passage.body.get(end..q.start),
            _ => None,
        };
        body.push_str(match between {
            Some(b) if b.contains("\n\n") => "\n\n",
            Some(b) if b.contains('\n') => "\n",
            Some(_) => " ",
            None => "\n\n",
        });
        last = Some((q.chunk_id, q.end));
        let start = body.len();
        body.push_str(text);
        citations.push(Citation {
            start,
            end: body.len(),
            source: s.source.clone(),
            source_id: s.source_id,
            chunk_id: q.chunk_id,
            title: s.title.clone(),
            quote_start: q.start,
            quote_end: q.end,
            content_hash: content_hash(&s.passage.body),
        });
    }
    (body, citations)
}

/// A draft as the agent sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DraftView {
    pub id: i64,
    /// The draft, to insert into the reply box; empty when nothing in the knowledge
    /// base or the solved tickets answered the question closely enough.
    pub body: String,
    pub citations: Vec<CitationView>,
    /// The quotes' mean similarity to the question (cosine, -1 to 1).
    pub confidence: f32,
    /// The customer's language (ISO 639-3) the greeting is in, when it was told.
    pub language: Option<String>,
    /// `pending`, `inserted`, `rejected`, `sent` or `empty`.
    pub status: String,
    /// The language model that worded the draft from its quotes (each sentence cites
    /// the passages that back it); `null`: the draft is the quotes themselves.
    pub worded_by: Option<String>,
    /// `asked`: the organisation's language model is wording this draft (a worded one
    /// replaces it while it is pending); `done`; `refused`: its wording was not used
    /// (the request log says why); `null`: no model was asked.
    pub wording: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CitationView {
    #[serde(flatten)]
    pub citation: Citation,
    /// The passage still has the text that was quoted (its source may have been
    /// edited, archived or deleted since).
    pub current: bool,
}

/// The ticket's newest draft (staff), or `None` before one was composed.
pub async fn view(db: &impl GenericClient, who: &Principal, ticket_id: TicketId) -> Result<Option<DraftView>> {
    who.require(Action::UseAi)?;
    tickets::get(db, who, ticket_id).await?;
    let Some(r) = db
        .query_opt(
            "SELECT id, body, citations, confidence, language, status, created_at, worded_by, wording FROM ai_suggestions
              WHERE org_id = $1 AND ticket_id = $2 AND kind = 'reply' ORDER BY id DESC LIMIT 1",
            &[&who.org_id, &ticket_id],
        )
        .await?
    else {
        return Ok(None);
    };
    let citations: Vec<Citation> = serde_json::from_value(r.get("citations")).unwrap_or_default();
    let ids: Vec<i64> = citations.iter().map(|c| c.chunk_id).collect();
    let bodies: Vec<(i64, String)> = db
        .query("SELECT id, body FROM kb_chunks WHERE org_id = $1 AND id = ANY($2)", &[&who.org_id, &ids])
        .await?
        .iter()
        .map(|r| (r.get("id"), r.get("body")))
        .collect();
    let citations = citations
        .into_iter()
        .map(|c| {
            let current = bodies.iter().any(|(id, body)| *id == c.chunk_id && content_hash(body) == c.content_hash);
            CitationView { citation: c, current }
        })
        .collect();
    Ok(Some(DraftView {
        id: r.get("id"),
        body: r.get("body"),
        citations,
        confidence: r.get("confidence"),
        language: r.get("language"),
        status: r.get("status"),
        worded_by: r.get("worded_by"),
        wording: r.get("wording"),
        created_at: r.get("created_at"),
    }))
}

/// What an agent did with a draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
// Triage feedback has its own `Verdict` in the OpenAPI document.
#[schema(as = DraftVerdict)]
pub enum Verdict {
    /// Put into the reply box (to edit, then send).
    Inserted,
    Rejected,
}

/// Records an agent's verdict on the ticket's draft `draft_id`. A draft replaced by a
/// newer one (or already sent) cannot be decided again: 409 `draft_superseded`.
pub async fn decide(
    db: &impl GenericClient,
    who: &Principal,
    ticket_id: TicketId,
    draft_id: i64,
    verdict: Verdict,
) -> Result<DraftView> {
    who.require(Action::UseAi)?;
    tickets::get(db, who, ticket_id).await?;
    let status: String = db
        .query_opt(
            "SELECT status FROM ai_suggestions WHERE org_id = $1 AND ticket_id = $2 AND id = $3 FOR UPDATE",
            &[&who.org_id, &ticket_id, &draft_id],
        )
        .await?
        .ok_or(Error::NotFound("draft"))?
        .get(0);
    if !matches!(status.as_str(), "pending" | "inserted" | "rejected") {
        return Err(Error::Conflict {
            code: Code::DraftSuperseded,
            message: format!("this draft is {status}: only the newest unsent draft can be inserted or rejected"),
        });
    }
    db.execute(
        "UPDATE ai_suggestions SET status = $2, decided_by = $3, decided_at = now() WHERE id = $1",
        &[&draft_id, &<&'static str>::from(verdict), &who.user_id],
    )
    .await?;
    view(db, who, ticket_id).await?.ok_or(Error::NotFound("draft"))
}

/// An agent's public reply on a ticket whose newest draft they inserted: the draft is
/// sent, with how far the reply differs from it.
pub async fn record_sent(
    db: &impl GenericClient,
    org_id: OrgId,
    ticket_id: TicketId,
    comment_id: i64,
    sent: &str,
) -> Result<()> {
    let Some(r) = db
        .query_opt(
            "SELECT id, body FROM ai_suggestions
              WHERE org_id = $1 AND ticket_id = $2 AND kind = 'reply' AND status = 'inserted'
              ORDER BY id DESC LIMIT 1 FOR UPDATE",
            &[&org_id, &ticket_id],
        )
        .await?
    else {
        return Ok(());
    };
    let (id, drafted): (i64, String) = (r.get(0), r.get(1));
    let distance = edit_distance(&drafted, sent) as f32;
    db.execute(
        "UPDATE ai_suggestions SET status = 'sent', sent_comment_id = $2, sent_distance = $3, sent_at = now()
          WHERE id = $1",
        &[&id, &comment_id, &distance],
    )
    .await?;
    Ok(())
}

/// Levenshtein distance over characters divided by the longer text's length: 0 when
/// the reply is the draft, 1 when nothing of it is left. Whitespace at the ends (a
/// reply box adds a newline) does not count.
pub fn edit_distance(drafted: &str, sent: &str) -> f64 {
    let cut = |s: &str| s.trim().chars().take(COMPARED_CHARS).collect::<String>();
    1.0 - strsim::normalized_levenshtein(&cut(drafted), &cut(sent))
}

/// How drafts fared in an organisation over a period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReplyStats {
    pub days: i32,
    /// Drafts shown (not empty, not replaced before anyone decided).
    pub drafts: i64,
    pub inserted: i64,
    pub rejected: i64,
    /// Inserted drafts whose reply was sent.
    pub sent: i64,
    /// Inserted (or sent) of those an agent decided on; `null` before any was.
    pub acceptance_rate: Option<f64>,
    /// The mean edit distance of what was sent (0: sent as drafted); `null` before any was.
    pub mean_edit_distance: Option<f64>,
}

pub async fn stats(db: &impl GenericClient, who: &Principal, days: i32) -> Result<ReplyStats> {
    who.require(Action::Configure)?;
    let r = db
        .query_one(
            "SELECT count(*) FILTER (WHERE status IN ('pending', 'inserted', 'rejected', 'sent')) AS drafts,
                    count(*) FILTER (WHERE status = 'inserted') AS inserted,
                    count(*) FILTER (WHERE status = 'rejected') AS rejected,
                    count(*) FILTER (WHERE status = 'sent') AS sent,
                    avg(sent_distance)::float8 AS mean_edit_distance
               FROM ai_suggestions
              WHERE org_id = $1 AND kind = 'reply' AND created_at > now() - make_interval(days => $2)",
            &[&who.org_id, &days],
        )
        .await?;
    let (drafts, inserted, rejected, sent): (i64, i64, i64, i64) =
        (r.get("drafts"), r.get("inserted"), r.get("rejected"), r.get("sent"));
    let decided = inserted + rejected + sent;
    Ok(ReplyStats {
        days,
        drafts,
        inserted,
        rejected,
        sent,
        acceptance_rate: (decided > 0).then(|| (inserted + sent) as f64 / decided as f64),
        mean_edit_distance: r.get("mean_edit_distance"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(chunk_id: i64, body: &str) -> Source {
        Source {
            passage: Passage { chunk_id, body: body.into(), from: 0, rank: 0 },
            source: "article".into(),
            source_id: chunk_id * 10,
            title: format!("T{chunk_id}"),
        }
    }

    #[test]
    fn a_draft_is_its_quotes_in_order_and_every_citation_points_at_its_words() {
        let sources = [source(1, "Open settings. Press reset.\n1. Wait.\n\nDone."), source(2, "Or call us on 555.")];
        let quotes = [
            Quote { chunk_id: 1, start: 0, end: 14, score: 0.8 },
            Quote { chunk_id: 1, start: 15, end: 27, score: 0.7 },
            Quote { chunk_id: 1, start: 28, end: 36, score: 0.7 },
            Quote { chunk_id: 1, start: 38, end: 43, score: 0.7 },
            Quote { chunk_id: 2, start: 0, end: 18, score: 0.5 },
        ];
        let (body, citations) = assemble("Hi Ana,", &quotes, &sources);
        assert_eq!(body, "Hi Ana,\n\nOpen settings. Press reset.\n1. Wait.\n\nDone.\n\nOr call us on 555.");
        for c in &citations {
            let s = sources.iter().find(|s| s.passage.chunk_id == c.chunk_id).unwrap();
            assert_eq!(&body[c.start..c.end], &s.passage.body[c.quote_start..c.quote_end]);
            assert_eq!(c.content_hash, content_hash(&s.passage.body));
        }
        assert_eq!(citations[4].source_id, 20);
        assert_eq!(assemble("Hi,", &[], &sources), (String::new(), Vec::new()), "no quotes, no draft");
    }

    #[test]
    fn the_greeting_is_in_the_customers_language_with_their_first_name() {
        assert_eq!(greeting(Some("deu"), "Jana Weber"), "Hallo Jana,");
        assert_eq!(greeting(Some("spa"), "Luis"), "Hola Luis,");
        assert_eq!(greeting(None, "Ana"), "Hi Ana,");
        assert_eq!(greeting(Some("jpn"), " "), "Hi,");
    }

    #[test]
    fn the_edit_distance_is_zero_for_the_draft_as_sent_and_grows_with_the_edits() {
        assert_eq!(edit_distance("Hi Ana,\n\nPress reset.", "Hi Ana,\n\nPress reset.\n"), 0.0);
        let small = edit_distance("Hi Ana, press reset.", "Hi Ana, please press reset.");
        let large = edit_distance("Hi Ana, press reset.", "We are looking into it.");
        assert!(small > 0.0 && small < large && large <= 1.0, "{small} {large}");
    }
}
