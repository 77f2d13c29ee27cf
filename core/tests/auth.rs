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
    assert_eq!(pruned, Pruned { attempts: 1, challenges: 1, tokens: 1, sessions: 1, unverified_signups: 0 });
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

#[tokio::test(flavor = "multi_thread")]
async fn housekeeping_deletes_unverified_signups_whose_link_expired_and_records_it() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    let org = fixtures::org(&c, "acme").await;
    let agent = fixtures::user(&c, org, "agent", "ann").await;
    let mut ids = Vec::new();
    for name in ["expired", "waiting", "filed_for", "verified"] {
        let id = fixtures::user(&c, org, "customer", name).await;
        c.execute("UPDATE users SET must_verify_email = true WHERE id = $1", &[&id]).await.unwrap();
        ids.push(id);
    }
    let [expired, waiting, filed_for, verified] = ids[..] else { unreachable!() };
    c.batch_execute(&format!(
        "INSERT INTO email_verification_tokens (org_id, user_id, token_hash, email, expires_at) VALUES
             ({org}, {expired}, sha256('e'), 'expired@acme.test', now() - interval '1 hour'),
             ({org}, {waiting}, sha256('w1'), 'waiting@acme.test', now() - interval '1 hour'),
             ({org}, {waiting}, sha256('w2'), 'waiting@acme.test', now() + interval '1 day'),
             ({org}, {filed_for}, sha256('f'), 'filed_for@acme.test', now() - interval '1 hour');
         UPDATE users SET email_verified_at = now() WHERE id = {verified};
         INSERT INTO security_audit_log (org_id, event, actor_kind, target_user_id) VALUES ({org}, 'user.signed_up', 'anonymous', {expired});
         INSERT INTO tickets (org_id, number, subject, description, requester_id, assignee_id)
             VALUES ({org}, 1, 'for a customer', 'filed by an agent', {filed_for}, {agent});"
    ))
    .await
    .unwrap();
    let pool = db.pool.get().await.unwrap();
    let pruned = prune(&pool, Retention { attempts: Duration::from_secs(86_400) }).await.unwrap();
    assert_eq!(pruned.unverified_signups, 1);
    let left: Vec<i64> = c
        .query("SELECT id FROM users WHERE role = 'customer' ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(left, [waiting, filed_for, verified]);
    let audit = c
        .query("SELECT event, target_user_id, detail->>'email' FROM security_audit_log ORDER BY id", &[])
        .await
        .unwrap();
    let audit: Vec<(String, Option<i64>, Option<String>)> =
        audit.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect();
    assert_eq!(
        audit,
        [
            ("user.signed_up".to_string(), None, None),
            ("user.signup_expired".to_string(), None, Some("expired@acme.test".to_string())),
        ]
    );
    // The log is still append-only for everything but a deleted person's ids.
    let edit = c.execute("UPDATE security_audit_log SET event = 'forged'", &[]).await;
    assert!(edit.is_err());
}
