//! systemd integration: readiness, stopping and a watchdog that only pings while the
//! binary's main loop makes progress.
//!
//! All of it is a no-op when `NOTIFY_SOCKET` is unset (not under systemd). The watchdog
//! does not ping from a timer alone: a process whose main loop is wedged (or whose
//! database has been unreachable for longer than `WatchdogSec=`) stops pinging, so
//! systemd restarts it.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use sd_notify::NotifyState;
use tokio_util::sync::CancellationToken;

pub fn ready() {
    notify(&[NotifyState::Ready]);
}

pub fn stopping() {
    notify(&[NotifyState::Stopping]);
}

pub fn status(text: &str) {
    notify(&[NotifyState::Status(text)]);
}

fn notify(state: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(false, state) {
        tracing::warn!(error = %e, "cannot notify systemd");
    }
}

/// The watchdog interval systemd asked for (`WATCHDOG_USEC`), if any.
///
/// Read as libsystemd's `sd_watchdog_enabled` does: `WATCHDOG_PID`, when present, must
/// name this process; when absent the watchdog is ours. (The sd-notify crate insists
/// on the PID, which a supervisor that execs us cannot know in advance.)
pub fn watchdog_limit() -> Option<Duration> {
    parse_watchdog(std::env::var("WATCHDOG_USEC").ok().as_deref(), std::env::var("WATCHDOG_PID").ok().as_deref())
}

fn parse_watchdog(usec: Option<&str>, pid: Option<&str>) -> Option<Duration> {
    let usec: u64 = usec?.trim().parse().ok().filter(|u| *u > 0)?;
    match pid.map(|p| p.trim().parse::<u32>()) {
        Some(Ok(pid)) if pid != std::process::id() => None,
        Some(Err(_)) => None,
        _ => Some(Duration::from_micros(usec)),
    }
}

/// When the main loop last made progress. Cheap to clone and to tick from any task.
#[derive(Clone, Debug)]
pub struct Progress {
    origin: Instant,
    last_ms: Arc<AtomicU64>,
}

impl Default for Progress {
    fn default() -> Self {
        Progress { origin: Instant::now(), last_ms: Arc::new(AtomicU64::new(0)) }
    }
}

impl Progress {
    pub fn tick(&self) {
        self.last_ms.store(self.origin.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    pub fn since_last(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.origin.elapsed().saturating_sub(last)
    }

    /// Whether the loop has made progress within `limit`.
    pub fn is_alive(&self, limit: Duration) -> bool {
        self.since_last() < limit
    }
}

/// Pings `WATCHDOG=1` every third of `limit` while `progress` is fresher than `limit`;
/// ends when `stop` is cancelled (shutdown is governed by `TimeoutStopSec=` instead).
pub async fn run_watchdog(limit: Duration, progress: Progress, stop: CancellationToken) {
    let mut interval = tokio::time::interval(limit / 3);
    let mut withheld = false;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = interval.tick() => {}
        }
        if progress.is_alive(limit) {
            if withheld {
                tracing::info!("main loop is making progress again; resuming watchdog pings");
                withheld = false;
            }
            notify(&[NotifyState::Watchdog]);
        } else if !withheld {
            tracing::error!(
                stalled_ms = progress.since_last().as_millis() as u64,
                "main loop has made no progress within the watchdog interval; withholding pings so systemd restarts us"
            );
            withheld = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watchdog_is_ours_unless_another_pid_is_named() {
        let me = std::process::id().to_string();
        assert_eq!(parse_watchdog(Some("2000000"), None), Some(Duration::from_secs(2)));
        assert_eq!(parse_watchdog(Some("2000000"), Some(&me)), Some(Duration::from_secs(2)));
        assert_eq!(parse_watchdog(Some("2000000"), Some("1")), None);
        assert_eq!(parse_watchdog(Some("2000000"), Some("x")), None);
        assert_eq!(parse_watchdog(Some("0"), None), None);
        assert_eq!(parse_watchdog(None, None), None);
    }

    #[test]
    fn progress_is_alive_only_within_the_limit_after_a_tick() {
        let p = Progress::default();
        p.tick();
        assert!(p.is_alive(Duration::from_secs(5)));
        std::thread::sleep(Duration::from_millis(30));
        assert!(!p.is_alive(Duration::from_millis(20)));
        p.tick();
        assert!(p.is_alive(Duration::from_millis(20)));
    }
}
