//! `GET /api/v1/health` in the shape operators script against: 200 with
//! `healthy`/`degraded`, 503 when the database cannot be reached. Also the documented
//! `/api/v1/metrics`.

use actix_web::get;
use std::time::{Duration, Instant};

use actix_web::{HttpRequest, HttpResponse, web};
use atum_runtime::{Metrics, metrics::metrics_handler};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;

/// Below this much free disk the instance reports itself degraded.
const LOW_DISK_GB: f64 = 1.0;

#[derive(Serialize, ToSchema)]
pub struct HealthReport {
    /// `healthy`, `degraded` (disk low or schema mismatch) or `unhealthy` (no database).
    pub status: &'static str,
    pub timestamp: String,
    pub version: &'static str,
    pub components: Components,
}

#[derive(Serialize, ToSchema)]
pub struct Components {
    pub database: DatabaseHealth,
    pub disk: DiskHealth,
    pub migrations: MigrationHealth,
    pub retrieval: RetrievalHealth,
}

#[derive(Serialize, ToSchema)]
pub struct RetrievalHealth {
    /// `ok` (full text, trigrams and embeddings) or `degraded` (no embedding model:
    /// full text and trigrams only).
    pub status: &'static str,
    /// The embedding model's id.
    pub model: Option<String>,
    /// Why it is degraded, and what to do.
    pub reason: Option<String>,
}

fn retrieval(state: &AppState) -> RetrievalHealth {
    RetrievalHealth {
        status: if state.retrieval.degraded.is_some() { "degraded" } else { "ok" },
        model: state.retrieval.model().map(str::to_owned),
        reason: state.retrieval.degraded.clone(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct DatabaseHealth {
    /// `connected` or `unreachable`.
    pub status: &'static str,
    pub latency_ms: Option<f64>,
}

#[derive(Serialize, ToSchema)]
pub struct DiskHealth {
    /// `ok` or `low`.
    pub status: &'static str,
    pub free_gb: Option<f64>,
}

#[derive(Serialize, ToSchema)]
pub struct MigrationHealth {
    pub current: Option<u32>,
    pub expected: u32,
}

/// Liveness and readiness for load balancers and scripts.
#[utoipa::path(tag = "meta",
    responses((status = 200, description = "Up (healthy or degraded)", body = HealthReport),
              (status = 503, description = "The database is unreachable", body = HealthReport)))]
#[get("/health")]
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    let expected = atum_core::schema::expected_version();
    let started = Instant::now();
    let database = tokio::time::timeout(Duration::from_secs(3), async {
        let conn = atum_runtime::db::connection(&state.pool).await.map_err(|e| e.to_string())?;
        atum_core::schema::current_version(&conn).await.map_err(|e| e.to_string())
    })
    .await
    .unwrap_or_else(|_| Err("timed out after 3s".into()));
    let latency_ms = (started.elapsed().as_secs_f64() * 10_000.0).round() / 10.0;

    let free_gb = nix::sys::statvfs::statvfs(".")
        .ok()
        .map(|s| (s.blocks_available() as f64 * s.fragment_size() as f64 / 1e8).round() / 10.0);
    let disk_ok = free_gb.is_some_and(|gb| gb >= LOW_DISK_GB);
    let disk = DiskHealth { status: if disk_ok { "ok" } else { "low" }, free_gb };
    let timestamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let version = env!("CARGO_PKG_VERSION");

    match database {
        Ok(current) => HttpResponse::Ok().json(HealthReport {
            status: if disk_ok && current == expected { "healthy" } else { "degraded" },
            timestamp,
            version,
            components: Components {
                database: DatabaseHealth { status: "connected", latency_ms: Some(latency_ms) },
                disk,
                migrations: MigrationHealth { current: Some(current), expected },
                retrieval: retrieval(&state),
            },
        }),
        Err(e) => {
            tracing::warn!(error = %e, "health check cannot reach the database");
            HttpResponse::ServiceUnavailable().json(HealthReport {
                status: "unhealthy",
                timestamp,
                version,
                components: Components {
                    database: DatabaseHealth { status: "unreachable", latency_ms: None },
                    disk,
                    migrations: MigrationHealth { current: None, expected },
                    retrieval: retrieval(&state),
                },
            })
        }
    }
}

/// Prometheus metrics: request counts and latency by route template and status, pool
/// connections, build info. OpenMetrics if the scraper asks for it, else text 0.0.4.
#[utoipa::path(tag = "meta",
    responses((status = 200, description = "Metrics in Prometheus text format", content_type = "text/plain", body = String)))]
#[get("/metrics")]
pub async fn metrics(req: HttpRequest, metrics: web::Data<Metrics>) -> HttpResponse {
    metrics_handler(req, metrics).await
}
