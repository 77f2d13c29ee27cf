//! The server: middleware, the route table under `/api/v1` (declared once, for actix
//! and for the test that holds it to the OpenAPI document), and what answers when no
//! route does.

use std::{net::SocketAddr, time::Duration};

use actix_web::{
    App, HttpRequest, HttpResponse, HttpServer,
    dev::Server,
    error::{PathError, QueryPayloadError},
    http::StatusCode,
    middleware::from_fn,
    web,
};
use atum_core::runtime::Metrics;

use crate::{
    AppState, account, auth, catalog, dashboard,
    error::{ApiError, Code},
    groups, health,
    http::metrics as http_metrics,
    jobs, locks, openapi, relationships, request_id, security, settings, sla, tickets, users,
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
            .configure(routes)
            .default_service(web::to(not_found))
    })
    .disable_signals()
    .shutdown_timeout(shutdown_timeout.as_secs())
    .bind(listen)?;
    let addr = server.addrs().first().copied().unwrap_or(listen);
    Ok((server.run(), addr))
}

/// Declares the routes under `/api/v1` once: they are registered with actix from this
/// list, and [`ROUTES`] lets a test check that each one is in the OpenAPI document.
macro_rules! api_v1 {
    ($($method:ident $path:literal => $handler:path),+ $(,)?) => {
        /// Every route under `/api/v1` as (method, path template).
        pub const ROUTES: &[(&str, &str)] = &[$((stringify!($method), $path)),+];

        fn api_v1_scope() -> actix_web::Scope {
            web::scope("/api/v1")$(.route($path, web::$method().to($handler)))+
        }
    };
}

api_v1! {
    get "/health" => health::health,
    get "/metrics" => health::metrics,
    get "/openapi.json" => openapi::openapi_json,
    post "/auth/login" => auth::login,
    post "/auth/mfa/verify" => auth::verify_mfa,
    post "/auth/logout" => auth::logout,
    get "/me" => auth::me,
    get "/auth/sessions" => account::list_sessions,
    delete "/auth/sessions/{id}" => account::revoke_session,
    post "/auth/sessions/revoke-others" => account::revoke_other_sessions,
    post "/auth/password" => account::change_password,
    post "/auth/password-reset" => account::request_password_reset,
    post "/auth/password-reset/confirm" => account::confirm_password_reset,
    post "/auth/verify-email" => account::verify_email,
    post "/auth/verify-email/resend" => account::resend_verification,
    get "/auth/mfa" => account::mfa_status,
    post "/auth/mfa/totp" => account::begin_totp,
    post "/auth/mfa/totp/confirm" => account::confirm_totp,
    post "/auth/mfa/totp/disable" => account::disable_totp,
    post "/portal/{org}/signup" => account::signup,
    get "/users" => users::list,
    post "/users" => users::create,
    get "/users/{id}" => users::get,
    patch "/users/{id}" => users::update,
    post "/users/{id}/unlock" => security::unlock_user,
    get "/admin/security/settings" => security::get_settings,
    put "/admin/security/settings" => security::put_settings,
    get "/admin/security/ip-allowlist" => security::get_allowlist,
    put "/admin/security/ip-allowlist" => security::put_allowlist,
    get "/admin/security/audit" => security::audit_log,
    get "/admin/settings" => settings::get,
    patch "/admin/settings" => settings::change,
    get "/tickets" => tickets::list,
    post "/tickets" => tickets::create,
    get "/tickets/{id}" => tickets::get,
    patch "/tickets/{id}" => tickets::update,
    get "/tickets/{id}/comments" => tickets::list_comments,
    post "/tickets/{id}/comments" => tickets::add_comment,
    get "/tickets/{id}/history" => tickets::history,
    get "/admin/jobs" => jobs::list,
    get "/admin/jobs/{id}" => jobs::get,
    post "/admin/jobs/{id}/retry" => jobs::retry,
    post "/admin/jobs/{id}/cancel" => jobs::cancel,
    get "/admin/groups" => groups::list,
    post "/admin/groups" => groups::create,
    put "/admin/groups/{id}" => groups::update,
    get "/admin/sla/calendars" => sla::list_calendars,
    post "/admin/sla/calendars" => sla::create_calendar,
    put "/admin/sla/calendars/{id}" => sla::update_calendar,
    get "/admin/sla/policies" => sla::list_policies,
    post "/admin/sla/policies" => sla::create_policy,
    put "/admin/sla/policies/{id}" => sla::update_policy,
    delete "/admin/sla/policies/{id}" => sla::delete_policy,
    get "/tickets/{id}/sla" => sla::ticket_sla,
    get "/dashboard" => dashboard::dashboard,
    get "/tickets/{id}/lock" => locks::get_lock,
    post "/tickets/{id}/lock" => locks::take_lock,
    delete "/tickets/{id}/lock" => locks::release_lock,
    get "/tickets/{id}/links" => relationships::list_links,
    post "/tickets/{id}/links" => relationships::add_link,
    delete "/tickets/{id}/links/{link_id}" => relationships::remove_link,
    post "/tickets/{id}/merge" => relationships::merge,
    get "/tickets/{id}/request" => catalog::ticket_request,
    get "/catalog" => catalog::list,
    get "/catalog/{id}" => catalog::get,
    post "/catalog/{id}/requests" => catalog::submit,
    post "/admin/catalog" => catalog::create,
    put "/admin/catalog/{id}" => catalog::update,
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    // The unversioned /metrics is where Prometheus looks by default.
    cfg.route("/metrics", web::get().to(health::metrics)).service(api_v1_scope());
}

fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::new(StatusCode::BAD_REQUEST, Code::InvalidQuery, err.to_string()).into()
}

/// A path segment that is not an id cannot name anything: 404, like a missing id.
fn path_error(_err: PathError, _req: &HttpRequest) -> actix_web::Error {
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

/// The methods [`ROUTES`] serves at `path` (upper case), in the order declared.
fn allowed_methods(path: &str) -> Vec<String> {
    if path == "/metrics" {
        return vec!["GET".into()];
    }
    let mut methods: Vec<String> = Vec::new();
    for (method, _) in ROUTES.iter().filter(|(_, t)| path_matches(t, path)) {
        let method = method.to_ascii_uppercase();
        if !methods.contains(&method) {
            methods.push(method);
        }
    }
    methods
}

/// The template of the route `path` belongs to (`/tickets/{id}`), without `/api/v1`.
/// Static segments win over `{…}`: `/auth/sessions/revoke-others` is not `{id}`.
pub(crate) fn route_template(path: &str) -> Option<&'static str> {
    if path == "/metrics" {
        return Some("/metrics");
    }
    ROUTES.iter().map(|(_, t)| *t).filter(|t| path_matches(t, path)).min_by_key(|t| t.matches('{').count())
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
