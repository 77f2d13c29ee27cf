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
    events::record_many(&tx, org.into(), &[breach.clone(), breach.clone()]).await.unwrap();
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
