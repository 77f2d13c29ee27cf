//! Email verification and password reset end to end: the API queues `SEND_EMAIL`, a
//! real `atum-job-worker` delivers it over SMTP to a real local server (aiosmtpd),
//! and the test reads the link from the received message.

use std::{
    process::{Command, Stdio},
    time::Duration,
};

use atum_testing::{
    process::{Reaped, binary, free_addr},
    smtp::{SmtpServer, token_in},
};
use serde_json::json;

use crate::helpers::TestApp;

fn mail_worker(app: &TestApp, smtp: &SmtpServer) -> Reaped {
    let child = Command::new(binary("atum-job-worker"))
        .env_clear()
        .env("ATUM_DATABASE_URL", &app.db.url)
        .env("ATUM_JOB_WORKER_LISTEN", free_addr().to_string())
        .env("ATUM_SMTP_URL", smtp.url())
        .env("ATUM_MAIL_FROM", "Acme Support <support@acme.test>")
        .env("ATUM_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("start atum-job-worker");
    Reaped(child)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_portal_customer_verifies_their_address_before_signing_in() {
    let app = TestApp::spawn().await;
    let smtp = SmtpServer::start();
    let _worker = mail_worker(&app, &smtp);
    let admin = app.org("acme").await;
    let signup = json!({"email": "Carol@Example.test", "display_name": "Carol", "password": "carols-long-password"});

    let closed = app.post("/api/v1/portal/acme/signup", None, signup.clone()).await;
    assert_eq!(closed.status, 404, "sign-up is off by default: {}", closed.body);
    app.put(
        "/api/v1/admin/security/settings",
        Some(&admin.token),
        json!({"require_mfa": false, "portal_signup": true}),
    )
    .await;
    let bad =
        app.post("/api/v1/portal/acme/signup", None, json!({"email": "x", "display_name": "", "password": "s"})).await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.body["error"]["fields"].as_object().unwrap().len(), 3, "{}", bad.body);
    let res = app.post("/api/v1/portal/acme/signup", None, signup.clone()).await;
    assert_eq!(res.status, 202, "{}", res.body);

    let early = app.try_login("carol@example.test", "carols-long-password", &[]).await;
    assert_eq!(early.status, 403, "{}", early.body);
    assert_eq!(early.code(), "email_not_verified");
    let wrong = app.try_login("carol@example.test", "not-her-password", &[]).await;
    assert_eq!(wrong.code(), "invalid_credentials", "without the password nothing is revealed");

    let message = smtp.wait_for("carol@example.test", "verify-email?token=", Duration::from_secs(30));
    assert!(message.contains("From: \"Acme Support\" <support@acme.test>"), "{message}");
    assert!(message.contains("Subject: Confirm your email address"), "{message}");
    let token = token_in(&message);
    let decoded = message.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
    assert!(
        decoded.contains(&format!("/help/acme/verify-email?token={token}")),
        "a customer's link opens their help centre: {decoded}"
    );
    // The token is stored only as a hash; the queued mail's copy is scrubbed once sent.
    let stored = app
        .sql(&format!(
            "SELECT count(*) FROM email_verification_tokens WHERE token_hash = sha256(convert_to('{token}', 'UTF8'))"
        ))
        .await;
    assert_eq!(stored[0].get::<_, i64>(0), 1, "stored as its SHA-256");
    let jobs = app.get("/api/v1/admin/jobs?kind=SEND_EMAIL", Some(&admin.token)).await;
    let text = jobs.body["items"][0]["payload"]["text"].as_str().unwrap().to_owned();
    assert!(!text.contains(&token), "the admin jobs API shows the link: {text}");
    let raw: String = app.sql("SELECT payload->>'text' FROM job_queue WHERE kind = 'SEND_EMAIL'").await[0].get(0);
    assert!(!raw.contains(&token), "the delivered link is still in job_queue");

    let forged = app.post("/api/v1/auth/verify-email", None, json!({"token": "ab".repeat(32)})).await;
    assert_eq!(forged.status, 400);
    assert_eq!(forged.code(), "invalid_token");
    let ok = app.post("/api/v1/auth/verify-email", None, json!({"token": token})).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let reused = app.post("/api/v1/auth/verify-email", None, json!({"token": token})).await;
    assert_eq!(reused.status, 400, "a used token: {}", reused.body);
    let login = app.try_login("carol@example.test", "carols-long-password", &[]).await;
    assert_eq!(login.status, 200, "{}", login.body);
    assert_eq!(login.body["user"]["role"], "customer");

    // Signing up again with a taken address answers the same and mails the owner instead.
    let again = app.post("/api/v1/portal/acme/signup", None, signup).await;
    assert_eq!(again.status, 202);
    assert_eq!(again.body, res.body);
    smtp.wait_for("carol@example.test", "already has an account", Duration::from_secs(30));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reset_link_sets_a_new_password_once_and_ends_every_session() {
    let app = TestApp::spawn().await;
    let smtp = SmtpServer::start();
    let _worker = mail_worker(&app, &smtp);
    let admin = app.org("acme").await;
    let agent = app.person(&admin, "agent", "ann").await;
    let second = app.login(&agent.email, &agent.password).await;

    let unknown = app.post("/api/v1/auth/password-reset", None, json!({"email": "ghost@acme.test"})).await;
    let known = app.post("/api/v1/auth/password-reset", None, json!({"email": agent.email})).await;
    assert_eq!(unknown.status, 202);
    assert_eq!(unknown.body, known.body, "the answer never says whether the address has an account");
    let queued: i64 = app.sql("SELECT count(*) FROM job_queue WHERE kind = 'SEND_EMAIL'").await[0].get(0);
    assert_eq!(queued, 1, "nothing is sent for an unknown address");

    let message = smtp.wait_for(&agent.email, "reset-password?token=", Duration::from_secs(30));
    let token = token_in(&message);
    let weak =
        app.post("/api/v1/auth/password-reset/confirm", None, json!({"token": token, "password": "short"})).await;
    assert_eq!(weak.status, 422, "{}", weak.body);
    let ok = app
        .post("/api/v1/auth/password-reset/confirm", None, json!({"token": token, "password": "a-brand-new-password"}))
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    for t in [&agent.token, &second] {
        assert_eq!(app.get("/api/v1/me", Some(t)).await.status, 401, "every session ends");
    }
    assert_eq!(app.try_login(&agent.email, &agent.password, &[]).await.status, 401);
    assert_eq!(app.try_login(&agent.email, "a-brand-new-password", &[]).await.status, 200);
    let reused = app
        .post("/api/v1/auth/password-reset/confirm", None, json!({"token": token, "password": "another-new-password"}))
        .await;
    assert_eq!(reused.status, 400);
    assert_eq!(reused.code(), "invalid_token");

    // An expired link, and an older link after a newer one was sent, are dead too.
    app.post("/api/v1/auth/password-reset", None, json!({"email": agent.email})).await;
    app.post("/api/v1/auth/password-reset", None, json!({"email": agent.email})).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let tokens = loop {
        let all: Vec<String> =
            smtp.messages().iter().filter(|m| m.contains("reset-password?token=")).map(|m| token_in(m)).collect();
        if all.len() >= 3 {
            break all;
        }
        assert!(std::time::Instant::now() < deadline, "three reset messages expected, got {}", all.len());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let (older, newer) = (&tokens[1], &tokens[2]);
    let body = |t: &str| json!({"token": t, "password": "yet-another-password"});
    // Delivery order is not queue order: one of the two is the older, whichever it is, one is void.
    let first = app.post("/api/v1/auth/password-reset/confirm", None, body(older)).await;
    let second = app.post("/api/v1/auth/password-reset/confirm", None, body(newer)).await;
    assert_eq!(
        [first.status, second.status].iter().filter(|s| **s == 200).count(),
        1,
        "{} {}",
        first.body,
        second.body
    );
    app.sql("UPDATE password_reset_tokens SET used_at = NULL, expires_at = now() - interval '1 second'").await;
    for t in [older, newer] {
        assert_eq!(app.post("/api/v1/auth/password-reset/confirm", None, body(t)).await.status, 400, "expired");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invited_person_is_mailed_a_week_long_link_in_the_admins_name_and_sets_their_first_password() {
    let app = TestApp::spawn().await;
    let smtp = SmtpServer::start();
    let _worker = mail_worker(&app, &smtp);
    let admin = app.org("acme").await;
    let made = app
        .post(
            "/api/v1/users",
            Some(&admin.token),
            json!({"email": "nina@acme.test", "display_name": "Nina", "role": "agent"}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(made.body["invited"], true);
    let nina = made.body["id"].as_i64().unwrap();

    let message = smtp.wait_for("nina@acme.test", "reset-password?token=", Duration::from_secs(30));
    assert!(message.contains("Subject: You are invited to"), "{message}");
    assert!(message.contains("made you an account"), "in the admin's name: {message}");
    let token = token_in(&message);
    let lifetime: f64 = app
        .sql(&format!(
            "SELECT extract(epoch FROM expires_at - created_at)::float8 FROM password_reset_tokens
              WHERE token_hash = sha256(convert_to('{token}', 'UTF8'))"
        ))
        .await[0]
        .get(0);
    assert!((lifetime - 7.0 * 86400.0).abs() < 60.0, "a week, not a reset's hour: {lifetime}");

    // Only an admin of the organisation sends it again, and only to someone without a password.
    let path = format!("/api/v1/users/{nina}/invite");
    let agent = app.person(&admin, "agent", "ann").await;
    assert_eq!(app.post(&path, Some(&agent.token), json!({})).await.status, 403);
    let globex = app.org("globex").await;
    assert_eq!(app.post(&path, Some(&globex.token), json!({})).await.status, 404);
    let has_password = app.post(&format!("/api/v1/users/{}/invite", agent.id), Some(&admin.token), json!({})).await;
    assert_eq!((has_password.status, has_password.code()), (409, "conflict"), "{}", has_password.body);
    let again = app.post(&path, Some(&admin.token), json!({})).await;
    assert_eq!(again.status, 202, "{}", again.body);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let newer = loop {
        let all: Vec<String> = smtp
            .messages()
            .iter()
            .filter(|m| m.contains("You are invited to") && m.contains("nina@acme.test"))
            .map(|m| token_in(m))
            .collect();
        if let Some(t) = all.into_iter().find(|t| t != &token) {
            break t;
        }
        assert!(std::time::Instant::now() < deadline, "no second invitation");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let body = |t: &str| json!({"token": t, "password": "ninas-first-password"});
    let old = app.post("/api/v1/auth/password-reset/confirm", None, body(&token)).await;
    assert_eq!((old.status, old.code()), (400, "invalid_token"), "the older link is void: {}", old.body);
    let set = app.post("/api/v1/auth/password-reset/confirm", None, body(&newer)).await;
    assert_eq!(set.status, 200, "{}", set.body);
    assert_eq!(app.try_login_to("acme", "nina@acme.test", "ninas-first-password", &[]).await.status, 200);
    let audit = app.get("/api/v1/admin/security/audit?event=user.invited", Some(&admin.token)).await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 2, "{}", audit.body);
}
