//! atum-metrics-worker as systemd runs it (checks shared by every service binary).

use std::path::Path;

use atum_runtime::config::Service;
use atum_testing::service;

const EXE: &str = env!("CARGO_BIN_EXE_atum-metrics-worker");

#[tokio::test(flavor = "multi_thread")]
async fn it_notifies_ready_pings_the_watchdog_serves_metrics_and_stops_on_sigterm() {
    service::assert_systemd_lifecycle(Path::new(EXE), Service::MetricsWorker).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn it_stops_feeding_the_watchdog_when_the_database_is_gone() {
    service::assert_watchdog_withheld_without_database(Path::new(EXE), Service::MetricsWorker).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn it_writes_a_snapshot_per_organisation_every_interval_and_exports_the_gauges() {
    use std::time::Duration;

    use atum_testing::{TestDb, fixtures, process::wait_for_http, service::Running};

    let db = TestDb::migrated().await;
    let c = db.client().await;
    let org = fixtures::org(&c, "acme").await;
    let cus = fixtures::user(&c, org, "customer", "cus").await;
    fixtures::org(&c, "globex").await;
    c.execute(
        "INSERT INTO tickets (org_id, number, subject, requester_id, status, created_at)
         VALUES ($1, 1, 'one', $2, 'new', now() - interval '2 hours'), ($1, 2, 'two', $2, 'open', now())",
        &[&org, &cus],
    )
    .await
    .unwrap();
    let run = Running::start_with(
        Path::new(EXE),
        Service::MetricsWorker,
        &db,
        Duration::from_secs(30),
        &[("ATUM_METRICS_INTERVAL_SECS", "1")],
    );
    // Passes every second: wait for a few snapshots per organisation.
    let snapshots = async |at_least: i64| {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let n: i64 = c
                .query_one("SELECT count(*) FROM metrics_snapshots WHERE org_id = $1 AND resolution = 'raw'", &[&org])
                .await
                .unwrap()
                .get(0);
            if n >= at_least {
                return n;
            }
            assert!(std::time::Instant::now() < deadline, "only {n} snapshots after 30 s");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let taken = snapshots(1).await;
    // After a snapshot, so a later one counts them: one visit deflected, one not; a
    // draft inserted and sent with a quarter of it edited.
    c.batch_execute(&format!(
        "INSERT INTO kb_deflection_events (org_id, session, event) VALUES
             ({org}, 'aaaaaaaaaaaaaaaa', 'shown'), ({org}, 'aaaaaaaaaaaaaaaa', 'abandoned'),
             ({org}, 'bbbbbbbbbbbbbbbb', 'shown'), ({org}, 'bbbbbbbbbbbbbbbb', 'submitted'),
             ({org}, 'cccccccccccccccc', 'abandoned');
         INSERT INTO ai_suggestions (org_id, ticket_id, inputs, body, citations, confidence, status, decided_at,
                                     sent_at, sent_distance, duration_ms)
         SELECT {org}, id, 'x', 'Hi', '[]', 0.5, 'sent', now(), now(), 0.25, 3 FROM tickets WHERE org_id = {org} AND number = 1"
    ))
    .await
    .unwrap();
    snapshots(taken + 3).await;
    let orgs: i64 = c.query_one("SELECT count(DISTINCT org_id) FROM metrics_snapshots", &[]).await.unwrap().get(0);
    assert_eq!(orgs, 2);
    // Consecutive snapshots tile time: each starts where the previous one ended.
    let gaps: i64 = c
        .query_one(
            "SELECT count(*) FROM (SELECT period_start, lag(period_end) OVER (ORDER BY period_end) AS prev
                                   FROM metrics_snapshots WHERE org_id = $1 AND resolution = 'raw') s
             WHERE prev IS NOT NULL AND prev <> period_start",
            &[&org],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(gaps, 0);
    let metrics = wait_for_http(run.listen, "/metrics", Duration::from_secs(5));
    for line in [
        "atum_tickets_open{org=\"acme\",status=\"new\"} 1",
        "atum_tickets_open{org=\"acme\",status=\"open\"} 1",
        "atum_tickets_open{org=\"globex\",status=\"new\"} 0",
        "atum_sla_breached_open_tickets{org=\"acme\"} 0",
        "atum_portal_deflection_visits_total{org=\"acme\"} 2",
        "atum_portal_deflected_visits_total{org=\"acme\"} 1",
        "atum_ai_draft_decisions_total{org=\"acme\",verdict=\"inserted\"} 1",
        "atum_ai_drafts_sent_total{org=\"acme\"} 1",
        "atum_ai_draft_sent_edit_distance_total{org=\"acme\"} 0.25",
    ] {
        assert!(metrics.lines().any(|l| l == line), "missing {line}:\n{metrics}");
    }
    let oldest = metrics
        .lines()
        .find(|l| l.starts_with("atum_backlog_oldest_age_seconds{org=\"acme\"}"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse::<f64>().ok())
        .expect("the backlog age gauge");
    assert!((7200.0..7300.0).contains(&oldest), "{oldest}");
    atum_testing::service::assert_promtool_accepts(&metrics, "atum-metrics-worker");
}

#[test]
fn a_malformed_setting_of_its_own_exits_78_naming_the_variable() {
    service::assert_bad_setting_exits_78(Path::new(EXE), &[], "ATUM_METRICS_INTERVAL_SECS", "hourly");
}
