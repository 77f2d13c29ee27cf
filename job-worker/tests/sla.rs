//! The SLA jobs run by a real job worker: breach prediction and the recompute after a
//! policy change.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use atum_core::sla::{Recompute, prediction_job::Predict};
use atum_queue::enqueue::Options;
use atum_testing::{
    TestDb, fixtures,
    process::{Reaped, free_addr},
};

const EXE: &str = env!("CARGO_BIN_EXE_atum-job-worker");

fn start(db: &TestDb) -> Reaped {
    Reaped(
        Command::new(EXE)
            .env_clear()
            .env("ATUM_DATABASE_URL", &db.url)
            .env("ATUM_JOB_WORKER_LISTEN", free_addr().to_string())
            .env("ATUM_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("start atum-job-worker"),
    )
}

async fn wait_succeeded(db: &TestDb, id: i64) {
    let client = db.client().await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let row = client.query_one("SELECT state, errors::text FROM job_queue WHERE id = $1", &[&id]).await.unwrap();
        let (state, errors): (String, String) = (row.get(0), row.get(1));
        if state == "succeeded" {
            return;
        }
        assert!(state != "discarded" && Instant::now() < deadline, "job {id} is {state}: {errors}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Seconds from a ticket's creation to its resolution deadline.
async fn resolution_due(client: &tokio_postgres::Client, id: i64) -> Option<f64> {
    client
        .query_one(
            "SELECT extract(epoch FROM sla_resolution_due_at - created_at)::float8 FROM tickets WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap()
        .get(0)
}

/// An org with an agent, a customer and one policy (`resolution` calendar minutes).
async fn org(client: &tokio_postgres::Client, resolution: i32) -> (i64, i64, i64) {
    let org = fixtures::org(client, "acme").await;
    let customer = fixtures::user(client, org, "customer", "carla").await;
    fixtures::user(client, org, "agent", "ada").await;
    let policy: i64 = client
        .query_one(
            "INSERT INTO sla_policies (org_id, name, resolution_minutes) VALUES ($1, 'All', $2) RETURNING id",
            &[&org, &resolution],
        )
        .await
        .unwrap()
        .get(0);
    (org, customer, policy)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_prediction_job_writes_time_to_breach_and_a_risk_that_grows_as_the_deadline_nears() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let (org, customer, _) = org(&client, 240).await;
    // History: 120 solved tickets that took 10 to 1200 minutes to resolve.
    client
        .execute(
            "INSERT INTO tickets (org_id, number, subject, requester_id, status, created_at, first_responded_at,
                                  solved_at)
             SELECT $1, g, 'Old ' || g, $2, 'solved', now() - interval '30 days' + g * interval '1 hour',
                    now() - interval '30 days' + g * interval '1 hour' + interval '5 minutes',
                    now() - interval '30 days' + g * interval '1 hour' + g * interval '10 minutes'
             FROM generate_series(1, 120) g",
            &[&org, &customer],
        )
        .await
        .unwrap();
    // Open: one with 10 minutes left of 240, one just opened.
    let ids: Vec<i64> = client
        .query(
            "INSERT INTO tickets (org_id, number, subject, requester_id, status, created_at)
             VALUES ($1, 121, 'Nearly due', $2, 'open', now() - interval '230 minutes'),
                    ($1, 122, 'Fresh', $2, 'open', now() - interval '5 minutes')
             RETURNING id",
            &[&org, &customer],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let conn = db.pool.get().await.unwrap();
    let job = atum_queue::enqueue(&conn, &Predict { org_id: org.into(), ticket_ids: Vec::new() }, Options::default())
        .await
        .unwrap()
        .unwrap();
    let _worker = start(&db);
    wait_succeeded(&db, job).await;

    let rows = client
        .query("SELECT time_to_breach_minutes, sla_risk_score FROM tickets WHERE id = ANY($1) ORDER BY id", &[&ids])
        .await
        .unwrap();
    let (near_left, near_risk): (Option<i32>, Option<i16>) = (rows[0].get(0), rows[0].get(1));
    let (fresh_left, fresh_risk): (Option<i32>, Option<i16>) = (rows[1].get(0), rows[1].get(1));
    assert!(near_left.is_some_and(|m| (9..=10).contains(&m)), "{near_left:?}");
    assert!(fresh_left.is_some_and(|m| (234..=235).contains(&m)), "{fresh_left:?}");
    let (near_risk, fresh_risk) = (near_risk.unwrap(), fresh_risk.unwrap());
    assert!((0..=100).contains(&near_risk) && (0..=100).contains(&fresh_risk));
    // Of past tickets still open after 230 minutes, almost all took longer than 240.
    assert!(near_risk > fresh_risk && near_risk >= 80, "near {near_risk}, fresh {fresh_risk}");
    let solved_untouched: i64 = client
        .query_one(
            "SELECT count(*) FROM tickets WHERE org_id = $1 AND status = 'solved' AND sla_risk_score IS NOT NULL",
            &[&org],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(solved_untouched, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_policy_change_mid_ticket_moves_its_deadline_once_the_recompute_job_ran() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let (org, customer, policy) = org(&client, 60).await;
    let id: i64 = client
        .query_one(
            "INSERT INTO tickets (org_id, number, subject, requester_id, status, created_at)
             VALUES ($1, 1, 'Slow one', $2, 'open', now() - interval '30 minutes') RETURNING id",
            &[&org, &customer],
        )
        .await
        .unwrap()
        .get(0);
    let conn = db.pool.get().await.unwrap();
    let job = atum_queue::enqueue(&conn, &Recompute { org_id: org.into() }, Options::default()).await.unwrap().unwrap();
    let _worker = start(&db);
    wait_succeeded(&db, job).await;
    assert_eq!(resolution_due(&client, id).await, Some(3600.0));
    client.execute("UPDATE sla_policies SET resolution_minutes = 240 WHERE id = $1", &[&policy]).await.unwrap();
    let job = atum_queue::enqueue(&conn, &Recompute { org_id: org.into() }, Options::default()).await.unwrap().unwrap();
    wait_succeeded(&db, job).await;
    assert_eq!(
        resolution_due(&client, id).await,
        Some(4.0 * 3600.0),
        "the new target counts from creation, not from the change"
    );
}
