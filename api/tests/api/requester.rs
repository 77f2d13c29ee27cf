//! The requester beside a ticket: who they are, their language, when they were last
//! seen and their other tickets, for staff of the ticket's organisation only.

use serde_json::{Value, json};

use crate::helpers::TestApp;

fn ids(list: &Value) -> Vec<i64> {
    list.as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agent_sees_the_requester_with_their_language_last_visit_and_other_tickets() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let agent = app.person(&admin, "agent", "ada").await;
    let cora = app.person(&admin, "customer", "cora").await;
    let other = app.person(&admin, "customer", "otto").await;
    let mut theirs = Vec::new();
    for subject in ["Printer jams", "VPN drops", "Invoice twice", "Password reset"] {
        theirs.push(app.ticket(&cora, subject).await["id"].as_i64().unwrap());
    }
    let not_theirs = app.ticket(&other, "Otto's").await["id"].as_i64().unwrap();
    // Two of Cora's are done: one solved, one closed.
    for (id, status) in [(theirs[1], "solved"), (theirs[2], "closed")] {
        app.sql(&format!(
            "UPDATE tickets SET status = '{status}', solved_at = now(),
                    closed_at = CASE WHEN '{status}' = 'closed' THEN now() END WHERE id = {id}"
        ))
        .await;
    }
    // The triage model read French in her latest ticket and English in an older one.
    for (id, language) in [(theirs[0], "en"), (theirs[3], "fr")] {
        app.sql(&format!(
            "INSERT INTO ticket_ai_triage (org_id, ticket_id, inputs, sentiment_score, sentiment_label, language)
             SELECT org_id, id, 'test', 0, 'neutral', '{language}' FROM tickets WHERE id = {id}"
        ))
        .await;
    }

    let res = app.get(&format!("/api/v1/tickets/{}/requester", theirs[0]), Some(&agent.token)).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let r = &res.body;
    let user = app.get(&format!("/api/v1/users/{}", cora.id), Some(&agent.token)).await;
    assert_eq!(r["display_name"], user.body["display_name"]);
    assert_eq!(r["id"], json!(cora.id));
    assert_eq!(r["email"], json!(cora.email));
    assert_eq!(r["domain"], "acme.test");
    assert_eq!(r["role"], "customer");
    assert_eq!(r["language"], "fr");
    assert_eq!((r["tickets"].as_i64(), r["open_tickets"].as_i64()), (Some(4), Some(2)));
    // The ticket on screen is not listed again; Otto's never is.
    assert_eq!(ids(&r["open"]), vec![theirs[3]]);
    let mut recent = ids(&r["recent"]);
    recent.sort();
    assert_eq!(recent, vec![theirs[1], theirs[2]]);
    assert!(!ids(&r["open"]).contains(&not_theirs) && !recent.contains(&not_theirs));
    // She signed in to write them: she has been seen, and not in the future.
    let seen = chrono::DateTime::parse_from_rfc3339(r["last_seen_at"].as_str().unwrap()).unwrap();
    assert!(seen <= chrono::Utc::now() && seen > chrono::Utc::now() - chrono::Duration::minutes(5));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_customer_may_not_read_the_requester_panel_and_another_organisation_finds_no_ticket() {
    let app = TestApp::spawn().await;
    let acme = app.org("acme").await;
    let globex = app.org("globex").await;
    let cora = app.person(&acme, "customer", "cora").await;
    let id = app.ticket(&cora, "Mine").await["id"].as_i64().unwrap();
    let own = app.get(&format!("/api/v1/tickets/{id}/requester"), Some(&cora.token)).await;
    assert_eq!((own.status, own.code()), (403, "forbidden"), "{}", own.body);
    let gus = app.person(&globex, "agent", "gus").await;
    for token in [&globex.token, &gus.token] {
        let res = app.get(&format!("/api/v1/tickets/{id}/requester"), Some(token)).await;
        assert_eq!((res.status, res.code()), (404, "not_found"), "{}", res.body);
        assert!(!res.body.to_string().contains(&cora.email));
    }
}
