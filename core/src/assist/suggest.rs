//! KB suggestions: the articles that best match a ticket (`KB_SUGGEST`), found by the
//! same hybrid search agents use, stored for the agent's ticket view.

use crate::auth::policy::Action;
use std::sync::Arc;

use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};

use super::retrieve::{self, fingerprint, input};
use crate::models::Models;
use crate::{
    auth::Principal,
    error::Result,
    ids::{OrgId, TicketId},
    jobs::JobContext,
    tickets,
};
use atum_queue::JobError;

/// Articles kept per ticket.
pub const ARTICLES: usize = 5;
/// Sources a search returns before the tickets among them are left out.
const SEARCHED: usize = 20;

super::ticket_job::ticket_job!(
    /// Finds the articles for a ticket: when it is filed, and after each message from
    /// its requester.
    KbSuggest,
    kind = "KB_SUGGEST",
    priority = 3,
    run = run_suggest
);

async fn run_suggest(job: KbSuggest, ctx: JobContext) -> std::result::Result<(), JobError> {
    let models = ctx.services.models()?;
    suggest(&ctx.pool, models, job.org_id, job.ticket_id).await
}

/// One article as the agent sees it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SuggestedArticle {
    pub article_id: i64,
    /// The passage that matched best.
    pub chunk_id: i64,
    pub title: String,
    /// The passage, as HTML: escaped, matches in `<mark>`.
    pub snippet: String,
    /// `public` (a customer can open it: a link may go in a reply) or `internal`.
    pub visibility: String,
    /// The fused search score (reciprocal rank fusion): higher is better.
    pub score: f64,
    pub retrievers: Vec<String>,
}

async fn suggest(
    pool: &deadpool_postgres::Pool,
    models: Arc<dyn Models>,
    org_id: OrgId,
    ticket_id: TicketId,
) -> std::result::Result<(), JobError> {
    let mut db = pool.get().await.map_err(|e| JobError::Retry(e.to_string()))?;
    let Some(input) = input(&db, org_id, ticket_id).await? else { return Ok(()) };
    let question = input.question();
    let version = retrieve::index_version(&db, org_id).await?;
    let inputs = fingerprint(&[&question, &version, models.embedder()]);
    let stored: Option<String> = db
        .query_opt(
            "SELECT inputs FROM ticket_kb_suggestions WHERE org_id = $1 AND ticket_id = $2",
            &[&org_id, &ticket_id],
        )
        .await?
        .map(|r| r.get(0));
    if stored.as_deref() == Some(inputs.as_str()) {
        return Ok(());
    }
    // One transaction: the search's settings are local to it.
    let tx = db.transaction().await?;
    let hits = retrieve::passages(&tx, pool, models.as_ref(), org_id, &question, SEARCHED).await?;
    let articles: Vec<SuggestedArticle> = hits
        .into_iter()
        .filter(|h| h.source == "article")
        .take(ARTICLES)
        .map(|h| SuggestedArticle {
            article_id: h.id,
            chunk_id: h.chunk_id,
            title: h.title,
            snippet: h.snippet,
            visibility: h.visibility,
            score: h.score,
            retrievers: h.retrievers,
        })
        .collect();
    let articles = serde_json::to_value(&articles).map_err(|e| JobError::Permanent(e.to_string()))?;
    // The ticket may have gone meanwhile: the foreign key would refuse the row.
    tx.execute(
        "INSERT INTO ticket_kb_suggestions (org_id, ticket_id, inputs, articles)
         SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM tickets WHERE org_id = $1 AND id = $2)
         ON CONFLICT (org_id, ticket_id) DO UPDATE
            SET inputs = excluded.inputs, articles = excluded.articles, updated_at = now()",
        &[&org_id, &ticket_id, &inputs, &articles],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The articles that best match a ticket, best first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct KbSuggestions {
    pub articles: Vec<SuggestedArticle>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// The ticket's suggested articles (staff), or `None` before they were looked for.
/// An article archived since is left out.
pub async fn view(db: &impl GenericClient, who: &Principal, ticket_id: TicketId) -> Result<Option<KbSuggestions>> {
    who.require(Action::UseAi)?;
    tickets::get(db, who, ticket_id).await?;
    let Some(r) = db
        .query_opt(
            "SELECT articles, updated_at FROM ticket_kb_suggestions WHERE org_id = $1 AND ticket_id = $2",
            &[&who.org_id, &ticket_id],
        )
        .await?
    else {
        return Ok(None);
    };
    let mut articles: Vec<SuggestedArticle> = serde_json::from_value(r.get(0)).unwrap_or_default();
    let ids: Vec<i64> = articles.iter().map(|a| a.article_id).collect();
    let live: Vec<(i64, String)> = db
        .query(
            "SELECT id, visibility FROM kb_articles WHERE org_id = $1 AND id = ANY($2) AND status = 'published'",
            &[&who.org_id, &ids],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    articles.retain_mut(|a| match live.iter().find(|(id, _)| *id == a.article_id) {
        Some((_, visibility)) => {
            a.visibility.clone_from(visibility);
            true
        }
        None => false,
    });
    Ok(Some(KbSuggestions { articles, updated_at: r.get(1) }))
}
