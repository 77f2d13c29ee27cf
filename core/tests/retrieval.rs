//! The retrieval index's vocabulary (`kb_terms`), kept by triggers on `kb_chunks`, as
//! the indexer writes, rewrites and removes passages.

use atum_core::retrieval::index;
use atum_testing::{TestDb, fixtures};

async fn count(c: &tokio_postgres::Client, org: i64, term: &str) -> Option<i32> {
    c.query_opt("SELECT chunks FROM kb_terms WHERE org_id = $1 AND term = $2", &[&org, &term])
        .await
        .unwrap()
        .map(|r| r.get(0))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_vocabulary_counts_the_passages_of_each_word_through_edits_removals_and_vectors() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    let acme = fixtures::org(&c, "acme").await;
    let globex = fixtures::org(&c, "globex").await;
    let ada = fixtures::user(&c, acme, "agent", "ada").await;
    let gus = fixtures::user(&c, globex, "agent", "gus").await;
    let article = |org: i64, author: i64, title: &'static str, body: &'static str| {
        let c = &c;
        async move {
            c.query_one(
                "INSERT INTO kb_articles (org_id, title, body, status, visibility, author_id, created_by)
                 VALUES ($1, $2, $3, 'published', 'internal', $4, $4) RETURNING id",
                &[&org, &title, &body, &author],
            )
            .await
            .unwrap()
            .get::<_, i64>(0)
        }
    };
    let vpn =
        article(acme, ada, "VPN", "# Reset\n\nPress reset on the token.\n\n# Renew\n\nThe token expires yearly.").await;
    article(acme, ada, "Printer", "Clear the paper jam.").await;
    article(globex, gus, "Token shop", "Buy a token.").await;
    index::catch_up(&db.pool, None, |_| {}).await.unwrap();

    assert_eq!(count(&c, acme, "token").await, Some(2), "two passages of acme's VPN article");
    assert_eq!(count(&c, acme, "vpn").await, Some(2), "the title is in every passage");
    assert_eq!(count(&c, acme, "jam").await, Some(1));
    assert_eq!(count(&c, globex, "token").await, Some(1), "each organisation counts its own");
    assert_eq!(count(&c, acme, "buy").await, None);

    // A vector stored for a passage leaves the counts alone.
    c.execute("UPDATE kb_chunks SET embedding = '\\x00000000', model = 'm' WHERE org_id = $1", &[&acme]).await.unwrap();
    assert_eq!(count(&c, acme, "token").await, Some(2));

    // An edit rewrites one passage: its old words lose it, its new ones gain it.
    c.execute(
        "UPDATE kb_articles SET body = '# Reset\n\nPress reset on the token.\n\n# Renew\n\nThe licence lapses yearly.', updated_at = now() WHERE id = $1",
        &[&vpn],
    )
    .await
    .unwrap();
    index::catch_up(&db.pool, None, |_| {}).await.unwrap();
    assert_eq!(count(&c, acme, "token").await, Some(1));
    assert_eq!(count(&c, acme, "expir").await, Some(0), "a word no passage has any more counts 0");
    assert_eq!(count(&c, acme, "licenc").await, Some(1));

    // Archiving removes its passages and their words.
    c.execute("UPDATE kb_articles SET status = 'archived', updated_at = now() WHERE id = $1", &[&vpn]).await.unwrap();
    index::catch_up(&db.pool, None, |_| {}).await.unwrap();
    assert_eq!(count(&c, acme, "vpn").await, Some(0));
    assert_eq!(count(&c, acme, "jam").await, Some(1));
    assert_eq!(count(&c, globex, "token").await, Some(1));
    let negative: i64 = c.query_one("SELECT count(*) FROM kb_terms WHERE chunks < 0", &[]).await.unwrap().get(0);
    assert_eq!(negative, 0);
    // Every count agrees with the passages themselves.
    let wrong: i64 = c
        .query_one(
            "SELECT count(*) FROM kb_terms t
             WHERE t.chunks <> (SELECT count(*) FROM kb_chunks c
                                WHERE c.org_id = t.org_id AND t.term = ANY (tsvector_to_array(c.search)))",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(wrong, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_index_health_of_an_organisation_not_indexed_yet_is_its_backlog_not_an_error() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    let acme = fixtures::org(&c, "acme").await;
    let ada = fixtures::user(&c, acme, "agent", "ada").await;
    for (title, age) in [("VPN", "2 hours"), ("Printer", "0 hours")] {
        c.execute(
            "INSERT INTO kb_articles (org_id, title, body, status, visibility, author_id, created_by, updated_at)
             VALUES ($1, $2, 'Text.', 'published', 'internal', $3, $3, now() - $4::text::interval)",
            &[&acme, &title, &ada, &age],
        )
        .await
        .unwrap();
    }
    let pooled = atum_runtime::db::connection(&db.pool).await.unwrap();
    let before = index::health(&pooled).await.expect("no index mark yet is no error");
    let (_, chunks, lag) = before.iter().find(|(org, _, _)| org.get() == acme).copied().unwrap();
    assert_eq!(chunks, 0);
    assert!((lag - 7200.0).abs() < 5.0, "the backlog spans two hours: {lag}");

    index::catch_up(&db.pool, None, |_| {}).await.unwrap();
    let after = index::health(&pooled).await.unwrap();
    let (_, chunks, lag) = after.iter().find(|(org, _, _)| org.get() == acme).copied().unwrap();
    assert_eq!((chunks, lag), (2, 0.0), "indexed and up to date");
}
