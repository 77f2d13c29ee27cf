use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread")]
async fn admins_manage_groups_of_their_own_staff_and_policies_escalate_only_to_their_own_groups() {
    let app = TestApp::spawn().await;
    let acme = app.org("acme").await;
    let globex = app.org("globex").await;
    let agent = app.person(&acme, "agent", "ada").await;
    let customer = app.person(&acme, "customer", "carla").await;
    let outsider = app.person(&globex, "agent", "otto").await;
    let t = Some(acme.token.as_str());

    let created =
        app.post("/api/v1/admin/groups", t, json!({"name": "Tier 2", "member_ids": [agent.id, acme.id]})).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let mut members = vec![agent.id, acme.id];
    members.sort_unstable();
    assert_eq!(created.body["member_ids"], json!(members));
    let id = created.body["id"].as_i64().unwrap();

    for (body, field) in [
        (json!({"name": "Bad", "member_ids": [customer.id]}), "member_ids"),
        (json!({"name": "Bad", "member_ids": [outsider.id]}), "member_ids"),
        (json!({"name": " "}), "name"),
    ] {
        let res = app.post("/api/v1/admin/groups", t, body.clone()).await;
        assert_eq!(res.status, 422, "{body}: {}", res.body);
        assert!(res.body["error"]["fields"][field].is_string(), "{}", res.body);
    }
    assert_eq!(app.post("/api/v1/admin/groups", t, json!({"name": "Tier 2"})).await.status, 409);
    assert_eq!(app.post("/api/v1/admin/groups", Some(&agent.token), json!({"name": "Mine"})).await.status, 403);

    let path = format!("/api/v1/admin/groups/{id}");
    let rename = json!({"name": "Tier 3", "member_ids": [agent.id]}).to_string();
    assert_eq!(app.send("PUT", &path, Some(&globex.token), Some(rename.clone()), &[]).await.status, 404);
    assert_eq!(app.get("/api/v1/admin/groups", Some(&globex.token)).await.body["items"], json!([]));
    let renamed = app.send("PUT", &path, t, Some(rename), &[]).await;
    assert_eq!((renamed.status, renamed.body["member_ids"].clone()), (200, json!([agent.id])));
    assert_eq!(app.get("/api/v1/admin/groups", Some(&agent.token)).await.body["items"][0]["name"], "Tier 3");

    let foreign = app
        .post(
            "/api/v1/admin/sla/policies",
            Some(&globex.token),
            json!({"name": "P", "first_response_minutes": 60, "escalate_group_id": id}),
        )
        .await;
    assert_eq!(foreign.status, 422, "{}", foreign.body);
    assert!(foreign.body["error"]["fields"]["escalate_group_id"].is_string(), "{}", foreign.body);
    let own = app
        .post(
            "/api/v1/admin/sla/policies",
            t,
            json!({"name": "P", "first_response_minutes": 60, "escalate_group_id": id}),
        )
        .await;
    assert_eq!((own.status, own.body["escalate_group_id"].as_i64()), (201, Some(id)), "{}", own.body);
    assert_eq!(app.get("/api/v1/tickets?group_id=x", t).await.status, 422);
}

#[tokio::test(flavor = "multi_thread")]
async fn agents_route_a_ticket_to_a_group_of_their_own_organisation_and_the_history_says_so() {
    let app = TestApp::spawn().await;
    let acme = app.org("acme").await;
    let globex = app.org("globex").await;
    let agent = app.person(&acme, "agent", "ada").await;
    let mine = app.post("/api/v1/admin/groups", Some(&acme.token), json!({"name": "Tier 2"})).await.body["id"].as_i64();
    let theirs =
        app.post("/api/v1/admin/groups", Some(&globex.token), json!({"name": "Tier 2"})).await.body["id"].as_i64();
    let id = app.ticket(&acme, "Printer").await["id"].as_i64().unwrap();
    let path = format!("/api/v1/tickets/{id}");
    let patch = |body: serde_json::Value| {
        app.send("PATCH", &path, Some(&agent.token), Some(body.to_string()), &[("If-Match", "*")])
    };

    let foreign = patch(json!({"group_id": theirs})).await;
    assert_eq!(foreign.status, 422, "{}", foreign.body);
    assert!(foreign.body["error"]["fields"]["group_id"].is_string(), "{}", foreign.body);
    assert_eq!(app.get(&path, Some(&agent.token)).await.body["group_id"], json!(null), "nothing half-written");

    let routed = patch(json!({"group_id": mine})).await;
    assert_eq!((routed.status, routed.body["group_id"].as_i64()), (200, mine), "{}", routed.body);
    let listed = app.get(&format!("/api/v1/tickets?group_id={}", mine.unwrap()), Some(&agent.token)).await;
    assert_eq!(listed.body["items"][0]["id"].as_i64(), Some(id));
    let history = app.get(&format!("{path}/history"), Some(&agent.token)).await;
    let last = history.body["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["after"], json!({"group_id": mine}), "{}", history.body);

    let cleared = patch(json!({"group_id": null})).await;
    assert_eq!(cleared.body["group_id"], json!(null), "{}", cleared.body);
}
