//! How good a classifier's answers and its confidences are, on labelled data it did
//! not learn from: accuracy, macro-F1, the confusion matrix, the majority-class
//! baseline, a reliability table with its expected calibration error, and what each
//! confidence tier would cover and get right — as `atum_core::models::Evaluation`, the
//! one report type that training stores and `atum ai eval` prints.

use atum_core::models::{Evaluation, ReliabilityBin as Bin, TierFigure as Tier};

/// Confidence bins of the reliability table.
pub const BINS: usize = 10;
/// The tiers reported: a threshold and what answers at or above it cover.
pub const TIERS: [f32; 5] = [0.5, 0.6, 0.7, 0.8, 0.9];

/// Scores `predicted` (with `confidence`) against `truth`; both index `labels`.
/// `majority` is the label a majority-class baseline would always answer. How many
/// examples the model learnt from is the caller's to fill in.
pub fn report(
    labels: &[String],
    truth: &[usize],
    predicted: &[usize],
    confidence: &[f32],
    majority: &str,
) -> Evaluation {
    let n = truth.len();
    assert!(predicted.len() == n && confidence.len() == n, "one prediction per example");
    let k = labels.len();
    let mut confusion = vec![vec![0usize; k]; k];
    for (&t, &p) in truth.iter().zip(predicted) {
        confusion[t][p] += 1;
    }
    let right: Vec<bool> = truth.iter().zip(predicted).map(|(t, p)| t == p).collect();
    let share = |num: usize, den: usize| if den == 0 { 0.0 } else { num as f64 / den as f64 };
    let accuracy = share(right.iter().filter(|r| **r).count(), n);

    // Macro-F1 over the labels that occur in the truth or the answers.
    let mut f1s = Vec::new();
    for c in 0..k {
        let tp = confusion[c][c];
        let actual: usize = confusion[c].iter().sum();
        let answered: usize = confusion.iter().map(|row| row[c]).sum();
        if actual == 0 && answered == 0 {
            continue;
        }
        let precision = share(tp, answered);
        let recall = share(tp, actual);
        f1s.push(if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) });
    }
    let macro_f1 = if f1s.is_empty() { 0.0 } else { f1s.iter().sum::<f64>() / f1s.len() as f64 };

    let majority_accuracy = match labels.iter().position(|l| l == majority) {
        Some(m) => share(truth.iter().filter(|t| **t == m).count(), n),
        None => 0.0,
    };

    let mut reliability: Vec<Bin> = (0..BINS)
        .map(|b| Bin {
            from: b as f32 / BINS as f32,
            to: (b + 1) as f32 / BINS as f32,
            count: 0,
            confidence: 0.0,
            accuracy: 0.0,
        })
        .collect();
    for (&c, &r) in confidence.iter().zip(&right) {
        let b = ((c * BINS as f32) as usize).min(BINS - 1);
        reliability[b].count += 1;
        reliability[b].confidence += f64::from(c);
        reliability[b].accuracy += if r { 1.0 } else { 0.0 };
    }
    let mut ece = 0.0;
    for bin in &mut reliability {
        if bin.count > 0 {
            bin.confidence /= bin.count as f64;
            bin.accuracy /= bin.count as f64;
            ece += bin.count as f64 / n as f64 * (bin.confidence - bin.accuracy).abs();
        }
    }

    let tiers = TIERS
        .iter()
        .map(|&threshold| {
            let covered: Vec<bool> =
                confidence.iter().zip(&right).filter(|(c, _)| **c >= threshold).map(|(_, r)| *r).collect();
            Tier {
                threshold,
                coverage: share(covered.len(), n),
                accuracy: share(covered.iter().filter(|r| **r).count(), covered.len()),
            }
        })
        .collect();

    Evaluation {
        examples: n,
        accuracy,
        macro_f1,
        majority_label: majority.to_owned(),
        majority_accuracy,
        ece,
        reliability,
        tiers,
        labels: labels.to_vec(),
        confusion,
        trained_on: 0,
        calibrated_on: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn accuracy_macro_f1_and_the_baseline_follow_their_definitions() {
        let l = labels(&["a", "b", "c"]);
        // truth a a a b; answers a a b b: a has P 1, R 2/3; b has P 1/2, R 1; c absent.
        let r = report(&l, &[0, 0, 0, 1], &[0, 0, 1, 1], &[0.9; 4], "a");
        assert!((r.accuracy - 0.75).abs() < 1e-9);
        let f1_a = 2.0 * (2.0 / 3.0) / (1.0 + 2.0 / 3.0);
        let f1_b = 2.0 * 0.5 / 1.5;
        assert!((r.macro_f1 - (f1_a + f1_b) / 2.0).abs() < 1e-9, "{}", r.macro_f1);
        assert!((r.majority_accuracy - 0.75).abs() < 1e-9);
        assert_eq!(r.confusion, vec![vec![2, 1, 0], vec![0, 1, 0], vec![0, 0, 0]]);
    }

    #[test]
    fn calibration_error_is_the_weighted_gap_between_confidence_and_accuracy() {
        let l = labels(&["a", "b"]);
        // Four answers at 0.75 confidence, three right: calibrated, ECE 0.
        let r = report(&l, &[0, 0, 0, 0], &[0, 0, 0, 1], &[0.75; 4], "a");
        assert!(r.ece.abs() < 1e-6, "{}", r.ece);
        // Two at 0.95, one right: a gap of 0.45 on all of them.
        let r = report(&l, &[0, 0], &[0, 1], &[0.95, 0.95], "a");
        assert!((r.ece - 0.45).abs() < 1e-6, "{}", r.ece);
        assert_eq!(r.reliability[9].count, 2);
    }

    #[test]
    fn a_tier_covers_the_answers_at_or_above_its_threshold() {
        let l = labels(&["a", "b"]);
        let r = report(&l, &[0, 0, 1, 1], &[0, 1, 1, 1], &[0.95, 0.9, 0.55, 0.3], "a");
        let t90 = r.tiers.iter().find(|t| t.threshold == 0.9).unwrap();
        assert!((t90.coverage - 0.5).abs() < 1e-9 && (t90.accuracy - 0.5).abs() < 1e-9);
        let t50 = r.tiers.iter().find(|t| t.threshold == 0.5).unwrap();
        assert!((t50.coverage - 0.75).abs() < 1e-9);
        assert!((t50.accuracy - 2.0 / 3.0).abs() < 1e-9);
    }
}
