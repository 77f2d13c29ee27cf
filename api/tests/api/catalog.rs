//! The service catalog over real HTTP: definitions, submissions for every field type,
//! versioning, and tenancy.

use serde_json::{Value, json};

use crate::helpers::TestApp;

fn laptop_form() -> Value {
    json!({
        "name": "New laptop",
        "description": "Request a laptop for a new or current employee.",
        "category": "hardware",
        "priority": "high",
        "published": true,
        "fields": [
            {"key": "employee", "label": "Employee name", "type": "text", "required": true, "max_length": 80},
            {"key": "reason", "label": "Why", "type": "long_text", "help": "A sentence or two"},
            {"key": "ram_gb", "label": "Memory (GB)", "type": "number", "required": true, "min": 8, "max": 64},
            {"key": "needed_by", "label": "Needed by", "type": "date", "required": true},
            {"key": "model", "label": "Model", "type": "single_choice", "required": true, "options": ["13-inch", "15-inch"]},
            {"key": "extras", "label": "Extras", "type": "multi_choice", "options": ["dock", "mouse", "bag"]},
            {"key": "manager", "label": "Manager's email", "type": "email", "required": true},
            {"key": "policy", "label": "I accept the equipment policy", "type": "checkbox", "required": true}
        ]
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_customer_files_a_catalog_request_that_becomes_a_classified_ticket() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let group = app.post("/api/v1/admin/groups", Some(&admin.token), json!({"name": "IT", "member_ids": []})).await;
    assert_eq!(group.status, 201, "{}", group.body);
    let mut form = laptop_form();
    form["group_id"] = group.body["id"].clone();
    let item = app.post("/api/v1/admin/catalog", Some(&admin.token), form).await;
    assert_eq!(item.status, 201, "{}", item.body);
    assert_eq!(item.body["version"], 1);
    let item_id = item.body["id"].as_i64().unwrap();

    let customer = app.person(&admin, "customer", "cus").await;
    let browse = app.get("/api/v1/catalog", Some(&customer.token)).await;
    assert_eq!(browse.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(browse.body["items"][0]["fields"].as_array().unwrap().len(), 8);

    let answers = json!({
        "employee": "  Dana Scully ", "reason": "Old one died.\nScreen cracked.", "ram_gb": 16, "needed_by": "2026-12-01",
        "model": "13-inch", "extras": ["dock", "mouse"], "manager": "boss@acme.test", "policy": true
    });
    let filed = app
        .post(&format!("/api/v1/catalog/{item_id}/requests"), Some(&customer.token), json!({"answers": answers}))
        .await;
    assert_eq!(filed.status, 201, "{}", filed.body);
    assert_eq!(filed.body["subject"], "New laptop");
    assert_eq!(filed.body["priority"], "high");
    assert_eq!(filed.body["category"], "hardware");
    assert_eq!(filed.body["group_id"], group.body["id"]);
    assert_eq!(filed.body["requester_id"], customer.id);
    let description = filed.body["description"].as_str().unwrap();
    assert!(
        description.contains("Employee name: Dana Scully") && description.contains("Extras: dock, mouse"),
        "{description}"
    );
    let tid = filed.body["id"].as_i64().unwrap();
    let request = app.get(&format!("/api/v1/tickets/{tid}/request"), Some(&customer.token)).await;
    assert_eq!(request.status, 200, "{}", request.body);
    assert_eq!(request.body["answers"]["employee"], "Dana Scully", "answers are trimmed and stored structured");
    assert_eq!(request.body["answers"]["ram_gb"], 16);
    assert_eq!(request.body["answers"]["extras"], json!(["dock", "mouse"]));
    assert_eq!(request.body["form_version"], 1);

    // Editing the form makes version 2; the ticket still shows version 1.
    let mut edited = laptop_form();
    edited["fields"]
        .as_array_mut()
        .unwrap()
        .push(json!({"key": "cost_centre", "label": "Cost centre", "type": "text"}));
    let v2 = app.put(&format!("/api/v1/admin/catalog/{item_id}"), Some(&admin.token), edited.clone()).await;
    assert_eq!(v2.status, 200, "{}", v2.body);
    assert_eq!(v2.body["version"], 2);
    let same = app.put(&format!("/api/v1/admin/catalog/{item_id}"), Some(&admin.token), edited).await;
    assert_eq!(same.body["version"], 2, "saving an unchanged form keeps its version");
    let old = app.get(&format!("/api/v1/tickets/{tid}/request"), Some(&admin.token)).await;
    assert_eq!(old.body["form_version"], 1);
    assert_eq!(old.body["fields"].as_array().unwrap().len(), 8);
    // Unpublished items are invisible to customers.
    let mut hidden = laptop_form();
    hidden["published"] = json!(false);
    app.put(&format!("/api/v1/admin/catalog/{item_id}"), Some(&admin.token), hidden).await;
    assert_eq!(app.get(&format!("/api/v1/catalog/{item_id}"), Some(&customer.token)).await.status, 404);
    assert_eq!(app.get("/api/v1/catalog", Some(&admin.token)).await.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_field_type_is_validated_server_side_with_a_message_per_field() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let item = app.post("/api/v1/admin/catalog", Some(&admin.token), laptop_form()).await;
    let path = format!("/api/v1/catalog/{}/requests", item.body["id"]);
    let customer = app.person(&admin, "customer", "cus").await;
    let bad = json!({
        "employee": "x".repeat(81), "reason": 42, "ram_gb": 4, "needed_by": "2026-02-30",
        "model": "17-inch", "extras": ["dock", "dock"], "manager": "not-an-email", "policy": false, "colour": "red"
    });
    let res = app.post(&path, Some(&customer.token), json!({"answers": bad})).await;
    assert_eq!(res.status, 422, "{}", res.body);
    let fields = res.body["error"]["fields"].as_object().unwrap();
    for key in ["employee", "reason", "ram_gb", "needed_by", "model", "extras", "manager", "policy", "colour"] {
        assert!(fields.contains_key(&format!("answers.{key}")), "no message for {key}: {fields:?}");
    }
    let missing = app.post(&path, Some(&customer.token), json!({"answers": {}})).await;
    let missing_fields = missing.body["error"]["fields"].as_object().unwrap();
    assert_eq!(missing_fields.len(), 6, "the six required fields: {missing_fields:?}");
    assert_eq!(missing_fields["answers.employee"], "is required");
    let wrong_types = app
        .post(
            &path,
            Some(&customer.token),
            json!({"answers": {"ram_gb": "16", "extras": "dock", "policy": "yes", "needed_by": 20261201}}),
        )
        .await;
    let wt = wrong_types.body["error"]["fields"].as_object().unwrap();
    for key in ["ram_gb", "extras", "policy", "needed_by"] {
        assert!(wt.contains_key(&format!("answers.{key}")), "{key}: {wt:?}");
    }
    let count: i64 = app.sql("SELECT count(*) FROM tickets").await[0].get(0);
    assert_eq!(count, 0, "no half-written ticket");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_form_definitions_are_refused_field_by_field_and_only_admins_define_forms() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let bad = json!({
        "name": "", "priority": "asap", "group_id": 999999,
        "fields": [
            {"key": "Bad Key", "label": "x", "type": "text"},
            {"key": "dup", "label": "", "type": "number", "min": 10, "max": 1},
            {"key": "dup", "label": "Colour", "type": "colour"},
            {"key": "pick", "label": "Pick", "type": "single_choice", "options": []},
            {"key": "n", "label": "N", "type": "number", "options": ["a"], "max_length": 3},
            {"key": "opts", "label": "Opts", "type": "multi_choice", "options": ["a", "a"]}
        ]
    });
    let res = app.post("/api/v1/admin/catalog", Some(&admin.token), bad).await;
    assert_eq!(res.status, 422, "{}", res.body);
    let fields = res.body["error"]["fields"].as_object().unwrap();
    for key in [
        "name",
        "priority",
        "group_id",
        "fields[0].key",
        "fields[1].label",
        "fields[1].max",
        "fields[2].key",
        "fields[2].type",
        "fields[3].options",
        "fields[4].options",
        "fields[4].max_length",
        "fields[5].options",
    ] {
        assert!(fields.contains_key(key), "no message for {key}: {fields:?}");
    }
    let empty = app.post("/api/v1/admin/catalog", Some(&admin.token), json!({"name": "Empty", "fields": []})).await;
    assert!(empty.body["error"]["fields"]["fields"].is_string(), "{}", empty.body);
    let unknown = app
        .post(
            "/api/v1/admin/catalog",
            Some(&admin.token),
            json!({"name": "X", "fields": [{"key": "a", "label": "A", "type": "text", "colour": 1}]}),
        )
        .await;
    assert_eq!(unknown.status, 400, "unknown properties are malformed JSON for this schema: {}", unknown.body);
    let agent = app.person(&admin, "agent", "ann").await;
    assert_eq!(app.post("/api/v1/admin/catalog", Some(&agent.token), laptop_form()).await.status, 403);
    let first = app.post("/api/v1/admin/catalog", Some(&admin.token), laptop_form()).await;
    assert_eq!(first.status, 201);
    let twin = app.post("/api/v1/admin/catalog", Some(&admin.token), laptop_form()).await;
    assert_eq!((twin.status, twin.code()), (409, "name_taken"));
}

#[tokio::test(flavor = "multi_thread")]
async fn catalog_items_and_requests_never_reach_another_organisation() {
    let app = TestApp::spawn().await;
    let acme = app.org("acme").await;
    let globex = app.org("globex").await;
    let item = app.post("/api/v1/admin/catalog", Some(&acme.token), laptop_form()).await;
    let item_id = item.body["id"].as_i64().unwrap();
    let customer = app.person(&acme, "customer", "cus").await;
    let answers = json!({"employee": "A", "ram_gb": 8, "needed_by": "2026-12-01", "model": "13-inch",
                         "manager": "m@acme.test", "policy": true});
    let filed = app
        .post(
            &format!("/api/v1/catalog/{item_id}/requests"),
            Some(&customer.token),
            json!({"answers": answers.clone()}),
        )
        .await;
    let tid = filed.body["id"].as_i64().unwrap();
    assert!(app.get("/api/v1/catalog", Some(&globex.token)).await.body["items"].as_array().unwrap().is_empty());
    for res in [
        app.get(&format!("/api/v1/catalog/{item_id}"), Some(&globex.token)).await,
        app.post(&format!("/api/v1/catalog/{item_id}/requests"), Some(&globex.token), json!({"answers": answers}))
            .await,
        app.put(&format!("/api/v1/admin/catalog/{item_id}"), Some(&globex.token), laptop_form()).await,
        app.get(&format!("/api/v1/tickets/{tid}/request"), Some(&globex.token)).await,
    ] {
        assert_eq!(res.status, 404, "{}", res.body);
    }
    // Another customer of the same org cannot read someone else's request either.
    let other = app.person(&acme, "customer", "other").await;
    assert_eq!(app.get(&format!("/api/v1/tickets/{tid}/request"), Some(&other.token)).await.status, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_catalog_request_gets_the_sla_policy_of_the_priority_its_item_sets() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let customer = app.person(&admin, "customer", "cid").await;
    for (name, priorities, minutes) in [("Urgent", json!(["high", "urgent"]), 30), ("Everything else", json!([]), 480)]
    {
        let policy = json!({"name": name, "priorities": priorities, "first_response_minutes": minutes});
        let res = app.post("/api/v1/admin/sla/policies", Some(&admin.token), policy).await;
        assert_eq!(res.status, 201, "{}", res.body);
    }
    let form = json!({"name": "Outage", "priority": "high", "published": true,
                      "fields": [{"key": "what", "label": "What is down", "type": "text", "required": true}]});
    let item = app.post("/api/v1/admin/catalog", Some(&admin.token), form).await;
    let item_id = item.body["id"].as_i64().unwrap();
    let filed = app
        .post(
            &format!("/api/v1/catalog/{item_id}/requests"),
            Some(&customer.token),
            json!({"answers": {"what": "mail"}}),
        )
        .await;
    assert_eq!(filed.status, 201, "{}", filed.body);
    assert_eq!(filed.body["priority"], "high");
    assert!(filed.body["sla_next_due_at"].is_string(), "the answer already shows the deadline: {}", filed.body);
    let sla = app.get(&format!("/api/v1/tickets/{}/sla", filed.body["id"]), Some(&admin.token)).await;
    assert_eq!(sla.body["policy"]["name"], "Urgent", "{}", sla.body);
}
