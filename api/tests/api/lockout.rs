//! Attacks on sign-in: brute force against one account, password spraying across
//! accounts from one address, and request floods against the auth routes.

use std::time::Duration;

use atum_api::{client_ip::TrustedProxies, rate_limit::RateLimiter};
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread")]
async fn brute_force_locks_the_account_and_a_locked_account_looks_like_a_wrong_password() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let agent = app.person(&admin, "agent", "ann").await;
    let wrong = app.try_login(&agent.email, "not-the-password", &[]).await;
    assert_eq!(wrong.status, 401);
    for _ in 0..4 {
        assert_eq!(app.try_login(&agent.email, "not-the-password", &[]).await.status, 401);
    }
    // Five failures: locked. The right password now gets the same answer as a wrong one.
    let right = app.try_login(&agent.email, &agent.password, &[]).await;
    assert_eq!(right.status, 401);
    assert_eq!(right.body, wrong.body, "a locked account must not be told apart");
    let unknown = app.try_login("nobody@acme.test", "not-the-password", &[]).await;
    assert_eq!(unknown.body, wrong.body);

    let user = app.get(&format!("/api/v1/users/{}", agent.id), Some(&admin.token)).await;
    assert!(user.body["locked_until"].is_string(), "{}", user.body);
    let results: Vec<String> = app
        .sql(&format!("SELECT result FROM auth_login_attempts WHERE user_id = {} ORDER BY id", agent.id))
        .await
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(results.iter().filter(|r| *r == "bad_password").count(), 5, "{results:?}");
    assert_eq!(results.last().map(String::as_str), Some("locked"));
    let audit = app.get("/api/v1/admin/security/audit?event=account.locked", Some(&admin.token)).await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 1, "{}", audit.body);
    assert_eq!(audit.body["items"][0]["target_user_id"], agent.id);
    assert_eq!(audit.body["items"][0]["actor_kind"], "anonymous", "a sign-in attempt has no session");

    // An admin lifts the lock; the right password works again.
    let other_agent = app.person(&admin, "agent", "bob").await;
    let refused = app.post(&format!("/api/v1/users/{}/unlock", agent.id), Some(&other_agent.token), json!({})).await;
    assert_eq!(refused.status, 403, "agents cannot unlock");
    let unlock = app.post(&format!("/api/v1/users/{}/unlock", agent.id), Some(&admin.token), json!({})).await;
    assert_eq!(unlock.status, 204, "{}", unlock.body);
    assert_eq!(app.try_login(&agent.email, &agent.password, &[]).await.status, 200);
    let audit = app.get("/api/v1/admin/security/audit?event=account.unlocked", Some(&admin.token)).await;
    assert_eq!(audit.body["items"][0]["actor_id"], admin.id);
    assert_eq!(audit.body["items"][0]["actor_kind"], "user");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lock_expires_on_its_own_and_the_next_one_lasts_twice_as_long() {
    let app = TestApp::spawn_with(|s| {
        s.login.max_failures = 3;
        s.login.lock = Duration::from_secs(2);
        s.login.max_lock = Duration::from_secs(60);
    })
    .await;
    let admin = app.org("acme").await;
    let agent = app.person(&admin, "agent", "ann").await;
    let lock_secs = async || -> f64 {
        app.sql(&format!("SELECT extract(epoch FROM locked_until - now())::float8 FROM users WHERE id = {}", agent.id))
            .await[0]
            .get::<_, Option<f64>>(0)
            .unwrap_or(0.0)
    };
    for _ in 0..3 {
        app.try_login(&agent.email, "wrong-password!", &[]).await;
    }
    let first = lock_secs().await;
    assert!(first > 1.0 && first <= 2.0, "first lock {first} s");
    assert_eq!(app.try_login(&agent.email, &agent.password, &[]).await.status, 401);
    // Time passes by moving the lock's end into the past, not by waiting for it.
    let expire = format!("UPDATE users SET locked_until = now() - interval '1 ms' WHERE id = {}", agent.id);
    let lock_passes = async || {
        app.sql(&expire).await;
    };
    lock_passes().await;
    // Expired: the right password opens a session... and a clean slate. To see the
    // growth, lock it again without a success in between.
    for _ in 0..3 {
        app.try_login(&agent.email, "wrong-password!", &[]).await;
    }
    let second = lock_secs().await;
    assert!(second > 3.0 && second <= 4.0, "second consecutive lock {second} s, want twice the first");
    lock_passes().await;
    assert_eq!(app.try_login(&agent.email, &agent.password, &[]).await.status, 200);
    // Success resets the growth.
    for _ in 0..3 {
        app.try_login(&agent.email, "wrong-password!", &[]).await;
    }
    let after_success = lock_secs().await;
    assert!(after_success <= 2.0, "after a success the lock starts small again: {after_success} s");
}

#[tokio::test(flavor = "multi_thread")]
async fn password_spraying_from_one_address_is_throttled_while_other_addresses_sign_in() {
    let app = TestApp::spawn_with(|s| {
        s.login.ip_max_failures = 8;
        s.proxies = TrustedProxies::parse("127.0.0.1").unwrap();
    })
    .await;
    let admin = app.org("acme").await;
    let mut victims = Vec::new();
    for name in ["ann", "bob", "cat", "dan"] {
        victims.push(app.person(&admin, "agent", name).await);
    }
    let attacker = [("X-Forwarded-For", "198.51.100.66")];
    // One guess per account (never enough to lock any), plus unknown addresses.
    for round in 0..2 {
        for v in &victims {
            let res = app.try_login(&v.email, &format!("Summer2026!{round}"), &attacker).await;
            assert_eq!(res.status, 401, "{}", res.body);
        }
    }
    let throttled = app.try_login(&victims[0].email, &victims[0].password, &attacker).await;
    assert_eq!(throttled.status, 429, "{}", throttled.body);
    assert_eq!(throttled.code(), "rate_limited");
    let wait: u64 = throttled.header("retry-after").expect("Retry-After").parse().unwrap();
    assert!(wait > 0 && wait <= 15 * 60, "Retry-After {wait}");
    // No account was locked by the spray, and the same people sign in from elsewhere.
    for v in &victims {
        let res = app.try_login(&v.email, &v.password, &[("X-Forwarded-For", "203.0.113.10")]).await;
        assert_eq!(res.status, 200, "{}", res.body);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_against_the_auth_routes_gets_429_with_retry_after_and_other_routes_pass() {
    let app = TestApp::spawn_with(|s| {
        s.per_ip = RateLimiter::new(6, 5);
        s.per_account = RateLimiter::new(3, 3);
    })
    .await;
    // Per account: the fourth quick attempt on one address is refused, another address is not.
    for _ in 0..3 {
        assert_eq!(app.try_login("victim@acme.test", "guess-guess-guess", &[]).await.status, 401);
    }
    let limited = app.try_login("victim@acme.test", "guess-guess-guess", &[]).await;
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert!(limited.header("retry-after").is_some());
    // Per address: four of the burst of five are spent; one more passes, then
    // everything under /auth/ waits.
    let res = app.post("/api/v1/auth/password-reset", None, json!({"email": "x@acme.test"})).await;
    assert_eq!(res.status, 202, "{}", res.body);
    let res = app.post("/api/v1/auth/password-reset", None, json!({"email": "x@acme.test"})).await;
    assert_eq!(res.status, 429, "{}", res.body);
    let wait: u64 = res.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=10).contains(&wait), "Retry-After {wait}");
    assert_eq!(app.get("/api/v1/health", None).await.status, 200, "non-auth routes are not limited");
    // A route that needs a session, asked without any, says so before the limiter does;
    // with something that looks like a session, the limiter still answers first.
    let anonymous = app.get("/api/v1/auth/sessions", None).await;
    assert_eq!((anonymous.status, anonymous.code()), (401, "unauthenticated"));
    assert_eq!(app.get("/api/v1/auth/sessions", Some("not-a-real-token")).await.status, 429);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unlock_also_forgives_the_sign_in_rate_so_the_next_attempt_is_not_refused() {
    let app = TestApp::spawn_with(|s| s.per_account = RateLimiter::new(3, 3)).await;
    let admin = app.org("acme").await;
    let agent = app.person(&admin, "agent", "ann").await;
    for _ in 0..3 {
        assert_eq!(app.try_login(&agent.email, "not-the-password", &[]).await.status, 401);
    }
    let limited = app.try_login(&agent.email, &agent.password, &[]).await;
    assert_eq!(limited.status, 429, "{}", limited.body);
    let unlock = app.post(&format!("/api/v1/users/{}/unlock", agent.id), Some(&admin.token), json!({})).await;
    assert_eq!(unlock.status, 204, "{}", unlock.body);
    // The unlock reaches the API's limiter as a notice after its commit: a refused
    // attempt costs nothing, so asking again until it lands changes nothing else.
    let started = std::time::Instant::now();
    let signed_in = loop {
        let res = app.try_login(&agent.email, &agent.password, &[]).await;
        if res.status != 429 || started.elapsed() > Duration::from_secs(10) {
            break res;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    // Another account's count was not touched.
    let other = app.person(&admin, "agent", "bob").await;
    for _ in 0..3 {
        app.try_login(&other.email, "not-the-password", &[]).await;
    }
    assert_eq!(app.try_login(&other.email, &other.password, &[]).await.status, 429);
}
