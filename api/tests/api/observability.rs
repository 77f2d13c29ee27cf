use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread")]
async fn health_reports_the_database_disk_and_schema() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/v1/health", None).await;
    assert_eq!(res.status, 200);
    let b = &res.body;
    assert!(b["status"] == "healthy" || b["status"] == "degraded", "{b}");
    assert!(b["timestamp"].is_string() && b["version"].is_string());
    assert_eq!(b["components"]["database"]["status"], "connected");
    assert!(b["components"]["database"]["latency_ms"].as_f64().is_some());
    assert!(b["components"]["disk"]["free_gb"].as_f64().is_some());
    assert_eq!(b["components"]["migrations"]["current"], b["components"]["migrations"]["expected"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn health_is_503_when_the_database_is_unreachable() {
    let app = TestApp::spawn().await;
    app.db.drop_now().await;
    let res = app.get("/api/v1/health", None).await;
    assert_eq!(res.status, 503, "{}", res.body);
    assert_eq!(res.body["components"]["database"]["status"], "unreachable");
    // Routes that need the database say so with a 503, not a 500.
    let me = app.get("/api/v1/tickets", Some(&"a".repeat(64))).await;
    assert_eq!((me.status, me.code()), (503, "database_unavailable"));
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_pass_promtool_and_count_requests_by_route_template() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let t = app.ticket(&admin, "x").await;
    app.get(&format!("/api/v1/tickets/{}", t["id"]), Some(&admin.token)).await;
    let res = app.get("/api/v1/metrics", None).await;
    assert_eq!(res.status, 200);
    let text = res.body.as_str().expect("metrics are text").to_owned();
    assert!(text.contains("route=\"/api/v1/tickets/{id}\""), "{text}");
    assert!(!text.contains(&format!("/api/v1/tickets/{}\"", t["id"])), "raw ids leaked into labels");
    assert!(text.contains("atum_build_info{service=\"atum-api\""));
    assert!(text.contains("atum_http_request_duration_seconds_bucket"));

    atum_testing::service::assert_promtool_accepts(&text, "atum-api");
}
