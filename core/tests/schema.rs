//! Migrations against a real PostgreSQL: up, down, status, and the start-up check.

use atum_core::schema::{self, SchemaError};
use atum_testing::TestDb;

#[tokio::test]
async fn up_then_down_to_zero_then_up_leaves_the_same_schema() {
    let db = TestDb::empty().await;
    let mut client = db.client().await;

    let applied = schema::migrate_up(&mut client, None).await.unwrap();
    assert_eq!(applied.last().map(|m| m.version), Some(schema::expected_version()));
    let first = db.schema_dump();
    assert!(first.contains("CREATE TABLE public.tickets"), "the dump has no tickets table");

    let reverted = schema::migrate_down(&mut client, 0).await.unwrap();
    assert_eq!(reverted.len(), applied.len());
    assert_eq!(schema::current_version(&client).await.unwrap(), 0);
    let leftovers = client
        .query(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public' AND c.relname NOT LIKE 'refinery\\_schema\\_history%'",
            &[],
        )
        .await
        .unwrap();
    let names: Vec<String> = leftovers.iter().map(|r| r.get(0)).collect();
    assert!(names.is_empty(), "down scripts left relations behind: {names:?}");
    let functions: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(functions, 0, "down scripts left functions behind");

    schema::migrate_up(&mut client, None).await.unwrap();
    let second = db.schema_dump();
    let differing: Vec<&str> = first.lines().zip(second.lines()).filter(|(a, b)| a != b).map(|(a, _)| a).collect();
    assert!(
        differing.is_empty() && first.len() == second.len(),
        "the schema differs after the round trip: {differing:?}"
    );
}

#[tokio::test]
async fn status_lists_every_migration_with_its_application_time() {
    let db = TestDb::empty().await;
    let mut client = db.client().await;
    let before = schema::status(&client).await.unwrap();
    assert!(!before.is_empty());
    assert!(before.iter().all(|m| m.applied_on.is_none()));

    schema::migrate_up(&mut client, None).await.unwrap();
    let after = schema::status(&client).await.unwrap();
    assert!(after.iter().all(|m| m.applied_on.as_deref().is_some_and(|t| !t.is_empty())), "{after:?}");
}

#[tokio::test]
async fn rolling_back_to_an_unknown_version_is_refused_and_changes_nothing() {
    let db = TestDb::migrated().await;
    let mut client = db.client().await;
    let err = schema::migrate_down(&mut client, 4242).await.unwrap_err();
    assert!(matches!(err, SchemaError::UnknownVersion(4242)), "{err}");
    assert_eq!(schema::current_version(&client).await.unwrap(), schema::expected_version());
}

#[tokio::test]
async fn rolling_back_to_the_current_version_is_refused() {
    let db = TestDb::migrated().await;
    let mut client = db.client().await;
    let err = schema::migrate_down(&mut client, schema::expected_version()).await.unwrap_err();
    assert!(matches!(err, SchemaError::NothingToRollBack { .. }), "{err}");
}

#[tokio::test]
async fn a_binary_refuses_a_schema_that_is_behind_or_ahead() {
    let db = TestDb::empty().await;
    let client = db.client().await;
    let err = schema::ensure_current(&client).await.unwrap_err();
    assert!(matches!(err, SchemaError::Behind { current: 0, .. }), "{err}");
    assert!(err.to_string().contains("run `atum migrate`"), "{err}");

    let db = TestDb::migrated().await;
    let client = db.client().await;
    assert_eq!(schema::ensure_current(&client).await.unwrap(), schema::expected_version());
    client
        .execute(
            "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) VALUES (9999, 'from_the_future', '', '0')",
            &[],
        )
        .await
        .unwrap();
    let err = schema::ensure_current(&client).await.unwrap_err();
    assert!(matches!(err, SchemaError::Ahead { current: 9999, .. }), "{err}");
}

#[tokio::test]
async fn ticket_history_rows_cannot_be_rewritten() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    client
        .batch_execute(
            "INSERT INTO organizations (slug, name) VALUES ('acme', 'Acme');
             INSERT INTO users (org_id, email, display_name, role) SELECT id, 'a@acme.test', 'A', 'agent' FROM organizations;
             INSERT INTO tickets (org_id, number, subject, requester_id) SELECT org_id, 1, 'Printer on fire', id FROM users;
             INSERT INTO ticket_events (org_id, ticket_id, actor_kind, event_type, after) SELECT org_id, id, 'user', 'created', '{}' FROM tickets;",
        )
        .await
        .unwrap();
    let err = client.execute("UPDATE ticket_events SET event_type = 'forged'", &[]).await.unwrap_err();
    assert!(err.to_string().contains("append-only") || format!("{err:?}").contains("append-only"), "{err:?}");
}

#[tokio::test]
async fn a_row_cannot_point_at_another_organisations_row() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    client
        .batch_execute(
            "INSERT INTO organizations (slug, name) VALUES ('one', 'One'), ('two', 'Two');
             INSERT INTO users (org_id, email, display_name, role)
               SELECT id, slug || '@x.test', slug, 'customer' FROM organizations;",
        )
        .await
        .unwrap();
    // A ticket of org "one" whose requester belongs to org "two".
    let err = client
        .execute(
            "INSERT INTO tickets (org_id, number, subject, requester_id)
             SELECT o.id, 1, 'cross-tenant', u.id FROM organizations o, users u
             WHERE o.slug = 'one' AND u.email = 'two@x.test'",
            &[],
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&tokio_postgres::error::SqlState::FOREIGN_KEY_VIOLATION), "{err:?}");
}

#[tokio::test]
async fn the_demo_seed_fills_an_organisation_once() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let mut conn = db.pool.get().await.unwrap();
    let logins = atum_core::demo::seed(&mut conn).await.unwrap().expect("first seed creates the organisation");
    assert_eq!(logins.iter().filter(|l| l.role == "admin").count(), 1);
    assert_eq!(logins.iter().filter(|l| l.role == "agent").count(), 2);

    let row = client
        .query_one(
            "SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM ticket_comments),
                    (SELECT max(number) FROM tickets), (SELECT last_ticket_number FROM organizations),
                    (SELECT count(*) FROM tickets WHERE status <> 'new' AND first_responded_at IS NULL)",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 300);
    assert!(row.get::<_, i64>(1) > 150, "most demo tickets have a reply");
    assert_eq!(row.get::<_, i32>(2), row.get::<_, i32>(3));
    assert_eq!(row.get::<_, i64>(4), 0);

    // The printed password is the one that signs in.
    let admin = logins.iter().find(|l| l.role == "admin").unwrap();
    let hash: String =
        client.query_one("SELECT password_hash FROM users WHERE email = $1", &[&admin.email]).await.unwrap().get(0);
    assert!(atum_core::auth::password::verify(&admin.password, &hash));

    assert!(atum_core::demo::seed(&mut conn).await.unwrap().is_none(), "a second seed must not duplicate");
    let tickets: i64 = client.query_one("SELECT count(*) FROM tickets", &[]).await.unwrap().get(0);
    assert_eq!(tickets, 300);
}
