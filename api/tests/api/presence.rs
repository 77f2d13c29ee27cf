//! `/api/v1/tickets/{id}/presence`: who has a ticket open.

use serde_json::{Value, json};

use crate::helpers::TestApp;

fn names(res: &Value) -> Vec<(String, bool)> {
    res["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["display_name"].as_str().unwrap().to_owned(), v["typing"].as_bool().unwrap()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn viewers_appear_type_and_leave_and_other_agents_hear_of_it_live() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let ada = app.person(&admin, "agent", "ada").await;
    let bob = app.person(&admin, "agent", "bob").await;
    let bob_feed = app.events(&bob.token, None);
    let id = app.ticket(&admin, "Printer").await["id"].as_i64().unwrap();
    assert_eq!(bob_feed.next_ticket("the new ticket"), (id, "created".into()));
    let path = format!("/api/v1/tickets/{id}/presence");

    let first = app.send("PUT", &path, Some(&ada.token), None, &[]).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(names(&first.body), [("ada".to_owned(), false)]);
    let e = bob_feed.next("ada opened the ticket");
    assert_eq!((e.event.as_str(), &e.data), ("presence", &json!({"ticket_id": id})));

    let both = app.send("PUT", &path, Some(&bob.token), Some(json!({"typing": true}).to_string()), &[]).await;
    assert_eq!(names(&both.body), [("ada".to_owned(), false), ("bob".to_owned(), true)]);
    assert_eq!(both.body["items"][1]["me"], true);

    assert_eq!(app.delete(&path, Some(&ada.token)).await.status, 204);
    assert_eq!(names(&app.get(&path, Some(&bob.token)).await.body), [("bob".to_owned(), true)]);

    // A tab that vanished without a word stops counting when its lease runs out.
    app.sql(&format!("UPDATE ticket_presence SET expires_at = now() - interval '1 second' WHERE ticket_id = {id}"))
        .await;
    assert_eq!(names(&app.get(&path, Some(&ada.token)).await.body), []);
}

#[tokio::test(flavor = "multi_thread")]
async fn presence_is_for_staff_of_the_tickets_organisation_only() {
    let app = TestApp::spawn().await;
    let acme = app.org("acme").await;
    let globex = app.org("globex").await;
    let carol = app.person(&acme, "customer", "carol").await;
    let id = app.ticket(&acme, "Printer").await["id"].as_i64().unwrap();
    let path = format!("/api/v1/tickets/{id}/presence");

    assert_eq!(app.send("PUT", &path, Some(&carol.token), None, &[]).await.status, 403);
    assert_eq!(app.get(&path, Some(&carol.token)).await.status, 403);
    for res in [app.send("PUT", &path, Some(&globex.token), None, &[]).await, app.get(&path, Some(&globex.token)).await]
    {
        assert_eq!(res.status, 404, "{}", res.body);
    }
    assert_eq!(app.delete(&path, Some(&globex.token)).await.status, 204, "deleting nothing of another org is a no-op");
    assert_eq!(app.sql("SELECT 1 FROM ticket_presence").await.len(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_list_learns_who_is_on_which_ticket_and_lock_changes_are_announced() {
    let app = TestApp::spawn().await;
    let acme = app.org("acme").await;
    let globex = app.org("globex").await;
    let ada = app.person(&acme, "agent", "ada").await;
    let bob = app.person(&acme, "agent", "bob").await;
    let carol = app.person(&acme, "customer", "carol").await;
    let viewed = app.ticket(&acme, "Printer").await["id"].as_i64().unwrap();
    let locked = app.ticket(&acme, "VPN").await["id"].as_i64().unwrap();
    app.ticket(&acme, "Nobody here").await;
    let bob_feed = app.events(&bob.token, None);

    app.send(
        "PUT",
        &format!("/api/v1/tickets/{viewed}/presence"),
        Some(&ada.token),
        Some(json!({"typing": true}).to_string()),
        &[],
    )
    .await;
    assert_eq!(bob_feed.next_presence("ada opened a ticket"), viewed);
    let lock = app.post(&format!("/api/v1/tickets/{locked}/lock"), Some(&ada.token), json!({})).await;
    assert_eq!(lock.status, 200, "{}", lock.body);
    assert_eq!(bob_feed.next_presence("ada took a lock"), locked);

    let seen = app.get("/api/v1/tickets/activity", Some(&bob.token)).await;
    assert_eq!(seen.status, 200, "{}", seen.body);
    let items = seen.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "only the tickets someone is on: {}", seen.body);
    let on = |id: i64| items.iter().find(|a| a["ticket_id"] == id).unwrap().clone();
    assert_eq!(on(viewed)["viewers"][0]["display_name"], "ada");
    assert_eq!(on(viewed)["viewers"][0]["typing"], true);
    assert_eq!(on(viewed)["lock_holder"], json!(null));
    assert_eq!(
        (on(locked)["lock_holder"]["display_name"].clone(), on(locked)["lock_holder"]["me"].clone()),
        (json!("ada"), json!(false))
    );

    // Renewing one's own lock is not news; releasing it is.
    app.post(&format!("/api/v1/tickets/{locked}/lock"), Some(&ada.token), json!({})).await;
    assert_eq!(app.delete(&format!("/api/v1/tickets/{locked}/lock"), Some(&ada.token)).await.status, 204);
    assert_eq!(bob_feed.next_presence("ada released the lock"), locked);
    let after = app.get("/api/v1/tickets/activity", Some(&bob.token)).await;
    assert_eq!(after.body["items"].as_array().unwrap().len(), 1, "{}", after.body);

    assert_eq!(app.get("/api/v1/tickets/activity", Some(&carol.token)).await.status, 403);
    assert_eq!(app.get("/api/v1/tickets/activity", Some(&globex.token)).await.body["items"], json!([]));
}
