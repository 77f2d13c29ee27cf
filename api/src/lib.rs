//! atum-api: the JSON API under `/api/v1`, plus `/metrics`.
//!
//! The HTTP server runs inside the service runtime: it stops accepting on SIGTERM and
//! gives in-flight requests the shutdown deadline to finish. A probe task checks the
//! database every tick; that is the progress the systemd watchdog watches. Handlers
//! are thin: each opens one transaction, authenticates inside it, calls `atum-core`
//! and commits.

mod account;
mod auth;
mod catalog;
pub mod client_ip;
mod dashboard;
pub mod error;
mod groups;
mod health;
mod http_metrics;
mod jobs;
pub mod json;
pub mod openapi;
mod origin;
pub mod rate_limit;
mod request_id;
mod security;
mod settings;
mod sla;
mod tickets;
mod users;
mod workflow;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use actix_web::{
    App, HttpRequest, HttpResponse, HttpServer,
    dev::Server,
    error::{PathError, QueryPayloadError},
    http::StatusCode,
    middleware::from_fn,
    web,
};
use atum_core::{
    auth::{lockout::LoginPolicy, secret_key::SecretKey, session::SessionPolicy},
    config::{ConfigError, Env},
    error::Error,
    runtime::{BoxError, Context, Metrics},
};
use error::{ApiError, Code};

/// Largest JSON body accepted (a ticket description is at most 100,000 characters).
pub const MAX_JSON_BYTES: usize = 512 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub pool: atum_core::db::DbPool,
    pub sessions: SessionPolicy,
    pub security: Arc<Security>,
}

/// Account-security settings and the API's rate limiters.
#[derive(Debug)]
pub struct Security {
    pub login: LoginPolicy,
    /// Seals TOTP secrets; without it two-factor enrolment answers `mfa_not_configured`.
    pub key: Option<SecretKey>,
    pub proxies: client_ip::TrustedProxies,
    /// Every request to /api/v1/auth/* and /api/v1/portal/*, per client address.
    pub per_ip: rate_limit::RateLimiter,
    /// Sign-in, reset and second-factor attempts, per account (email or challenge).
    pub per_account: rate_limit::RateLimiter,
    /// Where users reach the desk; the base of links in emails.
    pub public_url: String,
}

impl Default for Security {
    fn default() -> Self {
        Security {
            login: LoginPolicy::default(),
            key: None,
            proxies: Default::default(),
            per_ip: rate_limit::RateLimiter::new(60, 20),
            per_account: rate_limit::RateLimiter::new(10, 5),
            public_url: "http://localhost:8080".into(),
        }
    }
}

impl Security {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let rate = |var: &str, default: u32| -> Result<u32, ConfigError> {
            let v: u32 = env.parse_or(var, default, "a number of requests")?;
            if v == 0 {
                Err(ConfigError::Invalid { var: var.into(), reason: "must be at least 1".into() })
            } else {
                Ok(v)
            }
        };
        let public_url = env.get("ATUM_PUBLIC_URL").unwrap_or_else(|| "http://localhost:8080".into());
        if !(public_url.starts_with("https://") || public_url.starts_with("http://")) {
            return Err(ConfigError::Invalid {
                var: "ATUM_PUBLIC_URL".into(),
                reason: "expected the desk's address, such as https://desk.example.com".into(),
            });
        }
        Ok(Security {
            login: LoginPolicy::from_env(env)?,
            key: SecretKey::from_env(env)?,
            proxies: client_ip::TrustedProxies::from_env(env)?,
            per_ip: rate_limit::RateLimiter::new(
                rate("ATUM_AUTH_RATE_PER_MINUTE", 60)?,
                rate("ATUM_AUTH_RATE_BURST", 20)?,
            ),
            per_account: rate_limit::RateLimiter::new(
                rate("ATUM_AUTH_ACCOUNT_RATE_PER_MINUTE", 10)?,
                rate("ATUM_AUTH_ACCOUNT_RATE_BURST", 5)?,
            ),
            public_url,
        })
    }
}

impl AppState {
    pub async fn conn(&self) -> Result<atum_core::db::Connection, ApiError> {
        Ok(atum_core::db::connection(&self.pool).await?)
    }

    /// The shape of every authenticated request: one transaction, the principal
    /// checked inside it, `work` run in it, commit only if `work` succeeded. A user who
    /// still has to enrol a second factor their org requires gets 403 here.
    pub async fn in_tx<T>(
        &self,
        creds: &auth::Credentials,
        work: impl AsyncFnOnce(&atum_core::db::Transaction<'_>, atum_core::auth::Principal) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        self.in_tx_enrolling(creds, async |tx, who| {
            if who.must_enrol_mfa {
                return Err(Error::MfaEnrolmentRequired.into());
            }
            work(tx, who).await
        })
        .await
    }

    /// [`in_tx`](Self::in_tx) for the few routes a user must reach before enrolling a
    /// required second factor: enrolment itself, `/me`, sign-out.
    pub async fn in_tx_enrolling<T>(
        &self,
        creds: &auth::Credentials,
        work: impl AsyncFnOnce(&atum_core::db::Transaction<'_>, atum_core::auth::Principal) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await?;
        let who = creds.principal(&tx, self).await?;
        let out = work(&tx, who).await?;
        tx.commit().await?;
        Ok(out)
    }
}

/// The API's own settings, read once at start with the shared ones.
pub struct Settings {
    pub security: Security,
    pub sessions: SessionPolicy,
    pub retention: atum_core::auth::housekeeping::Retention,
}

impl Settings {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        Ok(Settings {
            security: Security::from_env(env)?,
            sessions: SessionPolicy::from_env(env)?,
            retention: atum_core::auth::housekeeping::Retention::from_env(env)?,
        })
    }
}

pub async fn run(ctx: Context, settings: Settings) -> Result<(), BoxError> {
    let Settings { security, sessions, retention } = settings;
    if security.key.is_none() {
        tracing::warn!("ATUM_SECRET_KEY_FILE is not set: two-factor enrolment is unavailable");
    }
    let state = AppState { pool: ctx.pool.clone(), sessions, security: Arc::new(security) };
    let (server, addr) = start(state, ctx.metrics.clone(), ctx.config.listen, ctx.config.shutdown_timeout)?;
    tracing::info!(listen = %addr, "serving the API");
    // Bound: connections are accepted (and queued until the server runs) from now on.
    ctx.ready();
    let handle = server.handle();
    ctx.tasks.spawn(probe(ctx.clone()));
    ctx.tasks.spawn(housekeeping(ctx.clone(), retention));
    tokio::spawn({
        let shutdown = ctx.shutdown.clone();
        async move {
            shutdown.cancelled().await;
            // Graceful: stop accepting, let in-flight requests finish.
            handle.stop(true).await;
        }
    });
    server.await?;
    Ok(())
}

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
    get "/tickets/{id}/lock" => workflow::get_lock,
    post "/tickets/{id}/lock" => workflow::take_lock,
    delete "/tickets/{id}/lock" => workflow::release_lock,
    get "/tickets/{id}/links" => workflow::list_links,
    post "/tickets/{id}/links" => workflow::add_link,
    delete "/tickets/{id}/links/{link_id}" => workflow::remove_link,
    post "/tickets/{id}/merge" => workflow::merge,
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

/// Prunes spent sign-in rows (attempts past retention, dead challenges, tokens and
/// sessions) once an hour. Several API processes may do it at once: the deletes are
/// idempotent.
async fn housekeeping(ctx: Context, retention: atum_core::auth::housekeeping::Retention) {
    let mut ticker =
        tokio::time::interval_at(tokio::time::Instant::now() + Duration::from_secs(60), Duration::from_secs(3600));
    loop {
        tokio::select! {
            _ = ctx.shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let run = async {
            let conn = atum_core::db::connection(&ctx.pool).await.map_err(|e| e.to_string())?;
            atum_core::auth::housekeeping::prune(&conn, retention).await.map_err(|e| e.to_string())
        };
        match run.await {
            Ok(pruned) => tracing::info!(?pruned, "pruned spent sign-in records"),
            Err(e) => tracing::warn!(error = %e, "pruning sign-in records failed"),
        }
    }
}

/// Ticks progress while the database answers, so a wedged or cut-off API stops
/// feeding the watchdog.
async fn probe(ctx: Context) {
    let mut ticker = tokio::time::interval(ctx.tick_interval());
    loop {
        tokio::select! {
            _ = ctx.shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let check = async {
            let conn = atum_core::db::connection(&ctx.pool).await.map_err(|e| e.to_string())?;
            conn.simple_query("SELECT 1").await.map_err(|e| e.to_string())
        };
        match tokio::time::timeout(Duration::from_secs(5), check).await {
            Ok(Ok(_)) => {
                ctx.metrics.ticks.inc();
                ctx.progress.tick();
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "database check failed"),
            Err(_) => tracing::warn!("database check timed out after 5s"),
        }
        ctx.metrics.observe_pool(&ctx.pool);
    }
}
