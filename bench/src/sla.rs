//! The SLA benchmark: business-time arithmetic on one core, a sweep over a million
//! open tickets of which 1% are due, and recomputing 100,000 tickets after a calendar
//! change while single-ticket writes (what the API does) keep going beside it.

use std::time::{Duration, Instant};

use atum_core::{
    pg_cluster::Cluster,
    sla::{self, calendar::Calendar},
};
use atum_runtime::config::{DatabaseConfig, parse_database_url};
use chrono::{DateTime, NaiveDate, Utc};
use rand::RngExt as _;
use serde_json::{Value, json};

use crate::load::round;

pub struct Setup<'a> {
    pub cluster: &'a Cluster,
    pub port: u16,
    pub tickets: i64,
    pub recompute: i64,
}

/// Mon-Fri 09:00-17:00 Berlin with the German public holidays of two years.
fn office() -> Calendar {
    let day = vec![(9 * 3600, 17 * 3600)];
    let week = std::array::from_fn(|i| if i < 5 { day.clone() } else { Vec::new() });
    let holidays = [
        "2026-01-01",
        "2026-04-03",
        "2026-04-06",
        "2026-05-01",
        "2026-05-14",
        "2026-05-25",
        "2026-10-03",
        "2026-12-25",
        "2026-12-26",
        "2027-01-01",
        "2027-03-26",
        "2027-03-29",
        "2027-05-01",
        "2027-05-06",
        "2027-05-17",
        "2027-10-03",
        "2027-12-25",
        "2027-12-26",
    ];
    let holidays = holidays.iter().map(|d| d.parse::<NaiveDate>().expect("date")).collect();
    Calendar::new("Europe/Berlin", week, holidays).expect("calendar")
}

/// Operations per second on one core: half `add_minutes`, half `business_minutes`,
/// from random instants over two years, with targets from a minute to a working week.
fn arithmetic() -> (f64, f64) {
    let cal = office();
    let mut rng = rand::rng();
    let n = 1_000_000;
    let inputs: Vec<(DateTime<Utc>, i64)> = (0..n)
        .map(|_| {
            let t = DateTime::from_timestamp(rng.random_range(1_767_225_600..1_830_000_000), 0).expect("t");
            (t, rng.random_range(1..2400))
        })
        .collect();
    let started = Instant::now();
    let mut dues = Vec::with_capacity(n);
    for (t, m) in &inputs {
        dues.push(cal.add_minutes(*t, *m).expect("due"));
    }
    let add_rate = n as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut check = 0i64;
    for ((t, _), due) in inputs.iter().zip(&dues) {
        check += cal.business_minutes(*t, *due);
    }
    let elapsed_rate = n as f64 / started.elapsed().as_secs_f64();
    assert_eq!(check, inputs.iter().map(|(_, m)| m).sum::<i64>(), "elapsed(t, add(t, n)) == n");
    (add_rate, elapsed_rate)
}

async fn connect(url: &str) -> anyhow::Result<tokio_postgres::Client> {
    Ok(atum_runtime::db::connect(&parse_database_url("bench", url)?).await?)
}

/// An organisation with `n` open tickets under one business-hours policy (60-minute
/// first response, 8-hour resolution, Berlin office calendar).
async fn seed(client: &tokio_postgres::Client, slug: &str, n: i64) -> anyhow::Result<(i64, i64)> {
    let org: i64 =
        client.query_one("INSERT INTO organizations (slug, name) VALUES ($1, $1) RETURNING id", &[&slug]).await?.get(0);
    let customer: i64 = client
        .query_one(
            "INSERT INTO users (org_id, email, display_name, role) VALUES ($1, 'c@' || $2 || '.test', 'C', 'customer')
             RETURNING id",
            &[&org, &slug],
        )
        .await?
        .get(0);
    let calendar: i64 = client
        .query_one(
            r#"INSERT INTO sla_calendars (org_id, name, timezone, hours)
               VALUES ($1, 'Office', 'Europe/Berlin', '{"mon": [["09:00", "17:00"]], "tue": [["09:00", "17:00"]],
                   "wed": [["09:00", "17:00"]], "thu": [["09:00", "17:00"]], "fri": [["09:00", "17:00"]]}')
               RETURNING id"#,
            &[&org],
        )
        .await?
        .get(0);
    let policy: i64 = client
        .query_one(
            "INSERT INTO sla_policies (org_id, name, calendar_id, first_response_minutes, resolution_minutes)
             VALUES ($1, 'Standard', $2, 60, 480) RETURNING id",
            &[&org, &calendar],
        )
        .await?
        .get(0);
    let mut from = 1i64;
    while from <= n {
        let to = (from + 99_999).min(n);
        client
            .execute(
                "INSERT INTO tickets (org_id, number, subject, requester_id, status, created_at, sla_policy_id)
                 SELECT $1, g, 'Ticket ' || g, $2, 'open', now() - make_interval(mins => (g % 5000)::int), $5
                 FROM generate_series($3::bigint, $4::bigint) g",
                &[&org, &customer, &from, &to, &policy],
            )
            .await?;
        from = to + 1;
    }
    client.execute("UPDATE organizations SET last_ticket_number = $2 WHERE id = $1", &[&org, &(n as i32)]).await?;
    // Every ticket has something due tomorrow; a sweep run makes some of them due now.
    client
        .execute(
            "INSERT INTO ticket_sla_schedule (ticket_id, org_id, next_escalation_at)
             SELECT id, org_id, now() + interval '1 day' FROM tickets WHERE org_id = $1",
            &[&org],
        )
        .await?;
    client.batch_execute("ANALYZE tickets; ANALYZE ticket_status_periods").await?;
    Ok((org, calendar))
}

/// Seconds for one sweep that finds `due` of the tickets due (each refreshed, most
/// recording a breach), over `runs` runs; and the statements of the last sweep.
async fn sweeps(url: &str, org: i64, due: i64, runs: usize) -> anyhow::Result<(Vec<f64>, serde_json::Value)> {
    let pool = atum_runtime::db::pool(&DatabaseConfig { pg: parse_database_url("bench", url)?, pool_size: 3 })?;
    let conn = atum_runtime::db::connection(&pool).await?;
    let mut times = Vec::new();
    let mut profile = serde_json::Value::Null;
    for _ in 0..runs {
        // Make `due` random tickets due (the rest are due tomorrow, from the seed).
        conn.batch_execute(&format!(
            "DELETE FROM sla_breaches WHERE org_id = {org};
             CREATE TEMP TABLE IF NOT EXISTS bench_due (id bigint);
             TRUNCATE bench_due;
             INSERT INTO bench_due SELECT id FROM tickets WHERE org_id = {org} ORDER BY random() LIMIT {due};
             UPDATE ticket_sla_schedule SET next_escalation_at = now() - interval '1 minute'
             WHERE ticket_id IN (SELECT id FROM bench_due);"
        ))
        .await?;
        // As in production, the API computed these tickets' deadlines when they last
        // changed (here: as of ten days ago, before anything was due), so the sweep finds
        // their deadline copies current and only has to act on time having passed.
        let ids: Vec<atum_core::ids::TicketId> =
            conn.query("SELECT id FROM bench_due", &[]).await?.iter().map(|r| r.get(0)).collect();
        let earlier = chrono::Utc::now() - chrono::Duration::days(10);
        for chunk in ids.chunks(500) {
            sla::refresh::refresh(&conn, org.into(), chunk, earlier).await?;
        }
        conn.execute(
            "UPDATE ticket_sla_schedule SET next_escalation_at = now() - interval '1 minute'
             WHERE ticket_id IN (SELECT id FROM bench_due)",
            &[],
        )
        .await?;
        conn.batch_execute("VACUUM ANALYZE ticket_sla_schedule").await?;
        if times.len() + 1 == runs {
            crate::statements::reset(url).await?;
        }
        let started = Instant::now();
        // As the sla-worker does by default: two lanes (ATUM_SLA_SWEEP_LANES).
        let swept = sla::sweep_parallel(&pool, 500, 2).await?;
        times.push(started.elapsed().as_secs_f64());
        anyhow::ensure!(swept.tickets as i64 == due, "swept {} of {due}", swept.tickets);
        if times.len() == runs {
            profile = crate::statements::per(url, 1, "sweep").await?;
        }
        conn.execute(
            "INSERT INTO ticket_sla_schedule (ticket_id, org_id, next_escalation_at)
             SELECT id, $1, now() + interval '1 day' FROM bench_due
             ON CONFLICT (ticket_id) DO UPDATE SET next_escalation_at = EXCLUDED.next_escalation_at",
            &[&org],
        )
        .await?;
    }
    Ok((times, profile))
}

/// Seconds to recompute the org's tickets after a calendar change, and the worst and
/// p99 latency of single-ticket updates made meanwhile on another connection.
async fn recompute(url: &str, org: i64, calendar: i64) -> anyhow::Result<(f64, usize, f64, f64)> {
    let pool = atum_runtime::db::pool(&DatabaseConfig { pg: parse_database_url("bench", url)?, pool_size: 2 })?;
    let writer = connect(url).await?;
    let ids: Vec<i64> =
        writer.query("SELECT id FROM tickets WHERE org_id = $1", &[&org]).await?.iter().map(|r| r.get(0)).collect();
    // The calendar change itself: Fridays close at 13:00.
    writer
        .execute(
            r#"UPDATE sla_calendars SET hours = jsonb_set(hours, '{fri}', '[["09:00", "13:00"]]') WHERE id = $1"#,
            &[&calendar],
        )
        .await?;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = done.clone();
    // Drawn up front: the probe runs on another thread, the thread-local RNG stays here.
    let mut rng = rand::rng();
    let picks: Vec<i64> = (0..100_000).map(|_| ids[rng.random_range(0..ids.len())]).collect();
    let probe = tokio::spawn(async move {
        let mut latencies = Vec::new();
        let stmt = writer.prepare("UPDATE tickets SET updated_at = now() WHERE id = $1").await?;
        for &id in picks.iter().cycle() {
            if flag.load(std::sync::atomic::Ordering::Relaxed) {
                break;
            }
            let started = Instant::now();
            writer.execute(&stmt, &[&id]).await?;
            latencies.push(started.elapsed().as_secs_f64() * 1000.0);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        anyhow::Ok(latencies)
    });
    let mut conn = atum_runtime::db::connection(&pool).await?;
    let started = Instant::now();
    let n = sla::recompute_org(&mut conn, org.into(), sla::RECOMPUTE_BATCH, || false).await?;
    let took = started.elapsed().as_secs_f64();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut lat = probe.await??;
    lat.sort_by(f64::total_cmp);
    let p99 = lat[((lat.len() as f64 * 0.99) as usize).min(lat.len() - 1)];
    Ok((took, n, p99, *lat.last().unwrap_or(&0.0)))
}

pub async fn run(setup: &Setup<'_>) -> anyhow::Result<Value> {
    println!("business-time arithmetic, one core, Berlin office hours with holidays");
    crate::statements::ensure_loaded(setup.cluster, setup.port).await?;
    let (add_rate, elapsed_rate) = arithmetic();
    println!("  add_minutes      {add_rate:>12.0} ops/s");
    println!("  business_minutes {elapsed_rate:>12.0} ops/s");

    let admin = connect(&setup.cluster.url(setup.port, "postgres")?).await?;
    admin.batch_execute("DROP DATABASE IF EXISTS atum_sla WITH (FORCE)").await?;
    admin.batch_execute("CREATE DATABASE atum_sla").await?;
    let url = setup.cluster.url(setup.port, "atum_sla")?;
    let mut client = connect(&url).await?;
    atum_core::schema::migrate_up(&mut client, None).await?;

    let due = setup.tickets / 100;
    println!("sweep: {} open tickets, {due} of them due", setup.tickets);
    let started = Instant::now();
    let (big, _) = seed(&client, "sweep", setup.tickets).await?;
    println!("  seeded in {:.0} s", started.elapsed().as_secs_f64());
    let (times, profile) = sweeps(&url, big, due, 3).await?;
    let best = times.iter().copied().fold(f64::MAX, f64::min);
    println!("  sweep seconds: {times:.2?} (best {best:.2})");
    println!(
        "  the last sweep ran {} statements, {} ms of execution in PostgreSQL:",
        profile["statements_per_sweep"], profile["exec_ms_per_sweep"]
    );
    crate::statements::print(&profile, "sweep");

    println!("recompute after a calendar change: {} tickets", setup.recompute);
    let (org, calendar) = seed(&client, "recompute", setup.recompute).await?;
    let (took, n, p99, max) = recompute(&url, org, calendar).await?;
    println!("  {n} tickets in {took:.1} s; single-ticket updates meanwhile p99 {p99:.1} ms, max {max:.1} ms");

    Ok(json!({
        "arithmetic_ops_per_s": {"add_minutes": round(add_rate), "business_minutes": round(elapsed_rate)},
        "sweep": {"open_tickets": setup.tickets, "due": due, "seconds": times.iter().map(|t| round(*t)).collect::<Vec<_>>(),
                  "best_seconds": round(best), "statements": profile},
        "recompute": {"tickets": n, "seconds": round(took), "concurrent_update_p99_ms": round(p99),
                      "concurrent_update_max_ms": round(max)},
    }))
}
