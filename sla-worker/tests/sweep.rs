//! Two real sla-worker processes sweeping one database: every breach is recorded
//! once, with one ticket event and one escalation each.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use atum_testing::{
    TestDb, fixtures,
    process::{Reaped, free_addr, http_get},
};

const EXE: &str = env!("CARGO_BIN_EXE_atum-sla-worker");
const TICKETS: i64 = 200;

/// A worker and the address of its `/metrics`.
fn start(db: &TestDb) -> (Reaped, std::net::SocketAddr) {
    let listen = free_addr();
    let child = Reaped(
        Command::new(EXE)
            .env_clear()
            .env("ATUM_DATABASE_URL", &db.url)
            .env("ATUM_SLA_WORKER_LISTEN", listen.to_string())
            .env("ATUM_SLA_SWEEP_SECS", "1")
            .env("ATUM_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("start atum-sla-worker"),
    );
    (child, listen)
}

/// How many sweeps the worker at `listen` has finished (0 until it answers).
fn sweeps(listen: std::net::SocketAddr) -> u64 {
    let (_, body) = http_get(listen, "/metrics");
    body.lines()
        .find_map(|l| l.strip_prefix("atum_sla_sweep_duration_seconds_count "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

async fn count(db: &TestDb, sql: &str) -> i64 {
    db.client().await.query_one(sql, &[]).await.unwrap().get(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn two_sla_workers_record_each_breach_once_and_escalate_it_once() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let org = fixtures::org(&client, "acme").await;
    let customer = fixtures::user(&client, org, "customer", "carla").await;
    let agent = fixtures::user(&client, org, "agent", "ada").await;
    let group: i64 = client
        .query_one("INSERT INTO agent_groups (org_id, name) VALUES ($1, 'Escalations') RETURNING id", &[&org])
        .await
        .unwrap()
        .get(0);
    client
        .execute(
            "INSERT INTO agent_group_members (org_id, group_id, user_id) VALUES ($1, $2, $3)",
            &[&org, &group, &agent],
        )
        .await
        .unwrap();
    client
        .execute(
            "INSERT INTO sla_policies (org_id, name, first_response_minutes, warn_before_minutes,
                                       escalate_priority, escalate_group_id, escalate_notify)
             VALUES ($1, 'Fast', 1, 0, 'urgent', $2, true)",
            &[&org, &group],
        )
        .await
        .unwrap();
    // Tickets created 50 s ago with a one-minute first-response target: due in 10 s.
    let ids: Vec<atum_core::ids::TicketId> = client
        .query(
            "INSERT INTO tickets (org_id, number, subject, requester_id, assignee_id, created_at)
             SELECT $1, n, 'Ticket ' || n, $2, $4, now() - interval '50 seconds' FROM generate_series(1, $3::int) n
             RETURNING id",
            &[&org, &customer, &(TICKETS as i32), &agent],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut conn = db.pool.get().await.unwrap();
    let tx = conn.transaction().await.unwrap();
    let now = atum_core::sla::db_now(&tx).await.unwrap();
    atum_core::sla::refresh::refresh(&tx, org.into(), &ids, now).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(count(&db, "SELECT count(*) FROM sla_breaches").await, 0, "nothing is due yet");
    assert_eq!(count(&db, "SELECT count(*) FROM ticket_sla_schedule").await, TICKETS);

    let ((_a, a), (_b, b)) = (start(&db), start(&db));
    let deadline = Instant::now() + Duration::from_secs(40);
    while count(&db, "SELECT count(*) FROM sla_breaches").await < TICKETS {
        assert!(Instant::now() < deadline, "breaches were not all recorded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Both workers sweep at least three more times: nothing may be recorded twice.
    let (after_a, after_b) = (sweeps(a), sweeps(b));
    while sweeps(a) < after_a + 3 || sweeps(b) < after_b + 3 {
        assert!(Instant::now() < deadline, "the workers stopped sweeping");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let once = |sql: &'static str| {
        let db = &db;
        async move { assert_eq!(count(db, sql).await, TICKETS, "{sql}") }
    };
    once("SELECT count(*) FROM sla_breaches WHERE kind = 'breach' AND clock = 'first_response'").await;
    once("SELECT count(DISTINCT ticket_id) FROM sla_breaches").await;
    once("SELECT count(*) FROM ticket_events WHERE event_type = 'sla_breached'").await;
    once("SELECT count(*) FROM ticket_events WHERE event_type = 'sla_escalated'").await;
    // Escalated: urgent, routed to the escalation group's queue (unassigned there).
    let routed = format!(
        "SELECT count(*) FROM tickets WHERE priority = 'urgent' AND group_id = {group} AND assignee_id IS NULL"
    );
    assert_eq!(count(&db, &routed).await, TICKETS);
    let notified = format!(
        "SELECT count(*) FROM job_queue WHERE kind = 'SLA_NOTIFY' AND (payload->>'group_id')::bigint = {group}"
    );
    assert_eq!(count(&db, &notified).await, TICKETS);
    let late: f64 = client
        .query_one("SELECT extract(epoch FROM max(recorded_at - due_at))::float8 FROM sla_breaches", &[])
        .await
        .unwrap()
        .get(0);
    assert!(late < 5.0, "a breach was recorded {late:.1} s after its deadline");
    assert_eq!(count(&db, "SELECT count(*) FROM ticket_sla_schedule").await, 0, "nothing left to escalate");
}

#[tokio::test(flavor = "multi_thread")]
async fn ticket_changes_and_the_periodic_pass_queue_breach_predictions() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let org = fixtures::org(&client, "acme").await;
    client
        .execute("INSERT INTO sla_policies (org_id, name, first_response_minutes) VALUES ($1, 'P', 60)", &[&org])
        .await
        .unwrap();
    let _worker = start(&db);
    // At start the periodic pass queues one prediction for all of the org's tickets.
    let deadline = Instant::now() + Duration::from_secs(20);
    let all = format!(
        "SELECT count(*) FROM job_queue WHERE kind = 'SLA_PREDICT' AND org_id = {org} AND unique_key = '{org}:all'"
    );
    while count(&db, &all).await == 0 {
        assert!(Instant::now() < deadline, "no periodic prediction was queued");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A ticket change (the API's NOTIFY) queues a prediction for that ticket.
    let listening = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'";
    while count(&db, listening).await == 0 {
        assert!(Instant::now() < deadline, "the worker is not listening");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    client.execute("SELECT pg_notify('atum_tickets', $1)", &[&format!("{org}:42")]).await.unwrap();
    let one = format!(
        "SELECT count(*) FROM job_queue WHERE kind = 'SLA_PREDICT' AND payload @> '{{\"org_id\": {org}, \"ticket_ids\": [42]}}'"
    );
    while count(&db, &one).await == 0 {
        assert!(Instant::now() < deadline, "the change did not queue a prediction");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(count(&db, &all).await, 1, "the periodic pass is not repeated before its interval");
}
