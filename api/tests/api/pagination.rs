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

/// The ids on every page of `path` (which ends in `?…`), following `next_cursor`; a new
/// comment is added after each page, as a busy conversation would.
async fn walk(app: &TestApp, path: &str, token: &str, between: Option<(&str, &str)>) -> (Vec<i64>, Vec<i64>) {
    let (mut ids, mut totals) = (Vec::new(), Vec::new());
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}&cursor={c}"),
            None => path.to_owned(),
        };
        let page = app.get(&url, Some(token)).await;
        assert_eq!(page.status, 200, "{url}: {}", page.body);
        ids.extend(page.body["items"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()));
        if let Some(total) = page.body["total"].as_i64() {
            totals.push(total);
        }
        if let Some((comments, writer)) = between {
            app.post(comments, Some(writer), json!({"body": "written while someone pages"})).await;
        }
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    (ids, totals)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_conversation_pages_from_either_end_without_repeating_or_skipping_while_replies_arrive() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let customer = app.person(&admin, "customer", "cora").await;
    let ticket = app.ticket(&customer, "A long thread").await;
    let comments = format!("/api/v1/tickets/{}/comments", ticket["id"]);
    let mut written = Vec::new();
    for i in 0..12 {
        let visibility = if i % 3 == 2 { "internal" } else { "public" };
        let c = app
            .post(&comments, Some(&admin.token), json!({"body": format!("message {i}"), "visibility": visibility}))
            .await;
        assert_eq!(c.status, 201, "{}", c.body);
        written.push((c.body["id"].as_i64().unwrap(), visibility));
    }
    let all: Vec<i64> = written.iter().map(|w| w.0).collect();
    let public: Vec<i64> = written.iter().filter(|w| w.1 == "public").map(|w| w.0).collect();

    // Newest first, five at a time, with a reply written between pages: the pages hold
    // exactly what existed when paging began, newest first, and `total` grows with it.
    let (newest, totals) =
        walk(&app, &format!("{comments}?order=newest&limit=5"), &admin.token, Some((&comments, &admin.token))).await;
    assert_eq!(newest, all.iter().rev().copied().collect::<Vec<_>>());
    assert_eq!(totals, vec![12, 13, 14]);

    // Oldest first, the same thread: the earliest twelve, then the three written since.
    let (oldest, _) = walk(&app, &format!("{comments}?order=oldest&limit=4"), &admin.token, None).await;
    assert_eq!(oldest.len(), 15);
    assert_eq!(oldest[..12], all[..]);

    // The customer pages the public ones only, and their total counts only those.
    let (theirs, totals) = walk(&app, &format!("{comments}?order=newest&limit=3"), &customer.token, None).await;
    let theirs_then: Vec<i64> = theirs.iter().copied().filter(|id| all.contains(id)).collect();
    assert_eq!(theirs_then, public.iter().rev().copied().collect::<Vec<_>>());
    assert!(totals.iter().all(|&t| t == theirs.len() as i64), "{totals:?} for {} public", theirs.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tickets_history_pages_newest_first_and_refuses_a_comments_cursor() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let ticket = app.ticket(&admin, "History").await;
    let id = ticket["id"].as_i64().unwrap();
    for p in ["low", "high", "urgent", "normal", "low"] {
        let version = app.get(&format!("/api/v1/tickets/{id}"), Some(&admin.token)).await.body["version"].as_i64();
        let res =
            app.patch(&format!("/api/v1/tickets/{id}"), Some(&admin.token), json!({"priority": p}), version).await;
        assert_eq!(res.status, 200, "{}", res.body);
    }
    let history = format!("/api/v1/tickets/{id}/history");
    let (everything, _) = walk(&app, &format!("{history}?limit=200"), &admin.token, None).await;
    assert!(everything.len() >= 6, "created and five updates: {everything:?}");
    let (newest, _) = walk(&app, &format!("{history}?order=newest&limit=2"), &admin.token, None).await;
    assert_eq!(newest, everything.iter().rev().copied().collect::<Vec<_>>());

    app.post(&format!("/api/v1/tickets/{id}/comments"), Some(&admin.token), json!({"body": "a"})).await;
    app.post(&format!("/api/v1/tickets/{id}/comments"), Some(&admin.token), json!({"body": "b"})).await;
    let page = app.get(&format!("/api/v1/tickets/{id}/comments?limit=1"), Some(&admin.token)).await;
    let cursor = page.body["next_cursor"].as_str().unwrap();
    let wrong = app.get(&format!("{history}?cursor={cursor}"), Some(&admin.token)).await;
    assert_eq!((wrong.status, wrong.code()), (422, "validation_failed"), "{}", wrong.body);
    assert!(wrong.body["error"]["fields"]["cursor"].is_string());
    let other_order =
        app.get(&format!("/api/v1/tickets/{id}/comments?order=newest&cursor={cursor}"), Some(&admin.token)).await;
    assert_eq!(other_order.status, 422);
    for bad in ["limit=0", "limit=201", "order=sideways"] {
        let res = app.get(&format!("/api/v1/tickets/{id}/comments?{bad}"), Some(&admin.token)).await;
        assert_eq!((res.status, res.code()), (422, "validation_failed"), "{bad}: {}", res.body);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cursor_from_one_organisations_ticket_reads_nothing_of_it_from_another() {
    let app = TestApp::spawn().await;
    let acme = app.org("acme").await;
    let globex = app.org("globex").await;
    let ticket = app.ticket(&acme, "Acme's thread").await;
    let comments = format!("/api/v1/tickets/{}/comments", ticket["id"]);
    for i in 0..3 {
        app.post(&comments, Some(&acme.token), json!({"body": format!("secret {i}")})).await;
    }
    let page = app.get(&format!("{comments}?limit=1&order=newest"), Some(&acme.token)).await;
    let cursor = page.body["next_cursor"].as_str().unwrap().to_owned();
    for path in [
        format!("{comments}?order=newest&cursor={cursor}"),
        format!("/api/v1/tickets/{}/history?order=newest", ticket["id"]),
    ] {
        let res = app.get(&path, Some(&globex.token)).await;
        assert_eq!((res.status, res.code()), (404, "not_found"), "{path}: {}", res.body);
    }
    // Globex's own ticket with acme's cursor: a valid cursor, but it finds nothing of acme's.
    let own = app.ticket(&globex, "Globex's thread").await;
    let res = app
        .get(&format!("/api/v1/tickets/{}/comments?order=newest&cursor={cursor}", own["id"]), Some(&globex.token))
        .await;
    assert_eq!(
        (res.status, res.body["items"].as_array().unwrap().len(), res.body["total"].as_i64()),
        (200, 0, Some(0))
    );
}
