//! Dashboard snapshots against a seeded database whose every figure is known.

use std::time::Duration;

use atum_core::dashboard::{
    AgentLoad, Quantiles,
    snapshots::{self, Settings},
};
use atum_core::ids::UserId;
use atum_testing::{TestDb, fixtures};
use chrono::{DateTime, TimeDelta, Utc};

/// Inserts a ticket; times are minutes before `now` (None: not set).
#[allow(clippy::too_many_arguments)]
async fn ticket(
    c: &tokio_postgres::Client,
    org: i64,
    requester: i64,
    now: DateTime<Utc>,
    status: &str,
    priority: &str,
    assignee: Option<i64>,
    created_ago: i64,
    responded_ago: Option<i64>,
    solved_ago: Option<i64>,
) -> i64 {
    let at = |m: i64| now - TimeDelta::minutes(m);
    c.query_one(
        "INSERT INTO tickets (org_id, number, subject, requester_id, status, priority, assignee_id, created_at,
                              updated_at, first_responded_at, solved_at, closed_at)
         VALUES ($1, (SELECT coalesce(max(number), 0) + 1 FROM tickets WHERE org_id = $1), 'a ticket', $2, $3, $4, $5,
                 $6, $6, $7, $8, CASE WHEN $3 = 'closed' THEN $8::timestamptz END)
         RETURNING id",
        &[
            &org,
            &requester,
            &status,
            &priority,
            &assignee,
            &at(created_ago),
            &responded_ago.map(at),
            &solved_ago.map(at),
        ],
    )
    .await
    .unwrap()
    .get(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_snapshot_reports_exactly_the_seeded_desk_and_rolls_up_and_prunes() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    let org = fixtures::org(&c, "acme").await;
    let ann = fixtures::user(&c, org, "agent", "ann").await;
    let bob = fixtures::user(&c, org, "agent", "bob").await;
    let adm = fixtures::user(&c, org, "admin", "adm").await;
    let cus = fixtures::user(&c, org, "customer", "cus").await;
    let other = fixtures::org(&c, "globex").await;
    let gus = fixtures::user(&c, other, "agent", "gus").await;
    let now: DateTime<Utc> = c.query_one("SELECT now()", &[]).await.unwrap().get(0);

    ticket(&c, org, cus, now, "new", "normal", None, 10, None, None).await;
    let breached = ticket(&c, org, cus, now, "open", "high", Some(ann), 100, Some(90), None).await;
    let risky = ticket(&c, org, cus, now, "pending", "high", Some(ann), 30, Some(20), None).await;
    ticket(&c, org, cus, now, "on_hold", "urgent", Some(bob), 2 * 1440, Some(2 * 1440 - 30), None).await;
    ticket(&c, org, cus, now, "solved", "normal", Some(bob), 50, Some(30), Some(5)).await;
    ticket(&c, org, cus, now, "solved", "low", None, 180, Some(170), Some(20)).await;
    let old = ticket(&c, org, cus, now, "closed", "normal", None, 3 * 1440, None, Some(2 * 1440)).await;
    // Another organisation's desk must not leak into acme's figures.
    ticket(&c, other, gus, now, "open", "urgent", Some(gus), 5, Some(1), None).await;
    c.execute(
        "UPDATE tickets SET sla_warn_at = $2::timestamptz - interval '1 minute', sla_next_due_at = $2::timestamptz + interval '10 minutes'
         WHERE id = $1",
        &[&risky, &now],
    )
    .await
    .unwrap();
    for t in [breached, old] {
        c.execute(
            "INSERT INTO sla_breaches (org_id, ticket_id, kind, clock, cycle_started_at, due_at)
             VALUES ($1, $2, 'breach', 'resolution', $3::timestamptz - interval '1 day', $3::timestamptz - interval '1 hour')",
            &[&org, &t, &now],
        )
        .await
        .unwrap();
    }
    c.execute(
        "INSERT INTO job_queue (kind, org_id, state, finished_at) VALUES
             ('NOOP', $1, 'available', NULL), ('NOOP', $1, 'available', NULL), ('NOOP', $1, 'discarded', now()),
             ('NOOP', $2, 'available', NULL)",
        &[&org, &other],
    )
    .await
    .unwrap();

    let mut conn = db.pool.get().await.unwrap();
    let taken = snapshots::take_all(&mut conn, Duration::from_secs(3600), now).await.unwrap();
    assert_eq!(taken.len(), 2);
    let f = &taken.iter().find(|t| t.org_slug == "acme").unwrap().figures;
    assert_eq!(f.open_total, 4);
    assert_eq!(
        f.open_by_status,
        [("new", 1), ("on_hold", 1), ("open", 1), ("pending", 1)].map(|(k, v)| (k.to_string(), v)).into()
    );
    assert_eq!(f.open_by_priority, [("high", 2), ("normal", 1), ("urgent", 1)].map(|(k, v)| (k.to_string(), v)).into());
    // The last hour: created #1, #3, #5; solved #5 (45 min) and #6 (160 min); first
    // answers to #3 (10 min) and #5 (20 min).
    assert_eq!((f.created, f.solved), (3, 2));
    assert_eq!(f.resolution_minutes, Quantiles { p50: Some(102.5), p90: Some(148.5) });
    assert_eq!(f.first_response_minutes, Quantiles { p50: Some(15.0), p90: Some(19.0) });
    assert_eq!((f.sla_breached_open, f.sla_at_risk), (1, 1), "the closed ticket's breach does not count");
    let close = |a: Option<f64>, b: f64| a.is_some_and(|a| (a - b).abs() < 0.1);
    assert!(close(f.backlog_oldest_minutes, 2880.0), "{:?}", f.backlog_oldest_minutes);
    // The middle of four ages (10, 30, 100, 2880 minutes): the older of the two.
    assert!(close(f.backlog_median_age_minutes, 100.0), "{:?}", f.backlog_median_age_minutes);
    assert_eq!(f.jobs_by_state, [("available", 2), ("discarded", 1)].map(|(k, v)| (k.to_string(), v)).into());
    assert_eq!(
        f.agent_load,
        vec![
            AgentLoad { user_id: UserId(ann), display_name: "ann".into(), open: 2 },
            AgentLoad { user_id: UserId(bob), display_name: "bob".into(), open: 1 },
            AgentLoad { user_id: UserId(adm), display_name: "adm".into(), open: 0 },
        ]
    );
    let globex = &taken.iter().find(|t| t.org_slug == "globex").unwrap().figures;
    assert_eq!((globex.open_total, globex.created), (1, 1));

    // Stored as written; the same instant is not taken twice.
    let stored: serde_json::Value = c
        .query_one("SELECT figures FROM metrics_snapshots WHERE org_id = $1 AND resolution = 'raw'", &[&org])
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored["open_total"], 4);
    assert!(snapshots::take_all(&mut conn, Duration::from_secs(3600), now).await.unwrap().is_empty());
    // The next pass covers exactly the time since this one.
    let later = now + TimeDelta::minutes(1);
    snapshots::take_all(&mut conn, Duration::from_secs(3600), later).await.unwrap();
    let (start, end): (DateTime<Utc>, DateTime<Utc>) = {
        let r = c
            .query_one(
                "SELECT period_start, period_end FROM metrics_snapshots WHERE org_id = $1 ORDER BY period_end DESC LIMIT 1",
                &[&org],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!((start, end), (now, later));

    // Two hours on, the hour holding those snapshots is rolled up: state from the last
    // snapshot in it, flow over the whole hour.
    let rolled = snapshots::roll_up(&conn, now + TimeDelta::hours(2)).await.unwrap();
    assert!(rolled >= 2, "an hour row per organisation, got {rolled}");
    let hour = c
        .query_one(
            "SELECT period_start, period_end, figures FROM metrics_snapshots WHERE org_id = $1 AND resolution = 'hour'",
            &[&org],
        )
        .await
        .unwrap();
    let (h_start, h_end, h): (DateTime<Utc>, DateTime<Utc>, serde_json::Value) =
        (hour.get(0), hour.get(1), hour.get(2));
    assert_eq!(h_end - h_start, TimeDelta::hours(1));
    assert!(h_start < later && later <= h_end);
    assert_eq!(h["open_total"], 4);
    let created_in_hour: i64 = c
        .query_one(
            "SELECT count(*) FROM tickets WHERE org_id = $1 AND created_at >= $2 AND created_at < $3",
            &[&org, &h_start, &h_end],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(h["created"], created_in_hour);
    assert_eq!(snapshots::roll_up(&conn, now + TimeDelta::hours(2)).await.unwrap(), 0, "nothing twice");

    // Raw rows past their retention go; the hour row stays.
    c.execute(
        "UPDATE metrics_snapshots SET period_start = period_start - interval '3 days', period_end = period_end - interval '3 days'
         WHERE resolution = 'raw' AND period_end = $1",
        &[&now],
    )
    .await
    .unwrap();
    let settings = Settings {
        interval: Duration::from_secs(60),
        raw_retention: Duration::from_secs(48 * 3600),
        hourly_retention: Duration::from_secs(35 * 86_400),
        daily_retention: Duration::from_secs(400 * 86_400),
    };
    assert_eq!(snapshots::prune(&conn, &settings).await.unwrap(), 2, "both organisations' old raw rows");
    let left: i64 =
        c.query_one("SELECT count(*) FROM metrics_snapshots WHERE resolution = 'hour'", &[]).await.unwrap().get(0);
    assert!(left >= 2);
}
