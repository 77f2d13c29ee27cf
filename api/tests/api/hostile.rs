//! Odd and hostile input on every route: whatever a client sends, the answer is never
//! a 5xx, and always the one error shape.

use serde_json::{Value, json};

use crate::helpers::TestApp;

const ODD_STRINGS: &[&str] =
    &["", " ", "\u{0}", "null", "💥", "'; DROP TABLE tickets; --", "%00", "\\\\", "a\u{202e}b"];

fn odd_values() -> Vec<Value> {
    let mut v: Vec<Value> = ODD_STRINGS.iter().map(|s| json!(s)).collect();
    v.extend([json!(null), json!(-1), json!(0), json!(i64::MAX), json!(1e308), json!(true), json!([]), json!({})]);
    v.push(json!("x".repeat(5000)));
    v
}

#[tokio::test(flavor = "multi_thread")]
async fn no_input_produces_a_server_error() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let customer = app.person(&admin, "customer", "carol").await;
    let ticket = app.ticket(&customer, "target").await;
    let id = ticket["id"].as_i64().unwrap();
    let t = Some(admin.token.as_str());

    let bodies: Vec<(&str, String, &[&str])> = vec![
        (
            "POST",
            "/api/v1/tickets".into(),
            &["subject", "description", "priority", "category", "tags", "requester_id", "assignee_id", "channel"],
        ),
        (
            "PATCH",
            format!("/api/v1/tickets/{id}"),
            &["subject", "status", "priority", "category", "tags", "assignee_id"],
        ),
        ("POST", format!("/api/v1/tickets/{id}/comments"), &["body", "visibility"]),
        ("POST", "/api/v1/users".into(), &["email", "display_name", "role", "password"]),
        ("PATCH", format!("/api/v1/users/{}", customer.id), &["role", "is_active", "display_name"]),
        ("POST", "/api/v1/auth/login".into(), &["email", "password"]),
    ];
    let mut checked = 0;
    for (method, path, fields) in &bodies {
        for field in *fields {
            for value in odd_values() {
                let mut body = json!({"subject": "s", "body": "b", "email": "e@x.co", "display_name": "n", "role": "agent", "password": "p"});
                body[*field] = value.clone();
                let res = app.send(method, path, t, Some(body.to_string()), &[("If-Match", "\"1\"")]).await;
                assert!(res.status < 500, "{method} {path} {field}={value}: {} {}", res.status, res.body);
                if res.status >= 400 {
                    assert!(res.body["error"]["code"].is_string(), "{method} {path}: {}", res.body);
                }
                checked += 1;
            }
        }
    }
    for param in [
        "status",
        "priority",
        "assignee_id",
        "requester_id",
        "category",
        "tag",
        "created_after",
        "updated_before",
        "q",
        "sort",
        "cursor",
        "limit",
    ] {
        for raw in
            ["", "%00", "%F0%9F%92%A5", "-1", "99999999999999999999999", "%27%3B--", "a%2Cb%2C%2C", &"z".repeat(3000)]
        {
            let res = app.get(&format!("/api/v1/tickets?{param}={raw}"), t).await;
            assert!(res.status < 500, "GET /tickets?{param}={raw}: {} {}", res.status, res.body);
            checked += 1;
        }
    }
    for path in [
        "/api/v1/tickets/-1",
        "/api/v1/tickets/0",
        "/api/v1/tickets/99999999999999999999",
        "/api/v1/users/%00",
        "/api/v1/tickets/1/comments/2",
    ] {
        let res = app.get(path, t).await;
        assert!(res.status < 500 && res.status >= 400, "GET {path}: {} {}", res.status, res.body);
        checked += 1;
    }
    for if_match in ["W/", "\"-1\"", "\"99999999999\"", "*", "\"1\", \"2\""] {
        let res =
            app.send("PATCH", &format!("/api/v1/tickets/{id}"), t, Some("{}".into()), &[("If-Match", if_match)]).await;
        assert!(res.status < 500, "If-Match {if_match:?}: {} {}", res.status, res.body);
        checked += 1;
    }
    assert!(checked > 500, "only {checked} probes ran");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_that_is_not_a_json_object_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let customer = app.person(&admin, "customer", "carol").await;
    let t = Some(admin.token.as_str());
    let path = format!("/api/v1/users/{}", customer.id);

    // serde would fill {"role": …} from a one-element array: the role must not change.
    for body in [r#"["admin"]"#, r#"["admin", true, "Mallory"]"#, r#""admin""#, "7", "null"] {
        let res = app.send("PATCH", &path, t, Some(body.into()), &[]).await;
        assert_eq!((res.status, res.code()), (400, "invalid_json"), "{body}: {}", res.body);
    }
    assert_eq!(app.get(&path, t).await.body["role"], "customer");
    let wrong_type = app.send("PATCH", &path, t, Some(r#"{"role":"agent"}"#.into()), &[("Content-Type", "text/plain")]);
    assert_eq!(wrong_type.await.status, 415);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_body_is_refused_even_where_the_body_is_optional() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let id = app.ticket(&admin, "locked").await["id"].as_i64().unwrap();
    let lock = format!("/api/v1/tickets/{id}/lock");
    let t = Some(admin.token.as_str());

    for body in ["takeover please", "[true]", r#"{"takeover": "yes"}"#, r#"{"takeover": true, "extra": 1}"#] {
        let res = app.send("POST", &lock, t, Some(body.into()), &[]).await;
        assert_eq!((res.status, res.code()), (400, "invalid_json"), "{body}: {}", res.body);
    }
    assert!(app.get(&lock, t).await.body["lock"].is_null(), "no refused request took the lock");
    // No body at all, or an object, is a request to take the lock.
    assert_eq!(app.send("POST", &lock, t, None, &[]).await.status, 200);
    assert_eq!(app.send("POST", &lock, t, Some(r#"{"takeover": false}"#.into()), &[]).await.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn if_match_star_updates_whatever_version_the_ticket_is_at() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let id = app.ticket(&admin, "starred").await["id"].as_i64().unwrap();
    let path = format!("/api/v1/tickets/{id}");
    let t = Some(admin.token.as_str());
    let steps = [("*", "high", 200), ("\"2\"", "low", 200), ("\"2\"", "urgent", 412), ("W/\"3\"", "urgent", 200)];
    let garbled = [("two", "low", 400), ("", "low", 400)];
    for (if_match, priority, status) in steps.into_iter().chain(garbled) {
        let body = Some(json!({"priority": priority}).to_string());
        let res = app.send("PATCH", &path, t, body, &[("If-Match", if_match)]).await;
        assert_eq!(res.status, status, "If-Match {if_match:?}: {}", res.body);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_nul_character_in_ticket_text_is_a_field_error_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let t = Some(admin.token.as_str());
    for (field, body) in [
        ("subject", json!({"subject": "a\u{0}b"})),
        ("description", json!({"subject": "ok", "description": "x\u{0}"})),
        ("category", json!({"subject": "ok", "category": "\u{0}"})),
    ] {
        let res = app.post("/api/v1/tickets", t, body).await;
        assert_eq!((res.status, res.code()), (422, "validation_failed"), "{field}: {}", res.body);
        assert!(res.body.to_string().contains(field), "{field}: {}", res.body);
    }
    let ticket = app.post("/api/v1/tickets", t, json!({"subject": "ok"})).await.body["id"].as_i64().unwrap();
    let res = app.post(&format!("/api/v1/tickets/{ticket}/comments"), t, json!({"body": "\u{0}"})).await;
    assert_eq!((res.status, res.code()), (422, "validation_failed"), "{}", res.body);
    assert!(res.body.to_string().contains("body"), "{}", res.body);
    let list = app.get(&format!("/api/v1/tickets/{ticket}/comments"), t).await;
    assert_eq!(list.body["items"], json!([]), "{}", list.body);
}
