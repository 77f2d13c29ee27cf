//! The browser UI's files (`web/dist`, built by `npm run build` in `web/`), served when
//! `ATUM_WEB_DIR` names them. In production nginx serves them itself; the API does it
//! for `atum up` and for the browser tests, so one process is the whole desk.
//!
//! Hashed assets (`/assets/…`) never change under a name: cached for a year. The
//! pages — the landing page at `/`, the agent app at `/app/` (and the mailed links'
//! `/reset-password` and `/verify-email`) and the public help center at `/help/`,
//! each with every path under it (its own routes) — are
//! revalidated on each load, so a new build shows at once.
//! Nothing under `/api/` ever falls back to a page.

use std::path::{Path, PathBuf};

use actix_files::{Files, NamedFile};
use actix_web::{HttpRequest, HttpResponse, http::header, middleware::DefaultHeaders, web};
use atum_runtime::config::{ConfigError, Env};

/// The content security policy of the pages: only this origin's scripts, styles,
/// images and connections; no framing.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Where the built UI is.
#[derive(Debug, Clone)]
pub struct WebUi {
    dir: PathBuf,
}

impl WebUi {
    /// `ATUM_WEB_DIR`, if set: a directory holding a built UI (`index.html`,
    /// `app/index.html` and `help/index.html`).
    pub fn from_env(env: &Env<'_>) -> Result<Option<Self>, ConfigError> {
        let Some(dir) = env.get("ATUM_WEB_DIR") else { return Ok(None) };
        Self::at(PathBuf::from(dir))
            .map(Some)
            .map_err(|reason| ConfigError::Invalid { var: "ATUM_WEB_DIR".into(), reason })
    }

    pub fn at(dir: PathBuf) -> Result<Self, String> {
        for page in ["index.html", "app/index.html", "help/index.html"] {
            if !dir.join(page).is_file() {
                return Err(format!("has no {page}: build the UI with `npm ci && npm run build` in web/"));
            }
        }
        Ok(WebUi { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The UI's routes: the three pages and the assets.
    pub fn routes(&self, cfg: &mut web::ServiceConfig) {
        // No page sends its address on: `/reset-password?token=…` must not leak its
        // token in a `Referer`, and none of the others needs to tell anyone where it was.
        let pages = DefaultHeaders::new()
            .add((header::CACHE_CONTROL, "no-cache"))
            .add((header::CONTENT_SECURITY_POLICY, CSP))
            .add((header::REFERRER_POLICY, "no-referrer"));
        let landing = self.dir.join("index.html");
        let app = self.dir.join("app/index.html");
        let help = self.dir.join("help/index.html");
        cfg.service(
            web::scope("/assets")
                .wrap(DefaultHeaders::new().add((header::CACHE_CONTROL, "public, max-age=31536000, immutable")))
                .service(Files::new("", self.dir.join("assets")).use_etag(true).use_last_modified(true)),
        )
        .service(
            web::resource("/")
                .wrap(pages.clone())
                .route(web::get().to(page(landing.clone())))
                .route(web::head().to(page(landing))),
        )
        .service(
            // The mailed links' pages (a password to choose, an address to confirm) are
            // the app's, outside `/app/` so the links stay short and stable.
            web::resource(["/app", "/app/{tail:.*}", "/reset-password", "/verify-email"])
                .wrap(pages.clone())
                .route(web::get().to(page(app.clone())))
                .route(web::head().to(page(app))),
        )
        .service(
            web::resource("/help/{tail:.*}")
                .wrap(pages)
                .route(web::get().to(page(help.clone())))
                .route(web::head().to(page(help))),
        );
    }
}

fn page(path: PathBuf) -> impl Fn(HttpRequest) -> std::pin::Pin<Box<dyn Future<Output = HttpResponse>>> + Clone {
    move |req: HttpRequest| {
        let path = path.clone();
        Box::pin(async move {
            match NamedFile::open_async(&path).await {
                Ok(file) => file.use_etag(true).into_response(&req),
                Err(e) => {
                    tracing::error!(file = %path.display(), error = %e, "a page of the UI is missing");
                    HttpResponse::ServiceUnavailable().body("The web UI is not built.")
                }
            }
        })
    }
}
