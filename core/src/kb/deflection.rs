//! Deflection: articles suggested to a customer as they write a new request, and what
//! they did with them. The portal asks for suggestions as the customer types
//! ([`suggest`]) and reports what happened in the visit (a *session*: a random id it
//! makes when the form opens) — suggestions shown, an article opened or marked
//! helpful, the request abandoned or submitted anyway ([`record`]).
//!
//! A session with suggestions shown that is abandoned and never submitted is a
//! deflected request: the customer found their answer, or at least did not need to
//! ask. The dashboard and `/metrics` count sessions when they end (abandoned or
//! submitted), see [`crate::dashboard`].

use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};

use crate::{
    error::{Error, FieldErrors, Result},
    ids::OrgId,
    orgs,
    retrieval::search::{self, Lexical},
};

/// Suggestions a customer is shown at most.
pub const SUGGESTIONS: usize = 5;
/// Sources the search returns before the internal ones and tickets are left out.
const SEARCHED: usize = 25;

/// An article suggested to a customer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Suggestion {
    pub id: i64,
    pub title: String,
    /// The matching passage as HTML, matches in `<mark>`.
    pub snippet: String,
    /// The fused search score: higher is better.
    pub score: f64,
}

/// What the customer typed, checked: `None` when it is too little to search.
pub fn question(q: &str) -> Result<Option<&str>> {
    let q = q.trim();
    if q.chars().filter(|c| c.is_alphanumeric()).count() < 3 {
        return Ok(None);
    }
    search::query(q).map(Some)
}

/// The published public articles of `org` that best answer `q`: the hybrid search
/// agents use (`lexical` and `dense` as [`search::fuse`] takes them), keeping only
/// what a customer may read.
pub async fn suggest(
    db: &impl GenericClient,
    org: OrgId,
    lexical: Lexical,
    dense: Vec<i64>,
) -> Result<Vec<Suggestion>> {
    let hits = search::fuse(db, org, lexical, dense, SEARCHED).await?;
    Ok(hits
        .into_iter()
        .filter(|h| h.source == "article" && h.visibility == "public")
        .take(SUGGESTIONS)
        .map(|h| Suggestion { id: h.id, title: h.title, snippet: h.snippet, score: h.score })
        .collect())
}

/// What happened in a visit of the request form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum DeflectionEvent {
    /// Suggestions were shown.
    Shown,
    /// A suggested article was opened (`article_id`).
    Opened,
    /// The customer marked an article helpful (`article_id`).
    Helpful,
    /// The form was left without sending the request.
    Abandoned,
    /// The request was sent anyway.
    Submitted,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDeflectionEvent {
    /// The visit's random id (16 to 64 letters, digits, `-` or `_`), made by the portal.
    #[schema(min_length = 16, max_length = 64, pattern = "^[A-Za-z0-9_-]{16,64}$")]
    pub session: String,
    pub event: DeflectionEvent,
    /// The article, for `opened` and `helpful`.
    pub article_id: Option<i64>,
}

/// Records one event of a visit to the request form of the organisation `slug`. The
/// same event again (a repeated beacon) changes nothing. An article must be one of
/// the organisation's published public articles.
pub async fn record(db: &impl GenericClient, slug: &str, e: &NewDeflectionEvent) -> Result<()> {
    let mut errors = FieldErrors::default();
    let valid_session = (16..=64).contains(&e.session.len())
        && e.session.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid_session {
        errors.add("session", "must be 16 to 64 letters, digits, - or _");
    }
    let needs_article = matches!(e.event, DeflectionEvent::Opened | DeflectionEvent::Helpful);
    match (needs_article, e.article_id) {
        (true, None) => errors.add("article_id", "names the article opened or found helpful"),
        (false, Some(_)) => errors.add("article_id", "is only for opened and helpful"),
        _ => {}
    }
    errors.finish()?;
    let org = orgs::find_by_slug(db, slug).await?;
    if let Some(article) = e.article_id {
        let public = db
            .query_opt(
                "SELECT 1 FROM kb_articles WHERE org_id = $1 AND id = $2 AND status = 'published'
                    AND visibility = 'public'",
                &[&org.id, &article],
            )
            .await?;
        if public.is_none() {
            return Err(Error::NotFound("article"));
        }
    }
    db.execute(
        "INSERT INTO kb_deflection_events (org_id, session, event, article_id) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING",
        &[&org.id, &e.session, &<&'static str>::from(e.event), &e.article_id],
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_little_typed_is_no_question_and_too_much_is_refused() {
        assert_eq!(question(" a? ").unwrap(), None);
        assert_eq!(question("vpn").unwrap(), Some("vpn"));
        assert!(question(&"x".repeat(search::MAX_QUERY + 1)).is_err());
    }
}
