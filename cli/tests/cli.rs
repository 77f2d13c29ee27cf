//! `atum migrate` and friends, run as an operator would, against a real database.

use std::process::{Command, Output};

use atum_testing::{TestDb, process::free_addr};

fn atum(args: &[&str], database_url: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_atum"))
        .args(args)
        .env_clear()
        .env("ATUM_DATABASE_URL", database_url)
        .output()
        .expect("run atum")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The error is exactly one line, says what is wrong and was not a panic.
fn assert_one_line_error(out: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "not one line: {stderr}");
    assert!(stderr.starts_with("atum: ") && stderr.contains(expected), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn migrate_status_down_and_up_through_the_command_line() {
    let db = TestDb::empty().await;

    let out = atum(&["migrate", "status"], &db.url);
    assert!(out.status.success());
    assert!(stdout(&out).contains("schema version 0") && stdout(&out).contains("pending"), "{}", stdout(&out));

    let out = atum(&["migrate"], &db.url);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout(&out).contains("applied V1__initial_schema"), "{}", stdout(&out));

    let out = atum(&["migrate", "up"], &db.url);
    assert!(stdout(&out).contains("schema is up to date"), "{}", stdout(&out));

    let out = atum(&["migrate", "down", "--to", "0"], &db.url);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout(&out).contains("rolled back V1__initial_schema"), "{}", stdout(&out));
    let tables: i64 = db
        .client()
        .await
        .query_one("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = 'tickets'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(tables, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn rolling_back_to_an_unknown_version_is_a_one_line_error() {
    let db = TestDb::migrated().await;
    let out = atum(&["migrate", "down", "--to", "77"], &db.url);
    assert_one_line_error(&out, "unknown migration version 77");
}

#[test]
fn an_unreachable_database_is_a_one_line_error_naming_where_it_looked() {
    let closed = free_addr();
    let out = atum(&["migrate"], &format!("postgres://atum:hunter2@{closed}/atum"));
    assert_one_line_error(&out, &format!("cannot reach the database at {closed}/atum"));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("hunter2"));
}

#[test]
fn a_missing_database_url_is_a_one_line_error_naming_the_variable() {
    let out = Command::new(env!("CARGO_BIN_EXE_atum")).args(["migrate", "status"]).env_clear().output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "a missing setting is a configuration error: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("atum: ") && stderr.contains("ATUM_DATABASE_URL is not set"), "{stderr}");
}

#[test]
fn a_malformed_version_is_rejected_by_the_argument_parser() {
    let out = atum(&["migrate", "down", "--to", "latest"], "postgres://x@127.0.0.1/x");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid value 'latest'"));
}

#[tokio::test(flavor = "multi_thread")]
async fn seeding_twice_creates_the_demo_organisation_once() {
    let db = TestDb::migrated().await;
    let first = atum(&["seed"], &db.url);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert!(stdout(&first).contains("admin@demo.atum.test"));
    let second = atum(&["seed"], &db.url);
    assert!(stdout(&second).contains("already exists"), "{}", stdout(&second));
}

#[tokio::test(flavor = "multi_thread")]
async fn org_and_user_create_bootstrap_a_tenant_whose_admin_can_sign_in() {
    let db = TestDb::migrated().await;
    let out = Command::new(env!("CARGO_BIN_EXE_atum"))
        .args(["org", "create", "--slug", "acme", "--name", "Acme Inc", "--admin-email", "ann@acme.test"])
        .args(["--admin-name", "Ann"])
        .env_clear()
        .env("ATUM_DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = stdout(&out);
    let password = printed.lines().find_map(|l| l.strip_prefix("password: ")).expect("a generated password");
    let hash: String = db
        .client()
        .await
        .query_one("SELECT password_hash FROM users WHERE email = 'ann@acme.test' AND role = 'admin'", &[])
        .await
        .unwrap()
        .get(0);
    assert!(atum_core::auth::password::verify(password, &hash));

    let out = Command::new(env!("CARGO_BIN_EXE_atum"))
        .args(["user", "create", "--org", "acme", "--email", "bob@acme.test", "--name", "Bob", "--role", "agent"])
        .env_clear()
        .env("ATUM_DATABASE_URL", &db.url)
        .env("ATUM_PASSWORD", "bobs-chosen-password")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!stdout(&out).contains("bobs-chosen-password"), "a supplied password was echoed");

    let again = atum(
        &["org", "create", "--slug", "acme", "--name", "X", "--admin-email", "x@acme.test", "--admin-name", "X"],
        &db.url,
    );
    assert_one_line_error(&again, "organisation \"acme\" exists");
    let nowhere =
        atum(&["user", "create", "--org", "nope", "--email", "a@b.co", "--name", "A", "--role", "agent"], &db.url);
    assert_one_line_error(&nowhere, "organisation not found");

    // A locked-out person is let in again from the console, and the org's log says so.
    let client = db.client().await;
    client
        .execute(
            "UPDATE users SET locked_until = now() + interval '1 hour', lockouts = 3 WHERE email = 'bob@acme.test'",
            &[],
        )
        .await
        .unwrap();
    let unlock = atum(&["user", "unlock", "--org", "acme", "BOB@acme.test"], &db.url);
    assert!(stdout(&unlock).contains("unlocked BOB@acme.test"), "{}", String::from_utf8_lossy(&unlock.stderr));
    let row = client
        .query_one("SELECT locked_until IS NULL AND lockouts = 0 FROM users WHERE email = 'bob@acme.test'", &[])
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0), "the lock is lifted");
    let audit = client
        .query_one("SELECT detail->>'by' FROM security_audit_log WHERE event = 'account.unlocked'", &[])
        .await
        .unwrap();
    assert_eq!(audit.get::<_, Option<String>>(0).as_deref(), Some("operator"));
    assert_one_line_error(&atum(&["user", "unlock", "--org", "acme", "nobody@acme.test"], &db.url), "user not found");
}

#[tokio::test(flavor = "multi_thread")]
async fn jobs_can_be_listed_shown_cancelled_and_retried_from_the_command_line() {
    let db = TestDb::migrated().await;
    let id: i64 = db
        .client()
        .await
        .query_one("INSERT INTO job_queue (kind, payload) VALUES ('NOOP', '{}') RETURNING id", &[])
        .await
        .unwrap()
        .get(0);
    let list = atum(&["jobs", "list", "--state", "available"], &db.url);
    assert!(stdout(&list).contains("NOOP"), "{}", stdout(&list));
    let cancel = atum(&["jobs", "cancel", &id.to_string()], &db.url);
    assert!(stdout(&cancel).contains("cancelled"), "{}", String::from_utf8_lossy(&cancel.stderr));
    let retry = atum(&["jobs", "retry", &id.to_string()], &db.url);
    assert!(stdout(&retry).contains("available"), "{}", String::from_utf8_lossy(&retry.stderr));
    let show = atum(&["jobs", "show", &id.to_string()], &db.url);
    assert!(stdout(&show).contains("retried"), "{}", stdout(&show));
    assert_one_line_error(&atum(&["jobs", "show", "999999"], &db.url), "job not found");
    assert_one_line_error(&atum(&["jobs", "list", "--state", "lost"], &db.url), "state: must be one of");
}

#[test]
fn a_malformed_setting_exits_78_naming_the_variable() {
    atum_testing::service::assert_bad_setting_exits_78(
        std::path::Path::new(env!("CARGO_BIN_EXE_atum")),
        &["migrate", "status"],
        "ATUM_DATABASE_URL",
        "postgres://atum:hunter2@[::1/atum",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn kb_reindex_reads_every_source_into_the_index_and_a_second_run_writes_nothing_new() {
    let db = TestDb::migrated().await;
    assert!(atum(&["seed"], &db.url).status.success());
    let first = atum(&["kb", "reindex"], &db.url);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let client = db.client().await;
    let chunks: i64 = client.query_one("SELECT count(*) FROM kb_chunks", &[]).await.unwrap().get(0);
    assert!(chunks > 0, "the demo's solved tickets are indexed: {}", stdout(&first));
    assert!(stdout(&first).contains(&format!("{chunks} passages written")), "{}", stdout(&first));

    let again = atum(&["kb", "reindex", "--org", "demo"], &db.url);
    assert!(stdout(&again).contains(" 0 passages written, 0 removed"), "{}", stdout(&again));
    assert_one_line_error(&atum(&["kb", "reindex", "--org", "nobody"], &db.url), "organisation not found");
}
