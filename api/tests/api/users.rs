use serde_json::{Value, json};

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

#[tokio::test(flavor = "multi_thread")]
async fn a_name_with_a_control_character_is_refused_by_the_server_as_the_document_says() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let ann = app.person(&admin, "agent", "ann").await;
    let doc: Value = serde_json::from_str(atum_api::openapi::document()).unwrap();
    let pattern = doc["components"]["schemas"]["UserChange"]["properties"]["display_name"]["pattern"].as_str().unwrap();
    let documented = regex::Regex::new(pattern).unwrap();
    for name in ["\u{1e}", "Ann\u{7}", "\u{85}", "Ann\nLovelace"] {
        assert!(!documented.is_match(name), "the document refuses {name:?}");
        let res = app
            .patch(&format!("/api/v1/users/{}", ann.id), Some(&admin.token), json!({"display_name": name}), None)
            .await;
        assert_eq!((res.status, res.code()), (422, "validation_failed"), "{name:?}: {}", res.body);
        assert!(res.body["error"]["fields"]["display_name"].as_str().unwrap().contains("control characters"));
    }
    let fine = app
        .patch(&format!("/api/v1/users/{}", ann.id), Some(&admin.token), json!({"display_name": "Ann Ló"}), None)
        .await;
    assert_eq!(fine.status, 200, "{}", fine.body);
    assert!(documented.is_match("Ann Ló"));
}
