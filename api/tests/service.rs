//! atum-api as systemd runs it (checks shared by every service binary).

use std::path::Path;

use atum_core::config::Service;
use atum_testing::service;

const EXE: &str = env!("CARGO_BIN_EXE_atum-api");

#[tokio::test(flavor = "multi_thread")]
async fn it_notifies_ready_pings_the_watchdog_serves_metrics_and_stops_on_sigterm() {
    service::assert_systemd_lifecycle(Path::new(EXE), Service::Api).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn it_stops_feeding_the_watchdog_when_its_database_is_unreachable() {
    service::assert_watchdog_withheld_without_database(Path::new(EXE), Service::Api).await;
}

#[test]
fn a_bad_database_url_names_the_variable_and_exits_with_the_config_status() {
    let out = std::process::Command::new(EXE)
        .env_clear()
        .env("ATUM_DATABASE_URL", "postgres://atum:hunter2@[::1/atum")
        .output()
        .expect("run the api");
    assert_eq!(out.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("atum-api: ATUM_DATABASE_URL is invalid"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
}
