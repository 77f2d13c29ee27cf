//! Request counts and latencies by route pattern (never by raw path, which would
//! explode the label space with ticket ids).

use std::time::Instant;

use actix_web::{
    Error,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
    web,
};
use atum_runtime::Metrics;
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, histogram::Histogram},
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    route: String,
}

#[derive(Clone)]
pub struct HttpMetrics {
    requests: Family<RequestLabels, Counter>,
    duration: Family<RouteLabels, Histogram>,
}

impl HttpMetrics {
    pub fn register(metrics: &Metrics) -> Self {
        let http = HttpMetrics {
            requests: Family::default(),
            duration: Family::new_with_constructor(|| {
                Histogram::new([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5])
            }),
        };
        metrics.register("http_requests", "HTTP requests by method, route and status", http.requests.clone());
        metrics.register("http_request_duration_seconds", "HTTP request latency by route", http.duration.clone());
        http
    }
}

pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = req.method().to_string();
    let http = req.app_data::<web::Data<HttpMetrics>>().cloned();
    let res = next.call(req).await?;
    if let Some(http) = http {
        let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".into());
        http.duration.get_or_create(&RouteLabels { route: route.clone() }).observe(started.elapsed().as_secs_f64());
        http.requests.get_or_create(&RequestLabels { method, route, status: res.status().as_u16() }).inc();
    }
    Ok(res)
}
