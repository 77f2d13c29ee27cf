//! The AI through the API with the real embedding model: an organisation's labelled
//! history → `TRAIN_TRIAGE` → a customer's new ticket → `TRIAGE_TICKET`; its articles
//! (`KB_SUGGEST`) and a draft reply (`SMART_REPLY`) → what the agent does with the
//! draft. The jobs are drained in this process by the queue's own runner with the
//! same models the job worker builds.

use atum_core::ids::TicketId;
use std::{path::PathBuf, sync::Arc, time::Duration};

use atum_ai::LocalModels;
use atum_core::{
    assist::{
        reply, reword, suggest,
        training::{self, Field},
        triage,
    },
    ids::OrgId,
    jobs::{Registry, Services},
};
use atum_queue::worker::{Runner, WorkerConfig};
use atum_runtime::{Metrics, config::Service};
use serde_json::{Value, json};

use crate::helpers::{Person, TestApp};

pub(crate) fn models() -> Arc<LocalModels> {
    let dir = atum_core::model_files::ensure(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../var"), &mut |m| {
        eprintln!("{m}")
    })
    .expect("the embedding model can be fetched");
    Arc::new(LocalModels::load(&dir).expect("the model loads"))
}

/// Runs every queued job (the AI's and the rest) until none is left, with the secret
/// key the test API seals with.
pub(crate) async fn drain(app: &TestApp, models: &Arc<LocalModels>) -> usize {
    let services = Services::builder().models(models.clone()).secret_key(Some(crate::helpers::secret_key())).build();
    let registry = atum_job_worker_kinds(services);
    registry.check().expect("the runner has what the AI kinds need");
    let config = WorkerConfig {
        worker_id: "in-process".into(),
        queues: vec![(atum_core::jobs::AI_QUEUE.into(), 1), ("default".into(), 1), (reword::QUEUE.into(), 1)],
        lease: Duration::from_secs(120),
        poll_interval: Duration::from_secs(1),
        retention: Duration::from_secs(3600),
        claim_batch: 10,
        prefetch: 0,
        batch_completions: false,
    };
    let runner = Runner::new(app.db.pool.clone(), registry, config, &Metrics::new(Service::JobWorker));
    runner.run_until_empty().await.expect("the queue drains")
}

/// The AI kinds, as the job worker registers them when it has the models.
fn atum_job_worker_kinds(services: Services) -> Registry {
    Registry::default()
        .register::<training::TrainTriage>()
        .register::<triage::TriageTicket>()
        .register::<suggest::KbSuggest>()
        .register::<reply::SmartReply>()
        .register::<reword::WordReply>()
        .with_services(services)
}

/// Solved tickets of three kinds, each said many ways, with the category and
/// priority agents gave them: 48 of them, enough to learn from.
async fn history(app: &TestApp, org: &Person, requester: i64) {
    let kinds: [(&str, &str, &[&str], &[&str]); 3] = [
        (
            "billing",
            "normal",
            &[
                "I was charged twice for",
                "Please refund the invoice for",
                "Why is my bill higher for",
                "The payment failed for",
            ],
            &["my subscription", "last month", "the annual plan", "order 1182"],
        ),
        (
            "access",
            "urgent",
            &[
                "I cannot log in to",
                "My password stopped working for",
                "I am locked out of",
                "Two-factor codes fail for",
            ],
            &["my account", "the portal", "the admin console", "the mobile app"],
        ),
        (
            "shipping",
            "low",
            &[
                "Where is my package for",
                "The delivery is late for",
                "Tracking shows nothing for",
                "The parcel arrived damaged for",
            ],
            &["my order", "order 5521", "the replacement", "the spare parts"],
        ),
    ];
    let (mut subjects, mut categories, mut priorities) = (Vec::new(), Vec::new(), Vec::new());
    for (category, priority, starts, ends) in kinds {
        for s in starts {
            for e in ends {
                subjects.push(format!("{s} {e}"));
                categories.push(category.to_owned());
                priorities.push(priority.to_owned());
            }
        }
    }
    let client = app.db.client().await;
    client
        .execute(
            "WITH rows AS (SELECT * FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS r(s, c, p, n))
             INSERT INTO tickets (org_id, number, subject, description, category, priority, status, solved_at,
                                  requester_id)
             SELECT $1, n, s, s || '. Please help.', c, p, 'solved', now(), $5 FROM rows",
            &[&org.org_id, &subjects, &categories, &priorities, &requester],
        )
        .await
        .unwrap();
    client
        .execute(
            "UPDATE organizations SET last_ticket_number = (SELECT max(number) FROM tickets WHERE org_id = $1)
              WHERE id = $1",
            &[&org.org_id],
        )
        .await
        .unwrap();
}

async fn history_of(app: &TestApp, ticket: i64) -> Vec<Value> {
    let rows = app
        .sql(&format!(
            "SELECT jsonb_build_object('actor_kind', actor_kind, 'after', after)::text FROM ticket_events
              WHERE ticket_id = {ticket} AND event_type = 'updated' ORDER BY id"
        ))
        .await;
    rows.iter().map(|r| serde_json::from_str(r.get::<_, &str>(0)).unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_ticket_is_triaged_by_the_organisations_own_model_and_a_confident_answer_is_applied_by_the_ai() {
    let app = TestApp::spawn_with_model().await;
    let models = models();
    let admin = app.org("acme").await;
    let agent = app.person(&admin, "agent", "ada").await;
    let customer = app.person(&admin, "customer", "carl").await;
    history(&app, &admin, customer.id).await;
    // Apply from 0.5, so the test does not hang on how sure a 48-ticket model is.
    let res = app
        .patch(
            "/api/v1/admin/settings",
            Some(&admin.token),
            json!({"ai": {"suggest_threshold": 0.2, "apply_threshold": 0.5}}),
            None,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(
        res.body["ai"],
        json!({"suggest_threshold": 0.2, "apply_threshold": 0.5, "escalation": [], "llm": null})
    );

    let res = app.post("/api/v1/ai/triage/train", Some(&admin.token), json!({})).await;
    assert_eq!((res.status, &res.body["queued"]), (202, &json!(true)), "{}", res.body);
    assert_eq!(app.post("/api/v1/ai/triage/train", Some(&admin.token), json!({})).await.body["queued"], false);
    assert_eq!(drain(&app, &models).await, 1);
    let status = app.get("/api/v1/ai/triage", Some(&admin.token)).await;
    assert_eq!(status.status, 200, "{}", status.body);
    let trainings = status.body["trainings"].as_array().unwrap();
    assert_eq!(trainings.len(), 2, "{}", status.body);
    for t in trainings {
        assert_eq!(t["status"], "ready", "{t}");
        assert_eq!(t["examples"], 48);
        let accuracy = t["evaluation"]["accuracy"].as_f64().unwrap();
        let baseline = t["evaluation"]["majority_accuracy"].as_f64().unwrap();
        assert!(accuracy > baseline && accuracy >= 0.8, "{t}");
    }
    assert_eq!(status.body["training_pending"], false);

    // A training over the same history writes nothing new.
    app.post("/api/v1/ai/triage/train", Some(&admin.token), json!({})).await;
    drain(&app, &models).await;
    assert_eq!(app.sql("SELECT count(*) FROM triage_models").await[0].get::<_, i64>(0), 2);

    let res = app
        .post(
            "/api/v1/tickets",
            Some(&customer.token),
            json!({"subject": "I am locked out of the mobile app", "description": "Since this morning nothing works. This is really frustrating!"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let id = res.body["id"].as_i64().unwrap();
    assert!(res.body["category"].is_null());
    assert_eq!(drain(&app, &models).await, 3, "its triage, articles and draft were queued with it");

    let ai = app.get(&format!("/api/v1/tickets/{id}/ai"), Some(&agent.token)).await;
    assert_eq!(ai.status, 200, "{}", ai.body);
    let t = &ai.body["triage"];
    assert_eq!(t["category"]["value"], "access", "{t}");
    assert_eq!(t["category"]["tier"], "apply");
    assert_eq!(t["category"]["applied"], true);
    assert!(t["category"]["confidence"].as_f64().unwrap() >= 0.5);
    let neighbours = t["category"]["neighbours"].as_array().unwrap();
    assert!(!neighbours.is_empty() && neighbours.iter().all(|n| n["value"] == "access"), "{t}");
    assert_eq!(t["priority"]["value"], "urgent", "{t}");
    assert_eq!(t["sentiment"]["label"], "negative", "{t}");
    assert_eq!(t["language"]["code"], "eng");

    let ticket = app.get(&format!("/api/v1/tickets/{id}"), Some(&agent.token)).await.body;
    assert_eq!((ticket["category"].as_str(), ticket["priority"].as_str()), (Some("access"), Some("urgent")));
    let changes = history_of(&app, id).await;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["actor_kind"], "ai");
    assert_eq!(changes[0]["after"], json!({"category": "access", "priority": "urgent"}));

    // The agent disagrees with the category: rejecting takes the AI's value back.
    let res = app
        .post(
            &format!("/api/v1/tickets/{id}/ai/feedback"),
            Some(&agent.token),
            json!({"field": "category", "verdict": "rejected"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["triage"]["category"]["verdict"], "rejected");
    let ticket = app.get(&format!("/api/v1/tickets/{id}"), Some(&agent.token)).await.body;
    assert!(ticket["category"].is_null(), "{ticket}");
    let changes = history_of(&app, id).await;
    assert_eq!((changes.len(), &changes[1]["actor_kind"]), (2, &json!("user")), "{changes:?}");

    // The customer writes again: triage runs again, and does not put back what the
    // agent took away.
    let res = app
        .post(
            &format!("/api/v1/tickets/{id}/comments"),
            Some(&customer.token),
            json!({"body": "Thank you, it works again. Great help!", "visibility": "public"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(drain(&app, &models).await, 3);
    let t = app.get(&format!("/api/v1/tickets/{id}/ai"), Some(&agent.token)).await.body["triage"].clone();
    assert_eq!(t["sentiment"]["label"], "positive", "the tone is the newest message's: {t}");
    let ticket = app.get(&format!("/api/v1/tickets/{id}"), Some(&agent.token)).await.body;
    assert!(ticket["category"].is_null(), "{ticket}");
    assert_eq!(history_of(&app, id).await.len(), 2);

    // Corrections teach the next training; an applied value nobody confirmed does not.
    let res = app
        .post(
            &format!("/api/v1/tickets/{id}/ai/feedback"),
            Some(&agent.token),
            json!({"field": "category", "verdict": "corrected", "value": "shipping"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let conn = app.db.pool.get().await.unwrap();
    let org = OrgId(admin.org_id);
    let labelled = training::labelled(&conn, org, Field::Category, 1000).await.unwrap();
    assert!(labelled.iter().any(|l| l.ticket_id == id && l.label == "shipping"), "the correction is learnt from");
    let priorities = training::labelled(&conn, org, Field::Priority, 1000).await.unwrap();
    assert!(!priorities.iter().any(|l| l.ticket_id == id), "the AI's own priority is not learnt from");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_organisation_with_too_little_history_gets_no_model_and_is_told_how_many_more_tickets_it_needs() {
    let app = TestApp::spawn_with_model().await;
    let models = models();
    let admin = app.org("tiny").await;
    let customer = app.person(&admin, "customer", "carl").await;
    for (i, category) in ["billing", "access", "billing", "access", "billing"].iter().enumerate() {
        let t = app.ticket(&customer, &format!("question number {i}")).await;
        let id = t["id"].as_i64().unwrap();
        app.sql(&format!("UPDATE tickets SET category = '{category}' WHERE id = {id}")).await;
    }
    // The five tickets' triage ran without a model, and asked for a training.
    drain(&app, &models).await;
    let status = app.get("/api/v1/ai/triage", Some(&admin.token)).await.body;
    let category = status["trainings"].as_array().unwrap().iter().find(|t| t["field"] == "category").unwrap().clone();
    assert_eq!(category["status"], "too_little", "{status}");
    assert_eq!(category["examples"], 5);
    assert_eq!(category["needed"], 35, "40 labelled tickets are needed: {category}");

    let t = app.ticket(&customer, "I need an invoice copy please, my accountant is waiting").await;
    drain(&app, &models).await;
    let ai = app.get(&format!("/api/v1/tickets/{}/ai", t["id"]), Some(&admin.token)).await.body;
    assert!(ai["triage"]["category"].is_null() && ai["triage"]["priority"].is_null(), "{ai}");
    assert_eq!(ai["triage"]["language"]["code"], "eng", "tone and language need no history: {ai}");
    let res = app
        .post(
            &format!("/api/v1/tickets/{}/ai/feedback", t["id"]),
            Some(&admin.token),
            json!({"field": "category", "verdict": "accepted"}),
        )
        .await;
    assert_eq!((res.status, res.code()), (404, "not_found"), "nothing to answer: {}", res.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_ai_view_and_its_feedback_are_staff_only_and_never_cross_organisations() {
    let app = TestApp::spawn().await;
    let acme = app.org("acme").await;
    let globex = app.org("globex").await;
    let acme_customer = app.person(&acme, "customer", "carl").await;
    let globex_agent = app.person(&globex, "agent", "gus").await;
    let t = app.ticket(&acme_customer, "my invoice is wrong").await;
    let id = t["id"].as_i64().unwrap();
    app.sql(&format!(
        "INSERT INTO ticket_ai_triage (org_id, ticket_id, inputs, category, sentiment_score, sentiment_label)
         VALUES ({}, {id}, 'x', '{{\"value\": \"billing\", \"confidence\": 0.7, \"alternatives\": [], \"neighbours\": [], \"model_id\": 0}}',
                 -0.4, 'negative')",
        acme.org_id
    ))
    .await;
    let mine = app.get(&format!("/api/v1/tickets/{id}/ai"), Some(&acme.token)).await;
    assert_eq!(mine.body["triage"]["category"]["value"], "billing", "{}", mine.body);

    let theirs = app.get(&format!("/api/v1/tickets/{id}/ai"), Some(&globex_agent.token)).await;
    assert_eq!(theirs.status, 404, "{}", theirs.body);
    let fb = json!({"field": "category", "verdict": "accepted"});
    let theirs = app.post(&format!("/api/v1/tickets/{id}/ai/feedback"), Some(&globex_agent.token), fb.clone()).await;
    assert_eq!(theirs.status, 404, "{}", theirs.body);
    let customer = app.get(&format!("/api/v1/tickets/{id}/ai"), Some(&acme_customer.token)).await;
    assert_eq!(customer.status, 403, "{}", customer.body);
    let customer = app.post(&format!("/api/v1/tickets/{id}/ai/feedback"), Some(&acme_customer.token), fb).await;
    assert_eq!(customer.status, 403, "{}", customer.body);
    for path in ["/api/v1/ai/triage"] {
        assert_eq!(app.get(path, Some(&globex_agent.token)).await.status, 403);
    }
    assert_eq!(app.post("/api/v1/ai/triage/train", Some(&globex_agent.token), json!({})).await.status, 403);
    // Globex's admin sees only Globex's (empty) state.
    let status = app.get("/api/v1/ai/triage", Some(&globex.token)).await.body;
    assert_eq!(status["trainings"], json!([]));
    assert_eq!(app.sql("SELECT count(*) FROM ai_feedback").await[0].get::<_, i64>(0), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn thresholds_outside_zero_to_one_or_an_apply_below_the_suggest_threshold_are_refused_field_by_field() {
    let app = TestApp::spawn().await;
    let admin = app.org("acme").await;
    let t = app.ticket(&admin, "a ticket").await;
    let bad = [
        (json!({"ai": {"suggest_threshold": 1.5}}), "ai.suggest_threshold"),
        (json!({"ai": {"apply_threshold": -0.1}}), "ai.apply_threshold"),
        (json!({"ai": {"suggest_threshold": 0.8, "apply_threshold": 0.6}}), "ai.apply_threshold"),
    ];
    for (body, field) in bad {
        let res = app.patch("/api/v1/admin/settings", Some(&admin.token), body.clone(), None).await;
        assert_eq!((res.status, res.code()), (422, "validation_failed"), "{body}: {}", res.body);
        assert!(res.body["error"]["fields"][field].is_string(), "{body}: {}", res.body);
    }
    let after = app.get("/api/v1/admin/settings", Some(&admin.token)).await.body;
    assert_eq!(
        after["ai"],
        json!({"suggest_threshold": 0.5, "apply_threshold": 0.9, "escalation": [], "llm": null}),
        "nothing was half-written"
    );
    // `null` turns applying off.
    let res =
        app.patch("/api/v1/admin/settings", Some(&admin.token), json!({"ai": {"apply_threshold": null}}), None).await;
    assert_eq!(res.body["ai"]["apply_threshold"], Value::Null, "{}", res.body);
    // A correction needs its value, and only a correction has one.
    let id = t["id"].as_i64().unwrap();
    for body in [
        json!({"field": "category", "verdict": "corrected"}),
        json!({"field": "category", "verdict": "rejected", "value": "x"}),
    ] {
        let res = app.post(&format!("/api/v1/tickets/{id}/ai/feedback"), Some(&admin.token), body.clone()).await;
        assert_eq!((res.status, res.code()), (422, "validation_failed"), "{body}: {}", res.body);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ticket_gets_its_articles_and_a_draft_quoted_from_them_and_the_reply_sent_records_how_far_it_was_edited() {
    let app = TestApp::spawn_with_model().await;
    let models = models();
    let admin = app.org("acme").await;
    let agent = app.person(&admin, "agent", "ada").await;
    let customer = app.person(&admin, "customer", "carl").await;
    let vpn = app
        .publish(
            &admin,
            "Resetting your VPN token",
            "When the VPN refuses your token, reset it yourself.\n\n\
         Open the security page of your account and choose the VPN tab. \
         Press the reset token button and confirm with your password. \
         Then sign in to the VPN client again with the new token.\n\n\
         Our office in Lisbon was founded in 1998.",
            "public",
        )
        .await;
    let internal = app
        .publish(
            &admin,
            "VPN token resets (staff notes)",
            "Staff can reset a customer's VPN token from the admin console under the VPN tab.",
            "internal",
        )
        .await;
    app.publish(&admin, "Printer jams", "Open tray 3 and remove the crumpled paper carefully.", "public").await;
    app.index().await;
    app.embed_all().await;

    let res = app
        .post(
            "/api/v1/tickets",
            Some(&customer.token),
            json!({"subject": "VPN token not accepted", "description": "The VPN says my token is invalid. How do I reset my VPN token?"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let id = res.body["id"].as_i64().unwrap();
    assert_eq!(drain(&app, &models).await, 4, "triage, articles, draft, and a first training (there is no model)");

    let ai = app.get(&format!("/api/v1/tickets/{id}/ai"), Some(&agent.token)).await;
    assert_eq!(ai.status, 200, "{}", ai.body);
    let articles = ai.body["kb"]["articles"].as_array().unwrap();
    assert_eq!(articles[0]["article_id"], vpn, "{}", ai.body["kb"]);
    assert!(
        articles.iter().any(|a| a["article_id"] == internal && a["visibility"] == "internal"),
        "agents see internal articles"
    );

    let draft = &ai.body["draft"];
    assert_eq!(draft["status"], "pending", "{draft}");
    let body = draft["body"].as_str().unwrap();
    assert!(body.starts_with("Hi carl,\n\n"), "{body}");
    assert!(body.contains("Press the reset token button"), "{body}");
    assert!(!body.contains("Lisbon"), "a sentence that answers nothing is left out: {body}");
    let citations = draft["citations"].as_array().unwrap();
    assert!(!citations.is_empty());
    for c in citations {
        assert_eq!((c["source"].as_str(), c["current"].as_bool()), (Some("article"), Some(true)), "{c}");
        assert_eq!(c["source_id"], vpn, "an internal article is never quoted to a customer: {c}");
        let passage: String =
            app.sql(&format!("SELECT body FROM kb_chunks WHERE id = {}", c["chunk_id"])).await[0].get(0);
        let (s, e) = (c["start"].as_u64().unwrap() as usize, c["end"].as_u64().unwrap() as usize);
        let (qs, qe) = (c["quote_start"].as_u64().unwrap() as usize, c["quote_end"].as_u64().unwrap() as usize);
        assert_eq!(&body[s..e], &passage[qs..qe], "the quote is the passage's own text");
        assert_eq!(c["content_hash"], atum_core::assist::citation::content_hash(&passage));
    }

    // The same question over the same index makes no new draft or suggestions.
    let conn = app.db.pool.get().await.unwrap();
    atum_core::assist::enqueue(&conn, OrgId(admin.org_id), TicketId(id), 999_999).await.unwrap();
    assert_eq!(drain(&app, &models).await, 3);
    assert_eq!(app.sql("SELECT count(*) FROM ai_suggestions").await[0].get::<_, i64>(0), 1);

    // The agent inserts the draft, adds a line and sends it.
    let draft_id = draft["id"].as_i64().unwrap();
    let res = app
        .post(&format!("/api/v1/tickets/{id}/ai/drafts/{draft_id}"), Some(&agent.token), json!({"verdict": "inserted"}))
        .await;
    assert_eq!((res.status, &res.body["status"]), (200, &json!("inserted")), "{}", res.body);
    let sent = format!("{body}\n\nLet me know if it works.");
    let res = app
        .post(
            &format!("/api/v1/tickets/{id}/comments"),
            Some(&agent.token),
            json!({"body": sent, "visibility": "public"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let row = &app.sql(&format!("SELECT status, sent_distance FROM ai_suggestions WHERE id = {draft_id}")).await[0];
    let distance: f32 = row.get(1);
    assert_eq!(row.get::<_, &str>(0), "sent");
    let expected = 26.0 / sent.chars().count() as f32;
    assert!((distance - expected).abs() < 1e-4, "{distance} against {expected}");
    let res = app
        .post(&format!("/api/v1/tickets/{id}/ai/drafts/{draft_id}"), Some(&agent.token), json!({"verdict": "rejected"}))
        .await;
    assert_eq!((res.status, res.code()), (409, "draft_superseded"), "{}", res.body);

    let stats = app.get("/api/v1/ai/replies", Some(&admin.token)).await;
    assert_eq!(stats.status, 200, "{}", stats.body);
    assert_eq!((&stats.body["drafts"], &stats.body["sent"]), (&json!(1), &json!(1)), "{}", stats.body);
    assert_eq!(stats.body["acceptance_rate"], 1.0);
    assert!((stats.body["mean_edit_distance"].as_f64().unwrap() - f64::from(expected)).abs() < 1e-4);

    // A question nothing answers gets no draft, and says so.
    let res = app
        .post(
            "/api/v1/tickets",
            Some(&customer.token),
            json!({"subject": "Quarterly tax forms", "description": "Which tax forms did you file for the quarter?"}),
        )
        .await;
    let other = res.body["id"].as_i64().unwrap();
    drain(&app, &models).await;
    let draft = app.get(&format!("/api/v1/tickets/{other}/ai"), Some(&agent.token)).await.body["draft"].clone();
    assert_eq!((draft["status"].as_str(), draft["body"].as_str()), (Some("empty"), Some("")), "{draft}");
    let res = app
        .post(
            &format!("/api/v1/tickets/{other}/ai/drafts/{}", draft["id"]),
            Some(&agent.token),
            json!({"verdict": "inserted"}),
        )
        .await;
    assert_eq!(res.status, 409, "an empty draft cannot be inserted: {}", res.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn drafts_and_their_figures_are_staff_only_and_never_cross_organisations() {
    let app = TestApp::spawn().await;
    let acme = app.org("acme").await;
    let globex = app.org("globex").await;
    let acme_customer = app.person(&acme, "customer", "carl").await;
    let globex_agent = app.person(&globex, "agent", "gus").await;
    let acme_agent = app.person(&acme, "agent", "ada").await;
    let t = app.ticket(&acme_customer, "my invoice is wrong").await;
    let id = t["id"].as_i64().unwrap();
    let draft_id: i64 = app
        .sql(&format!(
            "INSERT INTO ai_suggestions (org_id, ticket_id, inputs, body, citations, confidence, duration_ms)
             VALUES ({}, {id}, 'x', 'Hi Carl,\n\nWe will fix it.', '[]', 0.6, 5) RETURNING id",
            acme.org_id
        ))
        .await[0]
        .get(0);
    let decide = |verdict: &str| json!({"verdict": verdict});
    let path = format!("/api/v1/tickets/{id}/ai/drafts/{draft_id}");
    let theirs = app.post(&path, Some(&globex_agent.token), decide("inserted")).await;
    assert_eq!(theirs.status, 404, "{}", theirs.body);
    let customer = app.post(&path, Some(&acme_customer.token), decide("inserted")).await;
    assert_eq!(customer.status, 403, "{}", customer.body);
    let wrong = app.post(&path, Some(&acme_agent.token), decide("sent")).await;
    assert_eq!(wrong.status, 400, "only inserted or rejected: {}", wrong.body);
    let elsewhere = app
        .post(&format!("/api/v1/tickets/{id}/ai/drafts/{}", draft_id + 1), Some(&acme_agent.token), decide("inserted"))
        .await;
    assert_eq!(elsewhere.status, 404, "{}", elsewhere.body);
    assert_eq!(app.get("/api/v1/ai/replies", Some(&acme_agent.token)).await.status, 403);
    let theirs = app.get("/api/v1/ai/replies", Some(&globex.token)).await.body;
    assert_eq!(theirs["drafts"], 0, "{theirs}");
    let mine = app.post(&path, Some(&acme_agent.token), decide("rejected")).await;
    assert_eq!((mine.status, &mine.body["status"]), (200, &json!("rejected")), "{}", mine.body);
    let ai = app.get(&format!("/api/v1/tickets/{id}/ai"), Some(&acme_agent.token)).await.body;
    assert_eq!(ai["draft"]["id"], draft_id, "{ai}");
    assert!(app.get(&format!("/api/v1/tickets/{id}/ai"), Some(&globex_agent.token)).await.status == 404);
    assert_eq!(app.get("/api/v1/ai/replies", Some(&acme.token)).await.body["rejected"], 1);
}

/// The AI's escalations of a ticket, oldest first: (rule, action).
async fn escalations(app: &TestApp, ticket: i64) -> Vec<(String, String)> {
    app.sql(&format!("SELECT rule, action FROM ticket_escalations WHERE ticket_id = {ticket} ORDER BY id"))
        .await
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_customer_angry_twice_in_a_row_gets_their_ticket_escalated_by_the_ai_once_until_a_person_acts() {
    let app = TestApp::spawn_with_model().await;
    let models = models();
    let admin = app.org("acme").await;
    let agent = app.person(&admin, "agent", "ada").await;
    let customer = app.person(&admin, "customer", "carl").await;
    let globex = app.org("globex").await;
    let leads =
        app.post("/api/v1/admin/groups", Some(&admin.token), json!({"name": "Leads", "member_ids": [agent.id]})).await;
    let leads = leads.body["id"].as_i64().unwrap();
    let theirs = app.post("/api/v1/admin/groups", Some(&globex.token), json!({"name": "Theirs"})).await;
    let theirs = theirs.body["id"].as_i64().unwrap();

    let rules = |group: i64| {
        json!({"ai": {"escalation": [
            {"name": "Angry twice", "threshold": -0.3, "consecutive": 2, "action": "raise_priority"},
            {"name": "To the leads", "threshold": -0.3, "consecutive": 2, "action": "move_to_group", "group_id": group},
            {"name": "Tell someone", "threshold": -0.3, "consecutive": 1, "action": "notify"}
        ]}})
    };
    let res = app.patch("/api/v1/admin/settings", Some(&admin.token), rules(theirs), None).await;
    assert_eq!((res.status, res.code()), (422, "validation_failed"), "{}", res.body);
    assert!(res.body["error"]["fields"]["ai.escalation[1].group_id"].is_string(), "{}", res.body);
    let res = app.patch("/api/v1/admin/settings", Some(&admin.token), rules(leads), None).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["ai"]["escalation"][1]["group_id"], leads);

    let angry = [
        "This is terrible. I am furious, nothing works and nobody helps!",
        "Still broken. This is awful, I hate this useless service!",
    ];
    let res = app
        .post("/api/v1/tickets", Some(&customer.token), json!({"subject": "Broken again", "description": angry[0]}))
        .await;
    let id = res.body["id"].as_i64().unwrap();
    drain(&app, &models).await;
    // One negative message: only the rule that needs one fires; nobody is assigned and
    // there is no group, so the admins are told.
    assert_eq!(escalations(&app, id).await, [("Tell someone".into(), "notify".into())]);
    let told =
        app.sql(&format!("SELECT user_id FROM notifications WHERE ticket_id = {id} AND kind = 'ai_escalation'")).await;
    assert_eq!(told.iter().map(|r| r.get::<_, i64>(0)).collect::<Vec<_>>(), [admin.id]);
    let ticket = app.get(&format!("/api/v1/tickets/{id}"), Some(&agent.token)).await.body;
    assert_eq!(ticket["priority"], "normal");

    let say = async |who: &Person, body: &str| {
        let res = app
            .post(
                &format!("/api/v1/tickets/{id}/comments"),
                Some(&who.token),
                json!({"body": body, "visibility": "public"}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.body);
    };
    say(&customer, angry[1]).await;
    drain(&app, &models).await;
    let ticket = app.get(&format!("/api/v1/tickets/{id}"), Some(&agent.token)).await.body;
    assert_eq!((ticket["priority"].as_str(), ticket["group_id"].as_i64()), (Some("high"), Some(leads)), "{ticket}");
    assert_eq!(escalations(&app, id).await.len(), 3, "the two-message rules fired; the notice did not repeat");
    let history = history_of(&app, id).await;
    let last = history.last().unwrap();
    assert_eq!((&last["actor_kind"], &last["after"]["priority"]), (&json!("ai"), &json!("high")), "{history:?}");
    let escalated = app
        .sql(&format!(
            "SELECT count(*) FROM ticket_events WHERE ticket_id = {id} AND event_type = 'escalated' AND actor_kind = 'ai'"
        ))
        .await[0]
        .get::<_, i64>(0);
    assert_eq!(escalated, 3);

    // Angry again, but nobody has acted since: nothing fires twice.
    say(&customer, angry[0]).await;
    drain(&app, &models).await;
    assert_eq!(escalations(&app, id).await.len(), 3);

    // An agent acts; the next angry message sets the rules off once more.
    say(&agent, "Sorry to hear that. We are looking into it right now.").await;
    say(&customer, angry[1]).await;
    drain(&app, &models).await;
    let ticket = app.get(&format!("/api/v1/tickets/{id}"), Some(&agent.token)).await.body;
    assert_eq!(ticket["priority"], "urgent", "{ticket}");
    assert_eq!(escalations(&app, id).await.len(), 6);
    let told = app
        .sql(&format!(
            "SELECT user_id FROM notifications WHERE ticket_id = {id} AND kind = 'ai_escalation' ORDER BY id DESC LIMIT 1"
        ))
        .await;
    assert_eq!(told[0].get::<_, i64>(0), agent.id, "with a group and no assignee, its members are told");

    // A calm customer sets nothing off.
    say(&agent, "It is fixed now.").await;
    say(&customer, "Thank you so much, that is wonderful and works great!").await;
    drain(&app, &models).await;
    assert_eq!(escalations(&app, id).await.len(), 6);
}
