//! Writing articles: create, edit, publish, archive. Each write is one new version,
//! recorded with its author, and announced on [`super::CHANNEL`].

use crate::auth::policy::Action;
use deadpool_postgres::GenericClient;
use serde::Deserialize;

use super::{Article, ArticleStatus, COLUMNS, Visibility, from_row, get};
use crate::named::Named as _;
use crate::{
    attachments::{On, link},
    auth::Principal,
    error::{Error, FieldErrors, Result},
    ids::AttachmentId,
    tickets::write::{Tag, parse_enum, tags},
};

pub const MAX_TITLE: usize = 200;
pub const MAX_BODY: usize = 100_000;

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewArticle {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub title: String,
    /// Markdown.
    #[serde(default)]
    #[schema(max_length = 100000, pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
    pub body: String,
    /// `internal` (the default) or `public`.
    #[serde(default)]
    #[schema(value_type = Option<Visibility>)]
    pub visibility: Option<String>,
    #[serde(default)]
    #[schema(max_items = 50)]
    pub tags: Vec<Tag>,
    /// Publish at once instead of saving a draft.
    #[serde(default)]
    pub publish: bool,
    /// Your pending uploads (`POST /attachments`) the body shows or links to: they
    /// become the article's, served with it (to anyone, once it is public and published).
    #[serde(default)]
    #[schema(value_type = Vec<i64>, max_items = 100)]
    pub attachment_ids: Vec<AttachmentId>,
}

/// An edit: absent fields stay as they are. The status changes through publish and
/// archive, not here.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleChange {
    #[serde(default)]
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub title: Option<String>,
    #[serde(default)]
    #[schema(max_length = 100000, pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
    pub body: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Visibility>)]
    pub visibility: Option<String>,
    #[serde(default)]
    #[schema(max_items = 50)]
    pub tags: Option<Vec<Tag>>,
    /// Your pending uploads to add to the article's files (those it has stay).
    #[serde(default)]
    #[schema(value_type = Vec<i64>, max_items = 100)]
    pub attachment_ids: Vec<AttachmentId>,
}

/// Control characters other than tab and line breaks: refused in bodies (they print
/// as nothing, and search snippets use two of them as match markers). Titles take none
/// at all. The OpenAPI document states both rules as patterns.
fn has_control(s: &str) -> bool {
    s.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

fn title(f: &mut FieldErrors, raw: &str) -> String {
    // U+FEFF counts as a space here, as it does in the document's pattern (`\s`).
    let t = raw.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if t.is_empty() || t.chars().count() > MAX_TITLE || t.chars().any(char::is_control) {
        f.add("title", format!("must be 1 to {MAX_TITLE} characters, not all spaces, without control characters"));
    }
    t.to_owned()
}

fn body(f: &mut FieldErrors, raw: &str) -> String {
    if raw.chars().count() > MAX_BODY || has_control(raw) {
        f.add("body", format!("must be at most {MAX_BODY} characters, without control characters"));
    }
    raw.to_owned()
}

fn visibility(f: &mut FieldErrors, raw: Option<&str>) -> Option<Visibility> {
    parse_enum(f, "visibility", raw.map(str::trim), Visibility::parse, Visibility::choices)
}

pub async fn create(db: &impl GenericClient, who: &Principal, new: &NewArticle) -> Result<Article> {
    who.require(Action::UseKnowledge)?;
    let mut f = FieldErrors::default();
    let title = title(&mut f, &new.title);
    let body = body(&mut f, &new.body);
    let visibility = visibility(&mut f, new.visibility.as_deref()).unwrap_or(Visibility::Internal);
    let tags = tags(&mut f, &new.tags);
    f.finish()?;
    let status = if new.publish { ArticleStatus::Published } else { ArticleStatus::Draft };
    let row = db
        .query_one(
            &format!(
                "INSERT INTO kb_articles (org_id, title, body, status, visibility, tags, author_id, created_by, published_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7, CASE WHEN $4 = 'published' THEN now() END)
                 RETURNING {COLUMNS}"
            ),
            &[&who.org_id, &title, &body, &status.as_str(), &visibility.as_str(), &tags, &who.user_id],
        )
        .await?;
    let article = from_row(&row);
    record(db, who, &article).await?;
    link::attach(db, who, &new.attachment_ids, On::Article(article.id)).await?;
    Ok(article)
}

/// Applies `change` if the article is still at `expected` (`None`: whatever version).
pub async fn edit(
    db: &impl GenericClient,
    who: &Principal,
    id: i64,
    expected: Option<i32>,
    change: &ArticleChange,
) -> Result<Article> {
    let current = for_update(db, who, id, expected).await?;
    let mut f = FieldErrors::default();
    let mut next = current.clone();
    if let Some(t) = &change.title {
        next.title = title(&mut f, t);
    }
    if let Some(b) = &change.body {
        next.body = body(&mut f, b);
    }
    if let Some(v) = visibility(&mut f, change.visibility.as_deref()) {
        next.visibility = v;
    }
    if let Some(t) = &change.tags {
        next.tags = tags(&mut f, t);
    }
    f.finish()?;
    link::attach(db, who, &change.attachment_ids, On::Article(id)).await?;
    if (&next.title, &next.body, next.visibility, &next.tags)
        == (&current.title, &current.body, current.visibility, &current.tags)
    {
        return Ok(current);
    }
    save(db, who, &next, next.status).await
}

/// Publishes the article (a draft, or an archived one again).
pub async fn publish(db: &impl GenericClient, who: &Principal, id: i64, expected: Option<i32>) -> Result<Article> {
    move_to(db, who, id, expected, ArticleStatus::Published).await
}

/// Archives the article: off the portal and out of default lists, history kept.
pub async fn archive(db: &impl GenericClient, who: &Principal, id: i64, expected: Option<i32>) -> Result<Article> {
    move_to(db, who, id, expected, ArticleStatus::Archived).await
}

/// A new version with `status`, unless the article already has it.
async fn move_to(
    db: &impl GenericClient,
    who: &Principal,
    id: i64,
    expected: Option<i32>,
    status: ArticleStatus,
) -> Result<Article> {
    let current = for_update(db, who, id, expected).await?;
    if current.status == status {
        return Ok(current);
    }
    save(db, who, &current, status).await
}

/// The article locked for a change, checked against the version the writer saw.
async fn for_update(db: &impl GenericClient, who: &Principal, id: i64, expected: Option<i32>) -> Result<Article> {
    get(db, who, id).await?;
    let row = db
        .query_one(
            &format!("SELECT {COLUMNS} FROM kb_articles WHERE org_id = $1 AND id = $2 FOR UPDATE"),
            &[&who.org_id, &id],
        )
        .await?;
    let current = from_row(&row);
    if expected.is_some_and(|v| v != current.version) {
        return Err(Error::Stale { current: current.version });
    }
    Ok(current)
}

/// Writes `next` with `status` as a new version.
async fn save(db: &impl GenericClient, who: &Principal, next: &Article, status: ArticleStatus) -> Result<Article> {
    let row = db
        .query_one(
            &format!(
                "UPDATE kb_articles SET title = $3, body = $4, status = $5, visibility = $6, tags = $7, author_id = $8,
                        version = version + 1, updated_at = now(),
                        published_at = CASE WHEN $5 = 'published' THEN coalesce(published_at, now()) ELSE published_at END
                 WHERE org_id = $1 AND id = $2
                 RETURNING {COLUMNS}"
            ),
            &[
                &who.org_id,
                &next.id,
                &next.title,
                &next.body,
                &status.as_str(),
                &next.visibility.as_str(),
                &next.tags,
                &who.user_id,
            ],
        )
        .await?;
    let article = from_row(&row);
    record(db, who, &article).await?;
    Ok(article)
}

/// Keeps the version and tells the retrieval index.
async fn record(db: &impl GenericClient, who: &Principal, a: &Article) -> Result<()> {
    db.execute(
        "INSERT INTO kb_article_versions (org_id, article_id, version, title, body, status, visibility, tags, author_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            &who.org_id,
            &a.id,
            &a.version,
            &a.title,
            &a.body,
            &a.status.as_str(),
            &a.visibility.as_str(),
            &a.tags,
            &a.author_id,
            &a.updated_at,
        ],
    )
    .await?;
    let notice = super::Notice { org_id: who.org_id, article_id: a.id };
    db.execute("SELECT pg_notify($1, $2)", &[&super::CHANNEL, &notice.encode()]).await?;
    Ok(())
}
