//! The one retry policy: how long to wait before trying again, growing exponentially
//! from a base to a ceiling, with jitter where many processes might retry together.
//!
//! Every retry in the suite is a [`Backoff`] with its own base, ceiling and jitter: a
//! failed job, the LISTEN connection coming back, a worker recording a job's end, a
//! call to an organisation's language model.

use std::time::Duration;

use rand::RngExt;

/// How a delay is spread so that retries that failed together do not come back
/// together.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Jitter {
    /// Exactly the exponential delay (one process retrying its own write).
    None,
    /// Drawn between half the delay and the delay ("equal jitter"): spread, yet never
    /// sooner than half.
    Equal,
    /// Within this fraction either side of the delay (0.25: ±25%).
    Around(f64),
}

/// `base × 2^attempt`, at most `max`, then jittered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    jitter: Jitter,
}

impl Backoff {
    pub const fn new(base: Duration, max: Duration, jitter: Jitter) -> Self {
        Backoff { base, max, jitter }
    }

    /// The delay before retry number `attempt`, counted from 0 (the first retry waits
    /// about `base`).
    pub fn delay(&self, attempt: u32) -> Duration {
        let ceiling = self.ceiling(attempt);
        match self.jitter {
            Jitter::None => ceiling,
            Jitter::Equal => {
                let ms = ceiling.as_millis() as u64;
                Duration::from_millis(rand::rng().random_range(ms / 2..=ms))
            }
            Jitter::Around(fraction) => ceiling.mul_f64(rand::rng().random_range(1.0 - fraction..=1.0 + fraction)),
        }
    }

    /// The delay before jitter.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        self.base.saturating_mul(1u32 << attempt.min(31)).min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delay_doubles_from_its_base_and_stops_at_its_ceiling() {
        let b = Backoff::new(Duration::from_millis(250), Duration::from_secs(4), Jitter::None);
        let delays: Vec<u128> = (0..7).map(|a| b.delay(a).as_millis()).collect();
        assert_eq!(delays, [250, 500, 1000, 2000, 4000, 4000, 4000]);
        assert_eq!(b.delay(u32::MAX), Duration::from_secs(4), "no overflow at absurd attempts");
    }

    #[test]
    fn jitter_stays_within_its_bounds() {
        let equal = Backoff::new(Duration::from_millis(100), Duration::from_secs(30), Jitter::Equal);
        let around = Backoff::new(Duration::from_secs(2), Duration::from_secs(3600), Jitter::Around(0.25));
        for attempt in 0..20 {
            let (c, d) = (equal.ceiling(attempt), equal.delay(attempt));
            assert!(d >= c / 2 && d <= c, "attempt {attempt}: {d:?} outside [{:?}, {c:?}]", c / 2);
            let (c, d) = (around.ceiling(attempt).as_secs_f64(), around.delay(attempt).as_secs_f64());
            assert!(d >= c * 0.75 - 1e-9 && d <= c * 1.25 + 1e-9, "attempt {attempt}: {d} around {c}");
        }
    }
}
