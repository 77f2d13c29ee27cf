//! Breach prediction: how likely is an open ticket to miss its next deadline?
//!
//! The model is the organisation's own history of how long tickets took (first
//! response and resolution, in the policy's minutes), kept as empirical survival
//! curves per (priority, category), falling back to per priority and then to the whole
//! organisation when a group has fewer than [`MIN_SAMPLES`] tickets. For a ticket that
//! has been open `e` minutes with `r` minutes left before its deadline:
//!
//! ```text
//! P(breach) = P(T > e + r | T > e) = S((e + r) / k) / S(e / k)
//! ```
//!
//! where `S` is the survival curve (share of past tickets still unhandled after t
//! minutes) and `k` the load factor `(load now / typical load)^β`, clamped to 0.5–3:
//! load is open tickets per agent, the typical load its geometric mean over the
//! history, and β how strongly handling time followed load in that history (the
//! least-squares slope of log handling time on log load at arrival, within each
//! priority and category, clamped to 0–1.5). A history where load did not matter
//! gives β = 0 and no adjustment.
//!
//! With too little history the prior is an exponential handling time whose mean is the
//! target itself (about a third of tickets would miss it), memoryless:
//! `P(breach) = exp(-r / target)`.

use std::collections::HashMap;

/// Below this many past tickets a group borrows its parent's curve.
pub const MIN_SAMPLES: usize = 30;
const MIN_LOAD: f64 = 0.5;
const MAX_LOAD: f64 = 3.0;
const MAX_ELASTICITY: f64 = 1.5;

/// One finished ticket: how long the clock took to be met, in minutes.
#[derive(Debug, Clone)]
pub struct Sample {
    pub priority: String,
    pub category: Option<String>,
    pub minutes: f64,
    /// Open tickets per agent when it arrived, if known.
    pub load: Option<f64>,
}

/// Sorted handling times of one group.
#[derive(Debug, Clone, Default)]
struct Curve(Vec<f64>);

impl Curve {
    fn new(mut minutes: Vec<f64>) -> Self {
        minutes.sort_by(f64::total_cmp);
        Curve(minutes)
    }

    /// Share of tickets that took longer than `t`, with add-one smoothing so that no
    /// history ever claims certainty.
    fn survival(&self, t: f64) -> f64 {
        let longer = self.0.len() - self.0.partition_point(|&m| m <= t);
        (longer as f64 + 0.5) / (self.0.len() as f64 + 1.0)
    }
}

/// Fitted on one clock's history of one organisation.
#[derive(Debug, Clone, Default)]
pub struct Model {
    groups: HashMap<(String, Option<String>), Curve>,
    priorities: HashMap<String, Curve>,
    all: Curve,
    /// Typical load in the history (geometric mean) and how strongly handling time
    /// followed it; `None` when the history says nothing about load.
    load: Option<(f64, f64)>,
}

/// Where a prediction came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    Group,
    Priority,
    Organisation,
    Prior,
}

impl Model {
    pub fn fit(samples: &[Sample]) -> Model {
        let mut groups: HashMap<(String, Option<String>), Vec<f64>> = HashMap::new();
        let mut priorities: HashMap<String, Vec<f64>> = HashMap::new();
        for s in samples.iter().filter(|s| s.minutes.is_finite() && s.minutes >= 0.0) {
            let category = s.category.as_ref().map(|c| c.to_lowercase());
            groups.entry((s.priority.clone(), category)).or_default().push(s.minutes);
            priorities.entry(s.priority.clone()).or_default().push(s.minutes);
        }
        let all = Curve::new(samples.iter().map(|s| s.minutes).filter(|m| m.is_finite() && *m >= 0.0).collect());
        Model {
            groups: groups
                .into_iter()
                .filter(|(_, v)| v.len() >= MIN_SAMPLES)
                .map(|(k, v)| (k, Curve::new(v)))
                .collect(),
            priorities: priorities
                .into_iter()
                .filter(|(_, v)| v.len() >= MIN_SAMPLES)
                .map(|(k, v)| (k, Curve::new(v)))
                .collect(),
            all,
            load: load_elasticity(samples),
        }
    }

    /// The load factor for `open_per_agent` open tickets per agent now.
    pub fn load_factor(&self, open_per_agent: Option<f64>) -> f64 {
        match (open_per_agent, self.load) {
            (Some(now), Some((typical, beta))) if now > 0.0 => (now / typical).powf(beta).clamp(MIN_LOAD, MAX_LOAD),
            _ => 1.0,
        }
    }

    /// (typical load, elasticity), for reports.
    pub fn load_model(&self) -> Option<(f64, f64)> {
        self.load
    }

    /// Probability (0-1) that a ticket open `elapsed` minutes with `remaining` minutes
    /// to a deadline of `target` minutes misses it.
    pub fn breach_probability(
        &self,
        priority: &str,
        category: Option<&str>,
        elapsed: f64,
        remaining: f64,
        target: f64,
        open_per_agent: Option<f64>,
    ) -> (f64, Basis) {
        if remaining <= 0.0 {
            return (1.0, Basis::Group);
        }
        let key = (priority.to_owned(), category.map(str::to_lowercase));
        let (curve, basis) = match (self.groups.get(&key), self.priorities.get(priority)) {
            (Some(c), _) => (c, Basis::Group),
            (None, Some(c)) => (c, Basis::Priority),
            _ if self.all.0.len() >= MIN_SAMPLES => (&self.all, Basis::Organisation),
            _ => return ((-remaining / target.max(1.0)).exp(), Basis::Prior),
        };
        let k = self.load_factor(open_per_agent);
        let survived = curve.survival(elapsed.max(0.0) / k);
        let p = curve.survival((elapsed.max(0.0) + remaining) / k) / survived;
        (p.clamp(0.0, 1.0), basis)
    }
}

/// Typical load and the slope of log handling time on log load, both centred within
/// each (priority, category) group so that group differences do not pose as load.
fn load_elasticity(samples: &[Sample]) -> Option<(f64, f64)> {
    let usable: Vec<&Sample> =
        samples.iter().filter(|s| s.minutes > 0.0 && s.load.is_some_and(|l| l > 0.0 && l.is_finite())).collect();
    if usable.len() < MIN_SAMPLES {
        return None;
    }
    // (log load, log minutes) per (priority, category).
    type Points = Vec<(f64, f64)>;
    let mut groups: HashMap<(&str, Option<&str>), Points> = HashMap::new();
    for s in &usable {
        let point = (s.load.unwrap_or(1.0).ln(), s.minutes.ln());
        groups.entry((s.priority.as_str(), s.category.as_deref())).or_default().push(point);
    }
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for points in groups.values().filter(|p| p.len() >= 2) {
        let n = points.len() as f64;
        let (mx, my) = (points.iter().map(|p| p.0).sum::<f64>() / n, points.iter().map(|p| p.1).sum::<f64>() / n);
        for (x, y) in points {
            sxy += (x - mx) * (y - my);
            sxx += (x - mx) * (x - mx);
        }
    }
    let typical = (usable.iter().map(|s| s.load.unwrap_or(1.0).ln()).sum::<f64>() / usable.len() as f64).exp();
    let beta = if sxx > 0.0 { (sxy / sxx).clamp(0.0, MAX_ELASTICITY) } else { 0.0 };
    Some((typical, beta))
}

/// Open tickets per agent at each arrival, from the history itself: tickets that had
/// arrived and were not yet resolved. `tickets` is (created, resolved) in minutes.
pub fn loads_at_arrival(tickets: &[(f64, Option<f64>)], agents: usize) -> Vec<f64> {
    let mut created: Vec<f64> = tickets.iter().map(|t| t.0).collect();
    let mut resolved: Vec<f64> = tickets.iter().filter_map(|t| t.1).collect();
    created.sort_by(f64::total_cmp);
    resolved.sort_by(f64::total_cmp);
    let agents = agents.max(1) as f64;
    tickets
        .iter()
        .map(|(c, _)| {
            let arrived = created.partition_point(|&x| x < *c);
            let done = resolved.partition_point(|&x| x <= *c);
            arrived.saturating_sub(done) as f64 / agents
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(priority: &str, minutes: impl IntoIterator<Item = f64>) -> Vec<Sample> {
        minutes
            .into_iter()
            .map(|m| Sample { priority: priority.into(), category: None, minutes: m, load: None })
            .collect()
    }

    #[test]
    fn the_probability_is_the_share_of_similar_past_tickets_that_took_longer() {
        // 100 past tickets taking 1..=100 minutes.
        let model = Model::fit(&samples("normal", (1..=100).map(f64::from)));
        let (p, basis) = model.breach_probability("normal", None, 0.0, 60.0, 60.0, None);
        assert_eq!(basis, Basis::Group);
        assert!((p - 40.5 / 101.0 / (100.5 / 101.0)).abs() < 1e-9, "{p}");
        // Having survived 50 minutes, 10 more: 40 of the 50 still open will take longer.
        let (p, _) = model.breach_probability("normal", None, 50.0, 10.0, 60.0, None);
        assert!((p - 40.5 / 50.5).abs() < 1e-9, "{p}");
    }

    #[test]
    fn a_busier_desk_makes_a_breach_more_likely_when_history_shows_load_slows_handling() {
        // Handling time doubles with load: 2, 4 and 8 open per agent.
        let mut history = Vec::new();
        for (load, scale) in [(2.0, 1.0), (4.0, 2.0), (8.0, 4.0)] {
            for m in 1..=40 {
                history.push(Sample {
                    priority: "normal".into(),
                    category: None,
                    minutes: m as f64 * scale,
                    load: Some(load),
                });
            }
        }
        let model = Model::fit(&history);
        let (typical, beta) = model.load_model().unwrap();
        assert!((typical - 4.0).abs() < 1e-9 && (beta - 1.0).abs() < 1e-9, "{typical} {beta}");
        let calm = model.breach_probability("normal", None, 10.0, 40.0, 50.0, Some(2.0)).0;
        let busy = model.breach_probability("normal", None, 10.0, 40.0, 50.0, Some(8.0)).0;
        assert!(busy > calm, "busy {busy} calm {calm}");
        // Where load never mattered, it changes nothing.
        let flat: Vec<Sample> = (0..120)
            .map(|i| Sample {
                priority: "normal".into(),
                category: None,
                minutes: (i % 40 + 1) as f64,
                load: Some([2.0, 4.0, 8.0][i / 40]),
            })
            .collect();
        assert_eq!(Model::fit(&flat).load_factor(Some(8.0)), 1.0);
    }

    #[test]
    fn the_load_at_arrival_counts_tickets_arrived_and_not_yet_resolved() {
        let loads = loads_at_arrival(&[(0.0, Some(10.0)), (5.0, None), (12.0, Some(20.0))], 2);
        assert_eq!(loads, [0.0, 0.5, 0.5]);
    }

    #[test]
    fn thin_history_falls_back_to_the_documented_prior() {
        let model = Model::fit(&samples("normal", [5.0, 10.0]));
        let (p, basis) = model.breach_probability("high", None, 0.0, 60.0, 60.0, None);
        assert_eq!(basis, Basis::Prior);
        assert!((p - (-1.0f64).exp()).abs() < 1e-12);
        assert_eq!(model.breach_probability("high", None, 70.0, -10.0, 60.0, None).0, 1.0);
    }
}
