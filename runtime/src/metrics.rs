//! Prometheus metrics: a registry per binary and, for workers, the small listener
//! that serves it (the API mounts [`metrics_handler`] on its own server).

use std::{
    net::SocketAddr,
    sync::{Arc, RwLock},
};

use actix_web::{App, HttpResponse, HttpServer, dev::ServerHandle, web};
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge},
    registry::Registry,
};

use crate::config::Service;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ChannelLabel {
    pub channel: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    service: &'static str,
    version: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolLabel {
    pub state: &'static str,
}

/// The registry and the metrics every binary reports. Services register their own
/// metrics with [`Metrics::register`] during start-up.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<RwLock<Registry>>,
    pub ticks: Counter,
    pub notifications: Family<ChannelLabel, Counter>,
    pub listener_reconnects: Counter,
    pub pool_connections: Family<PoolLabel, Gauge>,
}

impl Metrics {
    pub fn new(service: Service) -> Self {
        let mut registry = Registry::with_prefix("atum");
        // A gauge fixed at 1 rather than OpenMetrics' `info` type, which Prometheus'
        // classic text parser (and promtool) do not know.
        let build: Family<BuildLabels, Gauge> = Family::default();
        build.get_or_create(&BuildLabels { service: service.binary(), version: env!("CARGO_PKG_VERSION") }).set(1);
        registry.register("build_info", "Build information of this binary", build);
        // A restart shows as a new value: alerts count changes to spot restart loops.
        let started: Gauge<f64, std::sync::atomic::AtomicU64> = Gauge::default();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        started.set(now.as_secs_f64());
        registry.register("process_start_time_seconds", "When this process started (Unix time)", started);
        let metrics = Metrics {
            ticks: Counter::default(),
            notifications: Family::default(),
            listener_reconnects: Counter::default(),
            pool_connections: Family::default(),
            registry: Arc::new(RwLock::new(registry)),
        };
        metrics.register("main_loop_ticks", "Main loop iterations that reached the database", metrics.ticks.clone());
        metrics.register("notifications_received", "NOTIFY messages received", metrics.notifications.clone());
        metrics.register(
            "listener_reconnects",
            "Times the LISTEN connection was re-established",
            metrics.listener_reconnects.clone(),
        );
        metrics.register("db_pool_connections", "Database pool connections by state", metrics.pool_connections.clone());
        metrics
    }

    pub fn register(&self, name: &str, help: &str, metric: impl prometheus_client::registry::Metric) {
        self.registry.write().unwrap_or_else(|e| e.into_inner()).register(name, help, metric);
    }

    pub fn observe_pool(&self, pool: &deadpool_postgres::Pool) {
        let status = pool.status();
        self.pool_connections.get_or_create(&PoolLabel { state: "open" }).set(status.size as i64);
        self.pool_connections.get_or_create(&PoolLabel { state: "idle" }).set(status.available as i64);
        self.pool_connections.get_or_create(&PoolLabel { state: "waiting" }).set(status.waiting as i64);
    }

    /// The registry in Prometheus' text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.read().unwrap_or_else(|e| e.into_inner());
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &registry);
        out
    }
}

/// `GET /metrics` for any actix app holding `web::Data<Metrics>`: OpenMetrics when the
/// scraper asks for it (Prometheus does), the classic text format otherwise (what
/// promtool, curl and older scrapers read).
pub async fn metrics_handler(req: actix_web::HttpRequest, metrics: web::Data<Metrics>) -> HttpResponse {
    let openmetrics = req
        .headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/openmetrics-text"));
    if openmetrics {
        HttpResponse::Ok()
            .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
            .body(metrics.encode())
    } else {
        HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(to_classic(&metrics.encode()))
    }
}

/// Rewrites prometheus-client's OpenMetrics text into the classic 0.0.4 format: a
/// counter's HELP and TYPE name its `_total` series, and there is no `# EOF`/`# UNIT`.
pub fn to_classic(openmetrics: &str) -> String {
    let counters: std::collections::HashSet<&str> =
        openmetrics.lines().filter_map(|l| l.strip_prefix("# TYPE ")?.strip_suffix(" counter")).collect();
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let meta = ["# HELP ", "# TYPE "].into_iter().find_map(|kind| Some((kind, line.strip_prefix(kind)?)));
        match meta {
            Some((kind, rest)) => {
                let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                let suffix = if counters.contains(name) { "_total" } else { "" };
                out.push_str(&format!("{kind}{name}{suffix} {tail}\n"));
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// Starts a one-thread HTTP listener serving `/metrics` and `/health` (200 while the
/// main loop makes progress, 503 otherwise) for a worker.
pub fn serve(
    listen: SocketAddr,
    metrics: Metrics,
    progress: crate::systemd::Progress,
    stale_after: std::time::Duration,
) -> std::io::Result<(ServerHandle, SocketAddr)> {
    let server = HttpServer::new(move || {
        let progress = progress.clone();
        App::new().app_data(web::Data::new(metrics.clone())).route("/metrics", web::get().to(metrics_handler)).route(
            "/health",
            web::get().to(move || {
                let alive = progress.is_alive(stale_after);
                async move {
                    if alive {
                        HttpResponse::Ok().json(serde_json::json!({"status": "healthy"}))
                    } else {
                        HttpResponse::ServiceUnavailable().json(serde_json::json!({"status": "stalled"}))
                    }
                }
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .bind(listen)?;
    let bound = server.addrs().first().copied().unwrap_or(listen);
    let server = server.run();
    let handle = server.handle();
    tokio::spawn(server);
    Ok((handle, bound))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_classic_format_names_counters_by_their_total_series() {
        let m = Metrics::new(Service::JobWorker);
        m.ticks.inc();
        let classic = to_classic(&m.encode());
        assert!(classic.contains("# TYPE atum_main_loop_ticks_total counter\n"), "{classic}");
        assert!(classic.contains("# HELP atum_main_loop_ticks_total "), "{classic}");
        assert!(classic.contains("atum_main_loop_ticks_total 1\n"), "{classic}");
        assert!(!classic.contains("# EOF"));
    }
}
