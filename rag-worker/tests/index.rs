//! atum-rag-worker keeping the retrieval index in step, as it runs in production: a
//! real binary on a real database, woken by NOTIFY.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use atum_runtime::config::Service;
use atum_testing::{TestDb, fixtures, process::http_get, service::Running};

const EXE: &str = env!("CARGO_BIN_EXE_atum-rag-worker");

/// Polls `query` (one integer) until it equals `want`; panics with the worker's log after 10 s.
async fn wait_for(db: &tokio_postgres::Client, worker: &Running, query: &str, want: i64) -> Duration {
    let start = Instant::now();
    atum_testing::eventually::eventually(query, Duration::from_secs(10), || async {
        let got: i64 = db.query_one(query, &[]).await.map_err(|e| e.to_string())?.get(0);
        if got == want { Ok(()) } else { Err(format!("{got}, not {want}; log:\n{}", worker.log())) }
    })
    .await;
    start.elapsed()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_published_article_is_indexed_on_its_notification_and_leaves_the_index_when_archived() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let org = fixtures::org(&client, "acme").await;
    let author = fixtures::user(&client, org, "agent", "ada").await;
    // A tick far away: only the notification can wake the worker within the test.
    let worker = Running::start_with(
        Path::new(EXE),
        Service::RagWorker,
        &db,
        Duration::from_secs(3600),
        &[("ATUM_TICK_SECS", "3600")],
    );
    atum_testing::process::wait_for_http(worker.listen, "/health", Duration::from_secs(10));

    let id: i64 = client
        .query_one(
            "INSERT INTO kb_articles (org_id, title, body, status, visibility, author_id, created_by)
             VALUES ($1, 'Reset the VPN token', '# Steps\n\nPress reset.\n\n# Why\n\nTokens drift.', 'published', 'public', $2, $2)
             RETURNING id",
            &[&org, &author],
        )
        .await
        .unwrap()
        .get(0);
    client.execute("SELECT pg_notify('atum_kb', $1)", &[&format!("{org}:{id}")]).await.unwrap();
    let took = wait_for(&client, &worker, &format!("SELECT count(*) FROM kb_chunks WHERE source_id = {id}"), 2).await;
    eprintln!("indexed {took:?} after the notification");

    // The gauges are set once the pass that wrote the passages has committed them:
    // a moment after the passages can be seen.
    let chunks = format!("atum_kb_chunks{{org_id=\"{org}\"}} 2");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let metrics = loop {
        let (status, metrics) = http_get(worker.listen, "/metrics");
        assert_eq!(status, 200);
        if metrics.contains(&chunks) || std::time::Instant::now() > deadline {
            break metrics;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(metrics.contains(&chunks), "{metrics}");
    assert!(metrics.contains(&format!("atum_kb_index_lag_seconds{{org_id=\"{org}\"}} 0")), "{metrics}");

    client
        .execute("UPDATE kb_articles SET status = 'archived', updated_at = now() WHERE id = $1", &[&id])
        .await
        .unwrap();
    client.execute("SELECT pg_notify('atum_kb', $1)", &[&format!("{org}:{id}")]).await.unwrap();
    wait_for(&client, &worker, &format!("SELECT count(*) FROM kb_chunks WHERE source_id = {id}"), 0).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_model_every_passage_gets_a_unit_vector_named_after_the_model() {
    let dir = atum_core::model_files::ensure(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../var"), &mut |m| {
        eprintln!("{m}")
    })
    .expect("the embedding model can be fetched");
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let org = fixtures::org(&client, "acme").await;
    let author = fixtures::user(&client, org, "agent", "ada").await;
    let model_dir = dir.to_string_lossy().into_owned();
    let worker = Running::start_with(
        Path::new(EXE),
        Service::RagWorker,
        &db,
        Duration::from_secs(3600),
        &[("ATUM_TICK_SECS", "3600"), ("ATUM_EMBED_MODEL_DIR", &model_dir)],
    );
    atum_testing::process::wait_for_http(worker.listen, "/health", Duration::from_secs(30));
    let id: i64 = client
        .query_one(
            "INSERT INTO kb_articles (org_id, title, body, status, visibility, author_id, created_by)
             VALUES ($1, 'Reset the VPN token', 'Open the authenticator and press reset.', 'published', 'internal', $2, $2)
             RETURNING id",
            &[&org, &author],
        )
        .await
        .unwrap()
        .get(0);
    client.execute("SELECT pg_notify('atum_kb', $1)", &[&format!("{org}:{id}")]).await.unwrap();
    wait_for(
        &client,
        &worker,
        &format!("SELECT count(*) FROM kb_chunks WHERE source_id = {id} AND embedding IS NOT NULL"),
        1,
    )
    .await;
    let row = client.query_one("SELECT embedding, model FROM kb_chunks WHERE source_id = $1", &[&id]).await.unwrap();
    let vector = atum_core::retrieval::index::from_bytes(row.get(0)).expect("whole f32s");
    assert_eq!(vector.len(), 384);
    let norm: f32 = vector.iter().map(|x| x * x).sum();
    assert!((norm - 1.0).abs() < 1e-4, "{norm}");
    assert!(row.get::<_, &str>(1).starts_with("all-minilm-l6-v2@"));
}
