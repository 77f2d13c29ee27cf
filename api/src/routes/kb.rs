//! `/api/v1/kb/…` (staff) and `/api/v1/portal/{org}/kb/…` (everyone): the knowledge
//! base (`atum_core::kb`). Handlers are thin: one transaction each.

use actix_web::{HttpRequest, HttpResponse, get, http::header, patch, post, web};
use atum_core::auth::policy::Action;
use atum_core::kb::{self, deflection, portal, write};
use serde::{Deserialize, Serialize};

use crate::{
    AppState,
    auth::Credentials,
    error::{ApiError, ErrorBody},
    http::conditional,
    json::Json,
};

#[derive(Serialize, utoipa::ToSchema)]
pub struct ArticleList {
    pub items: Vec<kb::ArticleSummary>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PublicHits {
    pub items: Vec<portal::PublicHit>,
}

/// The article with its version as the ETag.
fn with_etag(status: actix_web::http::StatusCode, body: &impl Serialize, version: i32) -> HttpResponse {
    HttpResponse::build(status).insert_header((header::ETAG, format!("\"{version}\""))).json(body)
}

/// Articles of your organisation (staff): drafts and published ones unless `status`
/// says otherwise; with `q`, by relevance with a highlighted snippet.
#[utoipa::path(operation_id = "list_articles", tag = "kb", security(("bearer" = [])),
    params(kb::ListQuery),
    responses((status = 200, description = "Articles", body = ArticleList), (status = 403, description = "Staff only", body = ErrorBody), (status = 422, description = "Invalid filters", body = ErrorBody)))]
#[get("/kb/articles")]
pub async fn list(
    state: web::Data<AppState>,
    creds: Credentials,
    query: web::Query<kb::ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let items = state.in_tx(&creds, async |tx, who| Ok(kb::list(tx, &who, &query).await?)).await?;
    Ok(HttpResponse::Ok().json(ArticleList { items }))
}

/// Write an article (staff): a draft, or published at once with `publish`.
#[utoipa::path(operation_id = "create_article", tag = "kb", security(("bearer" = [])),
    request_body = write::NewArticle,
    responses((status = 409, description = "An attachment already on a message (`attachment_already_used`) or quarantined (`file_infected`)", body = crate::error::ErrorBody), (status = 404, description = "Not found (or another organisation's); an attachment id that is not your pending upload", body = crate::error::ErrorBody), (status = 201, description = "Created", body = kb::Article), (status = 403, description = "Staff only (or CSRF check failed)", body = ErrorBody), (status = 422, description = "Invalid fields", body = ErrorBody)))]
#[post("/kb/articles")]
pub async fn create(
    state: web::Data<AppState>,
    creds: Credentials,
    body: Json<write::NewArticle>,
) -> Result<HttpResponse, ApiError> {
    let a = state.in_tx(&creds, async |tx, who| Ok(write::create(tx, &who, &body).await?)).await?;
    Ok(with_etag(actix_web::http::StatusCode::CREATED, &a, a.version))
}

/// An article with its version history, newest first (staff).
#[utoipa::path(operation_id = "get_article", tag = "kb", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Article id")),
    responses((status = 200, description = "The article; its ETag is its version", body = kb::ArticleDetail), (status = 403, description = "Staff only", body = ErrorBody), (status = 404, description = "Not found (or another organisation's)", body = ErrorBody)))]
#[get("/kb/articles/{id}")]
pub async fn get(state: web::Data<AppState>, creds: Credentials, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let a = state.in_tx(&creds, async |tx, who| Ok(kb::detail(tx, &who, *id).await?)).await?;
    Ok(with_etag(actix_web::http::StatusCode::OK, &a, a.article.version))
}

/// Edit the title, body, visibility or tags (staff): a new version.
#[utoipa::path(operation_id = "update_article", tag = "kb", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Article id"),
           ("If-Match" = String, Header, pattern = r#"^(\*|(W/)?"[0-9]{1,9}")$"#, description = "The article's version from its ETag, e.g. \"3\"; `*` for whatever version it is at")),
    request_body = write::ArticleChange,
    responses((status = 409, description = "An attachment already on a message (`attachment_already_used`) or quarantined (`file_infected`)", body = crate::error::ErrorBody), (status = 200, description = "Saved", body = kb::Article), (status = 403, description = "Staff only (or CSRF check failed)", body = ErrorBody), (status = 404, description = "Not found (or another organisation's)", body = ErrorBody), (status = 412, description = "Changed by someone else since that version", body = ErrorBody), (status = 422, description = "Invalid fields", body = ErrorBody), (status = 428, description = "If-Match missing", body = ErrorBody)))]
#[patch("/kb/articles/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    creds: Credentials,
    req: HttpRequest,
    id: web::Path<i64>,
    body: Json<write::ArticleChange>,
) -> Result<HttpResponse, ApiError> {
    let a = state
        .in_tx(&creds, async |tx, who| {
            kb::get(tx, &who, *id).await?;
            let version = conditional::if_match(&req)?;
            Ok(write::edit(tx, &who, *id, version, &body).await?)
        })
        .await?;
    Ok(with_etag(actix_web::http::StatusCode::OK, &a, a.version))
}

/// Publish an article (staff): a draft, or an archived one again.
#[utoipa::path(operation_id = "publish_article", tag = "kb", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Article id"),
           ("If-Match" = String, Header, pattern = r#"^(\*|(W/)?"[0-9]{1,9}")$"#, description = "The article's version from its ETag, e.g. \"3\"; `*` for whatever version it is at")),
    responses((status = 200, description = "Published", body = kb::Article), (status = 403, description = "Staff only (or CSRF check failed)", body = ErrorBody), (status = 404, description = "Not found (or another organisation's)", body = ErrorBody), (status = 412, description = "Changed by someone else since that version", body = ErrorBody), (status = 428, description = "If-Match missing", body = ErrorBody)))]
#[post("/kb/articles/{id}/publish")]
pub async fn publish(
    state: web::Data<AppState>,
    creds: Credentials,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let a = state
        .in_tx(&creds, async |tx, who| {
            kb::get(tx, &who, *id).await?;
            Ok(write::publish(tx, &who, *id, conditional::if_match(&req)?).await?)
        })
        .await?;
    Ok(with_etag(actix_web::http::StatusCode::OK, &a, a.version))
}

/// Archive an article (staff): off the portal, history kept.
#[utoipa::path(operation_id = "archive_article", tag = "kb", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Article id"),
           ("If-Match" = String, Header, pattern = r#"^(\*|(W/)?"[0-9]{1,9}")$"#, description = "The article's version from its ETag, e.g. \"3\"; `*` for whatever version it is at")),
    responses((status = 200, description = "Archived", body = kb::Article), (status = 403, description = "Staff only (or CSRF check failed)", body = ErrorBody), (status = 404, description = "Not found (or another organisation's)", body = ErrorBody), (status = 412, description = "Changed by someone else since that version", body = ErrorBody), (status = 428, description = "If-Match missing", body = ErrorBody)))]
#[post("/kb/articles/{id}/archive")]
pub async fn archive(
    state: web::Data<AppState>,
    creds: Credentials,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let a = state
        .in_tx(&creds, async |tx, who| {
            kb::get(tx, &who, *id).await?;
            Ok(write::archive(tx, &who, *id, conditional::if_match(&req)?).await?)
        })
        .await?;
    Ok(with_etag(actix_web::http::StatusCode::OK, &a, a.version))
}

/// One version of an article as it was written (staff).
#[utoipa::path(operation_id = "get_article_version", tag = "kb", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Article id"), ("version" = i32, Path, description = "Version number")),
    responses((status = 200, description = "The version", body = kb::Version), (status = 403, description = "Staff only", body = ErrorBody), (status = 404, description = "Not found (or another organisation's)", body = ErrorBody)))]
#[get("/kb/articles/{id}/versions/{version}")]
pub async fn get_version(
    state: web::Data<AppState>,
    creds: Credentials,
    path: web::Path<(i64, i32)>,
) -> Result<HttpResponse, ApiError> {
    let (id, v) = *path;
    let found = state.in_tx(&creds, async |tx, who| Ok(kb::version(tx, &who, id, v).await?)).await?;
    Ok(HttpResponse::Ok().json(found))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DiffQuery {
    /// The older version.
    pub from: i32,
    /// The newer version.
    pub to: i32,
}

/// What changed between two versions: the title, and the body line by line (staff).
#[utoipa::path(operation_id = "diff_article", tag = "kb", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Article id"), DiffQuery),
    responses((status = 200, description = "The changes", body = kb::diff::Diff), (status = 403, description = "Staff only", body = ErrorBody), (status = 404, description = "No such article or version", body = ErrorBody)))]
#[get("/kb/articles/{id}/diff")]
pub async fn diff(
    state: web::Data<AppState>,
    creds: Credentials,
    id: web::Path<i64>,
    q: web::Query<DiffQuery>,
) -> Result<HttpResponse, ApiError> {
    let d = state.in_tx(&creds, async |tx, who| Ok(kb::diff::between(tx, &who, *id, q.from, q.to).await?)).await?;
    Ok(HttpResponse::Ok().json(d))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PortalSearch {
    /// What to look for (web-search syntax); without it, the latest articles.
    #[param(max_length = 200)]
    pub q: Option<String>,
}

/// An organisation's help center: its name and whether customers may sign up (no
/// sign-in; cacheable for a minute).
#[utoipa::path(operation_id = "portal_info", tag = "kb",
    params(("org" = String, Path, description = "The organisation's slug")),
    responses((status = 200, description = "The help center", body = portal::PortalInfo), (status = 404, description = "No such organisation", body = ErrorBody), (status = 429, description = "Too many requests (Retry-After)", body = ErrorBody)))]
#[get("/portal/{org}")]
pub async fn portal_info(
    state: web::Data<AppState>,
    req: HttpRequest,
    org: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn().await?;
    let tx = conn.transaction().await?;
    let info = portal::info(&tx, &org).await?;
    tx.commit().await?;
    conditional::json_cached(&req, &info, "public, max-age=60")
}

/// Search an organisation's public help articles (no sign-in; cacheable).
#[utoipa::path(operation_id = "portal_kb_search", tag = "kb",
    params(("org" = String, Path, description = "The organisation's slug"), PortalSearch),
    responses((status = 200, description = "Published public articles: with `q`, the most relevant first; without, the ones customers found helpful (then opened) most in the last 90 days, then the newest", body = PublicHits), (status = 404, description = "No such organisation", body = ErrorBody), (status = 422, description = "Query too long", body = ErrorBody), (status = 429, description = "Too many requests (Retry-After)", body = ErrorBody)))]
#[get("/portal/{org}/kb/search")]
pub async fn portal_search(
    state: web::Data<AppState>,
    req: HttpRequest,
    org: web::Path<String>,
    q: web::Query<PortalSearch>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn().await?;
    let tx = conn.transaction().await?;
    let items = portal::search(&tx, &org, q.q.as_deref(), 20).await?;
    tx.commit().await?;
    conditional::json_cached(&req, &PublicHits { items }, "public, max-age=60")
}

/// One public help article (no sign-in; cacheable).
#[utoipa::path(operation_id = "portal_kb_article", tag = "kb",
    params(("org" = String, Path, description = "The organisation's slug"), ("id" = i64, Path, description = "Article id")),
    responses((status = 200, description = "The article", body = portal::PublicArticle), (status = 404, description = "No such published public article", body = ErrorBody), (status = 429, description = "Too many requests (Retry-After)", body = ErrorBody)))]
#[get("/portal/{org}/kb/articles/{id}")]
pub async fn portal_article(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (org, id) = path.into_inner();
    let mut conn = state.conn().await?;
    let tx = conn.transaction().await?;
    let article = portal::article(&tx, &org, id).await?;
    tx.commit().await?;
    conditional::json_cached(&req, &article, "public, max-age=60")
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenderRequest {
    /// Markdown.
    #[schema(max_length = 100000)]
    pub body: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Rendered {
    /// The Markdown as the article would show it: sanitised HTML.
    pub html: String,
}

/// Render Markdown as an article would show it, for the editor's preview (staff).
#[utoipa::path(operation_id = "render_article", tag = "kb", security(("bearer" = [])),
    request_body = RenderRequest,
    responses((status = 200, description = "The HTML", body = Rendered), (status = 403, description = "Staff only (or CSRF check failed)", body = ErrorBody), (status = 422, description = "Too long", body = ErrorBody)))]
#[post("/kb/render")]
pub async fn render(
    state: web::Data<AppState>,
    creds: Credentials,
    body: Json<RenderRequest>,
) -> Result<HttpResponse, ApiError> {
    // A session like any staff route: the preview renders nothing for strangers.
    state.in_tx(&creds, async |_, who| Ok(who.require(Action::UseKnowledge)?)).await?;
    if body.body.chars().count() > write::MAX_BODY {
        return Err(atum_core::error::FieldErrors::single(
            "body",
            format!("must be at most {} characters", write::MAX_BODY),
        )
        .into());
    }
    Ok(HttpResponse::Ok().json(Rendered { html: atum_core::markdown::to_html(&body.body) }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// What to look for, as a person would type it.
    #[param(min_length = 1, max_length = 1000)]
    pub q: String,
    /// 1 to 50, default 10.
    #[param(pattern = r"^\s*[+]?0*([1-9]|[1-4][0-9]|50)\s*$")]
    pub limit: Option<String>,
    /// Only these retrievers, comma-separated: `full_text`, `trigram`, `dense`
    /// (default: all, fused).
    #[param(pattern = r"^\s*(full_text|trigram|dense)\s*(,\s*(full_text|trigram|dense)\s*)*$")]
    pub retrievers: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SearchHits {
    pub items: Vec<atum_core::retrieval::search::Hit>,
}

/// Search the knowledge base and solved tickets (staff): full text, typo-tolerant
/// trigram matching and, with the embedding model, sentence-vector similarity, fused
/// by reciprocal rank; the best passage of each source.
#[utoipa::path(operation_id = "search_kb", tag = "kb", security(("bearer" = [])),
    params(SearchQuery),
    responses((status = 200, description = "Ranked passages", body = SearchHits), (status = 403, description = "Staff only", body = ErrorBody), (status = 422, description = "Empty or too long", body = ErrorBody)))]
#[get("/kb/search")]
pub async fn search(
    state: web::Data<AppState>,
    creds: Credentials,
    q: web::Query<SearchQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = match q.limit.as_deref().map(str::trim) {
        None => 10,
        Some(raw) => match raw.trim_start_matches('+').parse::<usize>() {
            Ok(n) if (1..=50).contains(&n) => n,
            _ => return Err(atum_core::error::FieldErrors::single("limit", "must be a number from 1 to 50").into()),
        },
    };
    let items = state
        .in_tx(&creds, async |tx, who| {
            who.require(Action::UseKnowledge)?;
            let text = atum_core::retrieval::search::query(&q.q)?;
            let use_ = atum_core::retrieval::search::Retrievers::parse(q.retrievers.as_deref())?;
            // The question is embedded while the database ranks it by its words.
            let dense = async {
                if use_.dense {
                    state.retrieval.nearest(&state.pool, who.org_id, text, 40).await
                } else {
                    Ok(Vec::new())
                }
            };
            let (dense, lexical) =
                futures_util::future::join(dense, atum_core::retrieval::search::lexical(tx, who.org_id, text, use_))
                    .await;
            Ok(atum_core::retrieval::search::fuse(tx, who.org_id, lexical?, dense?, limit).await?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(SearchHits { items }))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct SuggestQuery {
    /// What the customer has typed so far; under three letters or digits, no suggestions.
    #[param(max_length = 1000)]
    pub q: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Suggestions {
    pub items: Vec<deflection::Suggestion>,
}

/// Articles for a customer writing a new request (no sign-in; cacheable): the
/// organisation's published public articles that best answer what they have typed so
/// far — the same hybrid search agents use (full text, typo-tolerant, and with the
/// model, sentence vectors), public articles only. Report what the customer does with
/// them to `POST /portal/{org}/kb/deflection`.
#[utoipa::path(operation_id = "portal_kb_suggest", tag = "kb",
    params(("org" = String, Path, description = "The organisation's slug"), SuggestQuery),
    responses((status = 200, description = "At most five articles, the best first", body = Suggestions),
        (status = 404, description = "No such organisation", body = ErrorBody),
        (status = 422, description = "Too long", body = ErrorBody),
        (status = 429, description = "Too many requests (Retry-After)", body = ErrorBody)))]
#[get("/portal/{org}/kb/suggest")]
pub async fn portal_suggest(
    state: web::Data<AppState>,
    req: HttpRequest,
    org: web::Path<String>,
    q: web::Query<SuggestQuery>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn().await?;
    let tx = conn.transaction().await?;
    let org = atum_core::orgs::find_by_slug(&tx, &org).await?;
    let items = match deflection::question(&q.q)? {
        None => Vec::new(),
        Some(text) => {
            let use_ = atum_core::retrieval::search::Retrievers::default();
            let dense = state.retrieval.nearest(&state.pool, org.id, text, 40);
            let lexical = atum_core::retrieval::search::lexical(&tx, org.id, text, use_);
            let (dense, lexical) = futures_util::future::join(dense, lexical).await;
            deflection::suggest(&tx, org.id, lexical?, dense?).await?
        }
    };
    tx.commit().await?;
    conditional::json_cached(&req, &Suggestions { items }, "public, max-age=60")
}

/// Report what a customer did with the suggested articles in one visit of the request
/// form (no sign-in): `shown`, `opened` or `helpful` (with `article_id`), `abandoned`
/// (left without sending) or `submitted`. A visit shown suggestions and abandoned
/// without a request is a deflected request, counted on the dashboard and in
/// `/metrics`. Reporting the same event of a visit again changes nothing.
#[utoipa::path(operation_id = "portal_kb_deflection", tag = "kb",
    params(("org" = String, Path, description = "The organisation's slug")), request_body = deflection::NewDeflectionEvent,
    responses((status = 204, description = "Recorded"),
        (status = 404, description = "No such organisation, or no such public article", body = ErrorBody),
        (status = 422, description = "A malformed session, or an article where none belongs (or none where one does)", body = ErrorBody),
        (status = 429, description = "Too many requests (Retry-After)", body = ErrorBody)))]
#[post("/portal/{org}/kb/deflection")]
pub async fn portal_deflection(
    state: web::Data<AppState>,
    org: web::Path<String>,
    body: Json<deflection::NewDeflectionEvent>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn().await?;
    let tx = conn.transaction().await?;
    deflection::record(&tx, &org, &body).await?;
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
