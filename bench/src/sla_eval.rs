//! An honest check of the breach prediction on **synthetic** history: a simulated help
//! desk (documented below and in docs/sla-prediction.md), a temporal split (fit on
//! the first 180 days, evaluate on tickets created in the following 60), and the
//! naive baseline "fraction of the target elapsed" scored on the same observations.
//!
//! The simulated desk, in calendar minutes:
//! - arrivals: Poisson, 2.2 tickets/hour on weekdays 08:00-18:00, 0.5/hour otherwise;
//! - priority low/normal/high/urgent 20/50/22/8 %, category billing/technical/account
//!   30/45/25 %;
//! - 6 agents; a ticket's resolution time is lognormal (σ 0.9) with a median of 600,
//!   300, 120, 45 minutes by priority, × 0.8 / 1.4 / 1.0 by category, × (1 + 0.15 per
//!   open ticket per agent above 2) for the backlog it arrives into;
//! - resolution targets 2880 / 960 / 360 / 120 minutes by priority.
//!
//! Each test ticket is looked at three times, at uniformly random moments before its
//! deadline, each look counting when the ticket is still open then; the label is
//! whether it missed the target.

use rand::{Rng, RngExt as _, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};

use atum_core::sla::predict::{Model, Sample};

use crate::load::round;

const DAY: f64 = 1440.0;
const TRAIN_DAYS: f64 = 180.0;
const TEST_DAYS: f64 = 60.0;
/// Moments each test ticket is looked at (each while it is still open).
const LOOKS: usize = 3;
const AGENTS: usize = 6;
const PRIORITIES: [(&str, f64, f64, f64); 4] = [
    ("low", 0.20, 600.0, 2880.0),
    ("normal", 0.50, 300.0, 960.0),
    ("high", 0.22, 120.0, 360.0),
    ("urgent", 0.08, 45.0, 120.0),
];
const CATEGORIES: [(&str, f64, f64); 3] = [("billing", 0.30, 0.8), ("technical", 0.45, 1.4), ("account", 0.25, 1.0)];

struct Ticket {
    created: f64,
    resolved: f64,
    priority: usize,
    category: usize,
}

fn pick<T>(rng: &mut impl Rng, items: &[T], weight: impl Fn(&T) -> f64) -> usize {
    let mut x: f64 = rng.random();
    for (i, item) in items.iter().enumerate() {
        x -= weight(item);
        if x <= 0.0 {
            return i;
        }
    }
    items.len() - 1
}

fn normal(rng: &mut impl Rng) -> f64 {
    // Box-Muller.
    let (u1, u2): (f64, f64) = (rng.random::<f64>().max(1e-12), rng.random());
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

fn rate_per_minute(t: f64) -> f64 {
    let day = (t / DAY).floor() as i64;
    let minute = t - day as f64 * DAY;
    let weekday = day.rem_euclid(7) < 5;
    if weekday && (480.0..1080.0).contains(&minute) { 2.2 / 60.0 } else { 0.5 / 60.0 }
}

/// Simulates the desk; tickets in arrival order.
fn simulate(rng: &mut impl Rng) -> Vec<Ticket> {
    let end = (TRAIN_DAYS + TEST_DAYS) * DAY;
    let max_rate = 2.2 / 60.0;
    let (mut t, mut tickets) = (0.0, Vec::<Ticket>::new());
    let mut open_until: Vec<f64> = Vec::new();
    loop {
        // Thinning: candidates at the peak rate, kept in proportion to the rate at t.
        t += -rng.random::<f64>().max(1e-12).ln() / max_rate;
        if t >= end {
            return tickets;
        }
        if rng.random::<f64>() > rate_per_minute(t) / max_rate {
            continue;
        }
        open_until.retain(|&r| r > t);
        let backlog = open_until.len() as f64 / AGENTS as f64;
        let priority = pick(rng, &PRIORITIES, |p| p.1);
        let category = pick(rng, &CATEGORIES, |c| c.1);
        let median = PRIORITIES[priority].2 * CATEGORIES[category].2 * (1.0 + 0.15 * (backlog - 2.0).max(0.0));
        let took = median * (0.9 * normal(rng)).exp();
        open_until.push(t + took);
        tickets.push(Ticket { created: t, resolved: t + took, priority, category });
    }
}

/// Open tickets per agent at `t`.
fn open_at(created: &[f64], resolved_sorted: &[f64], t: f64) -> f64 {
    let arrived = created.partition_point(|&c| c <= t);
    let done = resolved_sorted.partition_point(|&r| r <= t);
    (arrived - done) as f64 / AGENTS as f64
}

fn brier(p: &[f64], y: &[bool]) -> f64 {
    p.iter().zip(y).map(|(p, y)| (p - if *y { 1.0 } else { 0.0 }).powi(2)).sum::<f64>() / p.len() as f64
}

/// Area under the ROC curve (Mann-Whitney, ties counted half).
fn auc(p: &[f64], y: &[bool]) -> f64 {
    let mut pairs: Vec<(f64, bool)> = p.iter().copied().zip(y.iter().copied()).collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut rank_sum, mut i) = (0.0, 0);
    while i < pairs.len() {
        let mut j = i;
        while j < pairs.len() && pairs[j].0 == pairs[i].0 {
            j += 1;
        }
        let avg_rank = (i + j + 1) as f64 / 2.0; // ranks are 1-based
        rank_sum += avg_rank * pairs[i..j].iter().filter(|x| x.1).count() as f64;
        i = j;
    }
    let pos = y.iter().filter(|y| **y).count() as f64;
    let neg = y.len() as f64 - pos;
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

/// Ten bins of predicted probability: (count, mean predicted, observed breach rate).
fn calibration(p: &[f64], y: &[bool]) -> Vec<Value> {
    (0..10)
        .filter_map(|b| {
            let lo = b as f64 / 10.0;
            let hi = if b == 9 { 1.0 + 1e-9 } else { lo + 0.1 };
            let idx: Vec<usize> = (0..p.len()).filter(|&i| p[i] >= lo && p[i] < hi).collect();
            (!idx.is_empty()).then(|| {
                let n = idx.len() as f64;
                json!({
                    "bin": format!("{:.1}-{:.1}", lo, lo + 0.1),
                    "n": idx.len(),
                    "mean_predicted": round(idx.iter().map(|&i| p[i]).sum::<f64>() / n),
                    "observed": round(idx.iter().filter(|&&i| y[i]).count() as f64 / n),
                })
            })
        })
        .collect()
}

pub fn run() -> Value {
    let mut rng = StdRng::seed_from_u64(20261122);
    let tickets = simulate(&mut rng);
    let created: Vec<f64> = tickets.iter().map(|t| t.created).collect();
    let mut resolved_sorted: Vec<f64> = tickets.iter().map(|t| t.resolved).collect();
    resolved_sorted.sort_by(f64::total_cmp);

    // Fit on tickets created and resolved within the training window (what the job sees).
    let cutoff = TRAIN_DAYS * DAY;
    let train: Vec<&Ticket> = tickets.iter().filter(|t| t.resolved <= cutoff).collect();
    let sample = |t: &Ticket, load: Option<f64>| Sample {
        priority: PRIORITIES[t.priority].0.into(),
        category: Some(CATEGORIES[t.category].0.into()),
        minutes: t.resolved - t.created,
        load,
    };
    let with_load: Vec<Sample> =
        train.iter().map(|t| sample(t, Some(open_at(&created, &resolved_sorted, t.created - 1e-9)))).collect();
    let without: Vec<Sample> = train.iter().map(|t| sample(t, None)).collect();
    let model = Model::fit(&with_load);
    let flat = Model::fit(&without);
    let (mut p_model, mut p_flat, mut p_base, mut y) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let looks = tickets.iter().filter(|t| t.created >= cutoff).flat_map(|t| std::iter::repeat_n(t, LOOKS));
    for t in looks {
        let target = PRIORITIES[t.priority].3;
        let at = t.created + rng.random::<f64>() * target;
        if t.resolved <= at {
            continue; // already handled when we would have looked
        }
        let (elapsed, remaining) = (at - t.created, t.created + target - at);
        let load = open_at(&created, &resolved_sorted, at);
        let (priority, category) = (PRIORITIES[t.priority].0, Some(CATEGORIES[t.category].0));
        p_model.push(model.breach_probability(priority, category, elapsed, remaining, target, Some(load)).0);
        p_flat.push(flat.breach_probability(priority, category, elapsed, remaining, target, None).0);
        p_base.push(elapsed / target);
        y.push(t.resolved - t.created > target);
    }
    let breached = y.iter().filter(|b| **b).count();
    let score = |p: &[f64]| json!({"brier": round4(brier(p, &y)), "auc": round4(auc(p, &y)), "calibration": calibration(p, &y)});
    let report = json!({
        "synthetic": true,
        "seed": 20261122,
        "train_tickets": train.len(),
        "test_observations": y.len(),
        "test_breach_rate": round4(breached as f64 / y.len() as f64),
        "load_model": model.load_model().map(|(typical, beta)| json!({"typical_open_per_agent": round(typical), "elasticity": round(beta)})),
        "model": score(&p_model),
        "model_without_load_factor": score(&p_flat),
        "baseline_fraction_elapsed": score(&p_base),
    });
    println!(
        "breach prediction on synthetic history ({} training tickets, {} test observations, {:.1}% breached)",
        train.len(),
        y.len(),
        100.0 * breached as f64 / y.len() as f64
    );
    for (name, key) in [
        ("model", "model"),
        ("model, no load factor", "model_without_load_factor"),
        ("baseline e/target", "baseline_fraction_elapsed"),
    ] {
        println!("  {name:<24} Brier {:.4}  AUC {:.4}", report[key]["brier"], report[key]["auc"]);
    }
    report
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}
