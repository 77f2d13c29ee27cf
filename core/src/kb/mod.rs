//! The knowledge base: articles with every version kept, written by staff, read by
//! staff (all of them) and by customers and the public (published public ones, through
//! the portal). Markdown is rendered to sanitised HTML here, on the server.
//!
//! Every write — create, edit, publish, archive — makes a new version: the article row
//! holds the current one, `kb_article_versions` all of them. Writes are announced on
//! [`CHANNEL`] for the retrieval index.

pub mod deflection;
pub mod diff;
pub mod portal;
pub mod write;

use crate::auth::policy::Action;
use crate::ids::UserId;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};
use tokio_postgres::Row;

use crate::{
    auth::Principal,
    error::{Error, FieldErrors, Result},
    ids::OrgId,
    markdown,
    named::Named,
};

/// The NOTIFY channel of article changes; the payload is a [`Notice`].
pub const CHANNEL: &str = "atum_kb";

/// Which article of which organisation changed (`org_id:article_id` on [`CHANNEL`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notice {
    pub org_id: OrgId,
    pub article_id: i64,
}

impl Notice {
    pub fn encode(self) -> String {
        format!("{}:{}", self.org_id, self.article_id)
    }
}

crate::named_enum! {
    pub enum ArticleStatus {
        /// Being written; staff only.
        Draft,
        /// Live: staff see it, and customers and the public too when it is public.
        Published,
        /// Withdrawn; kept with its history, found by staff who ask for it.
        Archived,
    }
}

crate::named_enum! {
    pub enum Visibility {
        /// For customers and the public once published (the portal).
        Public,
        /// For staff only, whatever its status.
        Internal,
    }
}

/// An article at its current version, as staff read it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Article {
    pub id: i64,
    /// The current version; send it back in `If-Match` to change the article.
    pub version: i32,
    pub title: String,
    /// Markdown, as written.
    pub body: String,
    /// The body rendered to HTML and sanitised (no script, no raw HTML from the author).
    pub body_html: String,
    pub status: ArticleStatus,
    pub visibility: Visibility,
    pub tags: Vec<String>,
    /// Who wrote the current version.
    #[schema(value_type = i64)]
    pub author_id: UserId,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When it was first published.
    pub published_at: Option<DateTime<Utc>>,
}

pub(crate) const COLUMNS: &str =
    "id, version, title, body, status, visibility, tags, author_id, created_by, created_at, updated_at, published_at";

pub(crate) fn from_row(r: &Row) -> Article {
    let body: String = r.get("body");
    Article {
        id: r.get("id"),
        version: r.get("version"),
        title: r.get("title"),
        body_html: markdown::to_html(&body),
        body,
        status: ArticleStatus::parse(r.get("status")).unwrap_or(ArticleStatus::Draft),
        visibility: Visibility::parse(r.get("visibility")).unwrap_or(Visibility::Internal),
        tags: r.get("tags"),
        author_id: r.get("author_id"),
        created_by: r.get("created_by"),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
        published_at: r.get("published_at"),
    }
}

/// One version in an article's history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VersionSummary {
    pub version: i32,
    pub title: String,
    pub status: ArticleStatus,
    pub visibility: Visibility,
    #[schema(value_type = i64)]
    pub author_id: UserId,
    pub created_at: DateTime<Utc>,
}

/// An article with its history, newest version first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ArticleDetail {
    #[serde(flatten)]
    pub article: Article,
    pub versions: Vec<VersionSummary>,
}

/// One version as it was written.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Version {
    pub article_id: i64,
    pub version: i32,
    pub title: String,
    pub body: String,
    pub body_html: String,
    pub status: ArticleStatus,
    pub visibility: Visibility,
    pub tags: Vec<String>,
    #[schema(value_type = i64)]
    pub author_id: UserId,
    pub created_at: DateTime<Utc>,
}

/// The current version of an article of the caller's organisation (staff).
pub async fn get(db: &impl GenericClient, who: &Principal, id: i64) -> Result<Article> {
    who.require(Action::UseKnowledge)?;
    let row = db
        .query_opt(&format!("SELECT {COLUMNS} FROM kb_articles WHERE org_id = $1 AND id = $2"), &[&who.org_id, &id])
        .await?
        .ok_or(Error::NotFound("article"))?;
    Ok(from_row(&row))
}

/// The article with its version history (staff).
pub async fn detail(db: &impl GenericClient, who: &Principal, id: i64) -> Result<ArticleDetail> {
    let article = get(db, who, id).await?;
    let rows = db
        .query(
            "SELECT version, title, status, visibility, author_id, created_at FROM kb_article_versions
             WHERE org_id = $1 AND article_id = $2 ORDER BY version DESC",
            &[&who.org_id, &id],
        )
        .await?;
    let versions = rows
        .iter()
        .map(|r| VersionSummary {
            version: r.get("version"),
            title: r.get("title"),
            status: ArticleStatus::parse(r.get("status")).unwrap_or(ArticleStatus::Draft),
            visibility: Visibility::parse(r.get("visibility")).unwrap_or(Visibility::Internal),
            author_id: r.get("author_id"),
            created_at: r.get("created_at"),
        })
        .collect();
    Ok(ArticleDetail { article, versions })
}

/// One version of an article (staff).
pub async fn version(db: &impl GenericClient, who: &Principal, id: i64, version: i32) -> Result<Version> {
    get(db, who, id).await?;
    let r = db
        .query_opt(
            "SELECT version, title, body, status, visibility, tags, author_id, created_at FROM kb_article_versions
             WHERE org_id = $1 AND article_id = $2 AND version = $3",
            &[&who.org_id, &id, &version],
        )
        .await?
        .ok_or(Error::NotFound("version"))?;
    let body: String = r.get("body");
    Ok(Version {
        article_id: id,
        version: r.get("version"),
        title: r.get("title"),
        body_html: markdown::to_html(&body),
        body,
        status: ArticleStatus::parse(r.get("status")).unwrap_or(ArticleStatus::Draft),
        visibility: Visibility::parse(r.get("visibility")).unwrap_or(Visibility::Internal),
        tags: r.get("tags"),
        author_id: r.get("author_id"),
        created_at: r.get("created_at"),
    })
}

/// Query-string filters of the staff list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// `draft`, `published` or `archived`; without it, drafts and published articles.
    #[param(pattern = r"^\s*(draft|published|archived)\s*$")]
    pub status: Option<String>,
    #[param(pattern = r"^\s*(public|internal)\s*$")]
    pub visibility: Option<String>,
    #[param(max_length = 50)]
    pub tag: Option<String>,
    /// Full-text search over title and body (web-search syntax); results by relevance.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// 1 to 100, default 50.
    #[param(pattern = r"^\s*[+]?0*([1-9][0-9]?|100)\s*$")]
    pub limit: Option<String>,
}

/// A row of the staff list: the article without its body.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ArticleSummary {
    pub id: i64,
    pub version: i32,
    pub title: String,
    pub status: ArticleStatus,
    pub visibility: Visibility,
    pub tags: Vec<String>,
    #[schema(value_type = i64)]
    pub author_id: UserId,
    pub updated_at: DateTime<Utc>,
    /// With `q`: the matching passage, matches in `<mark>` (the rest escaped).
    pub snippet: Option<String>,
}

/// Articles of the caller's organisation (staff): the most recently changed first, or
/// the most relevant first with `q`.
pub async fn list(db: &impl GenericClient, who: &Principal, q: &ListQuery) -> Result<Vec<ArticleSummary>> {
    who.require(Action::UseKnowledge)?;
    let mut f = FieldErrors::default();
    let status = crate::tickets::write::parse_enum(
        &mut f,
        "status",
        q.status.as_deref().map(str::trim),
        ArticleStatus::parse,
        ArticleStatus::choices,
    );
    let visibility = crate::tickets::write::parse_enum(
        &mut f,
        "visibility",
        q.visibility.as_deref().map(str::trim),
        Visibility::parse,
        Visibility::choices,
    );
    let limit: i64 = match q.limit.as_deref().map(str::trim) {
        None => 50,
        Some(raw) => match raw.trim_start_matches('+').parse::<i64>() {
            Ok(n) if (1..=100).contains(&n) => n,
            _ => {
                f.add("limit", "must be a number from 1 to 100");
                0
            }
        },
    };
    if q.tag.as_deref().is_some_and(|t| t.chars().count() > 50) {
        f.add("tag", "must be at most 50 characters");
    }
    let text = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if text.is_some_and(|t| t.chars().count() > 200) {
        f.add("q", "must be at most 200 characters");
    }
    f.finish()?;
    let statuses: Vec<&str> = match status {
        Some(s) => vec![s.as_str()],
        None => vec!["draft", "published"],
    };
    let tag = q.tag.as_deref().map(|t| t.trim().to_lowercase());
    let rows = db
        .query(
            "SELECT a.id, a.version, a.title, a.status, a.visibility, a.tags, a.author_id, a.updated_at,
                    CASE WHEN $5::text IS NULL THEN NULL ELSE
                        ts_headline('english', a.title || E'\\n' || a.body, websearch_to_tsquery('english', $5), $7) END AS snippet
             FROM kb_articles a
             WHERE a.org_id = $1 AND a.status = ANY($2) AND ($3::text IS NULL OR a.visibility = $3)
               AND ($4::text IS NULL OR $4 = ANY(a.tags))
               AND ($5::text IS NULL OR a.search @@ websearch_to_tsquery('english', $5))
             ORDER BY CASE WHEN $5::text IS NULL THEN 0 ELSE ts_rank(a.search, websearch_to_tsquery('english', $5)) END DESC,
                      a.updated_at DESC, a.id DESC
             LIMIT $6",
            &[&who.org_id, &statuses, &visibility.map(Visibility::as_str), &tag, &text, &limit, &markdown::headline_options()],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| ArticleSummary {
            id: r.get("id"),
            version: r.get("version"),
            title: r.get("title"),
            status: ArticleStatus::parse(r.get("status")).unwrap_or(ArticleStatus::Draft),
            visibility: Visibility::parse(r.get("visibility")).unwrap_or(Visibility::Internal),
            tags: r.get("tags"),
            author_id: r.get("author_id"),
            updated_at: r.get("updated_at"),
            snippet: r.get::<_, Option<String>>("snippet").map(|s| markdown::highlight(&s)),
        })
        .collect())
}
