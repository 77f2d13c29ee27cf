//! Deflection: articles suggested to a customer as they write a request, and what they
//! did with them, counted on the dashboard.

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread")]
async fn a_customer_typing_a_request_is_shown_public_articles_only_even_with_a_typo() {
    let app = TestApp::spawn().await;
    let acme = app.org("acme").await;
    let globex = app.org("globex").await;
    let public =
        app.publish(&acme, "Resetting your VPN token", "Open the security page and press reset token.", "public").await;
    app.publish(&acme, "VPN token resets for staff", "Staff reset a VPN token in the admin console.", "internal").await;
    app.publish(&globex, "Globex VPN token help", "Globex customers reset VPN tokens here.", "public").await;
    app.index().await;

    let res = app.get("/api/v1/portal/acme/kb/suggest?q=how%20do%20I%20reset%20my%20vpn%20tokn", None).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let items = res.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "public, published and acme's only: {}", res.body);
    assert_eq!(items[0]["id"], public);
    assert!(items[0]["snippet"].as_str().unwrap().contains("<mark>"), "{}", res.body);

    let short = app.get("/api/v1/portal/acme/kb/suggest?q=vp", None).await;
    assert_eq!((short.status, short.body["items"].as_array().map(Vec::len)), (200, Some(0)), "{}", short.body);
    let long = app.get(&format!("/api/v1/portal/acme/kb/suggest?q={}", "a".repeat(1_001)), None).await;
    assert_eq!(long.status, 422, "{}", long.body);
    assert_eq!(app.get("/api/v1/portal/nobody/kb/suggest?q=vpn%20token", None).await.status, 404);
    assert_eq!(app.get("/api/v1/portal/acme/kb/suggest", None).await.status, 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_visit_shown_suggestions_and_left_without_a_request_counts_as_deflected_on_the_dashboard() {
    let app = TestApp::spawn().await;
    let acme = app.org("acme").await;
    let globex = app.org("globex").await;
    let article = app.publish(&acme, "Printer jams", "Open tray 3 and remove the paper.", "public").await;
    let internal = app.publish(&acme, "Printer internals", "Staff only.", "internal").await;
    let theirs = app.publish(&globex, "Globex printers", "Theirs.", "public").await;
    let event = |session: &str, event: &str, article: Option<i64>| json!({"session": session, "event": event, "article_id": article});
    let post = async |body: serde_json::Value| app.post("/api/v1/portal/acme/kb/deflection", None, body).await;
    let found = "found-it-0000000001";
    let asked = "asked-anyway-000002";
    for body in [
        event(found, "shown", None),
        event(found, "opened", Some(article)),
        event(found, "helpful", Some(article)),
        event(found, "abandoned", None),
        event(found, "abandoned", None),
        event(asked, "shown", None),
        event(asked, "submitted", None),
        // Left without ever being shown anything: not a deflection.
        event("never-shown-0000003", "abandoned", None),
    ] {
        let res = post(body.clone()).await;
        assert_eq!(res.status, 204, "{body}: {}", res.body);
    }
    assert_eq!(
        app.sql("SELECT count(*) FROM kb_deflection_events").await[0].get::<_, i64>(0),
        7,
        "a repeat is one event"
    );

    for (body, status, field) in [
        (event("short", "shown", None), 422, Some("session")),
        (event("spaces in it 000000", "shown", None), 422, Some("session")),
        (event(found, "opened", None), 422, Some("article_id")),
        (event(found, "shown", Some(article)), 422, Some("article_id")),
        (event(found, "opened", Some(internal)), 404, None),
        (event(found, "opened", Some(theirs)), 404, None),
    ] {
        let res = post(body.clone()).await;
        assert_eq!(res.status, status, "{body}: {}", res.body);
        if let Some(field) = field {
            assert!(res.body["error"]["fields"][field].is_string(), "{body}: {}", res.body);
        }
    }
    let res = app.post("/api/v1/portal/acme/kb/deflection", None, json!({"session": found, "event": "stayed"})).await;
    assert_eq!(res.status, 400, "{}", res.body);

    let board = app.get("/api/v1/dashboard?range=1h", Some(&acme.token)).await;
    assert_eq!(board.status, 200, "{}", board.body);
    let live = &board.body["live"];
    assert_eq!((&live["deflection_sessions"], &live["deflected"]), (&json!(2), &json!(1)), "{live}");
    let theirs = app.get("/api/v1/dashboard?range=1h", Some(&globex.token)).await.body;
    assert_eq!(theirs["live"]["deflection_sessions"], 0, "{theirs}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_help_centers_front_page_lists_the_articles_that_helped_customers_most_before_any_search() {
    let app = TestApp::spawn().await;
    let acme = app.org("acme").await;
    let globex = app.org("globex").await;
    let quiet = app.publish(&acme, "Quiet article", "Nobody has read this yet.", "public").await;
    let opened = app.publish(&acme, "Opened article", "Customers open this one.", "public").await;
    let helpful = app.publish(&acme, "Helpful article", "This one answers questions.", "public").await;
    app.publish(&acme, "Staff only", "Internal.", "internal").await;
    let theirs = app.publish(&globex, "Globex article", "Theirs.", "public").await;
    let event =
        |session: &str, event: &str, article: i64| json!({"session": session, "event": event, "article_id": article});
    for (org, body) in [
        ("acme", event("visit-one-000000001", "opened", opened)),
        ("acme", event("visit-two-000000002", "opened", opened)),
        ("acme", event("visit-three-0000003", "opened", helpful)),
        ("acme", event("visit-three-0000003", "helpful", helpful)),
        ("globex", event("visit-four-00000004", "helpful", theirs)),
    ] {
        let res = app.post(&format!("/api/v1/portal/{org}/kb/deflection"), None, body).await;
        assert!(res.status < 300, "{}", res.body);
    }
    let front = app.get("/api/v1/portal/acme/kb/search", None).await;
    assert_eq!(front.status, 200, "{}", front.body);
    let ids: Vec<i64> = front.body["items"].as_array().unwrap().iter().map(|h| h["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [helpful, opened, quiet], "helpful first, then opened, then the rest; public and acme's only");
    assert!(front.body["items"][0]["snippet"].is_null(), "no query, no snippet: {}", front.body);
    // A question ranks by relevance, not by use.
    let asked = app.get("/api/v1/portal/acme/kb/search?q=quiet", None).await;
    assert_eq!(asked.body["items"][0]["id"], quiet, "{}", asked.body);
}
