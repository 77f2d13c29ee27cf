use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread")]
async fn an_agent_creates_reads_and_updates_a_ticket_with_optimistic_concurrency() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let agent = app.person(&admin, "agent", "ada").await;
    let t = Some(agent.token.as_str());

    let created = app
        .post(
            "/api/v1/tickets",
            t,
            json!({"subject": "  VPN down  ", "priority": "high", "tags": ["VPN", "vpn", "network"]}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["subject"], "VPN down");
    assert_eq!(created.body["status"], "new");
    assert_eq!(created.body["number"], 1);
    assert_eq!(created.body["tags"], json!(["vpn", "network"]));
    let id = created.body["id"].as_i64().unwrap();
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert_eq!(app.ticket(&agent, "second").await["number"], 2);

    let path = format!("/api/v1/tickets/{id}");
    let missing = app.patch(&path, t, json!({"status": "open"}), None).await;
    assert_eq!((missing.status, missing.code()), (428, "precondition_required"));

    let updated = app.patch(&path, t, json!({"status": "open", "assignee_id": agent.id}), Some(1)).await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["version"], 2);
    assert_eq!(updated.body["assignee_id"], agent.id);

    let stale = app.patch(&path, t, json!({"priority": "low"}), Some(1)).await;
    assert_eq!((stale.status, stale.code()), (412, "version_mismatch"));
    assert_eq!(app.get(&path, t).await.body["priority"], "high", "a stale write changed the ticket");

    let bad_move = app.patch(&path, t, json!({"status": "new"}), Some(2)).await;
    assert_eq!((bad_move.status, bad_move.code()), (422, "validation_failed"));
    assert_eq!(bad_move.body["error"]["fields"]["status"], "cannot change from open to new");

    let solved = app.patch(&path, t, json!({"status": "solved", "category": null}), Some(2)).await;
    assert_eq!(solved.status, 200);
    assert!(solved.body["solved_at"].is_string());

    let history = app.get(&format!("{path}/history"), t).await;
    let kinds: Vec<&str> =
        history.body["items"].as_array().unwrap().iter().map(|e| e["event_type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["created", "updated", "updated"]);
    assert_eq!(history.body["items"][1]["before"]["status"], "new");
    assert_eq!(history.body["items"][1]["after"]["status"], "open");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_first_public_agent_reply_sets_first_response_and_an_internal_note_does_not() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let customer = app.person(&admin, "customer", "carol").await;
    let ticket = app.ticket(&customer, "Where is my order?").await;
    let path = format!("/api/v1/tickets/{}", ticket["id"]);

    let note = app
        .post(&format!("{path}/comments"), Some(&admin.token), json!({"body": "VIP", "visibility": "internal"}))
        .await;
    assert_eq!(note.status, 201);
    let after_note = app.get(&path, Some(&admin.token)).await;
    assert!(after_note.body["first_responded_at"].is_null());
    assert_eq!(after_note.body["status"], "new");

    let reply = app.post(&format!("{path}/comments"), Some(&admin.token), json!({"body": "On its way"})).await;
    assert_eq!(reply.status, 201);
    let after_reply = app.get(&path, Some(&admin.token)).await;
    let first = after_reply.body["first_responded_at"].clone();
    assert!(first.is_string());
    assert_eq!(after_reply.body["status"], "open");

    app.post(&format!("{path}/comments"), Some(&admin.token), json!({"body": "Second reply"})).await;
    assert_eq!(app.get(&path, Some(&admin.token)).await.body["first_responded_at"], first);
}

#[tokio::test(flavor = "multi_thread")]
async fn customers_see_only_their_own_tickets_and_public_comments() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let carol = app.person(&admin, "customer", "carol").await;
    let dave = app.person(&admin, "customer", "dave").await;
    let mine = app.ticket(&carol, "Carol's problem").await;
    app.ticket(&dave, "Dave's problem").await;
    let path = format!("/api/v1/tickets/{}", mine["id"]);
    app.post(&format!("{path}/comments"), Some(&admin.token), json!({"body": "secret", "visibility": "internal"}))
        .await;
    app.post(&format!("{path}/comments"), Some(&admin.token), json!({"body": "hello carol"})).await;

    let list = app.get("/api/v1/tickets", Some(&carol.token)).await;
    let subjects: Vec<&str> =
        list.body["items"].as_array().unwrap().iter().map(|t| t["subject"].as_str().unwrap()).collect();
    assert_eq!(subjects, ["Carol's problem"]);
    assert_eq!(app.get(&path, Some(&dave.token)).await.status, 404);

    let comments = app.get(&format!("{path}/comments"), Some(&carol.token)).await;
    let bodies: Vec<&str> =
        comments.body["items"].as_array().unwrap().iter().map(|c| c["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["hello carol"]);
    let admin_name = app.get("/api/v1/me", Some(&admin.token)).await.body["user"]["display_name"].clone();
    assert_eq!(comments.body["items"][0]["author_name"], admin_name, "the customer sees who answered");
    let own = app.post(&format!("{path}/comments"), Some(&carol.token), json!({"body": "thanks"})).await;
    let carol_name = app.get("/api/v1/me", Some(&carol.token)).await.body["user"]["display_name"].clone();
    assert_eq!(own.body["author_name"], carol_name, "{}", own.body);

    let internal =
        app.post(&format!("{path}/comments"), Some(&carol.token), json!({"body": "x", "visibility": "internal"})).await;
    assert_eq!((internal.status, internal.code()), (403, "forbidden"));
    let edit = app.patch(&path, Some(&carol.token), json!({"priority": "urgent"}), Some(1)).await;
    assert_eq!(edit.status, 403);
    assert_eq!(app.get(&format!("{path}/history"), Some(&carol.token)).await.status, 403);
    let assign =
        app.post("/api/v1/tickets", Some(&carol.token), json!({"subject": "s", "assignee_id": admin.id})).await;
    assert_eq!(assign.status, 422);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_customer_reply_reopens_a_solved_ticket_and_a_closed_one_takes_no_replies() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let carol = app.person(&admin, "customer", "carol").await;
    let ticket = app.ticket(&carol, "Broken").await;
    let path = format!("/api/v1/tickets/{}", ticket["id"]);
    let solved = app.patch(&path, Some(&admin.token), json!({"status": "solved"}), Some(1)).await;
    assert_eq!(solved.status, 200, "{}", solved.body);

    app.post(&format!("{path}/comments"), Some(&carol.token), json!({"body": "still broken"})).await;
    let reopened = app.get(&path, Some(&admin.token)).await;
    assert_eq!(reopened.body["status"], "open");
    assert!(reopened.body["solved_at"].is_null());

    let v = reopened.body["version"].as_i64().unwrap();
    let s = app.patch(&path, Some(&admin.token), json!({"status": "solved"}), Some(v)).await;
    let c = app.patch(&path, Some(&admin.token), json!({"status": "closed"}), s.body["version"].as_i64()).await;
    assert_eq!(c.status, 200, "{}", c.body);
    let late = app.post(&format!("{path}/comments"), Some(&carol.token), json!({"body": "hello?"})).await;
    assert_eq!((late.status, late.code()), (409, "ticket_closed"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_customer_marks_their_own_request_solved_and_their_reply_reopens_it() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let carol = app.person(&admin, "customer", "carol").await;
    let dave = app.person(&admin, "customer", "dave").await;
    let ticket = app.ticket(&carol, "Broken").await;
    let path = format!("/api/v1/tickets/{}", ticket["id"]);

    // Someone else's request is not there for them; staff use PATCH.
    let other = app.post(&format!("{path}/solve"), Some(&dave.token), json!({})).await;
    assert_eq!((other.status, other.code()), (404, "not_found"), "{}", other.body);
    let staff = app.post(&format!("{path}/solve"), Some(&admin.token), json!({})).await;
    assert_eq!((staff.status, staff.code()), (403, "forbidden"), "{}", staff.body);
    let elsewhere = app.org("globex").await;
    let outsider = app.post(&format!("{path}/solve"), Some(&elsewhere.token), json!({})).await;
    assert_eq!(outsider.status, 404);

    let solved = app.post(&format!("{path}/solve"), Some(&carol.token), json!({})).await;
    assert_eq!(solved.status, 200, "{}", solved.body);
    assert_eq!(solved.body["status"], "solved");
    assert!(solved.body["solved_at"].is_string());
    let again = app.post(&format!("{path}/solve"), Some(&carol.token), json!({})).await;
    assert_eq!((again.status, &again.body["version"]), (200, &solved.body["version"]), "solving twice changes nothing");
    let history = app.get(&format!("{path}/history"), Some(&admin.token)).await;
    let by_carol = history.body["items"].as_array().unwrap().iter().any(|e| {
        e["after"]["status"] == "solved" && e["before"]["status"] == "new" && e["actor_id"].as_i64() == Some(carol.id)
    });
    assert!(by_carol, "the journal says the requester solved it: {}", history.body);

    app.post(&format!("{path}/comments"), Some(&carol.token), json!({"body": "it broke again"})).await;
    assert_eq!(app.get(&path, Some(&carol.token)).await.body["status"], "open");

    let v = app.get(&path, Some(&admin.token)).await.body["version"].as_i64();
    let s = app.patch(&path, Some(&admin.token), json!({"status": "solved"}), v).await;
    app.patch(&path, Some(&admin.token), json!({"status": "closed"}), s.body["version"].as_i64()).await;
    let closed = app.post(&format!("{path}/solve"), Some(&carol.token), json!({})).await;
    assert_eq!((closed.status, closed.code()), (409, "ticket_closed"), "{}", closed.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_filter_by_status_tag_assignee_and_full_text() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let t = Some(admin.token.as_str());
    app.post("/api/v1/tickets", t, json!({"subject": "Printer jammed", "tags": ["hardware"]})).await;
    app.post(
        "/api/v1/tickets",
        t,
        json!({"subject": "Refund for order", "description": "I was charged twice", "assignee_id": admin.id}),
    )
    .await;
    app.post("/api/v1/tickets", t, json!({"subject": "Password reset", "priority": "urgent", "category": "Account"}))
        .await;

    let subjects = |res: &crate::helpers::Response| -> Vec<String> {
        res.body["items"].as_array().unwrap().iter().map(|t| t["subject"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(subjects(&app.get("/api/v1/tickets?tag=hardware", t).await), ["Printer jammed"]);
    assert_eq!(subjects(&app.get("/api/v1/tickets?q=charged", t).await), ["Refund for order"]);
    assert_eq!(subjects(&app.get("/api/v1/tickets?assignee_id=me", t).await), ["Refund for order"]);
    assert_eq!(subjects(&app.get("/api/v1/tickets?priority=urgent&category=account", t).await), ["Password reset"]);
    assert_eq!(subjects(&app.get("/api/v1/tickets?sort=created_at&limit=1", t).await), ["Printer jammed"]);
    assert_eq!(app.get("/api/v1/tickets?status=new,open", t).await.body["items"].as_array().unwrap().len(), 3);
    let bad = app.get("/api/v1/tickets?status=lost&limit=500&created_after=yesterday&sort=size", t).await;
    assert_eq!(bad.status, 422);
    for field in ["status", "limit", "created_after", "sort"] {
        assert!(bad.body["error"]["fields"].get(field).is_some(), "no message for {field}: {}", bad.body);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn customers_choose_priority_and_channel_only_where_their_organisation_allows_it() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let agent = app.person(&admin, "agent", "ada").await;
    let customer = app.person(&admin, "customer", "cid").await;
    let urgent = json!({"subject": "Everything is on fire", "priority": "urgent", "channel": "phone"});

    let refused = app.post("/api/v1/tickets", Some(&customer.token), urgent.clone()).await;
    assert_eq!((refused.status, refused.code()), (422, "validation_failed"));
    let fields = refused.body["error"]["fields"].as_object().unwrap();
    assert!(fields.contains_key("priority") && fields.contains_key("channel"), "{}", refused.body);
    let plain = app.post("/api/v1/tickets", Some(&customer.token), json!({"subject": "Help"})).await;
    assert_eq!((plain.body["priority"].as_str(), plain.body["channel"].as_str()), (Some("normal"), Some("portal")));

    // Only admins read and change the setting; agents are unaffected by it.
    assert_eq!(app.get("/api/v1/admin/settings", Some(&agent.token)).await.status, 403);
    let settings = app.get("/api/v1/admin/settings", Some(&admin.token)).await;
    assert_eq!(settings.body["customers_set_priority"], false, "{}", settings.body);
    let changed = app
        .send(
            "PATCH",
            "/api/v1/admin/settings",
            Some(&admin.token),
            Some(r#"{"customers_set_priority": true}"#.into()),
            &[],
        )
        .await;
    assert_eq!((changed.status, &changed.body["customers_set_priority"]), (200, &json!(true)), "{}", changed.body);
    let allowed = app.post("/api/v1/tickets", Some(&customer.token), urgent).await;
    assert_eq!(allowed.status, 201, "{}", allowed.body);
    assert_eq!((allowed.body["priority"].as_str(), allowed.body["channel"].as_str()), (Some("urgent"), Some("phone")));
    let audit = app.get("/api/v1/admin/security/audit?event=org.settings_changed", Some(&admin.token)).await;
    assert_eq!(audit.body["items"].as_array().map(Vec::len), Some(1), "{}", audit.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rails_counts_match_the_views_they_count() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let ada = app.person(&admin, "agent", "ada").await;
    let carol = app.person(&admin, "customer", "carol").await;
    let t = Some(ada.token.as_str());
    for (subject, assignee) in
        [("mine 1", Some(ada.id)), ("mine 2", Some(ada.id)), ("nobody's", None), ("admin's", Some(admin.id))]
    {
        let res = app.post("/api/v1/tickets", t, json!({"subject": subject, "assignee_id": assignee})).await;
        assert_eq!(res.status, 201, "{}", res.body);
    }
    for (subject, status) in [("waiting", "pending"), ("done", "solved")] {
        let id = app.ticket(&ada, subject).await["id"].as_i64().unwrap();
        let body = Some(json!({"status": status}).to_string());
        let res = app.send("PATCH", &format!("/api/v1/tickets/{id}"), t, body, &[("If-Match", "*")]).await;
        assert_eq!(res.status, 200, "{}", res.body);
    }

    let counts = app.get("/api/v1/tickets/counts", t).await;
    assert_eq!(counts.status, 200, "{}", counts.body);
    for (view, query) in
        [("mine", "assignee_id=me"), ("unassigned", "assignee_id=none"), ("open", ""), ("pending", "status=pending")]
    {
        let status = if view == "pending" { "" } else { "status=new,open,pending,on_hold&" };
        let list = app.get(&format!("/api/v1/tickets?{status}{query}&limit=100"), t).await;
        assert_eq!(counts.body[view], list.body["items"].as_array().unwrap().len(), "{view}: {}", counts.body);
    }
    assert_eq!((counts.body["mine"].as_i64(), counts.body["pending"].as_i64()), (Some(2), Some(1)));
    assert_eq!(counts.body["open"], 5, "the solved ticket is not open");
    assert_eq!(app.get("/api/v1/tickets/counts", Some(&carol.token)).await.status, 403);
    let globex = app.org("globex").await;
    assert_eq!(app.get("/api/v1/tickets/counts", Some(&globex.token)).await.body["open"], 0, "per organisation");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ticket_is_found_by_its_number_in_the_organisation() {
    let app = TestApp::spawn().await;
    let acme = app.org("acme").await;
    let globex = app.org("globex").await;
    let first = app.ticket(&acme, "first").await;
    let second = app.ticket(&acme, "second").await;
    app.ticket(&globex, "globex's first").await;
    let n = second["number"].as_i64().unwrap();
    let found = app.get(&format!("/api/v1/tickets?number={n}"), Some(&acme.token)).await;
    let ids: Vec<i64> = found.body["items"].as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [second["id"].as_i64().unwrap()]);
    let one = first["number"].as_i64().unwrap();
    let theirs = app.get(&format!("/api/v1/tickets?number={one}"), Some(&globex.token)).await;
    assert_eq!(theirs.body["items"][0]["subject"], "globex's first", "each organisation numbers its own");
    let bad = app.get("/api/v1/tickets?number=0", Some(&acme.token)).await;
    assert_eq!((bad.status, bad.body["error"]["fields"]["number"].as_str()), (422, Some("must be a ticket number")));
}

#[tokio::test(flavor = "multi_thread")]
async fn polling_a_list_gets_304_until_something_in_it_changes() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let t = Some(admin.token.as_str());
    let id = app.ticket(&admin, "watched").await["id"].as_i64().unwrap();
    let first = app.get("/api/v1/tickets?status=new", t).await;
    let etag = first.header("etag").expect("an ETag").to_owned();
    assert!(etag.starts_with("W/\""), "{etag}");
    let again = app.send("GET", "/api/v1/tickets?status=new", t, None, &[("If-None-Match", &etag)]).await;
    assert_eq!(again.status, 304);

    let body = Some(json!({"priority": "urgent"}).to_string());
    assert_eq!(app.send("PATCH", &format!("/api/v1/tickets/{id}"), t, body, &[("If-Match", "*")]).await.status, 200);
    let changed = app.send("GET", "/api/v1/tickets?status=new", t, None, &[("If-None-Match", &etag)]).await;
    assert_eq!(changed.status, 200);
    assert_eq!(changed.body["items"][0]["priority"], "urgent");
    assert_ne!(changed.header("etag"), Some(etag.as_str()));
}
