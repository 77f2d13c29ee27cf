use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread")]
async fn a_correct_password_opens_a_session_that_me_accepts() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let res =
        app.post("/api/v1/auth/login", None, json!({"email": "ADMIN@acme.test", "password": admin.password})).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let token = res.body["token"].as_str().unwrap();
    assert_eq!(token.len(), 64);
    let cookie = res.header("set-cookie").expect("a session cookie");
    for attr in ["atum_session=", "HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attr), "cookie lacks {attr}: {cookie}");
    }
    let me = app.get("/api/v1/me", Some(token)).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["user"]["email"], "admin@acme.test");
    assert_eq!(me.body["user"]["role"], "admin");
    assert!(me.body["user"].get("password_hash").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let app = TestApp::spawn().await;
    app.org("acme").await;
    let wrong =
        app.post("/api/v1/auth/login", None, json!({"email": "admin@acme.test", "password": "nope-nope-nope"})).await;
    let unknown =
        app.post("/api/v1/auth/login", None, json!({"email": "ghost@acme.test", "password": "nope-nope-nope"})).await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.body, unknown.body);
    assert_eq!(wrong.code(), "invalid_credentials");
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_without_a_valid_session_are_unauthenticated() {
    let app = TestApp::spawn().await;
    for token in [None, Some("garbage"), Some(&"0".repeat(64)[..])] {
        let res = app.get("/api/v1/me", token).await;
        assert_eq!(res.status, 401, "{token:?}");
        assert_eq!(res.code(), "unauthenticated");
        assert_eq!(res.header("www-authenticate"), Some("Bearer"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn logout_revokes_the_session() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let res = app.post("/api/v1/auth/logout", Some(&admin.token), json!({})).await;
    assert_eq!(res.status, 204);
    assert_eq!(app.get("/api/v1/me", Some(&admin.token)).await.status, 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_and_idle_sessions_are_refused() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let client = app.db.client().await;
    let expiring = app.login(&admin.email, &admin.password).await;
    let idle = app.login(&admin.email, &admin.password).await;
    let hash = |t: &str| atum_core::auth::session::hash_token(t);
    client
        .execute(
            "UPDATE sessions SET created_at = now() - interval '2 days', expires_at = now() - interval '1 second' WHERE token_hash = $1",
            &[&hash(&expiring)],
        )
        .await
        .unwrap();
    client
        .execute("UPDATE sessions SET last_seen_at = now() - interval '3 hours' WHERE token_hash = $1", &[&hash(&idle)])
        .await
        .unwrap();
    assert_eq!(app.get("/api/v1/me", Some(&expiring)).await.status, 401);
    assert_eq!(app.get("/api/v1/me", Some(&idle)).await.status, 401);
    assert_eq!(app.get("/api/v1/me", Some(&admin.token)).await.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn deactivating_a_user_revokes_their_sessions_and_blocks_login() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let agent = app.person(&admin, "agent", "ada").await;
    assert_eq!(app.get("/api/v1/me", Some(&agent.token)).await.status, 200);
    let res =
        app.patch(&format!("/api/v1/users/{}", agent.id), Some(&admin.token), json!({"is_active": false}), None).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(app.get("/api/v1/me", Some(&agent.token)).await.status, 401);
    let again = app.post("/api/v1/auth/login", None, json!({"email": agent.email, "password": agent.password})).await;
    assert_eq!(again.status, 401);
    assert_eq!(again.code(), "invalid_credentials");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cookie_session_needs_a_same_origin_header_to_change_anything() {
    let app = TestApp::spawn_with(|s| s.public_url = "https://desk.example.test/".into()).await;
    let admin = app.org("acme").await;
    let cookie = format!("atum_session={}", admin.token);
    let read = app.send("GET", "/api/v1/me", None, None, &[("Cookie", &cookie)]).await;
    assert_eq!(read.status, 200, "{}", read.body);

    let body = Some(json!({"subject": "From the browser"}).to_string());
    let forged = app.send("POST", "/api/v1/tickets", None, body.clone(), &[("Cookie", &cookie)]).await;
    assert_eq!(forged.status, 403);
    assert_eq!(forged.code(), "csrf_failed");
    let cross = app
        .send("POST", "/api/v1/tickets", None, body.clone(), &[("Cookie", &cookie), ("Origin", "https://evil.example")])
        .await;
    assert_eq!(cross.status, 403);
    let same = app
        .send(
            "POST",
            "/api/v1/tickets",
            None,
            body.clone(),
            &[("Cookie", &cookie), ("Origin", "https://desk.example.test")],
        )
        .await;
    assert_eq!(same.status, 201, "{}", same.body);
    let referer = [("Cookie", cookie.as_str()), ("Referer", "https://desk.example.test/tickets/1")];
    assert_eq!(app.send("POST", "/api/v1/tickets", None, body, &referer).await.status, 201);
}

#[tokio::test(flavor = "multi_thread")]
async fn host_headers_a_client_writes_cannot_make_another_site_look_like_the_desk() {
    let app = TestApp::spawn_with(|s| s.public_url = "https://desk.example.test".into()).await;
    let admin = app.org("acme").await;
    let cookie = format!("atum_session={}", admin.token);
    let body = Some(json!({"subject": "Forged"}).to_string());
    // The attacker's page at evil.example, with each header that could name a host
    // set to match it: none is believed from a client that is not a trusted proxy.
    for forged in [("Host", "evil.example"), ("X-Forwarded-Host", "evil.example"), ("Forwarded", "host=evil.example")] {
        let headers = [("Cookie", cookie.as_str()), ("Origin", "http://evil.example"), forged];
        let res = app.send("POST", "/api/v1/tickets", None, body.clone(), &headers).await;
        assert_eq!((res.status, res.code()), (403, "csrf_failed"), "{forged:?}: {}", res.body);
    }
    assert_eq!(app.sql("SELECT 1 FROM tickets").await.len(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trusted_proxy_may_name_the_host_the_browser_used() {
    // The proxy in front (here: the test, on loopback) reaches the desk under a second name.
    let app = TestApp::spawn_with(|s| {
        s.public_url = "https://desk.example.test".into();
        s.proxies = atum_api::client_ip::TrustedProxies::parse("127.0.0.1").unwrap();
    })
    .await;
    let admin = app.org("acme").await;
    let cookie = format!("atum_session={}", admin.token);
    let body = Some(json!({"subject": "Via the proxy"}).to_string());
    let proxied = [
        ("Cookie", cookie.as_str()),
        ("Origin", "https://help.example.test"),
        ("X-Forwarded-Host", "help.example.test"),
        ("X-Forwarded-Proto", "https"),
    ];
    assert_eq!(app.send("POST", "/api/v1/tickets", None, body.clone(), &proxied).await.status, 201);
    let wrong_scheme = [proxied[0], proxied[1], proxied[2], ("X-Forwarded-Proto", "http")];
    assert_eq!(app.send("POST", "/api/v1/tickets", None, body, &wrong_scheme).await.status, 403);
}
