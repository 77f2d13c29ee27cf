use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread")]
async fn every_error_has_the_same_json_shape() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let responses = [
        app.get("/api/v1/no-such-route", None).await,
        app.get("/api/v1/me", None).await,
        app.get("/api/v1/tickets/999999", Some(&admin.token)).await,
        app.post("/api/v1/tickets", Some(&admin.token), json!({"subject": ""})).await,
    ];
    for res in responses {
        let error = res.body["error"].as_object().unwrap_or_else(|| panic!("no error object: {}", res.body));
        assert!(error["code"].as_str().is_some_and(|c| c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_')));
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(error.keys().all(|k| ["code", "message", "fields"].contains(&k.as_str())), "{error:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_oversized_and_mistyped_bodies_are_client_errors() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let t = Some(admin.token.as_str());

    let broken = app.send("POST", "/api/v1/tickets", t, Some("{\"subject\": ".into()), &[]).await;
    assert_eq!((broken.status, broken.code()), (400, "invalid_json"));

    let unknown = app.post("/api/v1/tickets", t, json!({"subject": "x", "org_id": 1})).await;
    assert_eq!((unknown.status, unknown.code()), (400, "invalid_json"));
    assert!(unknown.body["error"]["message"].as_str().unwrap().contains("unknown field `org_id`"), "{}", unknown.body);

    let wrong_type = app.post("/api/v1/tickets", t, json!({"subject": 42})).await;
    assert_eq!(wrong_type.status, 400);

    let text = app
        .send(
            "POST",
            "/api/v1/tickets",
            t,
            Some("subject=x".into()),
            &[("Content-Type", "application/x-www-form-urlencoded")],
        )
        .await;
    assert_eq!((text.status, text.code()), (415, "unsupported_media_type"));

    let huge = json!({"subject": "big", "description": "x".repeat(atum_api::MAX_JSON_BYTES + 1)});
    let res = app.post("/api/v1/tickets", t, huge).await;
    assert_eq!((res.status, res.code()), (413, "payload_too_large"));

    let bad_id = app.get("/api/v1/tickets/not-a-number", t).await;
    assert_eq!(bad_id.status, 404);
    let bad_query = app.get("/api/v1/tickets?bogus=1", t).await;
    assert_eq!((bad_query.status, bad_query.code()), (400, "invalid_query"));
}

#[tokio::test(flavor = "multi_thread")]
async fn each_invalid_ticket_field_gets_its_own_message() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let res = app
        .post(
            "/api/v1/tickets",
            Some(&admin.token),
            json!({
                "subject": " ", "priority": "asap", "channel": "pigeon", "category": "",
                "tags": ["ok", "not ok"], "assignee_id": 987654, "requester_id": 987655,
                "description": "d".repeat(100_001)
            }),
        )
        .await;
    assert_eq!((res.status, res.code()), (422, "validation_failed"));
    let fields = res.body["error"]["fields"].as_object().unwrap();
    for field in ["subject", "priority", "channel", "category", "tags", "assignee_id", "requester_id", "description"] {
        assert!(fields.contains_key(field), "no message for {field}: {fields:?}");
    }
    assert_eq!(fields["priority"], "must be one of: low, normal, high, urgent");
    let count: i64 = app.db.client().await.query_one("SELECT count(*) FROM tickets", &[]).await.unwrap().get(0);
    assert_eq!(count, 0, "a rejected request wrote a row");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_known_route_with_the_wrong_method_answers_405_with_allow() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let t = Some(admin.token.as_str());
    for (method, path, allow) in [
        ("TRACE", "/api/v1/tickets", "GET, POST"),
        ("PUT", "/api/v1/tickets/1", "GET, PATCH"),
        ("HEAD", "/api/v1/tickets/1/lock", "GET, POST, DELETE"),
        ("DELETE", "/metrics", "GET"),
        // A static route shaped like an `{id}` one answers for itself.
        ("PATCH", "/api/v1/tickets/counts", "GET"),
        ("DELETE", "/api/v1/auth/sessions/revoke-others", "POST"),
    ] {
        let res = app.send(method, path, t, None, &[]).await;
        assert_eq!(res.status, 405, "{method} {path}");
        assert_eq!(res.header("allow"), Some(allow), "{method} {path}");
    }
    let missing = app.send("TRACE", "/api/v1/nothing-here", t, None, &[]).await;
    assert_eq!((missing.status, missing.code()), (404, "not_found"));
}
