//! In-process rate limits for the authentication routes (GCRA, per key).
//!
//! Each key (a client address, or an account's email) may make `burst` requests at
//! once and then one every `period / per_period`; the answer to the next one is 429
//! with the seconds to wait. The state is a map of theoretical arrival times; entries
//! that have fully recovered are dropped as the map grows, so memory stays bounded by
//! the keys active within one period. Limits are per API process; the database-backed
//! lockout and IP throttle (`atum_core::auth::lockout`) hold across processes, and
//! nginx's `limit_req` sits in front of both.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

#[derive(Debug)]
pub struct RateLimiter {
    /// Time between requests at the sustained rate.
    interval: Duration,
    /// How far ahead of now the theoretical arrival time may run (burst - 1 intervals).
    tolerance: Duration,
    state: Mutex<HashMap<String, Instant>>,
}

impl RateLimiter {
    /// `per_minute` sustained, `burst` at once.
    pub fn new(per_minute: u32, burst: u32) -> Self {
        let interval = Duration::from_secs(60) / per_minute.max(1);
        RateLimiter { interval, tolerance: interval * burst.max(1).saturating_sub(1), state: Mutex::default() }
    }

    /// `Ok` when `key` may go ahead now (and counts it), else the wait.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        self.check_at(key, Instant::now())
    }

    fn check_at(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.len() > 10_000 {
            state.retain(|_, tat| *tat > now);
        }
        let tat = state.get(key).copied().unwrap_or(now).max(now);
        let allow_at = tat.checked_sub(self.tolerance).unwrap_or(now);
        if allow_at > now {
            return Err(allow_at - now);
        }
        state.insert(key.to_owned(), tat + self.interval);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_requests_wait_for_the_sustained_rate() {
        let limiter = RateLimiter::new(60, 3); // one a second, three at once
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check_at("a", t0).is_ok());
        }
        let wait = limiter.check_at("a", t0).unwrap_err();
        assert!(wait > Duration::from_millis(900) && wait <= Duration::from_secs(1), "{wait:?}");
        // Other keys are not affected.
        assert!(limiter.check_at("b", t0).is_ok());
        // One interval later, one more.
        assert!(limiter.check_at("a", t0 + Duration::from_secs(1)).is_ok());
        assert!(limiter.check_at("a", t0 + Duration::from_secs(1)).is_err());
        // After a long quiet spell the full burst is back.
        let later = t0 + Duration::from_secs(60);
        for _ in 0..3 {
            assert!(limiter.check_at("a", later).is_ok());
        }
        assert!(limiter.check_at("a", later).is_err());
    }
}
