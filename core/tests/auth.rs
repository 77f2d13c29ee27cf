//! Account-security housekeeping against a real PostgreSQL.

use std::time::Duration;

use atum_core::auth::housekeeping::{Pruned, Retention, prune};
use atum_testing::{TestDb, fixtures};

#[tokio::test(flavor = "multi_thread")]
async fn housekeeping_removes_only_rows_that_are_spent_and_old() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    let org = fixtures::org(&c, "acme").await;
    let user = fixtures::user(&c, org, "agent", "ann").await;
    c.batch_execute(&format!(
        "INSERT INTO auth_login_attempts (email, result, created_at) VALUES
             ('old@x.test', 'bad_password', now() - interval '100 days'),
             ('new@x.test', 'bad_password', now() - interval '1 day');
         INSERT INTO sessions (org_id, user_id, token_hash, created_at, last_seen_at, expires_at, revoked_at) VALUES
             ({org}, {user}, sha256('a'), now() - interval '90 days', now() - interval '90 days', now() - interval '60 days', NULL),
             ({org}, {user}, sha256('b'), now() - interval '2 days', now() - interval '2 days', now() + interval '1 day', now() - interval '1 day'),
             ({org}, {user}, sha256('c'), now(), now(), now() + interval '1 day', NULL);
         INSERT INTO password_reset_tokens (org_id, user_id, token_hash, email, expires_at, used_at, created_at) VALUES
             ({org}, {user}, sha256('r1'), 'ann@acme.test', now() - interval '40 days', NULL, now() - interval '41 days'),
             ({org}, {user}, sha256('r2'), 'ann@acme.test', now() + interval '1 hour', NULL, now());
         INSERT INTO mfa_challenges (org_id, user_id, token_hash, expires_at, used_at, created_at) VALUES
             ({org}, {user}, sha256('m1'), now() - interval '35 days', now() - interval '35 days', now() - interval '35 days'),
             ({org}, {user}, sha256('m2'), now() - interval '1 minute', NULL, now() - interval '6 minutes');"
    ))
    .await
    .unwrap();
    let retention = Retention { attempts: Duration::from_secs(90 * 86_400) };
    let pool = db.pool.get().await.unwrap();
    let pruned = prune(&pool, retention).await.unwrap();
    assert_eq!(pruned, Pruned { attempts: 1, challenges: 1, tokens: 1, sessions: 1 });
    let left: Vec<String> = c
        .query("SELECT email FROM auth_login_attempts UNION ALL SELECT encode(token_hash, 'hex') FROM sessions", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(left.len(), 3, "{left:?}");
    assert!(left.contains(&"new@x.test".to_string()));
    // A second pass finds nothing more.
    assert_eq!(prune(&pool, retention).await.unwrap(), Pruned::default());
}
