//! SLA calendars, policies and ticket clocks over HTTP. Time is moved by shifting a
//! ticket's recorded history into the past (its creation, status periods and
//! comments), which is exactly what the clocks are computed from.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::{Person, TestApp};

/// Moves everything the clocks of `ticket` depend on `minutes` into the past.
async fn shift(app: &TestApp, ticket: i64, minutes: i64) {
    shift_micros(app, ticket, minutes * 60_000_000).await
}

async fn shift_micros(app: &TestApp, ticket: i64, micros: i64) {
    let conn = app.db.pool.get().await.unwrap();
    conn.batch_execute("ALTER TABLE ticket_status_periods DISABLE TRIGGER ALL").await.unwrap();
    for sql in [
        "UPDATE tickets SET created_at = created_at - interval '1 microsecond' * $2::bigint WHERE id = $1",
        "UPDATE ticket_status_periods SET started_at = started_at - interval '1 microsecond' * $2::bigint,
             ended_at = ended_at - interval '1 microsecond' * $2::bigint WHERE ticket_id = $1",
        "UPDATE ticket_comments SET created_at = created_at - interval '1 microsecond' * $2::bigint WHERE ticket_id = $1",
    ] {
        conn.execute(sql, &[&ticket, &micros]).await.unwrap();
    }
    conn.batch_execute("ALTER TABLE ticket_status_periods ENABLE TRIGGER ALL").await.unwrap();
}

fn clock<'a>(sla: &'a Value, name: &str) -> &'a Value {
    sla["clocks"].as_array().unwrap().iter().find(|c| c["clock"] == name).unwrap_or(&Value::Null)
}

fn time(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap().with_timezone(&Utc)
}

async fn policy(app: &TestApp, admin: &Person, body: Value) -> i64 {
    let res = app.post("/api/v1/admin/sla/policies", Some(&admin.token), body).await;
    assert_eq!(res.status, 201, "{}", res.body);
    res.body["id"].as_i64().unwrap()
}

async fn set_status(app: &TestApp, who: &Person, ticket: &Value, status: &str) -> Value {
    let id = ticket["id"].as_i64().unwrap();
    let current = app.get(&format!("/api/v1/tickets/{id}"), Some(&who.token)).await;
    let version = current.body["version"].as_i64().unwrap();
    let res =
        app.patch(&format!("/api/v1/tickets/{id}"), Some(&who.token), json!({"status": status}), Some(version)).await;
    assert_eq!(res.status, 200, "{}", res.body);
    res.body
}

#[tokio::test(flavor = "multi_thread")]
async fn calendars_and_policies_are_validated_field_by_field() {
    let app = TestApp::spawn().await;
    let acme = app.org("acme").await;
    let globex = app.org("globex").await;
    let agent = app.person(&acme, "agent", "ada").await;
    let t = Some(acme.token.as_str());
    let cal = |tz: &str, mon: Value| json!({"name": "Office", "timezone": tz, "hours": {"mon": mon}});

    for (body, field) in [
        (cal("Mars/Olympus", json!([["09:00", "17:00"]])), "timezone"),
        (cal("Europe/Berlin", json!([["09:00", "12:00"], ["11:00", "13:00"]])), "hours.mon"),
        (cal("Europe/Berlin", json!([["17:00", "09:00"]])), "hours.mon"),
        (cal("Europe/Berlin", json!([["09:00", "25:00"]])), "hours.mon"),
        (cal("Europe/Berlin", json!([])), "hours"),
        (json!({"name": "x", "timezone": "UTC", "hours": {"someday": [["09:00", "10:00"]]}}), "hours.someday"),
    ] {
        let res = app.post("/api/v1/admin/sla/calendars", t, body.clone()).await;
        assert_eq!((res.status, res.code()), (422, "validation_failed"), "{body}: {}", res.body);
        assert!(res.body["error"]["fields"][field].is_string(), "{field} not named in {}", res.body);
    }
    let ok = app.post("/api/v1/admin/sla/calendars", t, cal("Europe/Berlin", json!([["09:00", "17:00"]]))).await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    assert_eq!(ok.body["hours"]["mon"], json!([["09:00", "17:00"]]));
    assert_eq!(app.post("/api/v1/admin/sla/calendars", t, cal("UTC", json!([["09:00", "17:00"]]))).await.status, 409);
    let calendar = ok.body["id"].as_i64().unwrap();
    let by_agent = app.post("/api/v1/admin/sla/calendars", Some(&agent.token), cal("UTC", json!([]))).await;
    assert_eq!(by_agent.status, 403);

    for (body, field) in [
        (json!({"name": "P", "first_response_minutes": -5}), "first_response_minutes"),
        (json!({"name": "P", "resolution_minutes": 0}), "resolution_minutes"),
        (json!({"name": "P"}), "first_response_minutes"),
        (json!({"name": "P", "first_response_minutes": 60, "pause_statuses": ["solved"]}), "pause_statuses"),
        (json!({"name": "P", "first_response_minutes": 60, "priorities": ["whenever"]}), "priorities"),
        (json!({"name": "P", "first_response_minutes": 60, "warn_before_minutes": -1}), "warn_before_minutes"),
        (
            json!({"name": "P", "first_response_minutes": 60, "escalate_assignee_id": agent.id + 1000}),
            "escalate_assignee_id",
        ),
    ] {
        let res = app.post("/api/v1/admin/sla/policies", t, body.clone()).await;
        assert_eq!(res.status, 422, "{body}: {}", res.body);
        assert!(res.body["error"]["fields"][field].is_string(), "{field} not named in {}", res.body);
    }
    // Another organisation's calendar is not there for this one.
    let foreign = app
        .post(
            "/api/v1/admin/sla/policies",
            Some(&globex.token),
            json!({"name": "P", "first_response_minutes": 60, "calendar_id": calendar}),
        )
        .await;
    assert_eq!(foreign.status, 422, "{}", foreign.body);
    assert!(foreign.body["error"]["fields"]["calendar_id"].is_string());
    let id = policy(&app, &acme, json!({"name": "P", "first_response_minutes": 60, "calendar_id": calendar})).await;
    let path = format!("/api/v1/admin/sla/policies/{id}");
    let put = |token: &str| {
        let body = json!({"name": "P2", "first_response_minutes": 30}).to_string();
        let token = token.to_owned();
        let path = path.clone();
        let app = &app;
        async move { app.send("PUT", &path, Some(&token), Some(body), &[]).await }
    };
    assert_eq!(put(&globex.token).await.status, 404);
    assert_eq!(app.send("DELETE", &path, Some(&globex.token), None, &[]).await.status, 404);
    assert_eq!(app.get("/api/v1/admin/sla/policies", Some(&globex.token)).await.body["items"], json!([]));
    let updated = put(&acme.token).await;
    assert_eq!((updated.status, updated.body["first_response_minutes"].as_i64()), (200, Some(30)));
    // Each change queued a recompute of acme's tickets.
    let conn = app.db.pool.get().await.unwrap();
    let queued: i64 = conn
        .query_one("SELECT count(*) FROM job_queue WHERE kind = 'SLA_RECOMPUTE' AND org_id = $1", &[&acme.org_id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(queued, 2);
    assert_eq!(app.send("DELETE", &path, Some(&acme.token), None, &[]).await.status, 204);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_first_matching_policy_runs_the_clocks_and_an_agent_reply_meets_first_response() {
    let app = TestApp::spawn().await;
    let acme = app.org("acme").await;
    let globex = app.org("globex").await;
    let customer = app.person(&acme, "customer", "carla").await;
    let urgent = policy(
        &app,
        &acme,
        json!({"name": "Urgent", "position": 1, "priorities": ["urgent"], "first_response_minutes": 30,
               "resolution_minutes": 240}),
    )
    .await;
    let standard = policy(
        &app,
        &acme,
        json!({"name": "Standard", "position": 2, "first_response_minutes": 480, "next_response_minutes": 240}),
    )
    .await;

    let res = app
        .post(
            "/api/v1/tickets",
            Some(&acme.token),
            json!({"subject": "Server down", "priority": "urgent", "requester_id": customer.id}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let ticket = res.body;
    let id = ticket["id"].as_i64().unwrap();
    let due = time(&ticket["sla_next_due_at"]);
    assert_eq!(due, time(&ticket["created_at"]) + Duration::minutes(30));

    let sla = app.get(&format!("/api/v1/tickets/{id}/sla"), Some(&acme.token)).await;
    assert_eq!(sla.status, 200, "{}", sla.body);
    assert_eq!(sla.body["policy"]["id"].as_i64(), Some(urgent));
    let fr = clock(&sla.body, "first_response");
    assert_eq!((fr["state"].as_str(), fr["target_minutes"].as_i64()), (Some("running"), Some(30)));
    assert_eq!(fr["business_hours"], false);
    assert_eq!(clock(&sla.body, "next_response"), &Value::Null, "the urgent policy has no next-response target");
    assert_eq!(app.get(&format!("/api/v1/tickets/{id}/sla"), Some(&globex.token)).await.status, 404);

    // A customer's message answers nothing; an internal note neither; a public agent reply does.
    let comment = |who: &Person, visibility: &str| {
        let body = json!({"body": format!("a {visibility} note"), "visibility": visibility});
        let (app, token) = (&app, who.token.clone());
        async move { app.post(&format!("/api/v1/tickets/{id}/comments"), Some(&token), body).await }
    };
    assert_eq!(comment(&customer, "public").await.status, 201);
    assert_eq!(comment(&acme, "internal").await.status, 201);
    let still = app.get(&format!("/api/v1/tickets/{id}/sla"), Some(&acme.token)).await;
    assert_eq!(clock(&still.body, "first_response")["state"], "running");
    assert_eq!(comment(&acme, "public").await.status, 201);
    let met = app.get(&format!("/api/v1/tickets/{id}/sla"), Some(&acme.token)).await;
    let fr = clock(&met.body, "first_response");
    assert_eq!((fr["state"].as_str(), fr["breached"].as_bool()), (Some("met"), Some(false)));
    assert!(fr["met_at"].is_string());

    // A lower priority matches the next policy: clocks are re-evaluated with it.
    let version = app.get(&format!("/api/v1/tickets/{id}"), Some(&acme.token)).await.body["version"].as_i64();
    let low = app.patch(&format!("/api/v1/tickets/{id}"), Some(&acme.token), json!({"priority": "low"}), version).await;
    assert_eq!(low.status, 200, "{}", low.body);
    let sla = app.get(&format!("/api/v1/tickets/{id}/sla"), Some(&acme.token)).await;
    assert_eq!(sla.body["policy"]["id"].as_i64(), Some(standard));
    assert_eq!(clock(&sla.body, "first_response")["target_minutes"], 480);
    assert_eq!(clock(&sla.body, "first_response")["state"], "met");
}

#[tokio::test(flavor = "multi_thread")]
async fn time_in_a_pausing_status_does_not_count_and_breached_tickets_can_be_listed() {
    let app = TestApp::spawn().await;
    let acme = app.org("acme").await;
    policy(&app, &acme, json!({"name": "All", "first_response_minutes": 60, "warn_before_minutes": 15})).await;
    let paused = app.ticket(&acme, "Waiting on the customer").await;
    let pid = paused["id"].as_i64().unwrap();
    shift(&app, pid, 20).await; // 20 minutes open
    set_status(&app, &acme, &paused, "pending").await;
    shift(&app, pid, 60).await; // an hour pending
    set_status(&app, &acme, &paused, "on_hold").await;
    shift(&app, pid, 30).await; // half an hour on hold: the same pause
    set_status(&app, &acme, &paused, "open").await;
    shift(&app, pid, 10).await; // ten more minutes open

    let sla = app.get(&format!("/api/v1/tickets/{pid}/sla"), Some(&acme.token)).await;
    let fr = clock(&sla.body, "first_response");
    assert_eq!(fr["elapsed_minutes"], 30, "{}", sla.body);
    assert_eq!(fr["remaining_minutes"], 30);
    assert_eq!((fr["state"].as_str(), fr["breached"].as_bool()), (Some("running"), Some(false)));

    let late = app.ticket(&acme, "Nobody answered").await;
    let lid = late["id"].as_i64().unwrap();
    shift(&app, lid, 61).await;
    let sla = app.get(&format!("/api/v1/tickets/{lid}/sla"), Some(&acme.token)).await;
    let fr = clock(&sla.body, "first_response");
    assert_eq!((fr["breached"].as_bool(), fr["remaining_minutes"].as_i64()), (Some(true), Some(-1)));

    // The sweeper records breaches; run one sweep here and list.
    let mut conn = app.db.pool.get().await.unwrap();
    conn.execute(
        "UPDATE ticket_sla_schedule SET next_escalation_at = now() WHERE ticket_id = ANY($1)",
        &[&vec![pid, lid]],
    )
    .await
    .unwrap();
    atum_core::sla::sweep(&mut conn, 100).await.unwrap();
    let breached = app.get("/api/v1/tickets?sla=breached", Some(&acme.token)).await;
    let ids: Vec<i64> = breached.body["items"].as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [lid]);
    let by_due = app.get("/api/v1/tickets?sort=sla_due", Some(&acme.token)).await;
    let ids: Vec<i64> = by_due.body["items"].as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect();
    // Overdue first, then by deadline: the order an agent works in.
    assert_eq!(ids, [lid, pid], "{}", by_due.body);
    assert_eq!(app.get("/api/v1/tickets?sla=late", Some(&acme.token)).await.status, 422);
}

#[tokio::test(flavor = "multi_thread")]
async fn solving_stops_the_clocks_and_a_reopen_resumes_resolution_without_the_solved_time() {
    let app = TestApp::spawn().await;
    let acme = app.org("acme").await;
    policy(&app, &acme, json!({"name": "All", "resolution_minutes": 120})).await;
    let ticket = app.ticket(&acme, "Printer jam").await;
    let id = ticket["id"].as_i64().unwrap();
    set_status(&app, &acme, &ticket, "open").await;
    shift(&app, id, 50).await;
    set_status(&app, &acme, &ticket, "solved").await;
    let sla = app.get(&format!("/api/v1/tickets/{id}/sla"), Some(&acme.token)).await;
    let res = clock(&sla.body, "resolution");
    assert_eq!((res["state"].as_str(), res["elapsed_minutes"].as_i64()), (Some("met"), Some(50)), "{}", sla.body);
    shift(&app, id, 300).await; // solved for five hours
    set_status(&app, &acme, &ticket, "open").await;
    shift(&app, id, 10).await;
    let sla = app.get(&format!("/api/v1/tickets/{id}/sla"), Some(&acme.token)).await;
    let res = clock(&sla.body, "resolution");
    assert_eq!((res["state"].as_str(), res["met_at"].as_str()), (Some("running"), None), "{}", sla.body);
    assert_eq!(res["elapsed_minutes"], 60);
    assert_eq!(res["breached"], false);
}

/// Moves a ticket's history so that it was created at `at`.
async fn place(app: &TestApp, ticket: i64, at: &str) {
    let conn = app.db.pool.get().await.unwrap();
    let at = DateTime::parse_from_rfc3339(at).unwrap().with_timezone(&Utc);
    let created: DateTime<Utc> =
        conn.query_one("SELECT created_at FROM tickets WHERE id = $1", &[&ticket]).await.unwrap().get(0);
    shift_micros(app, ticket, (created - at).num_microseconds().unwrap()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn business_hours_skip_nights_weekends_holidays_and_count_real_time_across_dst() {
    let app = TestApp::spawn().await;
    let acme = app.org("acme").await;
    let t = Some(acme.token.as_str());
    let day = json!([["09:00", "17:00"]]);
    let cal = app
        .post(
            "/api/v1/admin/sla/calendars",
            t,
            json!({"name": "Berlin office", "timezone": "Europe/Berlin",
                   "hours": {"mon": day, "tue": day, "wed": day, "thu": day, "fri": day,
                             "sun": [["00:00", "06:00"]]},
                   "holidays": ["2026-12-24", "2026-12-25"]}),
        )
        .await;
    assert_eq!(cal.status, 201, "{}", cal.body);
    policy(
        &app,
        &acme,
        json!({"name": "Office hours", "calendar_id": cal.body["id"], "first_response_minutes": 120,
               "resolution_minutes": 480}),
    )
    .await;

    // Wednesday 23 December 16:00 Berlin: one hour that day; the 24th and 25th are
    // holidays, Saturday is closed, and the second hour is Sunday 00:00-01:00 Berlin.
    let xmas = app.ticket(&acme, "Before the holidays").await;
    let id = xmas["id"].as_i64().unwrap();
    place(&app, id, "2026-12-23T15:00:00Z").await;
    let sla = app.get(&format!("/api/v1/tickets/{id}/sla"), t).await;
    let fr = clock(&sla.body, "first_response");
    assert_eq!(time(&fr["due_at"]), time(&json!("2026-12-27T00:00:00Z")), "{}", sla.body);
    assert_eq!(fr["business_hours"], true);

    // Sunday 29 March 2026 00:00 CET, the night clocks go forward at 02:00: Sunday's
    // 00:00-06:00 lasts five real hours, so 480 minutes end three hours into Monday
    // (09:00 CEST = 07:00 UTC → 10:00 UTC). First response: two hours from midnight CET
    // is the moment of the change, 01:00 UTC.
    let dst = app.ticket(&acme, "Over the DST night").await;
    let id = dst["id"].as_i64().unwrap();
    place(&app, id, "2026-03-28T23:00:00Z").await;
    let sla = app.get(&format!("/api/v1/tickets/{id}/sla"), t).await;
    assert_eq!(
        time(&clock(&sla.body, "first_response")["due_at"]),
        time(&json!("2026-03-29T01:00:00Z")),
        "{}",
        sla.body
    );
    assert_eq!(time(&clock(&sla.body, "resolution")["due_at"]), time(&json!("2026-03-30T10:00:00Z")));
}

#[tokio::test(flavor = "multi_thread")]
async fn next_response_runs_from_the_oldest_unanswered_customer_message_and_warnings_come_first() {
    let app = TestApp::spawn().await;
    let acme = app.org("acme").await;
    let customer = app.person(&acme, "customer", "carla").await;
    policy(
        &app,
        &acme,
        json!({"name": "All", "first_response_minutes": 60, "next_response_minutes": 30, "warn_before_minutes": 10}),
    )
    .await;
    let res = app
        .post("/api/v1/tickets", Some(&customer.token), json!({"subject": "Where is my order?", "description": "?"}))
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let id = res.body["id"].as_i64().unwrap();
    let say = |who: &Person, text: &str| {
        let (app, token, body) = (&app, who.token.clone(), json!({"body": text, "visibility": "public"}));
        async move {
            let r = app.post(&format!("/api/v1/tickets/{id}/comments"), Some(&token), body).await;
            assert_eq!(r.status, 201, "{}", r.body);
        }
    };
    say(&acme, "Looking into it").await;
    let sla = app.get(&format!("/api/v1/tickets/{id}/sla"), Some(&acme.token)).await;
    assert_eq!(clock(&sla.body, "next_response"), &Value::Null, "nothing unanswered yet: {}", sla.body);
    shift(&app, id, 5).await;
    say(&customer, "Any news?").await;
    shift(&app, id, 5).await;
    say(&customer, "Hello?").await;
    shift(&app, id, 16).await;
    // 21 minutes since the first unanswered message: inside the 10-minute warning.
    let sla = app.get(&format!("/api/v1/tickets/{id}/sla"), Some(&acme.token)).await;
    let next = clock(&sla.body, "next_response");
    assert_eq!((next["state"].as_str(), next["elapsed_minutes"].as_i64()), (Some("running"), Some(21)), "{}", sla.body);
    let mut conn = app.db.pool.get().await.unwrap();
    conn.execute("UPDATE ticket_sla_schedule SET next_escalation_at = now() WHERE ticket_id = $1", &[&id])
        .await
        .unwrap();
    atum_core::sla::sweep(&mut conn, 100).await.unwrap();
    let marks: Vec<(String, String)> = conn
        .query("SELECT kind, clock FROM sla_breaches WHERE ticket_id = $1", &[&id])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(marks, [("warning".to_string(), "next_response".to_string())]);
    let history = app.get(&format!("/api/v1/tickets/{id}/history"), Some(&acme.token)).await;
    let items = history.body["items"].as_array().expect("history items").clone();
    let warning = items.iter().find(|e| e["event_type"] == "sla_warning").expect("an sla_warning event");
    assert_eq!((&warning["actor_kind"], &warning["actor_id"]), (&json!("sla_worker"), &Value::Null), "{warning}");
    assert_eq!(items[0]["actor_kind"], "user", "a person created it: {}", items[0]);

    say(&acme, "Shipped today").await;
    let sla = app.get(&format!("/api/v1/tickets/{id}/sla"), Some(&acme.token)).await;
    let next = clock(&sla.body, "next_response");
    assert_eq!(
        (next["state"].as_str(), next["breached"].as_bool(), next["cycles"].as_u64()),
        (Some("met"), Some(false), Some(1))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_preview_names_the_policy_a_new_ticket_would_match_and_its_due_times_in_business_hours() {
    let app = TestApp::spawn().await;
    let acme = app.org("acme").await;
    let globex = app.org("globex").await;
    let agent = app.person(&acme, "agent", "ada").await;
    let customer = app.person(&acme, "customer", "cy").await;
    let t = Some(acme.token.as_str());
    let weekdays = json!([["09:00", "17:00"]]);
    let cal = app
        .post(
            "/api/v1/admin/sla/calendars",
            t,
            json!({"name": "Berlin office", "timezone": "Europe/Berlin",
                   "hours": {"mon": weekdays, "tue": weekdays, "wed": weekdays, "thu": weekdays, "fri": weekdays}}),
        )
        .await;
    assert_eq!(cal.status, 201, "{}", cal.body);
    let billing = policy(
        &app,
        &acme,
        json!({"name": "Urgent billing", "priorities": ["urgent"], "categories": ["billing"], "calendar_id": cal.body["id"],
               "first_response_minutes": 60, "next_response_minutes": 120, "resolution_minutes": 480}),
    )
    .await;
    let fallback = policy(&app, &acme, json!({"name": "Everything else", "first_response_minutes": 1440})).await;

    // Friday 16:30 in Berlin (15:30 UTC in winter): half an hour left that day.
    let friday = "2026-12-04T15:30:00Z";
    let res = app
        .post(
            "/api/v1/admin/sla/preview",
            Some(&agent.token),
            json!({"priority": "urgent", "category": "Billing", "created_at": friday}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["policy"], json!({"id": billing, "name": "Urgent billing"}));
    let due = |name: &str| clock(&res.body, name)["due_at"].clone();
    assert_eq!(due("first_response"), json!("2026-12-07T08:30:00Z"), "Monday 09:30 in Berlin");
    assert_eq!(
        due("resolution"),
        json!("2026-12-07T15:30:00Z"),
        "Monday 16:30: 30 minutes on Friday, 7½ hours on Monday"
    );
    assert_eq!(clock(&res.body, "next_response")["target_minutes"], 120);
    assert_eq!(due("next_response"), Value::Null, "it starts with the customer's next message");
    assert_eq!(clock(&res.body, "first_response")["business_hours"], true);

    // Another priority falls through to the next policy, counted around the clock.
    let res = app
        .post("/api/v1/admin/sla/preview", t, json!({"priority": "low", "category": "billing", "created_at": friday}))
        .await;
    assert_eq!(res.body["policy"]["id"], fallback);
    assert_eq!(clock(&res.body, "first_response")["due_at"], json!("2026-12-05T15:30:00Z"));
    assert_eq!(clock(&res.body, "first_response")["business_hours"], false);
    assert_eq!(res.body["clocks"].as_array().unwrap().len(), 1);

    // Another organisation has no policy: nothing would run there.
    let theirs = app.post("/api/v1/admin/sla/preview", Some(&globex.token), json!({"priority": "urgent"})).await;
    assert_eq!((theirs.status, &theirs.body["policy"], &theirs.body["clocks"]), (200, &Value::Null, &json!([])));
    let now = time(&theirs.body["created_at"]);
    assert!((Utc::now() - now).num_seconds().abs() < 60, "created_at defaults to now: {now}");

    assert_eq!(
        app.post("/api/v1/admin/sla/preview", Some(&customer.token), json!({"priority": "urgent"})).await.status,
        403
    );
    let bad = app.post("/api/v1/admin/sla/preview", t, json!({"priority": "whenever"})).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    let long = app.post("/api/v1/admin/sla/preview", t, json!({"priority": "low", "category": "x".repeat(101)})).await;
    assert_eq!((long.status, long.code()), (422, "validation_failed"));
}
