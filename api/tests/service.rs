//! atum-api as systemd runs it (checks shared by every service binary).

use std::path::Path;

use atum_runtime::config::Service;
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

#[tokio::test(flavor = "multi_thread")]
async fn a_database_error_is_logged_once_with_its_sqlstate_constraint_route_and_request_id_but_no_values() {
    let db = atum_testing::TestDb::migrated().await;
    let mut conn = db.pool.get().await.unwrap();
    let tx = conn.transaction().await.unwrap();
    let admin = atum_core::users::NewUser {
        email: "ann@acme.test".into(),
        display_name: "Ann".into(),
        role: atum_core::auth::Role::Admin,
        password: Some("anns-long-password".into()),
    };
    let hash = atum_core::users::hash_for(&admin).unwrap().unwrap();
    atum_core::orgs::create_with_admin(&tx, "acme", "Acme", &admin, hash).await.unwrap();
    tx.commit().await.unwrap();
    // A rule only the database knows, so the API's validation cannot catch it first.
    conn.batch_execute("ALTER TABLE tickets ADD CONSTRAINT no_secrets CHECK (subject NOT LIKE '%secret%')")
        .await
        .unwrap();

    let run = service::Running::start_with(
        Path::new(EXE),
        Service::Api,
        &db,
        std::time::Duration::from_secs(30),
        &[("ATUM_LOG_FORMAT", "json")],
    );
    run.notify.expect("READY=1", std::time::Duration::from_secs(20));
    let base = format!("http://{}", run.listen);
    let (status, id, body) = tokio::task::spawn_blocking(move || {
        let login = ureq::post(&format!("{base}/api/v1/auth/login"))
            .set("Content-Type", "application/json")
            .send_string(r#"{"email": "ann@acme.test", "password": "anns-long-password"}"#)
            .unwrap();
        let login: serde_json::Value = serde_json::from_str(&login.into_string().unwrap()).unwrap();
        let token = login["token"].as_str().unwrap().to_owned();
        let res = match ureq::post(&format!("{base}/api/v1/tickets"))
            .set("Authorization", &format!("Bearer {token}"))
            .set("Content-Type", "application/json")
            .send_string(r#"{"subject": "the secret launch code is 0000"}"#)
        {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{e}"),
        };
        let id = res.header("x-request-id").unwrap_or_default().to_owned();
        (res.status(), id, res.into_string().unwrap())
    })
    .await
    .unwrap();
    assert_eq!(status, 422, "{body}");
    assert_eq!(id.len(), 24, "every answer names its request");

    // The line is written as the request's span closes, which may be just after the
    // client has its answer.
    let log =
        atum_testing::eventually::eventually("the request's log line", std::time::Duration::from_secs(10), || {
            let log = run.log();
            let found = log.contains(id.as_str());
            async move { if found { Ok(log) } else { Err(log) } }
        })
        .await;
    let lines: Vec<&str> = log.lines().filter(|l| l.contains(&id)).collect();
    assert_eq!(lines.len(), 1, "logged once: {log}");
    let line: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(line["db.sqlstate"], "23514", "{line}");
    assert_eq!(line["db.constraint"], "no_secrets", "{line}");
    assert_eq!(line["db.table"], "tickets", "{line}");
    assert_eq!(line["span"]["http.route"], "/tickets", "{line}");
    assert!(line["span"]["org.id"].is_number() && line["span"]["user.id"].is_number(), "who asked: {line}");
    assert!(!log.contains("launch code"), "a value reached the log: {log}");
}

#[test]
fn a_malformed_setting_of_its_own_exits_78_naming_the_variable() {
    service::assert_bad_setting_exits_78(Path::new(EXE), &[], "ATUM_PUBLIC_URL", "ftp-desk-example");
}

#[test]
fn an_embedding_model_directory_that_does_not_exist_exits_78_naming_the_variable() {
    service::assert_bad_setting_exits_78(Path::new(EXE), &[], "ATUM_EMBED_MODEL_DIR", "/nonexistent/atum-model-dir");
}
