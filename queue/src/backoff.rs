//! When a failed job runs again, and how a worker retries its own writes.

use std::time::Duration;

use atum_runtime::backoff::{Backoff, Jitter};

/// A failed job: 2^attempt seconds capped at one hour, with ±25% jitter so a burst of
/// failures does not come back as a burst.
const JOB: Backoff = Backoff::new(Duration::from_secs(2), Duration::from_secs(3600), Jitter::Around(0.25));

/// A worker recording a job's end, when the database refused: 200 ms, doubling.
pub(crate) const RECORD: Backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(10), Jitter::None);

/// Delay before retry `attempt` (1-based) of a failed job.
pub fn backoff(attempt: i32) -> Duration {
    JOB.delay(attempt.clamp(1, 13) as u32 - 1)
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
