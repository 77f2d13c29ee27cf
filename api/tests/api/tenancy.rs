//! Another organisation's resources do not exist for you: every route answers 404,
//! exactly as for an id that was never used, and lists never include them.

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread")]
async fn every_route_hides_another_organisations_resources() {
    let app = TestApp::spawn().await;
    let acme = app.org("acme").await;
    let globex = app.org("globex").await;
    let acme_agent = app.person(&acme, "agent", "ada").await;
    let ticket = app.ticket(&acme_agent, "Acme's secret").await;
    let id = ticket["id"].as_i64().unwrap();
    let never = 999_999_999i64;

    for (who, token) in [("admin", &globex.token), ("agent", &app.person(&globex, "agent", "gus").await.token)] {
        let t = Some(token.as_str());
        for target in [id, never] {
            let path = format!("/api/v1/tickets/{target}");
            let responses = [
                app.get(&path, t).await,
                app.patch(&path, t, json!({"priority": "low"}), Some(1)).await,
                app.patch(&path, t, json!({"priority": "low"}), None).await,
                app.get(&format!("{path}/comments"), t).await,
                app.post(&format!("{path}/comments"), t, json!({"body": "hi"})).await,
                app.get(&format!("{path}/history"), t).await,
                app.get(&format!("{path}/requester"), t).await,
            ];
            for (i, res) in responses.iter().enumerate() {
                assert_eq!(
                    (res.status, res.code()),
                    (404, "not_found"),
                    "globex {who}, request {i} on {target}: {}",
                    res.body
                );
                assert_eq!(res.body["error"]["message"], "ticket not found");
            }
        }
        let user = app.get(&format!("/api/v1/users/{}", acme_agent.id), t).await;
        assert_eq!(user.status, 404, "globex {who} read an acme user");
        let list = app.get("/api/v1/tickets", t).await;
        assert!(list.body["items"].as_array().unwrap().is_empty(), "globex {who} listed acme tickets");
        let people = app.get("/api/v1/users", t).await;
        assert!(
            people.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|u| u["email"].as_str().unwrap().ends_with("@globex.test"))
        );
        let link = app
            .post(
                "/api/v1/tickets",
                t,
                json!({"subject": "x", "requester_id": acme_agent.id, "assignee_id": acme_agent.id}),
            )
            .await;
        assert_eq!(link.status, 422, "globex {who} linked acme users");
    }
    let admin_patch = app
        .patch(&format!("/api/v1/users/{}", acme_agent.id), Some(&globex.token), json!({"role": "admin"}), None)
        .await;
    assert_eq!(admin_patch.status, 404);

    // Nothing of acme's changed.
    let after = app.get(&format!("/api/v1/tickets/{id}"), Some(&acme.token)).await;
    assert_eq!(after.body["version"], 1);
    assert_eq!(app.get(&format!("/api/v1/tickets/{id}/comments"), Some(&acme.token)).await.body["items"], json!([]));
    assert_eq!(app.get(&format!("/api/v1/users/{}", acme_agent.id), Some(&acme.token)).await.body["role"], "agent");
}

#[tokio::test(flavor = "multi_thread")]
async fn security_routes_never_reach_another_organisation() {
    let app = TestApp::spawn().await;
    let acme = app.org("acme").await;
    let globex = app.org("globex").await;
    let acme_agent = app.person(&acme, "agent", "ada").await;

    // Unlocking someone else's user: not found, and their lock stays.
    app.sql(&format!("UPDATE users SET locked_until = now() + interval '1 hour' WHERE id = {}", acme_agent.id)).await;
    let res = app.post(&format!("/api/v1/users/{}/unlock", acme_agent.id), Some(&globex.token), json!({})).await;
    assert_eq!(res.status, 404, "{}", res.body);
    let locked: bool =
        app.sql(&format!("SELECT locked_until > now() FROM users WHERE id = {}", acme_agent.id)).await[0].get(0);
    assert!(locked);

    // Settings and allowlists are per org.
    let set = json!({"require_mfa": false, "portal_signup": true});
    assert_eq!(app.put("/api/v1/admin/security/settings", Some(&globex.token), set).await.status, 200);
    let acme_settings = app.get("/api/v1/admin/security/settings", Some(&acme.token)).await;
    assert_eq!(acme_settings.body["portal_signup"], false, "{}", acme_settings.body);
    let list = json!({"entries": [{"cidr": "127.0.0.1"}]});
    assert_eq!(app.put("/api/v1/admin/security/ip-allowlist", Some(&globex.token), list).await.status, 200);
    let acme_list = app.get("/api/v1/admin/security/ip-allowlist", Some(&acme.token)).await;
    assert!(acme_list.body["entries"].as_array().unwrap().is_empty(), "{}", acme_list.body);
    // Sign-up goes to the org named in the path, never another one.
    let signup = json!({"email": "c@x.test", "display_name": "C", "password": "a-long-enough-password"});
    assert_eq!(app.post("/api/v1/portal/acme/signup", None, signup.clone()).await.status, 404);
    assert_eq!(app.post("/api/v1/portal/globex/signup", None, signup).await.status, 202);
    let org: i64 = app.sql("SELECT org_id FROM users WHERE email = 'c@x.test'").await[0].get(0);
    assert_eq!(org, globex.org_id);
    // Audit entries of one org are invisible to the other.
    let theirs = app.get("/api/v1/admin/security/audit", Some(&acme.token)).await;
    assert!(
        theirs.body["items"].as_array().unwrap().iter().all(|e| e["event"] != "security.settings_changed"),
        "{}",
        theirs.body
    );
}
