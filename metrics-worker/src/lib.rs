//! atum-metrics-worker: writes the dashboard's snapshots and exports the desk's
//! business gauges for Prometheus.
//!
//! Every `ATUM_METRICS_INTERVAL_SECS` (60) it takes one snapshot per organisation
//! (`atum_core::dashboard::snapshots::take_all`), writes the hour and day roll-ups that
//! have come due, and prunes rows past their retention. The latest figures become
//! gauges on its `/metrics` (open tickets, SLA breaches and at-risk tickets, backlog
//! age, per organisation) for alerting. Between snapshots it checks the database every
//! tick; the watchdog is fed only while those checks and the snapshots succeed.

use std::time::{Duration, Instant};

pub use atum_core::dashboard::snapshots::Settings;
use atum_core::dashboard::snapshots::{self, Taken};
use atum_runtime::{BoxError, Context, Metrics};
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OrgLabel {
    org: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OrgVerdictLabel {
    org: String,
    verdict: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OrgStatusLabel {
    org: String,
    status: String,
}

/// The business gauges and flow counters, brought up to date by each pass's snapshots.
#[derive(Clone)]
struct Gauges {
    open: Family<OrgStatusLabel, Gauge>,
    breached: Family<OrgLabel, Gauge>,
    at_risk: Family<OrgLabel, Gauge>,
    backlog_oldest: Family<OrgLabel, Gauge<f64, std::sync::atomic::AtomicU64>>,
    snapshot_seconds: Histogram,
    // Flow counters, advanced by each snapshot's interval (the intervals add up
    // without gaps or overlaps): rates and ratios are PromQL's to take.
    deflection_sessions: Family<OrgLabel, Counter>,
    deflected: Family<OrgLabel, Counter>,
    draft_decisions: Family<OrgVerdictLabel, Counter>,
    drafts_sent: Family<OrgLabel, Counter>,
    draft_edit_distance: Family<OrgLabel, Counter<f64, std::sync::atomic::AtomicU64>>,
    passes: Counter,
    failures: Counter,
    last_success: Gauge<f64, std::sync::atomic::AtomicU64>,
}

impl Gauges {
    fn register(m: &Metrics) -> Self {
        let g = Gauges {
            open: Family::default(),
            breached: Family::default(),
            at_risk: Family::default(),
            backlog_oldest: Family::default(),
            snapshot_seconds: Histogram::new([0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0]),
            deflection_sessions: Family::default(),
            deflected: Family::default(),
            draft_decisions: Family::default(),
            drafts_sent: Family::default(),
            draft_edit_distance: Family::default(),
            passes: Counter::default(),
            failures: Counter::default(),
            last_success: Gauge::default(),
        };
        m.register("tickets_open", "Open tickets by organisation and status", g.open.clone());
        m.register("sla_breached_open_tickets", "Open tickets with a recorded SLA breach", g.breached.clone());
        m.register("sla_at_risk_tickets", "Open tickets past their SLA warning, not yet due", g.at_risk.clone());
        m.register("backlog_oldest_age_seconds", "Age of the oldest open ticket", g.backlog_oldest.clone());
        m.register(
            "snapshot_duration_seconds",
            "Time to compute one organisation's snapshot",
            g.snapshot_seconds.clone(),
        );
        m.register(
            "portal_deflection_visits",
            "Visits of the portal's request form shown suggested articles, counted when they end",
            g.deflection_sessions.clone(),
        );
        m.register(
            "portal_deflected_visits",
            "Of those, visits that ended without a request (deflection rate: this over portal_deflection_visits)",
            g.deflected.clone(),
        );
        m.register(
            "ai_draft_decisions",
            "Draft replies agents inserted or rejected, by verdict",
            g.draft_decisions.clone(),
        );
        m.register("ai_drafts_sent", "Inserted draft replies whose reply was sent", g.drafts_sent.clone());
        m.register(
            "ai_draft_sent_edit_distance",
            "Sum of the edit distances (0 to 1) of sent drafts: over ai_drafts_sent, the mean",
            g.draft_edit_distance.clone(),
        );
        m.register("snapshot_passes", "Snapshot passes over all organisations that completed", g.passes.clone());
        m.register("snapshot_failures", "Snapshot passes that failed", g.failures.clone());
        m.register(
            "snapshot_last_success_timestamp_seconds",
            "When the last snapshot pass completed (Unix time)",
            g.last_success.clone(),
        );
        g
    }

    fn update(&self, taken: &[Taken]) {
        for t in taken {
            let org = OrgLabel { org: t.org_slug.clone() };
            for status in ["new", "open", "pending", "on_hold"] {
                let n = t.figures.open_by_status.get(status).copied().unwrap_or(0);
                self.open.get_or_create(&OrgStatusLabel { org: t.org_slug.clone(), status: status.into() }).set(n);
            }
            self.breached.get_or_create(&org).set(t.figures.sla_breached_open);
            self.at_risk.get_or_create(&org).set(t.figures.sla_at_risk);
            self.backlog_oldest.get_or_create(&org).set(t.figures.backlog_oldest_minutes.unwrap_or(0.0) * 60.0);
            let f = &t.figures;
            let count = |n: i64| u64::try_from(n).unwrap_or(0);
            self.deflection_sessions.get_or_create(&org).inc_by(count(f.deflection_sessions));
            self.deflected.get_or_create(&org).inc_by(count(f.deflected));
            for (verdict, n) in [("inserted", f.drafts_inserted), ("rejected", f.drafts_rejected)] {
                let label = OrgVerdictLabel { org: t.org_slug.clone(), verdict: verdict.into() };
                self.draft_decisions.get_or_create(&label).inc_by(count(n));
            }
            self.drafts_sent.get_or_create(&org).inc_by(count(f.drafts_sent));
            let distance_sum = f.draft_edit_distance.unwrap_or(0.0) * f.drafts_sent as f64;
            self.draft_edit_distance.get_or_create(&org).inc_by(distance_sum);
            self.snapshot_seconds.observe(t.took.as_secs_f64());
        }
        self.passes.inc();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        self.last_success.set(now.as_secs_f64());
    }
}

pub async fn run(ctx: Context, settings: Settings) -> Result<(), BoxError> {
    let gauges = Gauges::register(&ctx.metrics);
    tracing::info!(interval_s = settings.interval.as_secs(), "taking dashboard snapshots");
    let mut ticker = tokio::time::interval(ctx.tick_interval().min(settings.interval));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_pass: Option<Instant> = None;
    ctx.ready();
    loop {
        tokio::select! {
            _ = ctx.shutdown.cancelled() => break,
            _ = ticker.tick() => {}
        }
        let due = last_pass.is_none_or(|t| t.elapsed() >= settings.interval);
        let result = if due { pass(&ctx, &settings, &gauges).await } else { check(&ctx).await };
        match result {
            Ok(()) => {
                ctx.metrics.ticks.inc();
                ctx.progress.tick();
                if due {
                    last_pass = Some(Instant::now());
                }
            }
            Err(e) => {
                if due {
                    gauges.failures.inc();
                }
                tracing::warn!(error = %e, stalled_ms = ctx.progress.since_last().as_millis() as u64, "metrics pass failed");
            }
        }
        ctx.metrics.observe_pool(&ctx.pool);
    }
    Ok(())
}

async fn check(ctx: &Context) -> Result<(), BoxError> {
    let check = async {
        let conn = atum_runtime::db::connection(&ctx.pool).await?;
        conn.simple_query("SELECT 1").await?;
        Ok::<_, BoxError>(())
    };
    tokio::time::timeout(Duration::from_secs(5), check).await.map_err(|_| "timed out after 5s")?
}

/// One pass: snapshots of every organisation, roll-ups, pruning, gauges.
async fn pass(ctx: &Context, settings: &Settings, gauges: &Gauges) -> Result<(), BoxError> {
    let started = Instant::now();
    let mut conn = atum_runtime::db::connection(&ctx.pool).await?;
    let now = atum_core::sla::db_now(&conn).await?;
    let taken = snapshots::take_all(&mut conn, settings.interval, now).await?;
    let rolled = snapshots::roll_up(&conn, now).await?;
    let pruned = snapshots::prune(&conn, settings).await?;
    gauges.update(&taken);
    tracing::info!(
        orgs = taken.len(),
        rolled_up = rolled,
        pruned,
        ms = started.elapsed().as_millis() as u64,
        "snapshots taken"
    );
    Ok(())
}
