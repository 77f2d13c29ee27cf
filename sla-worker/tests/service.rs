//! atum-sla-worker as systemd runs it (checks shared by every service binary).

use std::path::Path;

use atum_runtime::config::Service;
use atum_testing::service;

const EXE: &str = env!("CARGO_BIN_EXE_atum-sla-worker");

#[tokio::test(flavor = "multi_thread")]
async fn it_notifies_ready_pings_the_watchdog_serves_metrics_and_stops_on_sigterm() {
    service::assert_systemd_lifecycle(Path::new(EXE), Service::SlaWorker).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn it_refuses_to_start_on_an_unmigrated_database() {
    let db = atum_testing::TestDb::empty().await;
    let out = std::process::Command::new(EXE)
        .env_clear()
        .env("ATUM_DATABASE_URL", &db.url)
        .env("ATUM_SLA_WORKER_LISTEN", atum_testing::process::free_addr().to_string())
        .output()
        .expect("run the worker");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("schema is at version 0") && stderr.contains("run `atum migrate`"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn it_stops_feeding_the_watchdog_when_the_database_is_gone() {
    service::assert_watchdog_withheld_without_database(Path::new(EXE), Service::SlaWorker).await;
}

#[test]
fn a_malformed_setting_of_its_own_exits_78_naming_the_variable() {
    service::assert_bad_setting_exits_78(Path::new(EXE), &[], "ATUM_SLA_SWEEP_LANES", "99");
}
