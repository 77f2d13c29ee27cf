//! The knowledge base as customers and the public read it, through an organisation's
//! portal: published public articles only, no sign-in. Nothing here names an author.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;

use crate::markdown;
use crate::{
    attachments::{self, On, Scan},
    error::{Error, FieldErrors, Result},
    ids::AttachmentId,
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
/// syntax), the most relevant first; without `q`, the ones that helped customers most
/// lately, then the newest (the help center's front page).
pub async fn search(db: &impl GenericClient, slug: &str, q: Option<&str>, limit: i64) -> Result<Vec<PublicHit>> {
    let q = q.map(str::trim).filter(|s| !s.is_empty());
    if q.is_some_and(|q| q.chars().count() > MAX_QUERY) {
        return Err(FieldErrors::single("q", format!("must be at most {MAX_QUERY} characters")));
    }
    let org = orgs::find_by_slug(db, slug).await?;
    let rows = match q {
        Some(q) => {
            db.query(
                "SELECT id, title, updated_at,
                        ts_headline('english', title || E'\\n' || body, websearch_to_tsquery('english', $2), $4)
                 FROM kb_articles
                 WHERE org_id = $1 AND status = 'published' AND visibility = 'public'
                   AND search @@ websearch_to_tsquery('english', $2)
                 ORDER BY ts_rank(search, websearch_to_tsquery('english', $2)) DESC, updated_at DESC, id DESC
                 LIMIT $3",
                &[&org.id, &q, &limit, &markdown::headline_options()],
            )
            .await?
        }
        // No question yet: the articles that helped customers most in the last 90 days
        // (found helpful, then opened, as the help center's visits reported them), then
        // the newest.
        None => {
            db.query(
                "SELECT a.id, a.title, a.updated_at, NULL::text
                 FROM kb_articles a
                 LEFT JOIN LATERAL (
                     SELECT count(*) FILTER (WHERE d.event = 'helpful') AS helpful,
                            count(*) FILTER (WHERE d.event = 'opened') AS opened
                     FROM kb_deflection_events d
                     WHERE d.org_id = a.org_id AND d.article_id = a.id AND d.created_at > now() - interval '90 days'
                 ) used ON true
                 WHERE a.org_id = $1 AND a.status = 'published' AND a.visibility = 'public'
                 ORDER BY used.helpful DESC, used.opened DESC, a.updated_at DESC, a.id DESC
                 LIMIT $2",
                &[&org.id, &limit],
            )
            .await?
        }
    };
    Ok(rows
        .iter()
        .map(|r| PublicHit {
            id: r.get(0),
            title: r.get(1),
            updated_at: r.get(2),
            snippet: r.get::<_, Option<String>>(3).map(|s| markdown::highlight(&s)),
        })
        .collect())
}

/// A file on a published public article of the organisation `slug`, for anyone: the
/// help center's pictures. Anything else — another article's file, a ticket's, one
/// waiting for its scan — is not found.
pub async fn attachment(db: &impl GenericClient, slug: &str, id: AttachmentId) -> Result<attachments::Found> {
    let hidden = Error::NotFound("attachment");
    let org = orgs::find_by_slug(db, slug)
        .await
        .map_err(|e| if matches!(e, Error::NotFound(_)) { Error::NotFound("attachment") } else { e })?;
    let found = attachments::find(db, org.id, id).await?;
    let On::Article(article_id) = found.on else { return Err(hidden) };
    let public = db
        .query_opt(
            "SELECT 1 FROM kb_articles WHERE org_id = $1 AND id = $2 AND status = 'published' AND visibility = 'public'",
            &[&org.id, &article_id],
        )
        .await?
        .is_some();
    if !public || matches!(found.attachment.scan, Scan::Pending | Scan::Infected) {
        return Err(hidden);
    }
    Ok(found)
}

/// An article's own files, as its body links them (`/api/v1/attachments/…`), become
/// the help center's public addresses for them, which need no session.
fn public_files(html: &str, slug: &str) -> String {
    let public = format!("/api/v1/portal/{slug}/attachments/");
    html.replace("src=\"/api/v1/attachments/", &format!("src=\"{public}"))
        .replace("href=\"/api/v1/attachments/", &format!("href=\"{public}"))
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
        id: r.get("id"),
        title: r.get("title"),
        body_html: public_files(&markdown::to_html(r.get("body")), slug),
        tags: r.get("tags"),
        published_at: r.get("published_at"),
        updated_at: r.get("updated_at"),
    })
}
