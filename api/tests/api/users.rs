use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread")]
async fn admins_manage_people_and_others_cannot() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let agent = app.person(&admin, "agent", "ada").await;

    let invited = app
        .post(
            "/api/v1/users",
            Some(&admin.token),
            json!({"email": "new@acme.test", "display_name": "New", "role": "customer"}),
        )
        .await;
    assert_eq!(invited.status, 201, "{}", invited.body);
    assert_eq!(invited.body["invited"], true);

    let dup = app
        .post(
            "/api/v1/users",
            Some(&admin.token),
            json!({"email": "NEW@acme.test", "display_name": "Again", "role": "agent"}),
        )
        .await;
    assert_eq!((dup.status, dup.code()), (409, "email_taken"));

    let bad = app
        .post(
            "/api/v1/users",
            Some(&admin.token),
            json!({"email": "nope", "display_name": "", "role": "agent", "password": "short"}),
        )
        .await;
    assert_eq!(bad.status, 422);
    let fields = bad.body["error"]["fields"].as_object().unwrap();
    assert!(fields.contains_key("email") && fields.contains_key("display_name") && fields.contains_key("password"));

    let by_agent = app
        .post(
            "/api/v1/users",
            Some(&agent.token),
            json!({"email": "x@acme.test", "display_name": "X", "role": "admin"}),
        )
        .await;
    assert_eq!((by_agent.status, by_agent.code()), (403, "forbidden"));
    let promote =
        app.patch(&format!("/api/v1/users/{}", agent.id), Some(&agent.token), json!({"role": "admin"}), None).await;
    assert_eq!(promote.status, 403);

    let listed = app.get("/api/v1/users", Some(&agent.token)).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 3);

    let role =
        app.patch(&format!("/api/v1/users/{}", agent.id), Some(&admin.token), json!({"role": "admin"}), None).await;
    assert_eq!(role.body["role"], "admin");
    let selfish =
        app.patch(&format!("/api/v1/users/{}", admin.id), Some(&admin.token), json!({"is_active": false}), None).await;
    assert_eq!((selfish.status, selfish.code()), (409, "cannot_demote_self"));
}
