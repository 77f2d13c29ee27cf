//! A user's sessions: listing, revoking one or all others, and the revocations that
//! password changes cause.

use serde_json::json;

use crate::helpers::TestApp;

/// The id of the session a token belongs to, as its owner's list marks it.
async fn current_session(app: &TestApp, token: &str) -> i64 {
    app.get("/api/v1/auth/sessions", Some(token)).await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .unwrap()["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn users_list_their_sessions_and_revoke_one_or_all_others() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let agent = app.person(&admin, "agent", "ann").await;
    let laptop = app.login(&agent.email, &agent.password).await;
    let phone = app.login(&agent.email, &agent.password).await;

    let list = app.get("/api/v1/auth/sessions", Some(&agent.token)).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let items = list.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items.iter().filter(|s| s["current"] == true).count(), 1);
    assert!(items.iter().all(|s| s["ip"] == "127.0.0.1" && s.get("token").is_none() && s.get("token_hash").is_none()));

    // Revoke the phone's session by id (find it from the phone itself).
    let phone_id = current_session(&app, &phone).await;
    let res = app.delete(&format!("/api/v1/auth/sessions/{phone_id}"), Some(&agent.token)).await;
    assert_eq!(res.status, 204, "{}", res.body);
    assert_eq!(app.get("/api/v1/me", Some(&phone)).await.status, 401);
    assert_eq!(app.delete(&format!("/api/v1/auth/sessions/{phone_id}"), Some(&agent.token)).await.status, 404);
    // Someone else's session (even an admin's own org) is not yours to revoke.
    assert_eq!(app.delete(&format!("/api/v1/auth/sessions/{phone_id}"), Some(&admin.token)).await.status, 404);
    let other_org = app.org("globex").await;
    let admin_sessions = app.get("/api/v1/auth/sessions", Some(&admin.token)).await;
    let admin_session = admin_sessions.body["items"][0]["id"].as_i64().unwrap();
    assert_eq!(app.delete(&format!("/api/v1/auth/sessions/{admin_session}"), Some(&other_org.token)).await.status, 404);
    assert_eq!(app.get("/api/v1/me", Some(&admin.token)).await.status, 200);

    let res = app.post("/api/v1/auth/sessions/revoke-others", Some(&agent.token), json!({})).await;
    assert_eq!(res.body["revoked"], 1, "{}", res.body);
    assert_eq!(app.get("/api/v1/me", Some(&laptop)).await.status, 401);
    assert_eq!(app.get("/api/v1/me", Some(&agent.token)).await.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_password_change_needs_the_current_password_and_ends_the_other_sessions() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let agent = app.person(&admin, "agent", "ann").await;
    let other = app.login(&agent.email, &agent.password).await;

    let wrong = app
        .post(
            "/api/v1/auth/password",
            Some(&agent.token),
            json!({"current_password": "guess-guess", "new_password": "a-new-long-password"}),
        )
        .await;
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    assert!(wrong.body["error"]["fields"]["current_password"].is_string());
    let failures: i32 = app.sql(&format!("SELECT failed_logins FROM users WHERE id = {}", agent.id)).await[0].get(0);
    assert_eq!(failures, 1, "a wrong current password counts towards lockout");
    let weak = app
        .post(
            "/api/v1/auth/password",
            Some(&agent.token),
            json!({"current_password": agent.password, "new_password": "short"}),
        )
        .await;
    assert_eq!(weak.status, 422);
    assert!(weak.body["error"]["fields"]["new_password"].is_string());

    let ok = app
        .post(
            "/api/v1/auth/password",
            Some(&agent.token),
            json!({"current_password": agent.password, "new_password": "a-new-long-password"}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["revoked"], 1);
    assert_eq!(app.get("/api/v1/me", Some(&other)).await.status, 401);
    assert_eq!(app.get("/api/v1/me", Some(&agent.token)).await.status, 200);
    assert_eq!(app.try_login(&agent.email, &agent.password, &[]).await.status, 401);
    assert_eq!(app.try_login(&agent.email, "a-new-long-password", &[]).await.status, 200);
    let audit = app.get("/api/v1/admin/security/audit?event=password.changed", Some(&admin.token)).await;
    assert_eq!(audit.body["items"][0]["actor_id"], agent.id);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_audit_log_records_role_changes_and_sign_ins_for_admins_of_that_org_only() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let agent = app.person(&admin, "agent", "ann").await;
    let res =
        app.patch(&format!("/api/v1/users/{}", agent.id), Some(&admin.token), json!({"role": "admin"}), None).await;
    assert_eq!(res.status, 200, "{}", res.body);
    app.try_login(&agent.email, "wrong-password-x", &[]).await;

    let all = app.get("/api/v1/admin/security/audit", Some(&admin.token)).await;
    assert_eq!(all.status, 200, "{}", all.body);
    let events: Vec<&str> =
        all.body["items"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(events[..2], ["login.failure", "user.role_changed"], "{events:?}");
    assert!(events.contains(&"login.success"));
    let role = &all.body["items"][1];
    assert_eq!(role["detail"], json!({"from": "agent", "to": "admin"}));
    assert_eq!(role["actor_id"], admin.id);
    assert_eq!(role["target_user_id"], agent.id);
    assert_eq!(role["ip"], "127.0.0.1");

    let mine = app.get(&format!("/api/v1/admin/security/audit?user_id={}&limit=1", agent.id), Some(&admin.token)).await;
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(mine.body["items"][0]["event"], "login.failure");
    let bad = app.get("/api/v1/admin/security/audit?limit=0", Some(&admin.token)).await;
    assert_eq!(bad.status, 422);
    let since = app.get("/api/v1/admin/security/audit?since=not-a-date", Some(&admin.token)).await;
    assert_eq!(since.status, 400);

    let other = app.org("globex").await;
    let theirs = app.get("/api/v1/admin/security/audit", Some(&other.token)).await;
    let ids: Vec<i64> =
        theirs.body["items"].as_array().unwrap().iter().map(|e| e["target_user_id"].as_i64().unwrap_or(0)).collect();
    assert!(!ids.contains(&agent.id) && !ids.contains(&admin.id), "another org's log leaks: {ids:?}");
    let customer = app.person(&admin, "customer", "cus").await;
    assert_eq!(app.get("/api/v1/admin/security/audit", Some(&customer.token)).await.status, 403);
    // Append-only, even for the database owner's application role.
    let pool = app.db.pool.get().await.unwrap();
    let err = pool.execute("UPDATE security_audit_log SET event = 'x.y'", &[]).await.unwrap_err();
    assert!(err.to_string().contains("append-only") || format!("{err:?}").contains("append-only"), "{err:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_sees_where_a_person_is_signed_in_and_signs_out_one_device_or_all() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let agent = app.person(&admin, "agent", "ann").await;
    let lost_laptop = app.login(&agent.email, &agent.password).await;
    let path = format!("/api/v1/users/{}/sessions", agent.id);

    let list = app.get(&path, Some(&admin.token)).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let items = list.body["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2, "{}", list.body);
    assert!(items.iter().all(|s| s["current"] == false), "neither is the admin's own session");
    assert!(items.iter().all(|s| s.get("token").is_none() && s.get("token_hash").is_none()));

    // Only admins, only their own organisation's people.
    assert_eq!(app.get(&path, Some(&agent.token)).await.status, 403);
    let globex = app.org("globex").await;
    assert_eq!(app.get(&path, Some(&globex.token)).await.status, 404);
    assert_eq!(app.post(&format!("{path}/revoke"), Some(&globex.token), json!({})).await.status, 404);

    let laptop_id = current_session(&app, &lost_laptop).await;
    assert_eq!(app.delete(&format!("{path}/{laptop_id}"), Some(&globex.token)).await.status, 404);
    let gone = app.delete(&format!("{path}/{laptop_id}"), Some(&admin.token)).await;
    assert_eq!(gone.status, 204, "{}", gone.body);
    assert_eq!(app.get("/api/v1/me", Some(&lost_laptop)).await.status, 401);
    assert_eq!(app.get("/api/v1/me", Some(&agent.token)).await.status, 200, "the other device stays signed in");
    // A session of someone else is not this person's to end.
    let admin_session =
        app.get("/api/v1/auth/sessions", Some(&admin.token)).await.body["items"][0]["id"].as_i64().unwrap();
    assert_eq!(app.delete(&format!("{path}/{admin_session}"), Some(&admin.token)).await.status, 404);

    let all = app.post(&format!("{path}/revoke"), Some(&admin.token), json!({})).await;
    assert_eq!((all.status, &all.body["revoked"]), (200, &json!(1)), "{}", all.body);
    assert_eq!(app.get("/api/v1/me", Some(&agent.token)).await.status, 401);
    assert_eq!(app.get(&path, Some(&admin.token)).await.body["items"], json!([]));

    let audit = app.get("/api/v1/admin/security/audit?event=session.revoked", Some(&admin.token)).await;
    let by_admin = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor_id"].as_i64() == Some(admin.id) && e["target_user_id"].as_i64() == Some(agent.id))
        .count();
    assert_eq!(by_admin, 2, "both revocations are in the audit log as the admin's: {}", audit.body);
}
