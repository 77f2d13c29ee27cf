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
