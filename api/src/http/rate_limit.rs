//! In-process rate limits for the authentication routes: governor's GCRA, one state
//! per key.
//!
//! Each key (a client address, or an account in an organisation) may make `burst`
//! requests at once and then `per_minute` a minute; the answer to the next one is 429
//! with the seconds to wait. Keys that have fully recovered are dropped as the map
//! grows, so memory stays bounded by the keys active within a minute. Limits are per
//! API process; the database-backed lockout and IP throttle
//! (`atum_core::auth::lockout`) hold across processes, and nginx's `limit_req` sits in
//! front of both. An account unlocked by an admin or the operator is forgiven here too
//! ([`RateLimiter::forget`]): its next sign-in is not refused for the attempts before.

use std::{collections::HashMap, num::NonZeroU32, sync::Mutex, time::Duration};

use governor::{
    Quota,
    clock::{Clock, DefaultClock},
    middleware::NoOpMiddleware,
    state::keyed::DefaultKeyedStateStore,
};

/// Past this many keys, the ones that have fully recovered are forgotten.
const MAX_KEYS: usize = 10_000;

pub struct RateLimiter<C: Clock = DefaultClock> {
    inner: governor::RateLimiter<String, DefaultKeyedStateStore<String>, C, NoOpMiddleware<C::Instant>>,
    clock: C,
    /// Keys forgotten, each with how many times: governor cannot drop one key's state,
    /// so a forgotten key is counted under a new name (`key#n`), fresh.
    forgotten: Mutex<HashMap<String, u32>>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter").field("keys", &self.inner.len()).finish()
    }
}

fn quota(per_minute: u32, burst: u32) -> Quota {
    let one = NonZeroU32::MIN;
    Quota::per_minute(NonZeroU32::new(per_minute).unwrap_or(one)).allow_burst(NonZeroU32::new(burst).unwrap_or(one))
}

impl RateLimiter {
    /// `per_minute` sustained, `burst` at once.
    pub fn new(per_minute: u32, burst: u32) -> Self {
        Self::with_clock(per_minute, burst, DefaultClock::default())
    }
}

impl<C: Clock + Clone> RateLimiter<C> {
    pub fn with_clock(per_minute: u32, burst: u32, clock: C) -> Self {
        RateLimiter {
            inner: governor::RateLimiter::dashmap_with_clock(quota(per_minute, burst), clock.clone()),
            clock,
            forgotten: Mutex::default(),
        }
    }

    /// `Ok` when `key` may go ahead now (and counts it), else the wait.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        if self.inner.len() > MAX_KEYS {
            self.inner.retain_recent();
        }
        let key = match self.forgotten.lock().map(|f| f.get(key).copied()) {
            Ok(Some(n)) => format!("{key}#{n}"),
            _ => key.to_owned(),
        };
        self.inner.check_key(&key).map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Starts `key` afresh, with its full burst.
    pub fn forget(&self, key: &str) {
        if let Ok(mut f) = self.forgotten.lock() {
            if f.len() > MAX_KEYS {
                // Forgiven more than a minute ago, all of them recovered anyway.
                f.clear();
            }
            *f.entry(key.to_owned()).or_default() += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use governor::clock::FakeRelativeClock;

    use super::*;

    #[test]
    fn a_burst_passes_then_requests_wait_for_the_sustained_rate() {
        let clock = FakeRelativeClock::default();
        let limiter = RateLimiter::with_clock(60, 3, clock.clone()); // one a second, three at once
        for _ in 0..3 {
            assert!(limiter.check("a").is_ok());
        }
        let wait = limiter.check("a").unwrap_err();
        assert!(wait > Duration::from_millis(900) && wait <= Duration::from_secs(1), "{wait:?}");
        // Other keys are not affected.
        assert!(limiter.check("b").is_ok());
        // One interval later, one more.
        clock.advance(Duration::from_secs(1));
        assert!(limiter.check("a").is_ok());
        assert!(limiter.check("a").is_err());
        // After a long quiet spell the full burst is back.
        clock.advance(Duration::from_secs(60));
        for _ in 0..3 {
            assert!(limiter.check("a").is_ok());
        }
        assert!(limiter.check("a").is_err());
    }

    #[test]
    fn a_forgotten_key_has_its_full_burst_again_and_others_keep_their_count() {
        let limiter = RateLimiter::with_clock(60, 2, FakeRelativeClock::default());
        for key in ["a", "b"] {
            assert!(limiter.check(key).is_ok() && limiter.check(key).is_ok());
            assert!(limiter.check(key).is_err());
        }
        limiter.forget("a");
        assert!(limiter.check("a").is_ok() && limiter.check("a").is_ok());
        assert!(limiter.check("a").is_err(), "then counted again");
        assert!(limiter.check("b").is_err(), "b was not forgiven");
        limiter.forget("a");
        assert!(limiter.check("a").is_ok(), "forgotten a second time");
    }
}
