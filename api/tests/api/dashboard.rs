//! The dashboard: live figures, series from snapshots, the 304 path, and tenancy.

use std::time::Duration;

use atum_core::dashboard::snapshots;
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread")]
async fn polling_the_dashboard_gets_304_until_something_changes() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let agent = app.person(&admin, "agent", "ann").await;
    app.ticket(&agent, "Printer on fire").await;
    {
        let mut conn = app.db.pool.get().await.unwrap();
        let now = atum_core::sla::db_now(&conn).await.unwrap();
        snapshots::take_all(&mut conn, Duration::from_secs(60), now).await.unwrap();
    }

    let first = app.get("/api/v1/dashboard?range=1h", Some(&agent.token)).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["live"]["open_total"], 1);
    assert_eq!(first.body["live"]["created"], 1);
    assert_eq!(first.body["resolution"], "raw");
    assert_eq!(first.body["series"].as_array().unwrap().len(), 1, "{}", first.body);
    assert_eq!(first.body["series"][0]["open_total"], 1);
    assert_eq!(first.header("cache-control"), Some("private, no-cache"));
    let etag = first.header("etag").expect("an ETag").to_owned();

    let again =
        app.send("GET", "/api/v1/dashboard?range=1h", Some(&agent.token), None, &[("If-None-Match", &etag)]).await;
    assert_eq!(again.status, 304, "{}", again.body);
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    assert_eq!(again.body, json!(""), "no body on 304");
    // Another range is another representation.
    let day =
        app.send("GET", "/api/v1/dashboard?range=24h", Some(&agent.token), None, &[("If-None-Match", &etag)]).await;
    assert_eq!(day.status, 200);

    // A ticket change makes the next poll a full answer with a new tag.
    app.ticket(&agent, "Second printer on fire").await;
    let changed =
        app.send("GET", "/api/v1/dashboard?range=1h", Some(&agent.token), None, &[("If-None-Match", &etag)]).await;
    assert_eq!(changed.status, 200);
    assert_ne!(changed.header("etag"), Some(etag.as_str()));
    assert_eq!(changed.body["live"]["open_total"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn staff_see_only_their_own_organisation_and_bad_ranges_are_refused() {
    let app = TestApp::spawn().await;
    let acme = app.org("acme").await;
    let agent = app.person(&acme, "agent", "ann").await;
    for i in 0..3 {
        app.ticket(&agent, &format!("acme ticket {i}")).await;
    }
    let globex = app.org("globex").await;
    {
        let mut conn = app.db.pool.get().await.unwrap();
        let now = atum_core::sla::db_now(&conn).await.unwrap();
        snapshots::take_all(&mut conn, Duration::from_secs(60), now).await.unwrap();
    }
    let theirs = app.get("/api/v1/dashboard", Some(&globex.token)).await;
    assert_eq!(theirs.status, 200);
    assert_eq!(theirs.body["live"]["open_total"], 0);
    assert_eq!(theirs.body["series"][0]["open_total"], 0, "{}", theirs.body);
    let names: Vec<&str> = theirs.body["live"]["agent_load"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["display_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["globex admin"]);
    // The same tag from another org's answer does not produce a 304 here.
    let acme_answer = app.get("/api/v1/dashboard", Some(&acme.token)).await;
    let tag = acme_answer.header("etag").unwrap().to_owned();
    let cross = app.send("GET", "/api/v1/dashboard", Some(&globex.token), None, &[("If-None-Match", &tag)]).await;
    assert_eq!(cross.status, 200);

    let customer = app.person(&acme, "customer", "cus").await;
    assert_eq!(app.get("/api/v1/dashboard", Some(&customer.token)).await.status, 403);
    assert_eq!(app.get("/api/v1/dashboard", None).await.status, 401);
    let bad = app.get("/api/v1/dashboard?range=2d", Some(&agent.token)).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body["error"]["fields"]["range"].is_string());
    let week = app.get("/api/v1/dashboard?range=7d", Some(&agent.token)).await;
    assert_eq!(week.body["resolution"], "hour");
}
