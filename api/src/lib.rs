//! atum-api: the JSON API under `/api/v1`, plus `/metrics`.
//!
//! The HTTP server runs inside the service runtime: it stops accepting on SIGTERM and
//! gives in-flight requests the shutdown deadline to finish. A probe task checks the
//! database every tick; that is the progress the systemd watchdog watches.

mod health;
mod http_metrics;

use std::time::Duration;

use actix_web::{App, HttpServer, middleware::from_fn, web};
use atum_core::runtime::{BoxError, Context, metrics::metrics_handler};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub pool: atum_core::db::DbPool,
}

pub async fn run(ctx: Context) -> Result<(), BoxError> {
    let state = AppState { pool: ctx.pool.clone() };
    let http = http_metrics::HttpMetrics::register(&ctx.metrics);
    let metrics = ctx.metrics.clone();

    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(state.clone()))
            .app_data(web::Data::new(metrics.clone()))
            .app_data(web::Data::new(http.clone()))
            .wrap(from_fn(http_metrics::record))
            .configure(routes)
    })
    .disable_signals()
    .shutdown_timeout(ctx.config.shutdown_timeout.as_secs())
    .bind(ctx.config.listen)?;
    for addr in server.addrs() {
        tracing::info!(listen = %addr, "serving the API");
    }
    let server = server.run();
    let handle = server.handle();

    ctx.tasks.spawn(probe(ctx.clone()));
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

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(metrics_handler))
        .service(web::scope("/api/v1").route("/health", web::get().to(health::health)));
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
