//! How a worker process runs its queues, read from the environment.

use std::time::Duration;

use atum_runtime::config::{ConfigError, Env};

/// How a worker process runs its queues.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub worker_id: String,
    /// (queue, concurrency)
    pub queues: Vec<(String, usize)>,
    pub lease: Duration,
    /// Claim even without a wake-up this often (the fallback when a NOTIFY is lost).
    pub poll_interval: Duration,
    pub retention: Duration,
    /// Most jobs claimed per query (1 turns batching off).
    pub claim_batch: usize,
    /// Jobs claimed ahead of a free slot and held locally (0: claim only what can run).
    pub prefetch: usize,
    /// Record successes in batches (fewer commits under load).
    pub batch_completions: bool,
}

impl WorkerConfig {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let invalid = |var: &str, reason: String| ConfigError::Invalid { var: var.into(), reason };
        // The AI's CPU-bound jobs get their own queue, and two of them at most at
        // once, so they never hold up mail or SLA work.
        let raw = env.get("ATUM_JOB_QUEUES").unwrap_or_else(|| "default:8,ai:2,llm:4".into());
        let mut queues = Vec::new();
        for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, n) = part.split_once(':').unwrap_or((part, "8"));
            let n: usize =
                n.parse().map_err(|_| invalid("ATUM_JOB_QUEUES", format!("{part:?}: concurrency is not a number")))?;
            let valid_name =
                !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !valid_name || !(1..=256).contains(&n) {
                return Err(invalid("ATUM_JOB_QUEUES", format!("{part:?}: expected name:concurrency, e.g. default:8")));
            }
            queues.push((name.to_owned(), n));
        }
        if queues.is_empty() {
            return Err(invalid("ATUM_JOB_QUEUES", "names no queue".into()));
        }
        // uname(2), not /proc/sys: the systemd units hide /proc's non-process files.
        let host = nix::unistd::gethostname().ok().and_then(|h| h.into_string().ok()).unwrap_or_default();
        Ok(WorkerConfig {
            worker_id: format!("{}:{}", host.trim(), std::process::id()),
            queues,
            lease: env.seconds_or("ATUM_JOB_LEASE_SECS", 30)?,
            poll_interval: env.seconds_or("ATUM_JOB_POLL_SECS", 2)?,
            retention: env.seconds_or("ATUM_JOB_RETENTION_SECS", 7 * 24 * 3600)?,
            claim_batch: match env.parse_or("ATUM_JOB_CLAIM_BATCH", 50usize, "a number of jobs")? {
                n @ 1..=1000 => n,
                _ => return Err(invalid("ATUM_JOB_CLAIM_BATCH", "must be from 1 to 1000".into())),
            },
            prefetch: match env.parse_or("ATUM_JOB_PREFETCH", 0usize, "a number of jobs")? {
                n @ 0..=1000 => n,
                _ => return Err(invalid("ATUM_JOB_PREFETCH", "must be from 0 to 1000".into())),
            },
            batch_completions: env.parse_or("ATUM_JOB_BATCH_COMPLETIONS", true, "true or false")?,
        })
    }
}
