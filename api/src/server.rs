//! The server: middleware, the app's routes (the table under `/api/v1` is
//! `routes::api_v1`), and what answers when no route does.

use std::{net::SocketAddr, time::Duration};

use actix_web::{
    App, HttpRequest, HttpResponse, HttpServer,
    dev::Server,
    error::{PathError, QueryPayloadError},
    http::StatusCode,
    middleware::from_fn,
    web,
};
use atum_runtime::{Metrics, metrics::metrics_handler};

use crate::{
    AppState,
    error::{ApiError, Code},
    http::metrics as http_metrics,
    openapi, request_id,
    routes::{api_v1_routes, document::Document},
    security,
};

/// Binds the API (port 0 picks a free one) and returns the server to be awaited.
pub fn start(
    state: AppState,
    metrics: Metrics,
    listen: SocketAddr,
    shutdown_timeout: Duration,
) -> std::io::Result<(Server, SocketAddr)> {
    let http = http_metrics::HttpMetrics::register(&metrics);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(state.clone()))
            .app_data(web::Data::new(metrics.clone()))
            .app_data(web::Data::new(http.clone()))
            .app_data(web::QueryConfig::default().error_handler(query_error))
            .app_data(web::PathConfig::default().error_handler(path_error))
            .wrap(from_fn(security::limit_auth_routes))
            .wrap(from_fn(http_metrics::record))
            .wrap(from_fn(request_id::span))
            .configure(|cfg| routes(cfg, state.web.as_deref()))
            .default_service(web::to(not_found))
    })
    .disable_signals()
    .shutdown_timeout(shutdown_timeout.as_secs())
    .bind(listen)?;
    let addr = server.addrs().first().copied().unwrap_or(listen);
    Ok((server.run(), addr))
}

/// The whole app's routes: `/api/v1`, the unversioned `/metrics` where Prometheus
/// looks by default (left out of the document: it is `/api/v1/metrics` again), and the
/// browser UI when this process serves it.
pub fn routes(cfg: &mut web::ServiceConfig, ui: Option<&crate::web_ui::WebUi>) {
    cfg.route("/metrics", web::get().to(metrics_handler));
    cfg.app_data(web::Data::new(Document(openapi::document)));
    cfg.service(web::scope("/api/v1").configure(api_v1_routes));
    if let Some(ui) = ui {
        ui.routes(cfg);
    }
}

fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::new(StatusCode::BAD_REQUEST, Code::InvalidQuery, err.to_string()).into()
}

/// A path segment that is not an id cannot name anything: 404, like a missing id.
///
/// Except where a static route shares its shape with a `{id}` one: to the router,
/// `PATCH /tickets/counts` is `PATCH /tickets/{id}` with a bad id, but the resource
/// it names is `/tickets/counts`, which does not answer PATCH: 405 with `Allow`.
fn path_error(_err: PathError, req: &HttpRequest) -> actix_web::Error {
    let allowed = allowed_methods(req.path());
    if !allowed.is_empty() && !allowed.iter().any(|m| m == req.method().as_str()) {
        return actix_web::error::InternalError::from_response("method not allowed", method_not_allowed(&allowed))
            .into();
    }
    ApiError::new(StatusCode::NOT_FOUND, Code::NotFound, "no such resource").into()
}

/// What actix answers when no route takes a request: 405 with `Allow` when the path
/// is a route's and only the method is wrong (RFC 9110), 404 otherwise.
async fn not_found(req: HttpRequest) -> HttpResponse {
    let allowed = allowed_methods(req.path());
    if allowed.is_empty() {
        return actix_web::ResponseError::error_response(&ApiError::new(
            StatusCode::NOT_FOUND,
            Code::NotFound,
            "no such route",
        ));
    }
    method_not_allowed(&allowed)
}

/// 405 with `Allow` naming `allowed`.
fn method_not_allowed(allowed: &[String]) -> HttpResponse {
    let allow = allowed.join(", ");
    let mut res = actix_web::ResponseError::error_response(&ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        Code::MethodNotAllowed,
        format!("this route answers {allow}"),
    ));
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&allow) {
        res.headers_mut().insert(actix_web::http::header::ALLOW, value);
    }
    res
}

/// The methods the route table serves at `path`'s resource (upper case, reads before
/// writes): the most specific template's, so `/tickets/counts` is not also `{id}`.
fn allowed_methods(path: &str) -> Vec<String> {
    if path == "/metrics" {
        return vec!["GET".into()];
    }
    let Some(template) = route_template(path) else { return Vec::new() };
    let served: Vec<&str> = openapi::routes().iter().filter(|(_, t)| t == template).map(|(m, _)| m.as_str()).collect();
    ["get", "post", "put", "patch", "delete"]
        .into_iter()
        .filter(|m| served.contains(m))
        .map(str::to_ascii_uppercase)
        .collect()
}

/// The template of the route `path` belongs to (`/tickets/{id}`), without `/api/v1`.
/// Static segments win over `{…}`: `/auth/sessions/revoke-others` is not `{id}`.
pub(crate) fn route_template(path: &str) -> Option<&'static str> {
    if path == "/metrics" {
        return Some("/metrics");
    }
    openapi::routes()
        .iter()
        .map(|(_, t)| t.as_str())
        .filter(|t| path_matches(t, path))
        .min_by_key(|t| t.matches('{').count())
}

fn path_matches(template: &str, path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/api/v1") else { return false };
    let (mut parts, mut segments) = (template.split('/'), rest.split('/'));
    loop {
        match (parts.next(), segments.next()) {
            (None, None) => return true,
            (Some(t), Some(s)) if t == s || (t.starts_with('{') && !s.is_empty()) => {}
            _ => return false,
        }
    }
}
