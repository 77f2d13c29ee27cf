//! `metrics_snapshots`: what atum-metrics-worker writes every interval, rolls up into
//! hours and days, prunes, and what the dashboard reads back as time series.

use crate::ids::OrgId;
use std::time::{Duration, Instant};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;

use super::{Figures, compute, flow};
use crate::error::{Error, Result};
use atum_runtime::config::{ConfigError, Env};

#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub interval: Duration,
    pub raw_retention: Duration,
    pub hourly_retention: Duration,
    pub daily_retention: Duration,
}

impl Settings {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let hours: u64 = env.parse_or("ATUM_METRICS_RAW_RETENTION_HOURS", 48, "a number of hours")?;
        let hourly: u64 = env.parse_or("ATUM_METRICS_HOURLY_RETENTION_DAYS", 35, "a number of days")?;
        let daily: u64 = env.parse_or("ATUM_METRICS_DAILY_RETENTION_DAYS", 400, "a number of days")?;
        for (var, v) in [
            ("ATUM_METRICS_RAW_RETENTION_HOURS", hours),
            ("ATUM_METRICS_HOURLY_RETENTION_DAYS", hourly),
            ("ATUM_METRICS_DAILY_RETENTION_DAYS", daily),
        ] {
            if v == 0 {
                return Err(ConfigError::Invalid { var: var.into(), reason: "must be at least 1".into() });
            }
        }
        Ok(Settings {
            interval: env.seconds_or("ATUM_METRICS_INTERVAL_SECS", 60)?,
            raw_retention: Duration::from_secs(hours * 3600),
            hourly_retention: Duration::from_secs(hourly * 86_400),
            daily_retention: Duration::from_secs(daily * 86_400),
        })
    }
}

/// One organisation's snapshot, as written.
#[derive(Debug, Clone)]
pub struct Taken {
    pub org_id: OrgId,
    pub org_slug: String,
    pub figures: Figures,
    pub took: Duration,
}

/// A gap longer than this (the worker was down) is not reported as one interval.
const MAX_PERIOD: TimeDelta = TimeDelta::hours(24);

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(MAX_PERIOD)
}

/// Takes a raw snapshot of every organisation as of `now`. Each covers the time since
/// that organisation's previous raw snapshot (one interval for the first), so the flow
/// figures add up without gaps or overlaps. The figures are read in a REPEATABLE READ,
/// READ ONLY transaction: consistent with each other, and no lock a ticket write waits on.
pub async fn take_all(
    conn: &mut deadpool_postgres::Object,
    interval: Duration,
    now: DateTime<Utc>,
) -> Result<Vec<Taken>> {
    let orgs = conn
        .query(
            "SELECT o.id, o.slug, (SELECT max(period_end) FROM metrics_snapshots s
                                   WHERE s.org_id = o.id AND s.resolution = 'raw')
             FROM organizations o ORDER BY o.id",
            &[],
        )
        .await?;
    let mut taken = Vec::with_capacity(orgs.len());
    for org in orgs {
        let (org_id, slug, last): (OrgId, String, Option<DateTime<Utc>>) = (org.get(0), org.get(1), org.get(2));
        let start = match last {
            Some(last) if last < now => last.max(now - MAX_PERIOD),
            Some(_) => continue, // already taken for this instant
            None => now - delta(interval),
        };
        let began = Instant::now();
        let tx = conn
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        // One backend, no parallel workers: a background snapshot should leave the other
        // cores to the ticket writes rather than finish a little sooner.
        tx.batch_execute("SET LOCAL max_parallel_workers_per_gather = 0").await?;
        let figures = compute(&tx, org_id, start, now).await?;
        tx.commit().await?;
        let took = began.elapsed();
        insert(&*conn, org_id, "raw", start, now, &figures, took).await?;
        taken.push(Taken { org_id, org_slug: slug, figures, took });
    }
    Ok(taken)
}

async fn insert(
    db: &impl GenericClient,
    org_id: OrgId,
    resolution: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    figures: &Figures,
    took: Duration,
) -> Result<()> {
    let json = serde_json::to_value(figures).map_err(|e| Error::Internal(e.to_string()))?;
    db.execute(
        "INSERT INTO metrics_snapshots (org_id, resolution, period_start, period_end, figures, took_ms)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org_id, resolution, period_end) DO NOTHING",
        &[&org_id, &resolution, &start, &end, &json, &(took.as_millis().min(i32::MAX as u128) as i32)],
    )
    .await?;
    Ok(())
}

/// The coarser resolutions: each is built from the finer one below it.
const ROLL_UPS: [(&str, &str, TimeDelta); 2] =
    [("hour", "raw", TimeDelta::hours(1)), ("day", "hour", TimeDelta::days(1))];

/// Writes the hour and day rows for every period that has ended since the last one
/// (at most two days of hours and sixty days back at a time). A period's state figures
/// are those of the last finer snapshot inside it; its flow figures are recomputed over
/// the whole period, since medians do not add up. Returns the rows written.
pub async fn roll_up(db: &impl GenericClient, now: DateTime<Utc>) -> Result<u64> {
    let mut written = 0;
    for (resolution, finer, step) in ROLL_UPS {
        let horizon = if resolution == "hour" { TimeDelta::days(2) } else { TimeDelta::days(60) };
        let current = now.duration_trunc(step).map_err(|e| Error::Internal(e.to_string()))?;
        let rows = db
            .query(
                "SELECT o.id, (SELECT max(period_end) FROM metrics_snapshots s WHERE s.org_id = o.id AND s.resolution = $1)
                 FROM organizations o ORDER BY o.id",
                &[&resolution],
            )
            .await?;
        for r in rows {
            let (org_id, last): (OrgId, Option<DateTime<Utc>>) = (r.get(0), r.get(1));
            let mut start = last.unwrap_or(current - horizon).max(current - horizon);
            while start + step <= current {
                let end = start + step;
                let latest = db
                    .query_opt(
                        "SELECT figures FROM metrics_snapshots
                         WHERE org_id = $1 AND resolution = $2 AND period_end > $3 AND period_end <= $4
                         ORDER BY period_end DESC LIMIT 1",
                        &[&org_id, &finer, &start, &end],
                    )
                    .await?;
                if let Some(row) = latest {
                    let began = Instant::now();
                    let mut figures: Figures =
                        serde_json::from_value(row.get(0)).map_err(|e| Error::Internal(e.to_string()))?;
                    flow(db, org_id, start, end, &mut figures).await?;
                    insert(db, org_id, resolution, start, end, &figures, began.elapsed()).await?;
                    written += 1;
                }
                start = end;
            }
        }
    }
    Ok(written)
}

/// Deletes snapshots past their resolution's retention; returns how many.
pub async fn prune(db: &impl GenericClient, settings: &Settings) -> Result<u64> {
    let mut n = 0;
    for (resolution, keep) in
        [("raw", settings.raw_retention), ("hour", settings.hourly_retention), ("day", settings.daily_retention)]
    {
        n += db
            .execute(
                "DELETE FROM metrics_snapshots WHERE resolution = $1 AND period_end < now() - make_interval(secs => $2)",
                &[&resolution, &keep.as_secs_f64()],
            )
            .await?;
    }
    Ok(n)
}

/// One point of a dashboard series.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Point {
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub open_total: i64,
    pub created: i64,
    pub solved: i64,
    pub sla_breached_open: i64,
    pub sla_at_risk: i64,
    pub first_response_p50_minutes: Option<f64>,
    pub resolution_p50_minutes: Option<f64>,
    pub backlog_oldest_minutes: Option<f64>,
}

/// The organisation's snapshots of `resolution` ending after `since`, oldest first.
pub async fn series(
    db: &impl GenericClient,
    org_id: OrgId,
    resolution: &str,
    since: DateTime<Utc>,
) -> Result<Vec<Point>> {
    let rows = db
        .query(
            "SELECT period_start, period_end, figures FROM metrics_snapshots
             WHERE org_id = $1 AND resolution = $2 AND period_end > $3 ORDER BY period_end",
            &[&org_id, &resolution, &since],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let f: Figures = serde_json::from_value(r.get(2)).map_err(|e| Error::Internal(e.to_string()))?;
            Ok(Point {
                period_start: r.get(0),
                period_end: r.get(1),
                open_total: f.open_total,
                created: f.created,
                solved: f.solved,
                sla_breached_open: f.sla_breached_open,
                sla_at_risk: f.sla_at_risk,
                first_response_p50_minutes: f.first_response_minutes.p50,
                resolution_p50_minutes: f.resolution_minutes.p50,
                backlog_oldest_minutes: f.backlog_oldest_minutes,
            })
        })
        .collect()
}
