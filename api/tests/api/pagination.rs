use std::collections::HashSet;

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread")]
async fn cursor_pages_neither_repeat_nor_skip_while_tickets_are_being_created() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let t = Some(admin.token.as_str());
    let mut expected = HashSet::new();
    for i in 0..23 {
        expected.insert(app.ticket(&admin, &format!("existing {i}")).await["id"].as_i64().unwrap());
    }

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/tickets?limit=5&cursor={c}"),
            None => "/api/v1/tickets?limit=5".to_owned(),
        };
        let page = app.get(&path, t).await;
        assert_eq!(page.status, 200, "{}", page.body);
        seen.extend(page.body["items"].as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()));
        pages += 1;
        // Someone files new tickets between every two page fetches.
        app.post("/api/v1/tickets", t, json!({"subject": format!("new during page {pages}")})).await;
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 5);
    let unique: HashSet<i64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "a ticket appeared twice: {seen:?}");
    assert_eq!(unique, expected, "the pages did not cover exactly the tickets that existed");
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest first");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tampered_or_mismatched_cursor_is_a_validation_error() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let t = Some(admin.token.as_str());
    for _ in 0..3 {
        app.ticket(&admin, "x").await;
    }
    let page = app.get("/api/v1/tickets?limit=1", t).await;
    let cursor = page.body["next_cursor"].as_str().unwrap();
    let other_sort = app.get(&format!("/api/v1/tickets?limit=1&sort=-updated_at&cursor={cursor}"), t).await;
    assert_eq!((other_sort.status, other_sort.code()), (422, "validation_failed"));
    let junk = app.get("/api/v1/tickets?cursor=zzzz", t).await;
    assert_eq!(junk.status, 422);
    assert!(junk.body["error"]["fields"]["cursor"].is_string());
}
