//! When a failed job runs again.

use std::time::Duration;

/// Delay before retry `attempt` (1-based): 2^attempt seconds capped at one hour, with
/// ±25% jitter so a burst of failures does not come back as a burst.
pub fn backoff(attempt: i32) -> Duration {
    use rand::RngExt;
    let base = 2f64.powi(attempt.clamp(1, 12)).min(3600.0);
    Duration::from_secs_f64(base * rand::rng().random_range(0.75..=1.25))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_exponentially_with_bounded_jitter() {
        for attempt in 1..=15 {
            let d = backoff(attempt).as_secs_f64();
            let base = 2f64.powi(attempt.clamp(1, 12)).min(3600.0);
            assert!(d >= base * 0.75 - 1e-9 && d <= base * 1.25 + 1e-9, "attempt {attempt}: {d}");
        }
        assert!(backoff(20) <= Duration::from_secs(4500));
    }
}
