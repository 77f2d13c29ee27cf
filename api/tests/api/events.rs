//! `GET /api/v1/events`: the live ticket feed.

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread")]
async fn staff_see_every_change_live_and_a_customer_only_what_their_own_ticket_shows() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let ada = app.person(&admin, "agent", "ada").await;
    let carol = app.person(&admin, "customer", "carol").await;
    let dave = app.person(&admin, "customer", "dave").await;
    let (ada_feed, carol_feed) = (app.events(&ada.token, None), app.events(&carol.token, None));
    let t = Some(admin.token.as_str());

    let new = |requester: i64| json!({"subject": "Printer", "description": "on fire", "requester_id": requester});
    let mine = app.post("/api/v1/tickets", t, new(carol.id)).await.body["id"].as_i64().unwrap();
    let theirs = app.post("/api/v1/tickets", t, new(dave.id)).await.body["id"].as_i64().unwrap();
    let comment = |visibility: &str| json!({"body": "noted", "visibility": visibility});
    assert_eq!(app.post(&format!("/api/v1/tickets/{mine}/comments"), t, comment("internal")).await.status, 201);
    assert_eq!(app.post(&format!("/api/v1/tickets/{mine}/comments"), t, comment("public")).await.status, 201);
    let body = Some(json!({"status": "solved"}).to_string());
    let solved = app.send("PATCH", &format!("/api/v1/tickets/{mine}"), t, body, &[("If-Match", "*")]).await;
    assert_eq!(solved.status, 200, "{}", solved.body);

    let staff: Vec<(i64, String)> = (0..5).map(|i| ada_feed.next_ticket(&format!("staff event {i}"))).collect();
    let kinds = |list: &[(i64, &str)]| list.iter().map(|(t, k)| (*t, k.to_string())).collect::<Vec<_>>();
    assert_eq!(
        staff,
        kinds(&[
            (mine, "created"),
            (theirs, "created"),
            (mine, "comment_added"),
            (mine, "comment_added"),
            (mine, "updated")
        ])
    );
    // Events arrive in journal order, so the customer's three prove the rest never came.
    let customer: Vec<(i64, String)> = (0..3).map(|i| carol_feed.next_ticket(&format!("customer event {i}"))).collect();
    assert_eq!(customer, kinds(&[(mine, "created"), (mine, "comment_added"), (mine, "updated")]));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_entry_that_commits_after_a_newer_one_still_reaches_the_stream() {
    use atum_core::tickets::events::{self, Actor, Event, Kind};
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let feed = app.events(&admin.token, None);
    let early = app.ticket(&admin, "early").await["id"].as_i64().unwrap();
    assert_eq!(feed.next_ticket("the early ticket"), (early, "created".into()));

    // A journal entry takes its id now and commits only after a newer one has.
    let org: i64 = app.sql(&format!("SELECT org_id FROM tickets WHERE id = {early}")).await[0].get(0);
    let mut conn = app.db.pool.get().await.unwrap();
    let slow = conn.transaction().await.unwrap();
    events::record(&slow, Event::by_system(Actor::SlaWorker, org.into(), early, Kind::SlaWarning)).await.unwrap();
    let late = app.ticket(&admin, "late").await["id"].as_i64().unwrap();
    assert_eq!(feed.next_ticket("the newer entry, committed first"), (late, "created".into()));
    slow.commit().await.unwrap();
    assert_eq!(feed.next_ticket("the older entry, committed last"), (early, "sla_warning".into()));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stream_carries_nothing_of_another_organisation() {
    let app = TestApp::spawn().await;
    let acme = app.org("acme").await;
    let globex = app.org("globex").await;
    let globex_feed = app.events(&globex.token, None);
    app.ticket(&acme, "acme's secret").await;
    let own = app.ticket(&globex, "globex's own").await["id"].as_i64().unwrap();
    let e = globex_feed.next("globex's own ticket");
    assert_eq!(e.data["ticket_id"], own, "the first event globex sees is its own: {e:?}");
    assert!(e.data.get("subject").is_none() && e.data.get("after").is_none(), "an event carries no content: {e:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reconnect_with_last_event_id_first_gets_what_it_missed() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let feed = app.events(&admin.token, None);
    let first = app.ticket(&admin, "first").await["id"].as_i64().unwrap();
    let seen = feed.next("the first ticket");
    assert_eq!(seen.data["ticket_id"], first);
    drop(feed);

    let second = app.ticket(&admin, "second").await["id"].as_i64().unwrap();
    let third = app.ticket(&admin, "third").await["id"].as_i64().unwrap();
    let resumed = app.events(&admin.token, seen.id);
    assert_eq!(resumed.next_ticket("missed 1"), (second, "created".into()));
    assert_eq!(resumed.next_ticket("missed 2"), (third, "created".into()));
    let fourth = app.ticket(&admin, "fourth").await["id"].as_i64().unwrap();
    assert_eq!(resumed.next_ticket("live again"), (fourth, "created".into()), "then live, without repeats");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_stream_needs_a_session() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/v1/events", None).await;
    assert_eq!((res.status, res.code()), (401, "unauthenticated"));
}

#[tokio::test(flavor = "multi_thread")]
async fn signing_out_ends_an_open_stream_even_while_changes_keep_coming() {
    let app = TestApp::spawn_with(|s| s.stream_check = std::time::Duration::from_millis(200)).await;
    let admin = app.org("acme").await;
    let ada = app.person(&admin, "agent", "ada").await;
    let feed = app.events(&ada.token, None);
    app.ticket(&admin, "Before").await;
    assert_eq!(feed.next_ticket("a change while signed in").1, "created");

    assert_eq!(app.post("/api/v1/auth/logout", Some(&ada.token), json!({})).await.status, 204);
    // Changes every 50 ms for over 3 s: the stream is never quiet, and still it checks
    // the session (every 200 ms here) and ends well before the changes stop.
    let busy = async {
        for i in 0..60 {
            app.ticket(&admin, &format!("Busy {i}")).await;
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    };
    let ended =
        tokio::task::spawn_blocking(move || feed.ends("ada signed out", std::time::Duration::from_millis(1_500)));
    let (_, ended) = tokio::join!(busy, ended);
    ended.unwrap();
}
