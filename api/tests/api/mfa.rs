//! TOTP two-factor authentication, driven by `oathtool` (Debian package `oathtool`) as
//! the independent authenticator: enrolment, two-step sign-in, replay and
//! out-of-window codes, recovery codes, disabling, and an org that requires it.

use std::process::Command;

use serde_json::json;

use crate::helpers::{Person, TestApp};

/// The code `oathtool` computes for `secret` (base32) at now + `offset_steps` × 30 s.
fn oathtool(secret: &str, offset_steps: i64) -> String {
    let at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
        + offset_steps * 30;
    let out = Command::new("oathtool")
        .args(["--totp", "-b", secret, "--now", &format!("@{at}")])
        .output()
        .expect("oathtool runs (Debian package oathtool; .ci/run installs it)");
    assert!(out.status.success(), "oathtool failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Enrols `who` and returns (base32 secret, recovery codes). The confirmation spends
/// the current step's code.
async fn enrol(app: &TestApp, who: &Person) -> (String, Vec<String>) {
    let begin = app.post("/api/v1/auth/mfa/totp", Some(&who.token), json!({})).await;
    assert_eq!(begin.status, 200, "{}", begin.body);
    let secret = begin.body["secret"].as_str().unwrap().to_owned();
    let uri = begin.body["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/") && uri.contains(&format!("secret={secret}")), "{uri}");
    assert!(uri.contains("digits=6") && uri.contains("period=30") && uri.contains("algorithm=SHA1"), "{uri}");
    assert!(begin.body["qr_svg"].as_str().unwrap().contains("<svg"));
    let confirm =
        app.post("/api/v1/auth/mfa/totp/confirm", Some(&who.token), json!({"code": oathtool(&secret, 0)})).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    let codes: Vec<String> =
        confirm.body["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

async fn challenge(app: &TestApp, who: &Person) -> String {
    let res = app.try_login(&who.email, &who.password, &[]).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["mfa_required"], true, "{}", res.body);
    assert!(res.body.get("token").is_none(), "no session before the second factor: {}", res.body);
    res.body["challenge"].as_str().unwrap().to_owned()
}

async fn verify(app: &TestApp, challenge: &str, code: &str) -> crate::helpers::Response {
    app.post("/api/v1/auth/mfa/verify", None, json!({"challenge": challenge, "code": code})).await
}

#[tokio::test(flavor = "multi_thread")]
async fn enrolment_then_sign_in_takes_a_code_from_an_independent_authenticator_once() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let agent = app.person(&admin, "agent", "ann").await;
    let wrong_first = app.post("/api/v1/auth/mfa/totp", Some(&agent.token), json!({})).await;
    let secret = wrong_first.body["secret"].as_str().unwrap().to_owned();
    let bad = app.post("/api/v1/auth/mfa/totp/confirm", Some(&agent.token), json!({"code": "000000"})).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert_eq!(app.get("/api/v1/auth/mfa", Some(&agent.token)).await.body["enabled"], false);
    let confirm =
        app.post("/api/v1/auth/mfa/totp/confirm", Some(&agent.token), json!({"code": oathtool(&secret, 0)})).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    let status = app.get("/api/v1/auth/mfa", Some(&agent.token)).await;
    assert_eq!(status.body["enabled"], true);
    assert_eq!(status.body["recovery_codes_left"], 10);

    // The secret is sealed at rest: neither its bytes nor its base32 are in the row.
    let row = &app.sql(&format!("SELECT secret_sealed FROM user_totp WHERE user_id = {}", agent.id)).await[0];
    let sealed: Vec<u8> = row.get(0);
    let raw = data_encoding_decode(&secret);
    assert!(!sealed.windows(raw.len()).any(|w| w == raw.as_slice()), "the raw secret is stored in the clear");
    assert!(!String::from_utf8_lossy(&sealed).contains(&secret));

    // Sign-in is now two steps. The next step's code is inside the ±1 step window.
    let ch = challenge(&app, &agent).await;
    let next = oathtool(&secret, 1);
    let ok = verify(&app, &ch, &next).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let token = ok.body["token"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/me", Some(token)).await.status, 200);
    // The challenge is spent.
    assert_eq!(verify(&app, &ch, &next).await.status, 401);

    // Replay: the same code on a fresh challenge is refused, as is an older step's.
    let ch = challenge(&app, &agent).await;
    let replay = verify(&app, &ch, &next).await;
    assert_eq!(replay.status, 401, "{}", replay.body);
    assert_eq!(replay.code(), "invalid_code");
    assert_eq!(verify(&app, &ch, &oathtool(&secret, 0)).await.status, 401, "an older step than the last used");
    // Out of the window both ways.
    let ch2 = challenge(&app, &agent).await;
    assert_eq!(verify(&app, &ch2, &oathtool(&secret, -3)).await.status, 401);
    assert_eq!(verify(&app, &ch2, &oathtool(&secret, 3)).await.status, 401);
    // A forged challenge.
    assert_eq!(verify(&app, &"ab".repeat(32), &oathtool(&secret, 2)).await.status, 401);
    let audit = app.get("/api/v1/admin/security/audit?event=mfa.failure", Some(&admin.token)).await;
    assert!(audit.body["items"].as_array().unwrap().len() >= 4, "{}", audit.body);
}

fn data_encoding_decode(b32: &str) -> Vec<u8> {
    // RFC 4648 base32 without padding, decoded by hand so the test does not trust the
    // server's encoder.
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut bits, mut acc, mut out) = (0u32, 0u64, Vec::new());
    for c in b32.bytes() {
        let v = alphabet.iter().position(|a| *a == c).expect("base32") as u64;
        acc = (acc << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recovery_code_works_once_and_wrong_codes_count_towards_lockout() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let agent = app.person(&admin, "agent", "ann").await;
    let before = app.login(&agent.email, &agent.password).await;
    let (_secret, codes) = enrol(&app, &agent).await;
    assert_eq!(app.get("/api/v1/me", Some(&before)).await.status, 401, "enrolment ends the other sessions");
    assert_eq!(app.get("/api/v1/me", Some(&agent.token)).await.status, 200, "but not the enrolling one");

    let ch = challenge(&app, &agent).await;
    let used = verify(&app, &ch, &codes[0].to_uppercase()).await;
    assert_eq!(used.status, 200, "{}", used.body);
    let ch = challenge(&app, &agent).await;
    let again = verify(&app, &ch, &codes[0]).await;
    assert_eq!(again.status, 401, "a recovery code used twice: {}", again.body);
    let audit = app.get("/api/v1/admin/security/audit?event=mfa.recovery_code_used", Some(&admin.token)).await;
    assert_eq!(audit.body["items"][0]["detail"]["codes_left"], 9, "{}", audit.body);

    // Knowing the password buys no extra guesses at the code: five wrong codes in all
    // (the one above, four more) lock the account.
    for _ in 0..4 {
        let ch = challenge(&app, &agent).await;
        assert_eq!(verify(&app, &ch, "123456").await.status, 401);
    }
    let locked = app.try_login(&agent.email, &agent.password, &[]).await;
    assert_eq!(locked.status, 401, "locked after five wrong codes: {}", locked.body);
    assert_eq!(locked.code(), "invalid_credentials");
}

#[tokio::test(flavor = "multi_thread")]
async fn disabling_two_factor_needs_the_password_and_a_code_and_ends_other_sessions() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let mut agent = app.person(&admin, "agent", "ann").await;
    let (secret, codes) = enrol(&app, &agent).await;
    let ch = challenge(&app, &agent).await;
    let session = verify(&app, &ch, &oathtool(&secret, 1)).await;
    agent.token = session.body["token"].as_str().unwrap().to_owned();
    let ch = challenge(&app, &agent).await;
    let second = verify(&app, &ch, &codes[0]).await;
    let other_token = second.body["token"].as_str().unwrap().to_owned();

    let path = "/api/v1/auth/mfa/totp/disable";
    let no_password =
        app.post(path, Some(&agent.token), json!({"password": "wrong-password", "code": oathtool(&secret, 3)})).await;
    assert_eq!(no_password.status, 422, "{}", no_password.body);
    assert!(no_password.body["error"]["fields"]["password"].is_string());
    let no_code = app.post(path, Some(&agent.token), json!({"password": agent.password, "code": "000000"})).await;
    assert_eq!(no_code.status, 422);
    assert!(no_code.body["error"]["fields"]["code"].is_string(), "{}", no_code.body);
    // A recovery code serves as the code too.
    let off = app.post(path, Some(&agent.token), json!({"password": agent.password, "code": codes[1]})).await;
    assert_eq!(off.status, 204, "{}", off.body);
    assert_eq!(app.get("/api/v1/me", Some(&other_token)).await.status, 401, "other sessions end");
    assert_eq!(app.get("/api/v1/me", Some(&agent.token)).await.status, 200);
    let plain = app.try_login(&agent.email, &agent.password, &[]).await;
    assert!(plain.body["token"].is_string(), "one step again: {}", plain.body);
    let audit = app.get("/api/v1/admin/security/audit?event=mfa.disabled", Some(&admin.token)).await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_org_that_requires_two_factor_confines_staff_without_it_to_enrolment() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let agent = app.person(&admin, "agent", "ann").await;
    let customer = app.person(&admin, "customer", "cus").await;
    let body = json!({"require_mfa": true, "portal_signup": false});
    let first = app.put("/api/v1/admin/security/settings", Some(&admin.token), body.clone()).await;
    assert_eq!(first.status, 409, "an admin without two-factor cannot require it: {}", first.body);
    assert_eq!(first.code(), "enrol_mfa_first");
    enrol(&app, &admin).await;
    let set = app
        .put(
            "/api/v1/admin/security/settings",
            Some(&admin.token),
            json!({"require_mfa": true, "portal_signup": false}),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.body);

    // The setting applies to sessions already open.
    let blocked = app.get("/api/v1/tickets", Some(&agent.token)).await;
    assert_eq!(blocked.status, 403, "{}", blocked.body);
    assert_eq!(blocked.code(), "mfa_enrollment_required");
    let me = app.get("/api/v1/me", Some(&agent.token)).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["mfa_enrollment_required"], true);
    let login = app.try_login(&agent.email, &agent.password, &[]).await;
    assert_eq!(login.body["mfa_enrollment_required"], true, "{}", login.body);
    // Customers are not affected.
    assert_eq!(app.get("/api/v1/tickets", Some(&customer.token)).await.status, 200);

    let (secret, _) = enrol(&app, &agent).await;
    assert_eq!(app.get("/api/v1/tickets", Some(&agent.token)).await.status, 200, "enrolled: free again");
    let off = app
        .post(
            "/api/v1/auth/mfa/totp/disable",
            Some(&agent.token),
            json!({"password": agent.password, "code": oathtool(&secret, 1)}),
        )
        .await;
    assert_eq!(off.status, 409, "{}", off.body);
    assert_eq!(off.code(), "mfa_required_by_org");
    let audit = app.get("/api/v1/admin/security/audit?event=security.settings_changed", Some(&admin.token)).await;
    assert_eq!(audit.body["items"][0]["detail"]["after"]["require_mfa"], true, "{}", audit.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_secret_key_enrolment_is_refused_clearly() {
    let app = TestApp::spawn_with(|s| s.key = None).await;
    let admin = app.org("acme").await;
    let res = app.post("/api/v1/auth/mfa/totp", Some(&admin.token), json!({})).await;
    assert_eq!(res.status, 409, "{}", res.body);
    assert_eq!(res.code(), "mfa_not_configured");
}
