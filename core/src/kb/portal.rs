//! The knowledge base as customers and the public read it, through an organisation's
//! portal: published public articles only, no sign-in. Nothing here names an author.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;

use super::render;
use crate::{
    error::{Error, FieldErrors, Result},
    orgs,
};

/// A published public article.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicArticle {
    pub id: i64,
    pub title: String,
    /// Sanitised HTML.
    pub body_html: String,
    pub tags: Vec<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// A search result on the portal.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicHit {
    pub id: i64,
    pub title: String,
    /// With a query: the matching passage as HTML, matches in `<mark>`.
    pub snippet: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// What the help center shows before anyone signs in: whose it is, and whether it
/// takes sign-ups (so it offers the form only where it would work).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PortalInfo {
    /// The organisation's name.
    pub name: String,
    /// Customers may create their own accounts here.
    pub signup: bool,
}

pub async fn info(db: &impl GenericClient, slug: &str) -> Result<PortalInfo> {
    db.query_opt("SELECT name, portal_signup FROM organizations WHERE slug = $1", &[&slug])
        .await?
        .map(|r| PortalInfo { name: r.get(0), signup: r.get(1) })
        .ok_or(Error::NotFound("portal"))
}

pub const MAX_QUERY: usize = 200;

/// Published public articles of the organisation `slug` matching `q` (web-search
/// syntax), the most relevant first; without `q`, the most recently updated.
pub async fn search(db: &impl GenericClient, slug: &str, q: Option<&str>, limit: i64) -> Result<Vec<PublicHit>> {
    let q = q.map(str::trim).filter(|s| !s.is_empty());
    if q.is_some_and(|q| q.chars().count() > MAX_QUERY) {
        return Err(FieldErrors::single("q", format!("must be at most {MAX_QUERY} characters")));
    }
    let org = orgs::find_by_slug(db, slug).await?;
    let rows = db
        .query(
            "SELECT id, title, updated_at,
                    CASE WHEN $2::text IS NULL THEN NULL ELSE
                        ts_headline('english', title || E'\\n' || body, websearch_to_tsquery('english', $2), $4) END
             FROM kb_articles
             WHERE org_id = $1 AND status = 'published' AND visibility = 'public'
               AND ($2::text IS NULL OR search @@ websearch_to_tsquery('english', $2))
             ORDER BY CASE WHEN $2::text IS NULL THEN 0 ELSE ts_rank(search, websearch_to_tsquery('english', $2)) END DESC,
                      updated_at DESC, id DESC
             LIMIT $3",
            &[&org.id, &q, &limit, &render::headline_options()],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| PublicHit {
            id: r.get(0),
            title: r.get(1),
            updated_at: r.get(2),
            snippet: r.get::<_, Option<String>>(3).map(|s| render::highlight(&s)),
        })
        .collect())
}

/// One published public article of the organisation `slug`; anything else is not found.
pub async fn article(db: &impl GenericClient, slug: &str, id: i64) -> Result<PublicArticle> {
    let org = orgs::find_by_slug(db, slug).await?;
    let r = db
        .query_opt(
            "SELECT id, title, body, tags, published_at, updated_at FROM kb_articles
             WHERE org_id = $1 AND id = $2 AND status = 'published' AND visibility = 'public'",
            &[&org.id, &id],
        )
        .await?
        .ok_or(Error::NotFound("article"))?;
    Ok(PublicArticle {
        id: r.get(0),
        title: r.get(1),
        body_html: render::to_html(r.get(2)),
        tags: r.get(3),
        published_at: r.get(4),
        updated_at: r.get(5),
    })
}
