//! Ticket locks, relationships and merge over real HTTP.

use serde_json::{Value, json};

use crate::helpers::{Person, TestApp};

async fn lock(app: &TestApp, who: &Person, id: i64, takeover: bool) -> crate::helpers::Response {
    app.post(&format!("/api/v1/tickets/{id}/lock"), Some(&who.token), json!({"takeover": takeover})).await
}

fn id(t: &Value) -> i64 {
    t["id"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_agents_racing_for_a_lock_end_with_exactly_one_holder() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let mut agents = Vec::new();
    for name in ["ann", "bob", "cat", "dan", "eve", "fay"] {
        agents.push(app.person(&admin, "agent", name).await);
    }
    for round in 0..5 {
        let t = app.ticket(&admin, &format!("race {round}")).await;
        let path = format!("/api/v1/tickets/{}/lock", id(&t));
        let mut racers = Vec::new();
        for a in &agents {
            let (app_addr, token, path) = (app.addr, a.token.clone(), path.clone());
            racers.push(tokio::task::spawn_blocking(move || {
                let res = ureq::post(&format!("http://{app_addr}{path}"))
                    .set("Authorization", &format!("Bearer {token}"))
                    .set("Content-Type", "application/json")
                    .send_string("{}");
                match res {
                    Ok(r) => r.status(),
                    Err(ureq::Error::Status(code, _)) => code,
                    Err(e) => panic!("{e}"),
                }
            }));
        }
        let mut codes = Vec::new();
        for r in racers {
            codes.push(r.await.unwrap());
        }
        assert_eq!(codes.iter().filter(|c| **c == 200).count(), 1, "round {round}: {codes:?}");
        assert_eq!(codes.iter().filter(|c| **c == 423).count(), agents.len() - 1, "round {round}: {codes:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_locked_ticket_refuses_other_agents_with_423_until_taken_over_released_or_expired() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let ann = app.person(&admin, "agent", "ann").await;
    let bob = app.person(&admin, "agent", "bob").await;
    let customer = app.person(&admin, "customer", "cus").await;
    let t = app.ticket(&customer, "My order").await;
    let tid = id(&t);

    let held = lock(&app, &ann, tid, false).await;
    assert_eq!(held.status, 200, "{}", held.body);
    assert_eq!(held.body["holder_name"], "ann");
    assert_eq!(held.body["mine"], true);
    // Others see who holds it, in the lock route and in the ticket.
    let seen = app.get(&format!("/api/v1/tickets/{tid}/lock"), Some(&bob.token)).await;
    assert_eq!(seen.body["locked"], true);
    assert_eq!(seen.body["lock"]["holder_id"], ann.id);
    assert_eq!(seen.body["lock"]["mine"], false);
    let read = app.get(&format!("/api/v1/tickets/{tid}"), Some(&bob.token)).await;
    assert_eq!(read.body["lock"]["holder_name"], "ann", "{}", read.body);
    assert!(app.get(&format!("/api/v1/tickets/{tid}"), Some(&customer.token)).await.body.get("lock").is_none());

    // Bob's reply and update are refused, naming Ann.
    let reply = app.post(&format!("/api/v1/tickets/{tid}/comments"), Some(&bob.token), json!({"body": "On it"})).await;
    assert_eq!(reply.status, 423, "{}", reply.body);
    assert_eq!(reply.code(), "ticket_locked");
    assert_eq!(reply.body["error"]["detail"]["holder"]["name"], "ann");
    assert!(reply.body["error"]["message"].as_str().unwrap().contains("ann"));
    let version = read.body["version"].as_i64().unwrap();
    let update = app
        .patch(&format!("/api/v1/tickets/{tid}"), Some(&bob.token), json!({"priority": "high"}), Some(version))
        .await;
    assert_eq!(update.status, 423);
    assert_eq!(lock(&app, &bob, tid, false).await.status, 423);
    // The customer is never blocked; Ann renews hers freely.
    let customer_reply =
        app.post(&format!("/api/v1/tickets/{tid}/comments"), Some(&customer.token), json!({"body": "Any news?"})).await;
    assert_eq!(customer_reply.status, 201, "{}", customer_reply.body);
    let renewed = lock(&app, &ann, tid, false).await;
    assert_eq!(renewed.body["acquired_at"], held.body["acquired_at"], "renewing keeps the start");

    // Bob takes it over explicitly; the history records it and Ann is now refused.
    let taken = lock(&app, &bob, tid, true).await;
    assert_eq!(taken.status, 200, "{}", taken.body);
    assert_eq!(taken.body["holder_name"], "bob");
    let history = app.get(&format!("/api/v1/tickets/{tid}/history"), Some(&admin.token)).await;
    let takeover = history.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event_type"] == "lock_taken_over")
        .unwrap_or_else(|| panic!("no takeover in {}", history.body))
        .clone();
    assert_eq!(takeover["actor_id"], bob.id);
    assert_eq!(takeover["before"]["holder_id"], ann.id);
    let ann_reply = app.post(&format!("/api/v1/tickets/{tid}/comments"), Some(&ann.token), json!({"body": "x"})).await;
    assert_eq!(ann_reply.status, 423);

    // Bob's reply releases his lock.
    let done = app.post(&format!("/api/v1/tickets/{tid}/comments"), Some(&bob.token), json!({"body": "Sent."})).await;
    assert_eq!(done.status, 201, "{}", done.body);
    assert_eq!(app.get(&format!("/api/v1/tickets/{tid}/lock"), Some(&ann.token)).await.body["locked"], false);

    // Expiry: a lock past its lease no longer blocks anyone.
    assert_eq!(lock(&app, &ann, tid, false).await.status, 200);
    app.sql(&format!("UPDATE ticket_locks SET expires_at = now() - interval '1 second' WHERE ticket_id = {tid}")).await;
    assert_eq!(app.get(&format!("/api/v1/tickets/{tid}/lock"), Some(&bob.token)).await.body["locked"], false);
    let after = app.post(&format!("/api/v1/tickets/{tid}/comments"), Some(&bob.token), json!({"body": "late"})).await;
    assert_eq!(after.status, 201);

    // Release by hand, and release on sign-out.
    assert_eq!(lock(&app, &ann, tid, false).await.status, 200);
    assert_eq!(app.delete(&format!("/api/v1/tickets/{tid}/lock"), Some(&bob.token)).await.status, 404, "not bob's");
    assert_eq!(app.delete(&format!("/api/v1/tickets/{tid}/lock"), Some(&ann.token)).await.status, 204);
    assert_eq!(lock(&app, &ann, tid, false).await.status, 200);
    assert_eq!(app.post("/api/v1/auth/logout", Some(&ann.token), json!({})).await.status, 204);
    assert_eq!(app.get(&format!("/api/v1/tickets/{tid}/lock"), Some(&bob.token)).await.body["locked"], false);
    // Customers cannot lock.
    assert_eq!(lock(&app, &customer, tid, false).await.status, 403);
}

async fn link(app: &TestApp, who: &Person, from: i64, kind: &str, to: i64) -> crate::helpers::Response {
    app.post(&format!("/api/v1/tickets/{from}/links"), Some(&who.token), json!({"kind": kind, "ticket_id": to})).await
}

#[tokio::test(flavor = "multi_thread")]
async fn every_relationship_rule_holds_and_links_show_on_both_tickets() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let mut t = Vec::new();
    for i in 0..6 {
        t.push(id(&app.ticket(&admin, &format!("ticket {i}")).await));
    }
    // Parent/child, seen from both sides.
    let res = link(&app, &admin, t[0], "parent_of", t[1]).await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(res.body["kind"], "parent_of");
    let child_side = app.get(&format!("/api/v1/tickets/{}/links", t[1]), Some(&admin.token)).await;
    assert_eq!(child_side.body["items"][0]["kind"], "child_of");
    assert_eq!(child_side.body["items"][0]["ticket"]["id"], t[0]);
    assert_eq!(link(&app, &admin, t[2], "child_of", t[1]).await.status, 201, "grandchild");
    // No cycles, no second parent, no self-links, no twins.
    let cycle = link(&app, &admin, t[2], "parent_of", t[0]).await;
    assert_eq!((cycle.status, cycle.code()), (409, "cycle"), "{}", cycle.body);
    let second = link(&app, &admin, t[3], "parent_of", t[1]).await;
    assert_eq!((second.status, second.code()), (409, "already_has_parent"));
    let own = link(&app, &admin, t[0], "related_to", t[0]).await;
    assert_eq!(own.status, 422);
    assert!(own.body["error"]["fields"]["ticket_id"].is_string());
    assert_eq!(link(&app, &admin, t[0], "related_to", t[3]).await.status, 201);
    let twin = link(&app, &admin, t[3], "related_to", t[0]).await;
    assert_eq!((twin.status, twin.code()), (409, "already_linked"), "related_to is symmetric");
    // Blocks: no circle.
    assert_eq!(link(&app, &admin, t[3], "blocks", t[4]).await.status, 201);
    assert_eq!(link(&app, &admin, t[4], "blocks", t[5]).await.status, 201);
    let circle = link(&app, &admin, t[5], "blocks", t[3]).await;
    assert_eq!((circle.status, circle.code()), (409, "cycle"));
    let blocked = app.get(&format!("/api/v1/tickets/{}/links", t[4]), Some(&admin.token)).await;
    let kinds: Vec<&str> =
        blocked.body["items"].as_array().unwrap().iter().map(|l| l["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["blocked_by", "blocks"]);
    // Duplicates point at the original.
    assert_eq!(link(&app, &admin, t[4], "duplicate_of", t[3]).await.status, 201);
    let chain = link(&app, &admin, t[5], "duplicate_of", t[4]).await;
    assert_eq!((chain.status, chain.code()), (409, "duplicate_of_duplicate"));
    let number3 = app.get(&format!("/api/v1/tickets/{}", t[3]), Some(&admin.token)).await.body["number"].clone();
    assert!(chain.body["error"]["message"].as_str().unwrap().contains(&format!("#{number3}")), "{}", chain.body);
    let original_becomes_dup = link(&app, &admin, t[3], "duplicate_of", t[5]).await;
    assert_eq!((original_becomes_dup.status, original_becomes_dup.code()), (409, "has_duplicates"));
    let bad_kind = link(&app, &admin, t[0], "cousin_of", t[1]).await;
    assert_eq!(bad_kind.status, 422);
    // Removing a link, from either side.
    let link_id = child_side.body["items"][0]["id"].as_i64().unwrap();
    assert_eq!(app.delete(&format!("/api/v1/tickets/{}/links/{link_id}", t[1]), Some(&admin.token)).await.status, 204);
    assert_eq!(
        app.get(&format!("/api/v1/tickets/{}/links", t[0]), Some(&admin.token)).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let history = app.get(&format!("/api/v1/tickets/{}/history", t[0]), Some(&admin.token)).await;
    let types: Vec<&str> =
        history.body["items"].as_array().unwrap().iter().map(|e| e["event_type"].as_str().unwrap()).collect();
    assert!(types.contains(&"link_added") && types.contains(&"link_removed"), "{types:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn merging_moves_every_comment_gives_the_requester_access_and_closes_the_duplicate() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let agent = app.person(&admin, "agent", "ann").await;
    let alice = app.person(&admin, "customer", "alice").await;
    let bruno = app.person(&admin, "customer", "bruno").await;
    let original = id(&app.ticket(&alice, "Printer broken").await);
    let dup = id(&app.ticket(&bruno, "Printer broken too").await);
    for (who, ticket, body) in [
        (&alice, original, "It shows E5"),
        (&agent, original, "Restart it please"),
        (&bruno, dup, "Mine too, E5"),
        (&agent, dup, "Looking"),
    ] {
        let res =
            app.post(&format!("/api/v1/tickets/{ticket}/comments"), Some(&who.token), json!({"body": body})).await;
        assert_eq!(res.status, 201, "{}", res.body);
    }
    let internal = app
        .post(
            &format!("/api/v1/tickets/{dup}/comments"),
            Some(&agent.token),
            json!({"body": "same root cause", "visibility": "internal"}),
        )
        .await;
    assert_eq!(internal.status, 201);
    let before_dup =
        app.get(&format!("/api/v1/tickets/{dup}/comments"), Some(&agent.token)).await.body["items"].clone();
    let count = |v: &Value| v["items"].as_array().map_or(0, Vec::len);
    let before_total = count(&app.get(&format!("/api/v1/tickets/{original}/comments"), Some(&agent.token)).await.body)
        + before_dup.as_array().unwrap().len();
    assert_eq!(app.get(&format!("/api/v1/tickets/{original}"), Some(&bruno.token)).await.status, 404, "not yet");

    let merged =
        app.post(&format!("/api/v1/tickets/{dup}/merge"), Some(&agent.token), json!({"into_id": original})).await;
    assert_eq!(merged.status, 200, "{}", merged.body);
    assert_eq!(merged.body["comments_moved"], 3);
    let after = app.get(&format!("/api/v1/tickets/{original}/comments"), Some(&agent.token)).await.body;
    assert_eq!(count(&after), before_total, "no comment lost");
    assert_eq!(count(&app.get(&format!("/api/v1/tickets/{dup}/comments"), Some(&agent.token)).await.body), 0);
    // Authors and times are kept.
    for c in before_dup.as_array().unwrap() {
        let moved = after["items"].as_array().unwrap().iter().find(|m| m["id"] == c["id"]).expect("moved comment");
        assert_eq!((&moved["author_id"], &moved["created_at"]), (&c["author_id"], &c["created_at"]));
    }
    // Bruno now sees the original, and only its public comments.
    let seen = app.get(&format!("/api/v1/tickets/{original}"), Some(&bruno.token)).await;
    assert_eq!(seen.status, 200, "{}", seen.body);
    let his_view = app.get(&format!("/api/v1/tickets/{original}/comments"), Some(&bruno.token)).await.body;
    assert_eq!(count(&his_view), before_total - 1, "the internal note stays internal");
    let listed = app.get("/api/v1/tickets", Some(&bruno.token)).await.body;
    assert!(listed["items"].as_array().unwrap().iter().any(|t| t["id"] == original));
    // The duplicate is closed with a pointer, and both histories say so.
    let closed = app.get(&format!("/api/v1/tickets/{dup}"), Some(&agent.token)).await.body;
    assert_eq!(closed["status"], "closed");
    let links = app.get(&format!("/api/v1/tickets/{dup}/links"), Some(&agent.token)).await.body;
    assert_eq!(links["items"][0]["kind"], "duplicate_of");
    assert_eq!(links["items"][0]["ticket"]["id"], original);
    for (t, event) in [(dup, "merged_into"), (original, "merged_from")] {
        let h = app.get(&format!("/api/v1/tickets/{t}/history"), Some(&agent.token)).await.body;
        let e = h["items"].as_array().unwrap().iter().find(|e| e["event_type"] == event).cloned();
        assert_eq!(e.map(|e| e["after"]["comments_moved"].clone()), Some(json!(3)), "{event} on {t}: {h}");
    }
    // Not twice, not into itself, not by a customer.
    let again =
        app.post(&format!("/api/v1/tickets/{dup}/merge"), Some(&agent.token), json!({"into_id": original})).await;
    assert_eq!((again.status, again.code()), (409, "already_merged"));
    let itself =
        app.post(&format!("/api/v1/tickets/{original}/merge"), Some(&agent.token), json!({"into_id": original})).await;
    assert_eq!(itself.status, 422);
    let by_customer =
        app.post(&format!("/api/v1/tickets/{original}/merge"), Some(&alice.token), json!({"into_id": dup})).await;
    assert_eq!(by_customer.status, 403);
}

#[tokio::test(flavor = "multi_thread")]
async fn locks_links_and_merges_never_reach_another_organisation() {
    let app = TestApp::spawn().await;
    let acme = app.org("acme").await;
    let globex = app.org("globex").await;
    let a = id(&app.ticket(&acme, "acme's").await);
    let g = id(&app.ticket(&globex, "globex's").await);
    for res in [
        lock(&app, &globex, a, true).await,
        app.get(&format!("/api/v1/tickets/{a}/lock"), Some(&globex.token)).await,
        app.get(&format!("/api/v1/tickets/{a}/links"), Some(&globex.token)).await,
        link(&app, &globex, g, "related_to", a).await,
        link(&app, &globex, a, "related_to", g).await,
        app.post(&format!("/api/v1/tickets/{g}/merge"), Some(&globex.token), json!({"into_id": a})).await,
        app.post(&format!("/api/v1/tickets/{a}/merge"), Some(&globex.token), json!({"into_id": g})).await,
    ] {
        assert_eq!(res.status, 404, "{}", res.body);
    }
    let lock_id =
        app.sql(&format!("SELECT count(*) FROM ticket_locks WHERE ticket_id = {a}")).await[0].get::<_, i64>(0);
    assert_eq!(lock_id, 0);
    let acme_link = link(&app, &acme, a, "related_to", id(&app.ticket(&acme, "other").await)).await;
    let link_id = acme_link.body["id"].as_i64().unwrap();
    assert_eq!(app.delete(&format!("/api/v1/tickets/{g}/links/{link_id}"), Some(&globex.token)).await.status, 404);
    assert_eq!(app.delete(&format!("/api/v1/tickets/{a}/links/{link_id}"), Some(&globex.token)).await.status, 404);
}
