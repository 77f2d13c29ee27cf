//! Per-org IP allowlists: validation, the save-yourself-out guard, enforcement at
//! sign-in and on every request, and spoofed forwarding headers.

use atum_api::client_ip::TrustedProxies;
use serde_json::json;

use crate::helpers::TestApp;

const PATH: &str = "/api/v1/admin/security/ip-allowlist";

#[tokio::test(flavor = "multi_thread")]
async fn entries_are_validated_field_by_field_for_both_families() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let bad = app
        .put(
            PATH,
            Some(&admin.token),
            json!({"entries": [
                {"cidr": "127.0.0.1"},
                {"cidr": "10.1.2.3/8"},
                {"cidr": "2001:db8::/129"},
                {"cidr": "example.com"},
                {"cidr": "127.0.0.1/32"},
            ]}),
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    let fields = &bad.body["error"]["fields"];
    assert!(fields["entries[1].cidr"].as_str().unwrap().contains("10.0.0.0/8"), "{fields}");
    assert!(fields["entries[2].cidr"].is_string());
    assert!(fields["entries[3].cidr"].is_string());
    assert!(fields["entries[4].cidr"].as_str().unwrap().contains("twice"), "{fields}");
    assert!(fields.get("entries[0].cidr").is_none());

    let ok = app
        .put(
            PATH,
            Some(&admin.token),
            json!({"entries": [{"cidr": "127.0.0.1", "note": "this host"}, {"cidr": "2001:db8::/32"}]}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let cidrs: Vec<&str> = ok.body["entries"].as_array().unwrap().iter().map(|e| e["cidr"].as_str().unwrap()).collect();
    assert_eq!(cidrs, ["127.0.0.1/32", "2001:db8::/32"]);
    // Agents cannot read or change it.
    let agent = app.person(&admin, "agent", "ann").await;
    assert_eq!(app.get(PATH, Some(&agent.token)).await.status, 403);
    assert_eq!(app.put(PATH, Some(&agent.token), json!({"entries": []})).await.status, 403);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_cannot_save_a_list_that_shuts_out_their_own_address() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let res = app.put(PATH, Some(&admin.token), json!({"entries": [{"cidr": "203.0.113.0/24"}]})).await;
    assert_eq!(res.status, 409, "{}", res.body);
    assert_eq!(res.code(), "allowlist_excludes_you");
    assert!(res.body["error"]["message"].as_str().unwrap().contains("127.0.0.1"));
    assert!(app.get(PATH, Some(&admin.token)).await.body["entries"].as_array().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_from_outside_the_list_are_refused_at_sign_in_and_on_every_request() {
    // The API sits behind a proxy on loopback that forwards the client's address.
    let app = TestApp::spawn_with(|s| s.proxies = TrustedProxies::parse("127.0.0.1").unwrap()).await;
    let admin = app.org("acme").await;
    let agent = app.person(&admin, "agent", "ann").await;
    let other = app.org("globex").await;
    let office = [("X-Forwarded-For", "203.0.113.20")];
    let cafe = [("X-Forwarded-For", "198.51.100.7")];
    let body = json!({"entries": [{"cidr": "203.0.113.0/24", "note": "office"}]}).to_string();
    let saved = app.send("PUT", PATH, Some(&admin.token), Some(body), &office).await;
    assert_eq!(saved.status, 200, "{}", saved.body);

    // Every authenticated request checks the list, including sessions opened before.
    let from_cafe = app.send("GET", "/api/v1/tickets", Some(&agent.token), None, &cafe).await;
    assert_eq!(from_cafe.status, 403, "{}", from_cafe.body);
    assert_eq!(from_cafe.code(), "ip_not_allowed");
    let from_office = app.send("GET", "/api/v1/tickets", Some(&agent.token), None, &office).await;
    assert_eq!(from_office.status, 200, "{}", from_office.body);
    // Sign-in: the right password from outside is refused; a wrong one looks like any wrong one.
    let outside = app.try_login_to(&agent.org, &agent.email, &agent.password, &cafe).await;
    assert_eq!(outside.status, 403);
    assert_eq!(outside.code(), "ip_not_allowed");
    let wrong = app.try_login_to(&agent.org, &agent.email, "not-the-password", &cafe).await;
    assert_eq!(wrong.code(), "invalid_credentials");
    assert_eq!(app.try_login_to(&agent.org, &agent.email, &agent.password, &office).await.status, 200);
    // Another org's list is its own business.
    assert_eq!(app.send("GET", "/api/v1/tickets", Some(&other.token), None, &cafe).await.status, 200);
    let audit = app
        .send("GET", "/api/v1/admin/security/audit?event=ip_allowlist.changed", Some(&admin.token), None, &office)
        .await;
    assert_eq!(audit.body["items"][0]["detail"]["after"][0], "203.0.113.0/24", "{}", audit.body);
    assert_eq!(audit.body["items"][0]["ip"], "203.0.113.20");
    let blocked = app
        .send("GET", "/api/v1/admin/security/audit?event=ip_allowlist.blocked", Some(&admin.token), None, &office)
        .await;
    assert_eq!(blocked.body["items"][0]["ip"], "198.51.100.7", "{}", blocked.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored() {
    // Only 10.9.9.9 is a trusted proxy: loopback clients are direct, their headers lies.
    let app = TestApp::spawn_with(|s| s.proxies = TrustedProxies::parse("10.9.9.9").unwrap()).await;
    let admin = app.org("acme").await;
    let agent = app.person(&admin, "agent", "ann").await;
    // The API itself would refuse this list from loopback; an operator set it in SQL.
    app.sql(&format!("INSERT INTO org_ip_allowlist (org_id, cidr) VALUES ({}, '203.0.113.0/24')", admin.org_id)).await;
    for spoof in [("X-Forwarded-For", "203.0.113.20"), ("X-Real-IP", "203.0.113.20")] {
        let res = app.send("GET", "/api/v1/tickets", Some(&agent.token), None, &[spoof]).await;
        assert_eq!(res.status, 403, "{spoof:?} was believed: {}", res.body);
        let login = app.try_login(&agent.email, &agent.password, &[spoof]).await;
        assert_eq!(login.status, 403, "{spoof:?} at sign-in");
    }
    // Behind a trusted proxy, a client's own left-most entry is not believed either.
    let trusting = TestApp::spawn_with(|s| s.proxies = TrustedProxies::parse("127.0.0.1").unwrap()).await;
    let admin = trusting.org("acme").await;
    trusting
        .sql(&format!("INSERT INTO org_ip_allowlist (org_id, cidr) VALUES ({}, '203.0.113.0/24')", admin.org_id))
        .await;
    // The client sent "203.0.113.20"; nginx appended the address it really came from.
    let chained = [("X-Forwarded-For", "203.0.113.20, 198.51.100.7")];
    let res = trusting.send("GET", "/api/v1/tickets", Some(&admin.token), None, &chained).await;
    assert_eq!(res.status, 403, "{}", res.body);
}
