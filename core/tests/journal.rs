//! The ticket journal: typed events, announced on `atum_tickets` when (and only when)
//! their transaction commits, in the payload the SLA worker parses.

use std::time::Duration;

use atum_core::{
    actor::Actor,
    tickets::events::{self, CHANNEL, Event, Kind, Notice},
};
use atum_runtime::{
    Metrics,
    config::Service,
    listener::{self, Wakeup},
};
use atum_testing::{TestDb, fixtures};
use serde_json::json;
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread")]
async fn an_event_is_announced_at_commit_and_a_rolled_back_one_never() {
    let db = TestDb::migrated().await;
    let shutdown = CancellationToken::new();
    let mut wakeups =
        listener::spawn(db.config.pg.clone(), vec![CHANNEL], Metrics::new(Service::SlaWorker), shutdown.clone());
    assert_eq!(wakeups.recv().await, Some(Wakeup::Connected));

    let mut conn = db.pool.get().await.unwrap();
    let org = fixtures::org(&conn, "acme").await;
    let agent = fixtures::user(&conn, org, "agent", "ada").await;
    let ticket: i64 = conn
        .query_one(
            "INSERT INTO tickets (org_id, number, subject, description, requester_id) VALUES ($1, 1, 's', '', $2) RETURNING id",
            &[&org, &agent],
        )
        .await
        .unwrap()
        .get(0);

    let rolled_back = conn.transaction().await.unwrap();
    events::record(&rolled_back, Event::by_system(Actor::SlaWorker, org.into(), ticket, Kind::SlaWarning))
        .await
        .unwrap();
    rolled_back.rollback().await.unwrap();
    let tx = conn.transaction().await.unwrap();
    let mut breach = Event::by_system(Actor::SlaWorker, org.into(), ticket, Kind::SlaBreached)
        .after(json!({"clock": "first_response"}));
    events::record_many(&tx, org.into(), &[breach.clone(), breach.clone()], events::Announce::Each).await.unwrap();
    breach.actor = Actor::User(agent.into());
    events::record(&tx, breach.clone()).await.unwrap();
    tx.commit().await.unwrap();

    // One notice per entry, each naming it: the committed three, never the rolled back.
    let ids: Vec<i64> = conn
        .query("SELECT id FROM ticket_events WHERE ticket_id = $1 ORDER BY id", &[&ticket])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut noticed = Vec::new();
    while noticed.len() < ids.len() {
        let Some(Wakeup::Notification { channel, payload }) =
            tokio::time::timeout(Duration::from_secs(5), wakeups.recv()).await.unwrap()
        else {
            panic!("no notification")
        };
        let notice = Notice::parse(&payload).unwrap();
        assert_eq!((channel.as_str(), notice.org_id, notice.ticket_id), (CHANNEL, org.into(), ticket.into()));
        noticed.push(notice.entry_id.unwrap());
    }
    noticed.sort();
    assert_eq!(noticed, ids);
    let rows = conn
        .query(
            "SELECT event_type, actor_kind, actor_id FROM ticket_events WHERE ticket_id = $1 ORDER BY id",
            &[&ticket],
        )
        .await
        .unwrap();
    let rows: Vec<(String, String, Option<i64>)> = rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect();
    let row = |kind: &str, actor: &str, id| (kind.to_owned(), actor.to_owned(), id);
    assert_eq!(
        rows,
        [
            row("sla_breached", "sla_worker", None),
            row("sla_breached", "sla_worker", None),
            row("sla_breached", "user", Some(agent))
        ],
        "nothing from the rolled-back transaction; the SLA worker is named, and has no user id"
    );
    shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread")]
async fn every_kind_the_journal_names_is_stored_and_any_other_is_refused() {
    use strum::VariantArray;
    let db = TestDb::migrated().await;
    let conn = db.pool.get().await.unwrap();
    let org = fixtures::org(&conn, "acme").await;
    let agent = fixtures::user(&conn, org, "agent", "ada").await;
    let ticket: i64 = conn
        .query_one(
            "INSERT INTO tickets (org_id, number, subject, description, requester_id) VALUES ($1, 1, 's', '', $2) RETURNING id",
            &[&org, &agent],
        )
        .await
        .unwrap()
        .get(0);
    for kind in Kind::VARIANTS {
        events::record(&conn, Event::by_system(Actor::Job, org.into(), ticket, *kind)).await.unwrap();
    }
    let stored: i64 =
        conn.query_one("SELECT count(*) FROM ticket_events WHERE ticket_id = $1", &[&ticket]).await.unwrap().get(0);
    assert_eq!(stored, Kind::VARIANTS.len() as i64);
    let refused = conn
        .execute(
            "INSERT INTO ticket_events (org_id, ticket_id, actor_kind, event_type) VALUES ($1, $2, 'job', 'status_changed')",
            &[&org, &ticket],
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some(&tokio_postgres::error::SqlState::CHECK_VIOLATION), "{refused}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bulk_history_keeps_its_times_and_is_announced_once() {
    let db = TestDb::migrated().await;
    let shutdown = CancellationToken::new();
    let mut wakeups =
        listener::spawn(db.config.pg.clone(), vec![CHANNEL], Metrics::new(Service::SlaWorker), shutdown.clone());
    assert_eq!(wakeups.recv().await, Some(Wakeup::Connected));
    let mut conn = db.pool.get().await.unwrap();
    let org = fixtures::org(&conn, "acme").await;
    let agent = fixtures::user(&conn, org, "agent", "ada").await;
    let mut tickets = Vec::new();
    for n in 1..=3 {
        let id: i64 = conn
            .query_one(
                "INSERT INTO tickets (org_id, number, subject, description, requester_id) VALUES ($1, $2, 's', '', $3) RETURNING id",
                &[&org, &n, &agent],
            )
            .await
            .unwrap()
            .get(0);
        tickets.push(id);
    }
    let long_ago = chrono::Utc::now() - chrono::Duration::days(400);
    let history: Vec<Event> =
        tickets.iter().map(|t| Event::by_system(Actor::Operator, org.into(), *t, Kind::Created).at(long_ago)).collect();
    let tx = conn.transaction().await.unwrap();
    events::record_many(&tx, org.into(), &history, events::Announce::Silent).await.unwrap();
    events::record_many(&tx, org.into(), &history, events::Announce::Once).await.unwrap();
    tx.commit().await.unwrap();

    let Some(Wakeup::Notification { payload, .. }) =
        tokio::time::timeout(Duration::from_secs(5), wakeups.recv()).await.unwrap()
    else {
        panic!("no notification")
    };
    let last = *tickets.last().unwrap();
    assert_eq!(Notice::parse(&payload), Some(Notice { org_id: org.into(), ticket_id: last.into(), entry_id: None }));
    // Nothing else came between: a marker sent after the commit is the next notice (the
    // silent batch said nothing, the announced one said it once).
    conn.execute("SELECT pg_notify($1, 'marker')", &[&CHANNEL]).await.unwrap();
    let Some(Wakeup::Notification { payload, .. }) =
        tokio::time::timeout(Duration::from_secs(5), wakeups.recv()).await.unwrap()
    else {
        panic!("no marker")
    };
    assert_eq!(payload, "marker", "a second notice came first");
    let times: Vec<chrono::DateTime<chrono::Utc>> = conn
        .query("SELECT created_at FROM ticket_events WHERE org_id = $1", &[&org])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(times.len(), 6);
    assert!(times.iter().all(|t| (*t - long_ago).num_milliseconds().abs() < 1), "{times:?}");
    shutdown.cancel();
}
