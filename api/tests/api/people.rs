//! People belong to their organisation: an e-mail address is unique within one, and
//! nothing an organisation's people or admins do reveals or blocks an address in
//! another. The two attacks outside testing found, and the same address as two people.

use serde_json::json;

use crate::helpers::{Person, TestApp};

async fn allow_signup(app: &TestApp, admin: &Person) {
    let res = app
        .put(
            "/api/v1/admin/security/settings",
            Some(&admin.token),
            json!({"require_mfa": false, "portal_signup": true}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
}

fn new_user(email: &str, password: &str) -> serde_json::Value {
    json!({"email": email, "display_name": "Bob", "role": "agent", "password": password})
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_cannot_learn_whether_an_address_has_an_account_in_another_organisation() {
    let app = TestApp::spawn().await;
    let acme = app.org("acme").await;
    let globex = app.org("globex").await;
    let taken = app.post("/api/v1/users", Some(&acme.token), new_user("bob@shared.test", "bobs-acme-password")).await;
    assert_eq!(taken.status, 201, "{}", taken.body);

    // Globex's admin gets exactly what an unused address gets: a new person of Globex.
    let probe = app.post("/api/v1/users", Some(&globex.token), new_user("BOB@shared.test", "bobs-globex-pass")).await;
    let fresh =
        app.post("/api/v1/users", Some(&globex.token), new_user("nobody@shared.test", "nobodys-password")).await;
    assert_eq!((probe.status, fresh.status), (201, 201), "{} {}", probe.body, fresh.body);
    assert_eq!(probe.body["email"], "BOB@shared.test");
    // Within one organisation an address is still one person.
    let again = app.post("/api/v1/users", Some(&acme.token), new_user("Bob@Shared.test", "another-password")).await;
    assert_eq!((again.status, again.code()), (409, "email_taken"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_portal_signup_cannot_take_an_address_away_from_another_organisation() {
    let app = TestApp::spawn().await;
    let acme = app.org("acme").await;
    let globex = app.org("globex").await;
    allow_signup(&app, &globex).await;
    app.post("/api/v1/users", Some(&acme.token), new_user("known@victim.test", "known-long-password")).await;

    // The attacker signs up at Globex with an address Acme has and one it will want:
    // the same answer for both, so the sign-up reveals nothing about Acme.
    let signup = |email: &str| json!({"email": email, "display_name": "Mallory", "password": "mallorys-password"});
    let known = app.post("/api/v1/portal/globex/signup", None, signup("known@victim.test")).await;
    let unknown = app.post("/api/v1/portal/globex/signup", None, signup("future@victim.test")).await;
    assert_eq!((known.status, unknown.status), (202, 202));
    assert_eq!(known.body, unknown.body);

    // Acme's admin still creates that person, who signs in to Acme.
    let created =
        app.post("/api/v1/users", Some(&acme.token), new_user("future@victim.test", "futures-long-password")).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let login = app.try_login_to("acme", "future@victim.test", "futures-long-password", &[]).await;
    assert_eq!(login.status, 200, "{}", login.body);
    assert_eq!(login.body["user"]["id"], created.body["id"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_address_is_two_people_who_each_sign_in_to_their_own_organisation() {
    let app = TestApp::spawn().await;
    let acme = app.org("acme").await;
    let globex = app.org("globex").await;
    let in_acme = app.post("/api/v1/users", Some(&acme.token), new_user("bob@shared.test", "bobs-acme-password")).await;
    let in_globex =
        app.post("/api/v1/users", Some(&globex.token), new_user("bob@shared.test", "bobs-globex-password")).await;
    assert_ne!(in_acme.body["id"], in_globex.body["id"]);

    let to_acme = app.try_login_to("acme", "bob@shared.test", "bobs-acme-password", &[]).await;
    assert_eq!(to_acme.status, 200, "{}", to_acme.body);
    assert_eq!(to_acme.body["user"]["id"], in_acme.body["id"]);
    let to_globex = app.try_login_to("globex", "bob@shared.test", "bobs-globex-password", &[]).await;
    assert_eq!(to_globex.body["user"]["id"], in_globex.body["id"]);
    let me = app.get("/api/v1/me", to_globex.body["token"].as_str()).await;
    assert_eq!(me.body["org_id"], globex.org_id);

    // One person's password opens only their own account; a slug that names nothing
    // is answered like a wrong password.
    let crossed = app.try_login_to("acme", "bob@shared.test", "bobs-globex-password", &[]).await;
    assert_eq!((crossed.status, crossed.code()), (401, "invalid_credentials"));
    let nowhere = app.try_login_to("initech", "bob@shared.test", "bobs-acme-password", &[]).await;
    assert_eq!((nowhere.status, nowhere.code()), (401, "invalid_credentials"));
    // With two organisations, signing in must name one.
    let unnamed = app.try_login("bob@shared.test", "bobs-acme-password", &[]).await;
    assert_eq!((unnamed.status, unnamed.code()), (422, "validation_failed"));
    assert!(unnamed.body["error"]["fields"]["org"].is_string(), "{}", unnamed.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn lockout_and_password_reset_concern_only_the_organisation_named() {
    let app = TestApp::spawn().await;
    let acme = app.org("acme").await;
    let globex = app.org("globex").await;
    app.post("/api/v1/users", Some(&acme.token), new_user("bob@shared.test", "bobs-acme-password")).await;
    app.post("/api/v1/users", Some(&globex.token), new_user("bob@shared.test", "bobs-globex-password")).await;

    for _ in 0..5 {
        app.try_login_to("acme", "bob@shared.test", "a-wrong-password", &[]).await;
    }
    let locked = app.try_login_to("acme", "bob@shared.test", "bobs-acme-password", &[]).await;
    assert_eq!(locked.status, 401, "Acme's Bob is locked out");
    let other = app.try_login_to("globex", "bob@shared.test", "bobs-globex-password", &[]).await;
    assert_eq!(other.status, 200, "Globex's Bob is not: {}", other.body);

    let reset =
        app.post("/api/v1/auth/password-reset", None, json!({"org": "globex", "email": "bob@shared.test"})).await;
    assert_eq!(reset.status, 202);
    let tokens = app
        .sql("SELECT o.slug FROM password_reset_tokens t JOIN organizations o ON o.id = t.org_id ORDER BY t.id")
        .await;
    let orgs: Vec<String> = tokens.iter().map(|r| r.get(0)).collect();
    assert_eq!(orgs, ["globex"]);
    let attempts = app
        .sql(
            "SELECT count(*) FILTER (WHERE org_id = (SELECT id FROM organizations WHERE slug = 'acme')), count(*)
              FROM auth_login_attempts WHERE email = 'bob@shared.test'",
        )
        .await;
    let (acme_attempts, all): (i64, i64) = (attempts[0].get(0), attempts[0].get(1));
    assert_eq!((acme_attempts, all), (6, 7), "each attempt is recorded against the organisation it named");
}
