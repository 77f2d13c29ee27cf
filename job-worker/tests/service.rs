//! atum-job-worker as systemd runs it (checks shared by every service binary).

use std::path::Path;

use atum_runtime::config::Service;
use atum_testing::service;

const EXE: &str = env!("CARGO_BIN_EXE_atum-job-worker");

#[tokio::test(flavor = "multi_thread")]
async fn it_notifies_ready_pings_the_watchdog_serves_metrics_and_stops_on_sigterm() {
    service::assert_systemd_lifecycle(Path::new(EXE), Service::JobWorker).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn it_stops_feeding_the_watchdog_when_its_database_is_unreachable() {
    service::assert_watchdog_withheld_without_database(Path::new(EXE), Service::JobWorker).await;
}

#[test]
fn a_malformed_setting_of_its_own_exits_78_naming_the_variable() {
    service::assert_bad_setting_exits_78(Path::new(EXE), &[], "ATUM_JOB_LEASE_SECS", "soonish");
}

#[test]
fn an_embedding_model_directory_that_does_not_exist_exits_78_naming_the_variable() {
    service::assert_bad_setting_exits_78(Path::new(EXE), &[], "ATUM_EMBED_MODEL_DIR", "/nonexistent/atum-model-dir");
}
