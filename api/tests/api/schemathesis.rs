//! Schemathesis (PyPI, pinned in `.ci/run`) fuzzes the API from its own OpenAPI
//! document, with every check on, once with an admin's session and once without:
//! any response the document does not describe, any 5xx, any valid request refused
//! or invalid one accepted fails the build. A fixed seed and a bounded number of
//! examples keep the run reproducible and to a few minutes.
//!
//! Checks and their settings are in `api/tests/schemathesis.toml`, each exception
//! with its reason. Operations left out of the run, and why:
//! - `POST /auth/logout`, `DELETE /auth/sessions/{id}`, `POST /auth/sessions/revoke-others`,
//!   `POST /auth/password`, `POST /auth/mfa/totp/confirm` and `…/disable`: they end or
//!   replace the session the run authenticates with (what they do is covered by the
//!   sessions and MFA tests).
//! - `GET /metrics` and `GET /api/v1/metrics`: Prometheus text, not JSON; promtool
//!   checks it in the observability test.
//! - `GET /events`: a server-sent-events stream that stays open by design; the events
//!   tests read it.

use std::process::Command;

use serde_json::json;

use crate::helpers::TestApp;

const SEED: &str = "20261130";

const EXCLUDED_OPERATIONS: &[&str] = &[
    "logout",
    "revoke_session",
    "revoke_other_sessions",
    "change_password",
    "confirm_totp",
    "disable_totp",
    "metrics",
    "stream",
];

fn schemathesis(app: &TestApp, token: Option<&str>, report: &std::path::Path) -> (bool, String) {
    let mut cmd = Command::new("schemathesis");
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schemathesis.toml");
    cmd.args(["--config-file", config, "run", &format!("http://{}/api/v1/openapi.json", app.addr)])
        // One worker: with two threads, Hypothesis's lambda descriptions race in Python
        // 3.11's `ast` module ("AST constructor recursion depth mismatch", seen in CI
        // as a Runtime Error on GET /kb/search), a crash of the tool, not a finding.
        .args(["--seed", SEED, "--workers", "1", "--no-color", "--suppress-health-check", "all"])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--report", "ndjson", "--report-dir"])
        .arg(report);
    for op in EXCLUDED_OPERATIONS {
        cmd.args(["--exclude-operation-id", op]);
    }
    if let Some(t) = token {
        cmd.args(["-H", &format!("Authorization: Bearer {t}")]);
    }
    let out = match cmd.output() {
        Ok(out) => out,
        Err(e) => panic!("schemathesis (PyPI; .ci/run installs it) did not run: {e}"),
    };
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    eprintln!("{text}");
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread")]
async fn schemathesis_finds_nothing_the_openapi_document_does_not_describe() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let agent = app.person(&admin, "agent", "ada").await;
    let customer = app.person(&admin, "customer", "carol").await;
    // Something for the generated ids to find.
    for n in 0..3 {
        let t = app.ticket(&customer, &format!("ticket {n}")).await;
        let id = t["id"].as_i64().unwrap();
        app.post(&format!("/api/v1/tickets/{id}/comments"), Some(&agent.token), json!({"body": "on it"})).await;
    }
    let report = std::env::temp_dir().join(format!("atum-schemathesis-{}", std::process::id()));
    let with_session = tokio::task::block_in_place(|| schemathesis(&app, Some(&admin.token), &report.join("session")));
    let without = tokio::task::block_in_place(|| schemathesis(&app, None, &report.join("anonymous")));
    assert!(with_session.0, "schemathesis with an admin's session found problems:\n{}", with_session.1);
    assert!(without.0, "schemathesis without a session found problems:\n{}", without.1);
    let _ = std::fs::remove_dir_all(&report);
}
