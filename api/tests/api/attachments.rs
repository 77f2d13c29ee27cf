//! Attachments over HTTP: uploads streamed and refused at their limits, files put on
//! tickets and replies, downloads with the asker's rights, and the sweep.

use std::io::{Read as _, Write as _};

use serde_json::json;

use crate::helpers::{Person, TestApp};

/// The smallest PNG header `infer` recognises, with some pixels' worth of bytes.
fn png(seed: u8) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0".to_vec();
    b.extend((0..200u16).map(|i| (i as u8).wrapping_mul(seed)));
    b
}

async fn customer_with_ticket(app: &TestApp, admin: &Person, name: &str) -> (Person, i64) {
    let customer = app.person(admin, "customer", name).await;
    let ticket = app.ticket(&customer, "Printer on fire").await;
    (customer, ticket["id"].as_i64().unwrap())
}

async fn reply(app: &TestApp, who: &Person, ticket: i64, visibility: &str, ids: &[i64]) -> crate::helpers::Response {
    let body = json!({"body": "see attached", "visibility": visibility, "attachment_ids": ids});
    app.post(&format!("/api/v1/tickets/{ticket}/comments"), Some(&who.token), body).await
}

fn id(res: &crate::helpers::Response) -> i64 {
    assert_eq!(res.status, 201, "{}", res.body);
    res.body["id"].as_i64().unwrap()
}

#[tokio::test]
async fn an_agents_screenshot_on_a_reply_reaches_the_customer_byte_for_byte_with_safe_headers() {
    let app = TestApp::spawn().await;
    let admin = app.org("files-a").await;
    let (customer, ticket) = customer_with_ticket(&app, &admin, "carla").await;
    let bytes = png(3);
    let up = app.upload(&admin.token, "screen shot.png", "image/png", &bytes).await;
    let file = id(&up);
    assert_eq!(up.body["content_type"], "image/png");
    assert_eq!(up.body["pending"], true);
    assert_eq!(up.body["inline"], true);
    assert_eq!(up.body["size"], bytes.len());
    assert_eq!(up.body["url"], format!("/api/v1/attachments/{file}/screen%20shot.png"));

    let res = reply(&app, &admin, ticket, "public", &[file]).await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(res.body["attachments"][0]["id"], file);
    assert_eq!(res.body["attachments"][0]["pending"], false);

    // The customer sees it on the reply and downloads exactly those bytes.
    let page = app.get(&format!("/api/v1/tickets/{ticket}/comments"), Some(&customer.token)).await;
    let url = page.body["items"][0]["attachments"][0]["url"].as_str().unwrap().to_owned();
    let (res, got) = app.fetch(&url, &customer.token, &[]).await;
    assert_eq!(res.status, 200);
    assert_eq!(got, bytes);
    assert_eq!(res.header("content-type"), Some("image/png"));
    assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(res.header("content-security-policy"), Some("sandbox"));
    assert_eq!(
        res.header("content-disposition"),
        Some("inline; filename=\"screen shot.png\"; filename*=UTF-8''screen%20shot.png")
    );
    let etag = res.header("etag").unwrap().to_owned();
    assert_eq!(etag, format!("\"{}\"", up.body["sha256"].as_str().unwrap()));

    // Conditional and partial reads.
    let (res, _) = app.fetch(&url, &customer.token, &[("If-None-Match", &etag)]).await;
    assert_eq!(res.status, 304);
    let (res, part) = app.fetch(&url, &customer.token, &[("Range", "bytes=1-3")]).await;
    assert_eq!(res.status, 206);
    assert_eq!(part, b"PNG");
    assert_eq!(res.header("content-range"), Some(format!("bytes 1-3/{}", bytes.len()).as_str()));
    let (res, _) = app.fetch(&url, &customer.token, &[("Range", "bytes=100000-")]).await;
    assert_eq!((res.status, res.code()), (416, "range_not_satisfiable"));
    assert_eq!(res.header("content-range"), Some(format!("bytes */{}", bytes.len()).as_str()));
    // A range against bytes the client no longer has is answered whole.
    let (res, all) = app.fetch(&url, &customer.token, &[("Range", "bytes=1-3"), ("If-Range", "\"old\"")]).await;
    assert_eq!((res.status, all.len()), (200, bytes.len()));
}

#[tokio::test]
async fn a_customer_attaches_a_log_to_a_new_request_and_the_agent_downloads_it() {
    let app = TestApp::spawn().await;
    let admin = app.org("files-b").await;
    let customer = app.person(&admin, "customer", "cedric").await;
    let log = b"2026-12-06 10:00:01 ERROR disk full\n".repeat(50);
    let file = id(&app.upload(&customer.token, "app.log", "text/plain", &log).await);
    let body = json!({"subject": "It crashes", "description": "log attached", "attachment_ids": [file]});
    let created = app.post("/api/v1/tickets", Some(&customer.token), body).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let ticket = created.body["id"].as_i64().unwrap();

    let view = app.get(&format!("/api/v1/tickets/{ticket}"), Some(&admin.token)).await;
    assert_eq!(view.body["attachments"][0]["name"], "app.log");
    let (res, got) = app.fetch(view.body["attachments"][0]["url"].as_str().unwrap(), &admin.token, &[]).await;
    assert_eq!((res.status, got), (200, log.clone()));
    // Text is never shown inline.
    assert!(res.header("content-disposition").unwrap().starts_with("attachment;"));
}

#[tokio::test]
async fn files_on_internal_notes_and_other_organisations_files_are_not_found() {
    let app = TestApp::spawn().await;
    let admin = app.org("files-c").await;
    let (customer, ticket) = customer_with_ticket(&app, &admin, "cora").await;
    let note_file = id(&app.upload(&admin.token, "internal.png", "image/png", &png(5)).await);
    assert_eq!(reply(&app, &admin, ticket, "internal", &[note_file]).await.status, 201);
    let path = format!("/api/v1/attachments/{note_file}/internal.png");
    assert_eq!(app.fetch(&path, &admin.token, &[]).await.0.status, 200);
    let (res, _) = app.fetch(&path, &customer.token, &[]).await;
    assert_eq!((res.status, res.code()), (404, "not_found"));
    assert_eq!(app.get(&format!("/api/v1/attachments/{note_file}"), Some(&customer.token)).await.status, 404);

    // Another organisation: not found to read, and not found to attach.
    let other = app.org("files-c2").await;
    let (res, _) = app.fetch(&path, &other.token, &[]).await;
    assert_eq!(res.status, 404);
    let pending = id(&app.upload(&admin.token, "mine.png", "image/png", &png(6)).await);
    let theirs = app.ticket(&other, "theirs").await["id"].as_i64().unwrap();
    let res = reply(&app, &other, theirs, "public", &[pending]).await;
    assert_eq!((res.status, res.code()), (404, "not_found"));
    // Nor may a colleague use someone else's upload, or anyone see it while pending.
    let agent = app.person(&admin, "agent", "ari").await;
    assert_eq!(reply(&app, &agent, ticket, "public", &[pending]).await.status, 404);
    assert_eq!(app.fetch(&format!("/api/v1/attachments/{pending}/x"), &agent.token, &[]).await.0.status, 404);
    // Other people's tickets' files stay theirs.
    let (other_customer, _) = customer_with_ticket(&app, &admin, "cid").await;
    let public_file = id(&app.upload(&admin.token, "public.png", "image/png", &png(7)).await);
    assert_eq!(reply(&app, &admin, ticket, "public", &[public_file]).await.status, 201);
    let public_path = format!("/api/v1/attachments/{public_file}/public.png");
    assert_eq!(app.fetch(&public_path, &customer.token, &[]).await.0.status, 200);
    assert_eq!(app.fetch(&public_path, &other_customer.token, &[]).await.0.status, 404);
    // Nothing was attached by the refused replies.
    let rows = app.sql(&format!("SELECT attached_at IS NULL FROM attachments WHERE id = {pending}")).await;
    assert!(rows[0].get::<_, bool>(0));
}

#[tokio::test]
async fn an_upload_is_used_once_and_a_message_carries_at_most_the_limit() {
    let app = TestApp::spawn().await;
    let admin = app.org("files-d").await;
    let (_, ticket) = customer_with_ticket(&app, &admin, "dora").await;
    let res =
        app.patch("/api/v1/admin/settings", Some(&admin.token), json!({"attachments": {"max_files": 2}}), None).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["attachments"]["max_files"], 2);
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(id(&app.upload(&admin.token, &format!("{i}.png"), "image/png", &png(10 + i)).await));
    }
    let res = reply(&app, &admin, ticket, "public", &ids).await;
    assert_eq!(res.status, 422);
    assert!(res.body["error"]["fields"]["attachment_ids"].as_str().unwrap().contains("at most 2"));
    let res = reply(&app, &admin, ticket, "public", &[ids[0], ids[0]]).await;
    assert_eq!(res.status, 422);
    // The refused replies wrote nothing.
    let page = app.get(&format!("/api/v1/tickets/{ticket}/comments"), Some(&admin.token)).await;
    assert_eq!(page.body["total"], 0);
    assert_eq!(reply(&app, &admin, ticket, "public", &ids[..2]).await.status, 201);
    let res = reply(&app, &admin, ticket, "public", &[ids[1]]).await;
    assert_eq!((res.status, res.code()), (409, "attachment_already_used"));
}

#[tokio::test]
async fn a_file_at_the_limit_passes_and_one_byte_more_is_refused_with_the_limit_named() {
    let app = TestApp::spawn().await;
    let admin = app.org("files-e").await;
    let res = app
        .patch("/api/v1/admin/settings", Some(&admin.token), json!({"attachments": {"max_file_bytes": 1000}}), None)
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(app.upload(&admin.token, "a.bin", "application/octet-stream", &[1; 1000]).await.status, 201);
    let res = app.upload(&admin.token, "b.bin", "application/octet-stream", &[1; 1001]).await;
    assert_eq!((res.status, res.code()), (413, "file_too_large"));
    assert!(res.body["error"]["message"].as_str().unwrap().contains("1000 bytes"), "{}", res.body);
    let res = app.upload(&admin.token, "empty.txt", "text/plain", &[]).await;
    assert_eq!((res.status, res.code()), (422, "validation_failed"));

    // A body announced too large is refused before any of it is sent.
    let head = http_head(&app, &admin.token, "big.bin", "Content-Length: 50000000", b"").await;
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    assert!(head.contains("file_too_large"), "{head}");
    // One of unknown length is cut off once it passes the limit.
    let mut chunk = b"7d0\r\n".to_vec();
    chunk.extend([b'x'; 2000]);
    chunk.extend(b"\r\n");
    let head = http_head(&app, &admin.token, "chunked.bin", "Transfer-Encoding: chunked", &chunk).await;
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    let rows = app.sql("SELECT count(*) FROM attachments").await;
    assert_eq!(rows[0].get::<_, i64>(0), 1);
}

/// Sends an upload's head with `header`, then `body` (a write the server cut short is
/// fine), and returns the start of the answer. Blocking, so on a thread of its own:
/// the test's runtime serves the API meanwhile.
async fn http_head(app: &TestApp, token: &str, name: &str, header: &str, body: &[u8]) -> String {
    let (addr, token, name, header, body) =
        (app.addr, token.to_owned(), name.to_owned(), header.to_owned(), body.to_vec());
    tokio::task::spawn_blocking(move || raw_upload(addr, &token, &name, &header, &body)).await.unwrap()
}

fn raw_upload(addr: std::net::SocketAddr, token: &str, name: &str, header: &str, body: &[u8]) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    write!(
        s,
        "POST /api/v1/attachments?name={name} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n{header}\r\n\r\n"
    )
    .unwrap();
    let _ = s.write_all(body);
    let mut buf = vec![0; 4096];
    let n = s.read(&mut buf).unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[tokio::test]
async fn bad_names_are_refused_with_the_field_named() {
    let app = TestApp::spawn().await;
    let admin = app.org("files-f").await;
    let long = "a".repeat(10_000);
    for name in ["../../etc/passwd", "a\u{0}b", "bill\u{202E}fdp.exe", "", "   ", "tab\there", long.as_str()] {
        let res = app.upload(&admin.token, name, "text/plain", b"hello").await;
        assert_eq!(res.status, 422, "{name:?}: {}", res.body);
        assert!(res.body["error"]["fields"]["name"].is_string(), "{name:?}: {}", res.body);
    }
    let rows = app.sql("SELECT count(*) FROM attachments").await;
    assert_eq!(rows[0].get::<_, i64>(0), 0);
}

#[tokio::test]
async fn the_bytes_decide_the_type_and_customers_send_only_the_allowed_ones() {
    let app = TestApp::spawn().await;
    let admin = app.org("files-g").await;
    let customer = app.person(&admin, "customer", "gil").await;
    let zip = b"PK\x03\x04\x14\0\0\0\x08\0abcdefghijklmnop".to_vec();
    let res = app.upload(&customer.token, "holiday.png", "image/png", &zip).await;
    assert_eq!((res.status, res.code()), (415, "file_type_not_allowed"));
    assert!(res.body["error"]["message"].as_str().unwrap().contains("application/zip"), "{}", res.body);
    // Agents may send any type; the lie is recorded and the bytes win.
    let res = app.upload(&admin.token, "holiday.png", "image/png", &zip).await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(res.body["content_type"], "application/zip");
    assert_eq!(res.body["declared_type"], "image/png");
    assert_eq!(res.body["inline"], false);

    // An SVG with script is a download of plain bytes, never a page.
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>"#;
    let up = app.upload(&admin.token, "logo.svg", "image/svg+xml", svg).await;
    assert_eq!(up.body["content_type"], "image/svg+xml");
    let (res, _) = app.fetch(up.body["url"].as_str().unwrap(), &admin.token, &[]).await;
    assert_eq!(res.header("content-type"), Some("application/octet-stream"));
    assert!(res.header("content-disposition").unwrap().starts_with("attachment;"));
    assert_eq!(res.header("content-security-policy"), Some("sandbox"));

    // Admins choose what customers may send.
    let change = json!({"attachments": {"customer_types": ["application/zip"]}});
    assert_eq!(app.patch("/api/v1/admin/settings", Some(&admin.token), change, None).await.status, 200);
    assert_eq!(app.upload(&customer.token, "logs.zip", "application/zip", &zip).await.status, 201);
    assert_eq!(app.upload(&customer.token, "p.png", "image/png", &png(1)).await.status, 415);
    let bad = json!({"attachments": {"customer_types": ["*/*"]}});
    assert_eq!(app.patch("/api/v1/admin/settings", Some(&admin.token), bad, None).await.status, 422);
}

#[tokio::test]
async fn the_same_bytes_are_stored_once_and_the_quota_counts_them_once() {
    let app = TestApp::spawn().await;
    let admin = app.org("files-h").await;
    let bytes = vec![9u8; 600];
    id(&app.upload(&admin.token, "one.bin", "application/octet-stream", &bytes).await);
    id(&app.upload(&admin.token, "two.bin", "application/octet-stream", &bytes).await);
    let stored = app.files.list().await.unwrap();
    assert_eq!(stored.iter().filter(|s| s.org_id.0 == admin.org_id).count(), 1);
    let change = json!({"attachments": {"quota_bytes": 1000}});
    assert_eq!(app.patch("/api/v1/admin/settings", Some(&admin.token), change, None).await.status, 200);
    // Known bytes cost nothing; 500 new ones do not fit in the 400 left.
    assert_eq!(app.upload(&admin.token, "three.bin", "application/octet-stream", &bytes).await.status, 201);
    let res = app.upload(&admin.token, "new.bin", "application/octet-stream", &[3; 500]).await;
    assert_eq!((res.status, res.code()), (413, "storage_quota_exceeded"));
}

#[tokio::test]
async fn an_upload_cut_off_halfway_leaves_nothing_visible() {
    let app = TestApp::spawn().await;
    let admin = app.org("files-i").await;
    {
        let mut s = std::net::TcpStream::connect(app.addr).unwrap();
        write!(
            s,
            "POST /api/v1/attachments?name=half.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Length: 100000\r\n\r\n",
            admin.token
        )
        .unwrap();
        s.write_all(&[7; 40_000]).unwrap();
        s.shutdown(std::net::Shutdown::Both).unwrap();
    }
    // The server notices the dropped connection and removes the staged bytes.
    let staging = app.files.root().join(".staging");
    atum_testing::eventually::eventually(
        "the staged upload is removed",
        std::time::Duration::from_secs(10),
        || async {
            let left = std::fs::read_dir(&staging).map(|d| d.count()).unwrap_or(0);
            if left == 0 { Ok(()) } else { Err(format!("{left} staged files")) }
        },
    )
    .await;
    let rows = app.sql("SELECT count(*) FROM attachments").await;
    assert_eq!(rows[0].get::<_, i64>(0), 0);
    assert!(app.files.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_sweep_removes_unused_uploads_and_unreferenced_bytes_and_keeps_what_is_used() {
    let app = TestApp::spawn().await;
    let admin = app.org("files-j").await;
    let (_, ticket) = customer_with_ticket(&app, &admin, "jo").await;
    let used = id(&app.upload(&admin.token, "used.png", "image/png", &png(20)).await);
    assert_eq!(reply(&app, &admin, ticket, "public", &[used]).await.status, 201);
    let stale = id(&app.upload(&admin.token, "stale.png", "image/png", &png(21)).await);
    let fresh = id(&app.upload(&admin.token, "fresh.png", "image/png", &png(22)).await);
    app.sql(&format!("UPDATE attachments SET created_at = now() - interval '25 hours' WHERE id = {stale}")).await;
    // Bytes whose row never committed (a process killed after keeping them).
    let orphan = app
        .files
        .stage(futures_util::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"orphan"))]), 100)
        .await
        .unwrap();
    let orphan_sha = orphan.sha256;
    app.files.keep(orphan, atum_core::ids::OrgId(admin.org_id)).await.unwrap();
    // And a staged upload a killed process left behind an hour ago.
    let abandoned = app.files.root().join(".staging").join("abandoned");
    std::fs::write(&abandoned, b"half").unwrap();
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 3600);
    std::fs::File::options().write(true).open(&abandoned).unwrap().set_modified(old).unwrap();

    let swept = atum_core::attachments::sweep::sweep(&app.db.pool, &app.files).await.unwrap();
    assert_eq!((swept.pending, swept.files, swept.staged), (1, 2, 1));
    let left: Vec<i64> = app.sql("SELECT id FROM attachments ORDER BY id").await.iter().map(|r| r.get(0)).collect();
    assert_eq!(left, vec![used, fresh]);
    let org = atum_core::ids::OrgId(admin.org_id);
    assert!(!app.files.contains(org, &orphan_sha).await.unwrap());
    assert_eq!(app.files.list().await.unwrap().iter().filter(|s| s.org_id == org).count(), 2);
    for file in [used, fresh] {
        let (res, _) = app.fetch(&format!("/api/v1/attachments/{file}/x"), &admin.token, &[]).await;
        assert_eq!(res.status, 200);
    }
}

#[tokio::test]
async fn a_public_articles_picture_is_served_to_anyone_until_the_article_is_internal() {
    let app = TestApp::spawn().await;
    let admin = app.org("files-k").await;
    let pic = id(&app.upload(&admin.token, "diagram.png", "image/png", &png(30)).await);
    let body = json!({
        "title": "Reset the router",
        "body": format!("Unplug it.\n\n![diagram](/api/v1/attachments/{pic}/diagram.png)"),
        "visibility": "public",
        "publish": true,
        "attachment_ids": [pic],
    });
    let made = app.post("/api/v1/kb/articles", Some(&admin.token), body).await;
    assert_eq!(made.status, 201, "{}", made.body);
    let article = made.body["id"].as_i64().unwrap();

    // The help center's copy links the picture where anyone may fetch it.
    let public = app.get(&format!("/api/v1/portal/files-k/kb/articles/{article}"), None).await;
    let html = public.body["body_html"].as_str().unwrap();
    let path = format!("/api/v1/portal/files-k/attachments/{pic}/diagram.png");
    assert!(html.contains(&format!("src=\"{path}\"")), "{html}");
    let (res, bytes) = app.fetch(&path, "", &[]).await;
    assert_eq!((res.status, bytes), (200, png(30)));
    // Another organisation's address for it, or a ticket's file by the same road: not found.
    app.org("files-k2").await;
    assert_eq!(app.fetch(&format!("/api/v1/portal/files-k2/attachments/{pic}/x"), "", &[]).await.0.status, 404);
    let (_, ticket) = customer_with_ticket(&app, &admin, "kim").await;
    let on_ticket = id(&app.upload(&admin.token, "t.png", "image/png", &png(31)).await);
    assert_eq!(reply(&app, &admin, ticket, "public", &[on_ticket]).await.status, 201);
    assert_eq!(
        app.fetch(&format!("/api/v1/portal/files-k/attachments/{on_ticket}/t.png"), "", &[]).await.0.status,
        404
    );

    // Made internal, the article's picture is staff's again.
    let version = made.body["version"].as_i64().unwrap();
    let res = app
        .patch(
            &format!("/api/v1/kb/articles/{article}"),
            Some(&admin.token),
            json!({"visibility": "internal"}),
            Some(version),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let (res, _) = app.fetch(&path, "", &[]).await;
    assert_eq!((res.status, res.code()), (404, "not_found"));
    assert_eq!(app.fetch(&format!("/api/v1/attachments/{pic}/diagram.png"), &admin.token, &[]).await.0.status, 200);
}
