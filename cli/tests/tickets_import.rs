//! The whole auto-triage path as an operator runs it: `atum tickets import` loads
//! labelled history, a real `atum-job-worker` with the embedding model trains the
//! organisation's model (`TRAIN_TRIAGE`, queued by the import), and a new ticket is
//! triaged by it (`TRIAGE_TICKET`).

use std::{
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    time::Duration,
};

use atum_core::ids::OrgId;
use atum_testing::{
    TestDb, fixtures,
    process::{Reaped, free_addr},
};

fn atum(args: &[&str], db: &TestDb) -> Output {
    Command::new(env!("CARGO_BIN_EXE_atum"))
        .args(args)
        .env_clear()
        .env("ATUM_DATABASE_URL", &db.url)
        .output()
        .expect("run atum")
}

fn model_dir() -> PathBuf {
    atum_core::model_files::ensure(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../var"), &mut |m| eprintln!("{m}"))
        .expect("the embedding model can be fetched")
}

/// The first `n` rows of the fixed training split, as another desk would export
/// them: the customer's text, the category, and an agent's reply.
fn export(dir: &Path, n: usize) -> PathBuf {
    let split = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/triage/train.csv");
    let mut reader = csv::Reader::from_path(split).unwrap();
    let path = dir.join("history.csv");
    let mut w = csv::Writer::from_path(&path).unwrap();
    w.write_record(["message", "category", "created", "answer"]).unwrap();
    for (i, r) in reader.records().take(n).enumerate() {
        let r = r.unwrap();
        let day = format!("2026-{:02}-{:02} 09:30:00", 1 + i % 12, 1 + i % 28);
        w.write_record([&r[0], &r[1], &day, "Thanks for writing; this is sorted now."]).unwrap();
    }
    w.flush().unwrap();
    path
}

async fn wait_for(db: &TestDb, sql: &str, what: &str, within: Duration) {
    let client = db.client().await;
    atum_testing::eventually::eventually(what, within, || async {
        let n: i64 = client.query_one(sql, &[]).await.map_err(|e| e.to_string())?.get(0);
        if n > 0 {
            return Ok(());
        }
        let failed: Option<String> = client
            .query_opt("SELECT errors::text FROM job_queue WHERE state = 'discarded' LIMIT 1", &[])
            .await
            .map_err(|e| e.to_string())?
            .map(|r| r.get(0));
        assert!(failed.is_none(), "a job was discarded while waiting for {what}: {failed:?}");
        Err(format!("{sql} = {n}"))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn imported_history_trains_a_model_in_the_job_worker_that_then_triages_a_new_ticket() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let org = fixtures::org(&client, "acme").await;
    let admin = fixtures::user(&client, org, "admin", "ada").await;
    let dir = tempdir("history");
    let file = export(&dir, 300);

    let out = atum(
        &[
            "tickets",
            "import",
            "--org",
            "acme",
            file.to_str().unwrap(),
            "--body-column",
            "message",
            "--created-column",
            "created",
            "--reply-column",
            "answer",
        ],
        &db,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("imported 300 tickets into acme (numbers 1–300), 300 with the agent's reply"), "{stdout}");
    let row = client
        .query_one(
            "SELECT count(*) FILTER (WHERE status = 'solved' AND assignee_id = $2),
                    count(DISTINCT category), min(created_at)::date::text,
                    (SELECT count(*) FROM ticket_comments WHERE org_id = $1 AND author_id = $2)
               FROM tickets WHERE org_id = $1",
            &[&org, &admin],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 300, "every ticket with a reply is solved by the replying admin");
    assert!(row.get::<_, i64>(1) >= 8, "categories are kept (lowercased)");
    assert_eq!(row.get::<_, String>(2), "2026-01-01");
    assert_eq!(row.get::<_, i64>(3), 300);

    let worker = Reaped(
        Command::new(Path::new(env!("CARGO_BIN_EXE_atum")).with_file_name("atum-job-worker"))
            .env_clear()
            .env("ATUM_DATABASE_URL", &db.url)
            .env("ATUM_JOB_WORKER_LISTEN", free_addr().to_string())
            .env("ATUM_EMBED_MODEL_DIR", model_dir())
            .env("ATUM_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("start atum-job-worker (built by `cargo test --workspace`)"),
    );
    wait_for(
        &db,
        "SELECT count(*) FROM triage_models WHERE field = 'category' AND status = 'ready'",
        "the category model",
        Duration::from_secs(180),
    )
    .await;
    let accuracy: f64 = client
        .query_one("SELECT (evaluation->>'accuracy')::float8 FROM triage_models WHERE field = 'category'", &[])
        .await
        .unwrap()
        .get(0);
    assert!(accuracy >= 0.8, "held-back accuracy {accuracy}");

    let customer = fixtures::user(&client, org, "customer", "carl").await;
    let id: i64 = client
        .query_one(
            "INSERT INTO tickets (org_id, number, subject, description, requester_id)
             VALUES ($1, 301, 'cancel my order please', 'I need to cancel the order I placed yesterday', $2)
             RETURNING id",
            &[&org, &customer],
        )
        .await
        .unwrap()
        .get(0);
    let pool = db.pool.get().await.unwrap();
    atum_core::assist::triage::enqueue(&pool, OrgId(org), atum_core::ids::TicketId(id), 0).await.unwrap();
    wait_for(
        &db,
        &format!("SELECT count(*) FROM ticket_ai_triage WHERE ticket_id = {id}"),
        "the ticket's triage",
        Duration::from_secs(60),
    )
    .await;
    let (category, language): (String, Option<String>) = {
        let r = client
            .query_one("SELECT category->>'value', language FROM ticket_ai_triage WHERE ticket_id = $1", &[&id])
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!(category, "order");
    assert_eq!(language.as_deref(), Some("eng"));
    drop(worker);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_with_a_bad_row_writes_nothing_and_names_the_row_and_field() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let org = fixtures::org(&client, "acme").await;
    fixtures::user(&client, org, "admin", "ada").await;
    let dir = tempdir("bad");
    let file = dir.join("bad.csv");
    std::fs::write(&file, "subject,body,priority\nRefund,please,high\nLogin,cannot,asap\n").unwrap();
    let out = atum(&["tickets", "import", "--org", "acme", file.to_str().unwrap()], &db);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("row 2: priority") && stderr.contains("urgent"), "{stderr}");
    let n: i64 = client.query_one("SELECT count(*) FROM tickets", &[]).await.unwrap().get(0);
    assert_eq!(n, 0);

    let out = atum(&["tickets", "import", "--org", "acme", file.to_str().unwrap(), "--reply-column", "answer"], &db);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no column \"answer\"") && stderr.contains("subject, body, priority"), "{stderr}");
}

/// A directory of this test's own (tests of one binary run in one process).
fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("atum-import-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
