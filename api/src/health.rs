//! `GET /api/v1/health` in the shape operators script against: 200 with
//! `healthy`/`degraded`, 503 when the database cannot be reached.

use std::time::{Duration, Instant};

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::AppState;

/// Below this much free disk the instance reports itself degraded.
const LOW_DISK_GB: f64 = 1.0;

pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    let expected = atum_core::schema::expected_version();
    let started = Instant::now();
    let database = tokio::time::timeout(Duration::from_secs(3), async {
        let conn = atum_core::db::connection(&state.pool).await.map_err(|e| e.to_string())?;
        atum_core::schema::current_version(&conn).await.map_err(|e| e.to_string())
    })
    .await
    .unwrap_or_else(|_| Err("timed out after 3s".into()));
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;

    let free_gb =
        nix::sys::statvfs::statvfs(".").ok().map(|s| s.blocks_available() as f64 * s.fragment_size() as f64 / 1e9);
    let disk_ok = free_gb.is_some_and(|gb| gb >= LOW_DISK_GB);
    let disk = json!({
        "status": if disk_ok { "ok" } else { "low" },
        "free_gb": free_gb.map(|gb| (gb * 10.0).round() / 10.0),
    });
    let timestamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let version = env!("CARGO_PKG_VERSION");

    match database {
        Ok(current) => {
            let healthy = disk_ok && current == expected;
            HttpResponse::Ok().json(json!({
                "status": if healthy { "healthy" } else { "degraded" },
                "timestamp": timestamp,
                "version": version,
                "components": {
                    "database": {"status": "connected", "latency_ms": (latency_ms * 10.0).round() / 10.0},
                    "disk": disk,
                    "migrations": {"current": current, "expected": expected},
                },
            }))
        }
        Err(e) => {
            tracing::warn!(error = %e, "health check cannot reach the database");
            HttpResponse::ServiceUnavailable().json(json!({
                "status": "unhealthy",
                "timestamp": timestamp,
                "version": version,
                "components": {
                    "database": {"status": "unreachable", "latency_ms": null},
                    "disk": disk,
                    "migrations": {"current": null, "expected": expected},
                },
            }))
        }
    }
}
