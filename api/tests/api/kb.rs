//! The knowledge base: `/api/v1/kb/…` for staff, `/api/v1/portal/{org}/kb/…` for all.

use serde_json::{Value, json};

use crate::helpers::TestApp;

fn versions(detail: &Value) -> Vec<(i64, String)> {
    detail["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["version"].as_i64().unwrap(), v["status"].as_str().unwrap().to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn staff_write_edit_publish_and_archive_articles_and_every_change_is_a_version() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let ada = app.person(&admin, "agent", "ada").await;
    let t = Some(ada.token.as_str());

    let created = app
        .post(
            "/api/v1/kb/articles",
            t,
            json!({"title": "Reset your VPN token", "body": "1. Open **Settings**\n2. Press Reset\n", "tags": ["VPN"], "visibility": "public"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert_eq!((created.body["status"].as_str(), created.body["tags"].clone()), (Some("draft"), json!(["vpn"])));
    assert!(created.body["body_html"].as_str().unwrap().contains("<strong>Settings</strong>"), "{}", created.body);
    let id = created.body["id"].as_i64().unwrap();
    let path = format!("/api/v1/kb/articles/{id}");

    let edit = json!({"body": "1. Open **Settings**\n2. Press Reset and confirm\n"}).to_string();
    let missing = app.send("PATCH", &path, t, Some(edit.clone()), &[]).await;
    assert_eq!((missing.status, missing.code()), (428, "precondition_required"), "{}", missing.body);
    let edited = app.send("PATCH", &path, t, Some(edit.clone()), &[("If-Match", "\"1\"")]).await;
    assert_eq!((edited.status, edited.body["version"].as_i64()), (200, Some(2)), "{}", edited.body);
    let stale =
        app.send("PATCH", &path, t, Some(json!({"title": "Other"}).to_string()), &[("If-Match", "\"1\"")]).await;
    assert_eq!(stale.status, 412, "{}", stale.body);
    assert_eq!(app.get(&path, t).await.body["title"], "Reset your VPN token", "the stale edit changed nothing");

    let unconditional = app.post(&format!("{path}/publish"), t, json!({})).await;
    assert_eq!(unconditional.status, 428, "publishing names the version it saw: {}", unconditional.body);
    let bad_match = app.send("POST", &format!("{path}/publish"), t, None, &[("If-Match", "{}")]).await;
    assert_eq!((bad_match.status, bad_match.code()), (400, "invalid_if_match"));
    let published = app.send("POST", &format!("{path}/publish"), t, None, &[("If-Match", "\"2\"")]).await;
    assert_eq!((published.status, published.body["status"].as_str()), (200, Some("published")), "{}", published.body);
    assert!(published.body["published_at"].is_string());
    let detail = app.get(&path, t).await;
    assert_eq!(detail.header("etag"), Some("\"3\""));
    assert_eq!(versions(&detail.body), [(3, "published".into()), (2, "draft".into()), (1, "draft".into())]);
    assert_eq!(detail.body["versions"][1]["author_id"].as_i64(), Some(ada.id));

    let first = app.get(&format!("{path}/versions/1"), t).await;
    assert_eq!(first.body["body"], "1. Open **Settings**\n2. Press Reset\n");
    let diff = app.get(&format!("{path}/diff?from=1&to=2"), t).await;
    assert_eq!(diff.status, 200, "{}", diff.body);
    assert_eq!((diff.body["inserted"].as_i64(), diff.body["deleted"].as_i64()), (Some(1), Some(1)));
    assert_eq!(diff.body["lines"][2], json!({"op": "insert", "text": "2. Press Reset and confirm"}));
    assert_eq!(diff.body["title"], json!(null));
    assert_eq!(app.get(&format!("{path}/diff?from=1&to=9"), t).await.status, 404);

    let found = app.get("/api/v1/kb/articles?q=confirm%20reset", t).await;
    assert_eq!(found.body["items"][0]["id"].as_i64(), Some(id), "{}", found.body);
    let snippet = found.body["items"][0]["snippet"].as_str().unwrap();
    assert!(snippet.contains("<mark>"), "{snippet}");

    let archived = app.send("POST", &format!("{path}/archive"), t, None, &[("If-Match", "*")]).await;
    assert_eq!(archived.body["status"], "archived");
    assert_eq!(
        app.get("/api/v1/kb/articles", t).await.body["items"],
        json!([]),
        "archived ones are left out by default"
    );
    let listed = app.get("/api/v1/kb/articles?status=archived", t).await;
    assert_eq!(listed.body["items"][0]["id"].as_i64(), Some(id));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_articles_are_refused_field_by_field_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let t = Some(admin.token.as_str());
    for (body, field) in [
        (json!({"title": "  "}), "title"),
        (json!({"title": "a".repeat(201)}), "title"),
        (json!({"title": "Bell\u{7}"}), "title"),
        (json!({"title": "Tab\tinside"}), "title"),
        (json!({"title": "\u{feff}"}), "title"),
        (json!({"title": "Ok", "body": "marker \u{1} inside"}), "body"),
        (json!({"title": "Ok", "body": "x".repeat(100_001)}), "body"),
        (json!({"title": "Ok", "visibility": "secret"}), "visibility"),
        (json!({"title": "Ok", "tags": ["no spaces please"]}), "tags"),
    ] {
        let res = app.post("/api/v1/kb/articles", t, body.clone()).await;
        assert_eq!(res.status, 422, "{body}: {}", res.body);
        assert!(res.body["error"]["fields"][field].is_string(), "{}", res.body);
    }
    assert_eq!(app.post("/api/v1/kb/articles", t, json!({"title": "Ok", "author": 1})).await.status, 400);
    assert_eq!(app.get("/api/v1/kb/articles?status=gone", t).await.status, 422);
    assert_eq!(app.get("/api/v1/kb/articles?limit=0", t).await.status, 422);
    assert_eq!(app.get(&format!("/api/v1/kb/articles?tag={}", "t".repeat(51)), t).await.status, 422);

    assert_eq!(app.sql("SELECT 1 FROM kb_articles UNION ALL SELECT 1 FROM kb_article_versions").await.len(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_authors_html_and_scripts_never_reach_a_reader() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let body = "Hello <script>alert(1)</script> <img src=x onerror=alert(2)> [x](javascript:alert(3))";
    let a = app
        .post(
            "/api/v1/kb/articles",
            Some(&admin.token),
            json!({"title": "T", "body": body, "visibility": "public", "publish": true}),
        )
        .await;
    let id = a.body["id"].as_i64().unwrap();
    let public = app.get(&format!("/api/v1/portal/acme/kb/articles/{id}"), None).await;
    assert_eq!(public.status, 200, "{}", public.body);
    for html in [a.body["body_html"].as_str().unwrap(), public.body["body_html"].as_str().unwrap()] {
        for bad in ["<script", "onerror", "javascript:"] {
            assert!(!html.contains(bad), "{bad} in {html}");
        }
    }
    let preview = app.post("/api/v1/kb/render", Some(&admin.token), json!({"body": body})).await;
    assert_eq!(preview.body["html"], a.body["body_html"], "the editor's preview is the article's rendering");
    let carol = app.person(&admin, "customer", "carol").await;
    assert_eq!(app.post("/api/v1/kb/render", Some(&carol.token), json!({"body": "x"})).await.status, 403);
    let hits = app.get("/api/v1/portal/acme/kb/search?q=hello", None).await;
    let snippet = hits.body["items"][0]["snippet"].as_str().unwrap();
    // The snippet is text: escaped, with only the search's own <mark> as markup.
    assert!(!snippet.replace("<mark>", "").replace("</mark>", "").contains('<'), "{snippet}");
    assert!(snippet.contains("&lt;img"), "{snippet}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_portal_shows_published_public_articles_to_anyone_and_nothing_else() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let carol = app.person(&admin, "customer", "carol").await;
    let t = Some(admin.token.as_str());
    let mut ids = Vec::new();
    for (title, visibility, publish) in
        [("Printer jams", "public", true), ("Printer escalation", "internal", true), ("Printer draft", "public", false)]
    {
        let a = app
            .post(
                "/api/v1/kb/articles",
                t,
                json!({"title": title, "body": "printer help", "visibility": visibility, "publish": publish}),
            )
            .await;
        ids.push(a.body["id"].as_i64().unwrap());
    }
    let archived = app
        .post("/api/v1/kb/articles", t, json!({"title": "Printer old", "visibility": "public", "publish": true}))
        .await;
    let archived = archived.body["id"].as_i64().unwrap();
    app.send("POST", &format!("/api/v1/kb/articles/{archived}/archive"), t, None, &[("If-Match", "*")]).await;

    let search = app.get("/api/v1/portal/acme/kb/search?q=printer", None).await;
    assert_eq!(search.status, 200, "{}", search.body);
    let titles: Vec<&str> =
        search.body["items"].as_array().unwrap().iter().map(|h| h["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Printer jams"]);
    assert_eq!(search.header("cache-control"), Some("public, max-age=60"));
    let etag = search.header("etag").unwrap().to_owned();
    let again =
        app.send("GET", "/api/v1/portal/acme/kb/search?q=printer", None, None, &[("If-None-Match", &etag)]).await;
    assert_eq!(again.status, 304);

    assert_eq!(app.get(&format!("/api/v1/portal/acme/kb/articles/{}", ids[0]), None).await.status, 200);
    for hidden in [ids[1], ids[2], archived] {
        let res = app.get(&format!("/api/v1/portal/acme/kb/articles/{hidden}"), None).await;
        assert_eq!(res.status, 404, "article {hidden}: {}", res.body);
    }
    assert_eq!(app.get("/api/v1/portal/nobody/kb/search", None).await.status, 404);
    // Customers read the knowledge base through the portal, not the staff routes.
    assert_eq!(app.get("/api/v1/kb/articles", Some(&carol.token)).await.status, 403);
    assert_eq!(app.get(&format!("/api/v1/kb/articles/{}", ids[0]), Some(&carol.token)).await.status, 403);

    let long = "printer ".repeat(1_300);
    assert_eq!(app.get(&format!("/api/v1/portal/acme/kb/search?q={}", long.replace(' ', "+")), None).await.status, 422);
    for odd in
        ["%F0%9F%96%A8%EF%B8%8F", "%E2%80%AE%E2%80%8B", "%22%22%22", "!%26%7C(", "%D8%B7%D8%A7%D8%A8%D8%B9%D8%A9"]
    {
        let res = app.get(&format!("/api/v1/portal/acme/kb/search?q={odd}"), None).await;
        assert_eq!(res.status, 200, "{odd}: {}", res.body);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn another_organisations_articles_are_not_found_on_any_route() {
    let app = TestApp::spawn().await;
    let acme = app.org("acme").await;
    let globex = app.org("globex").await;
    let a = app
        .post(
            "/api/v1/kb/articles",
            Some(&acme.token),
            json!({"title": "Acme secret", "visibility": "public", "publish": true}),
        )
        .await;
    let id = a.body["id"].as_i64().unwrap();
    let g = Some(globex.token.as_str());
    let path = format!("/api/v1/kb/articles/{id}");
    for res in [
        app.get(&path, g).await,
        app.get(&format!("{path}/versions/1"), g).await,
        app.get(&format!("{path}/diff?from=1&to=1"), g).await,
        app.send("PATCH", &path, g, Some(json!({"title": "Mine"}).to_string()), &[("If-Match", "*")]).await,
        app.send("POST", &format!("{path}/publish"), g, None, &[("If-Match", "*")]).await,
        app.send("POST", &format!("{path}/archive"), g, None, &[("If-Match", "*")]).await,
        app.get(&format!("/api/v1/portal/globex/kb/articles/{id}"), None).await,
    ] {
        assert_eq!(res.status, 404, "{}", res.body);
    }
    assert_eq!(app.get("/api/v1/kb/articles", g).await.body["items"], json!([]));
    assert_eq!(app.get("/api/v1/portal/globex/kb/search?q=secret", None).await.body["items"], json!([]));
    assert_eq!(app.get(&path, Some(&acme.token)).await.body["version"], 1, "nothing changed");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_public_knowledge_base_has_its_own_rate_limit_per_address() {
    let app = TestApp::spawn_with(|s| {
        s.per_ip = atum_api::rate_limit::RateLimiter::new(60, 1);
        s.per_ip_reads = atum_api::rate_limit::RateLimiter::new(60, 3);
    })
    .await;
    app.org("acme").await;
    // Reading goes on past the sign-in routes' burst, up to its own.
    for _ in 0..3 {
        assert_eq!(app.get("/api/v1/portal/acme/kb/search?q=vpn", None).await.status, 200);
    }
    let refused = app.get("/api/v1/portal/acme/kb/search?q=vpn", None).await;
    assert_eq!((refused.status, refused.code()), (429, "rate_limited"), "{}", refused.body);
    assert!(refused.header("retry-after").is_some());
}

async fn solve_with_reply(
    app: &TestApp,
    agent: &crate::helpers::Person,
    subject: &str,
    question: &str,
    reply: &str,
) -> i64 {
    let id = app
        .post("/api/v1/tickets", Some(&agent.token), json!({"subject": subject, "description": question}))
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let r = app
        .post(
            &format!("/api/v1/tickets/{id}/comments"),
            Some(&agent.token),
            json!({"body": reply, "visibility": "public"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let solved = app
        .send(
            "PATCH",
            &format!("/api/v1/tickets/{id}"),
            Some(&agent.token),
            Some(json!({"status": "solved"}).to_string()),
            &[("If-Match", "*")],
        )
        .await;
    assert_eq!(solved.status, 200, "{}", solved.body);
    id
}

#[tokio::test(flavor = "multi_thread")]
async fn search_finds_articles_and_solved_tickets_by_words_and_by_typos_and_says_which_retriever_did() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let ada = app.person(&admin, "agent", "ada").await;
    let t = Some(ada.token.as_str());
    let article = app
        .post(
            "/api/v1/kb/articles",
            t,
            json!({"title": "Resetting the VPN token", "body": "# Steps\n\nOpen the authenticator and press reset.\n\n# Billing\n\nInvoices are sent monthly.", "publish": true, "visibility": "internal"}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let draft =
        app.post("/api/v1/kb/articles", t, json!({"title": "VPN draft notes", "body": "token token token"})).await;
    let ticket = solve_with_reply(
        &app,
        &ada,
        "Printer shows paper jam",
        "The printer on floor 2 jams",
        "Open tray 3 and remove the crumpled sheet.",
    )
    .await;
    let open_ticket =
        app.post("/api/v1/tickets", t, json!({"subject": "Printer jam again", "description": "crumpled sheet"})).await;
    let stats = app.index().await;
    assert!(stats.written >= 3, "{stats:?}");
    assert_eq!(app.index().await.written, 0, "a second pass finds nothing changed");

    let res = app.get("/api/v1/kb/search?q=reset%20vpn%20token", t).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let first = &res.body["items"][0];
    assert_eq!((first["source"].as_str(), first["id"].as_i64()), (Some("article"), Some(article)), "{}", res.body);
    assert_eq!(first["title"], "Resetting the VPN token — Steps", "the passage that matches, not the billing section");
    assert!(first["retrievers"].as_array().unwrap().contains(&json!("full_text")));
    assert!(first["snippet"].as_str().unwrap().contains("<mark>"), "{}", first);
    let ids: Vec<i64> = res.body["items"].as_array().unwrap().iter().map(|h| h["id"].as_i64().unwrap()).collect();
    assert!(!ids.contains(&draft.body["id"].as_i64().unwrap()), "drafts are not searchable");

    // A misspelt word still finds the solved ticket's answer, through the trigram retriever.
    let typo = app.get("/api/v1/kb/search?q=crumpeld%20sheeet", t).await;
    let hit = typo.body["items"].as_array().unwrap().iter().find(|h| h["source"] == "ticket").cloned();
    let hit = hit.unwrap_or_else(|| panic!("no ticket in {}", typo.body));
    assert_eq!(hit["id"].as_i64(), Some(ticket));
    assert_eq!(hit["retrievers"], json!(["trigram"]));
    // Asked for full text alone, the misspelling finds nothing.
    let alone = app.get("/api/v1/kb/search?q=crumpeld%20sheeet&retrievers=full_text", t).await;
    assert_eq!(alone.body["items"], json!([]), "{}", alone.body);
    assert!(
        typo.body["items"].as_array().unwrap().iter().all(|h| h["id"].as_i64() != open_ticket.body["id"].as_i64()),
        "an open ticket is not an answer"
    );

    // Reopening the ticket and archiving the article take them out of the index.
    app.send(
        "PATCH",
        &format!("/api/v1/tickets/{ticket}"),
        t,
        Some(json!({"status": "open"}).to_string()),
        &[("If-Match", "*")],
    )
    .await;
    app.send("POST", &format!("/api/v1/kb/articles/{article}/archive"), t, None, &[("If-Match", "*")]).await;
    let stats = app.index().await;
    assert_eq!(stats.removed, 3, "{stats:?}");
    assert_eq!(app.get("/api/v1/kb/search?q=vpn%20token", t).await.body["items"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn search_refuses_empty_long_and_odd_queries_with_4xx_and_stays_in_its_organisation() {
    let app = TestApp::spawn().await;
    let acme = app.org("acme").await;
    let globex = app.org("globex").await;
    let carol = app.person(&acme, "customer", "carol").await;
    app.post(
        "/api/v1/kb/articles",
        Some(&acme.token),
        json!({"title": "Acme VPN secret", "body": "vpn", "publish": true}),
    )
    .await;
    app.index().await;
    assert_eq!(app.get("/api/v1/kb/search?q=vpn", Some(&acme.token)).await.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(app.get("/api/v1/kb/search?q=vpn", Some(&globex.token)).await.body["items"], json!([]));
    assert_eq!(app.get("/api/v1/kb/search?q=vpn", Some(&carol.token)).await.status, 403);

    let a = Some(acme.token.as_str());
    assert_eq!(app.get("/api/v1/kb/search?q=%20%20", a).await.status, 422);
    assert_eq!(app.get("/api/v1/kb/search", a).await.status, 400);
    assert_eq!(app.get(&format!("/api/v1/kb/search?q={}", "a".repeat(10_000)), a).await.status, 422);
    assert_eq!(app.get("/api/v1/kb/search?q=vpn&limit=0", a).await.status, 422);
    assert_eq!(app.get("/api/v1/kb/search?q=vpn&retrievers=nope", a).await.status, 422);
    for odd in [
        "%F0%9F%94%91",
        "%E2%80%AE%E2%80%8B",
        "%22%22",
        "!%26%7C(%3A*",
        "%00",
        "'%3B%20DROP%20TABLE",
        "%D0%92%D0%9F%D0%9D",
    ] {
        let res = app.get(&format!("/api/v1/kb/search?q={odd}"), a).await;
        assert!(res.status == 200 || res.status == 422, "{odd}: {} {}", res.status, res.body);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn with_the_model_a_question_in_other_words_finds_the_article_through_the_dense_retriever() {
    let app = TestApp::spawn_with_model().await;
    let health = app.get("/api/v1/health", None).await;
    assert_eq!(health.body["components"]["retrieval"]["status"], "ok", "{}", health.body);
    let admin = app.org("acme").await;
    let globex = app.org("globex").await;
    let t = Some(admin.token.as_str());
    let article = app
        .post(
            "/api/v1/kb/articles",
            t,
            json!({"title": "Resetting a forgotten password", "body": "Use the sign-in page's reset link; the e-mail arrives within minutes.", "publish": true}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    app.post(
        "/api/v1/kb/articles",
        t,
        json!({"title": "Printer jams", "body": "Open tray 3 and remove the paper.", "publish": true}),
    )
    .await;
    app.index().await;
    app.embed_all().await;
    // Vectors land while the API runs: the worker's notice makes it reload them.
    app.sql("SELECT pg_notify('atum_kb_vectors', (SELECT id::text FROM organizations WHERE slug = 'acme'))").await;

    // No word in common with the article, but the same meaning.
    let q = "I can't remember my login credentials";
    let path = format!("/api/v1/kb/search?q={}", q.replace(' ', "%20").replace('\'', "%27"));
    let started = std::time::Instant::now();
    let found = loop {
        let res = app.get(&path, t).await;
        if res.body["items"].as_array().is_some_and(|i| !i.is_empty()) {
            break res;
        }
        assert!(started.elapsed().as_secs() < 10, "nothing found: {} {}", res.status, res.body);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let first = &found.body["items"][0];
    assert_eq!(first["id"].as_i64(), Some(article), "{}", found.body);
    assert_eq!(first["retrievers"], json!(["dense"]), "{}", found.body);
    // Another organisation's vectors are its own.
    assert_eq!(app.get(&path, Some(&globex.token)).await.body["items"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn without_the_model_health_says_retrieval_is_degraded_and_why() {
    let app = TestApp::spawn().await;
    let health = app.get("/api/v1/health", None).await;
    let r = &health.body["components"]["retrieval"];
    assert_eq!(r["status"], "degraded", "{}", health.body);
    assert!(r["reason"].as_str().unwrap().contains("atum models fetch"), "{}", health.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_help_center_says_whose_it_is_and_whether_it_takes_sign_ups() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let info = app.get("/api/v1/portal/acme", None).await;
    assert_eq!(info.status, 200, "{}", info.body);
    assert_eq!(info.body["signup"], false, "closed by default");
    assert!(info.body["name"].as_str().is_some_and(|n| !n.is_empty()), "{}", info.body);
    assert_eq!(info.body.as_object().unwrap().len(), 2, "nothing else about the organisation: {}", info.body);
    app.put(
        "/api/v1/admin/security/settings",
        Some(&admin.token),
        json!({"require_mfa": false, "portal_signup": true}),
    )
    .await;
    assert_eq!(app.get("/api/v1/portal/acme", None).await.body["signup"], true);
    let nobody = app.get("/api/v1/portal/nobody", None).await;
    assert_eq!((nobody.status, nobody.code()), (404, "not_found"));
}
