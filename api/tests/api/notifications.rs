//! In-app notifications: each person reads only their own and marks them read.

use atum_core::ids::TicketId;
use atum_core::{ids::OrgId, notifications};
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread")]
async fn a_person_reads_their_own_notifications_marks_them_read_and_never_sees_anyone_elses() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let agent = app.person(&admin, "agent", "ada").await;
    let globex = app.org("globex").await;
    let ticket = app.ticket(&admin, "Printer on fire").await["id"].as_i64().unwrap();
    let conn = app.db.pool.get().await.unwrap();
    // Nobody assigned and no group: the admins are told, as the SLA and the AI do it.
    let nobody = notifications::Responsible { assignee_id: None, group_id: None };
    let org = OrgId(admin.org_id);
    notifications::notify(&conn, org, TicketId(ticket), "sla_escalation", &json!({"clock": "first_response"}), &nobody)
        .await
        .unwrap();
    notifications::notify(&conn, org, TicketId(ticket), "ai_escalation", &json!({"rule": "Angry twice"}), &nobody)
        .await
        .unwrap();

    let inbox = app.get("/api/v1/notifications", Some(&admin.token)).await;
    assert_eq!(inbox.status, 200, "{}", inbox.body);
    assert_eq!(inbox.body["unread"], 2);
    let items = inbox.body["items"].as_array().unwrap();
    assert_eq!(items[0]["text"], format!("The AI escalated #{ticket} (rule “Angry twice”)"));
    assert_eq!(items[1]["text"], format!("The first response SLA of #{ticket} escalated"));
    assert_eq!(
        (items[1]["ticket_id"].as_i64(), items[1]["ticket_subject"].as_str()),
        (Some(ticket), Some("Printer on fire"))
    );
    let newest = items[0]["id"].as_i64().unwrap();

    for other in [&agent, &globex] {
        let theirs = app.get("/api/v1/notifications", Some(&other.token)).await.body;
        assert_eq!(theirs, json!({"unread": 0, "items": []}));
        let res = app.post(&format!("/api/v1/notifications/{newest}/read"), Some(&other.token), json!({})).await;
        assert_eq!(res.status, 404, "another's notification is not found");
    }
    let res = app.post("/api/v1/notifications/read", Some(&agent.token), json!({})).await;
    assert_eq!(res.status, 204);
    assert_eq!(
        app.get("/api/v1/notifications", Some(&admin.token)).await.body["unread"],
        2,
        "the agent's read-all is theirs"
    );

    let res = app.post(&format!("/api/v1/notifications/{newest}/read"), Some(&admin.token), json!({})).await;
    assert_eq!(res.status, 204);
    let unread = app.get("/api/v1/notifications?unread=true", Some(&admin.token)).await.body;
    assert_eq!(unread["unread"], 1);
    assert_eq!(unread["items"].as_array().unwrap().len(), 1);
    assert_ne!(unread["items"][0]["id"], newest);
    assert_eq!(app.get("/api/v1/notifications?limit=0", Some(&admin.token)).await.status, 422);
    let page = app.get(&format!("/api/v1/notifications?before={newest}"), Some(&admin.token)).await.body;
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "pages by id");

    assert_eq!(app.post("/api/v1/notifications/read", Some(&admin.token), json!({})).await.status, 204);
    let all = app.get("/api/v1/notifications", Some(&admin.token)).await.body;
    assert_eq!(all["unread"], 0);
    assert!(all["items"].as_array().unwrap().iter().all(|n| n["read_at"].is_string()));
    assert_eq!(app.get("/api/v1/notifications", None).await.status, 401);
}
