//! Diagnostic job kinds: `NOOP` does nothing (benchmarks, smoke tests); `SLEEP` waits
//! and stops early when cancelled (chaos and shutdown tests, operators checking that
//! a worker drains).

use std::time::Duration;

use atum_core::jobs::JobContext;
use atum_queue::{Job, JobError};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Noop {}

impl Job for Noop {
    type Services = atum_core::jobs::Services;
    const KIND: &'static str = "NOOP";

    async fn run(self, _ctx: JobContext) -> Result<(), JobError> {
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sleep {
    pub ms: u64,
}

impl Job for Sleep {
    type Services = atum_core::jobs::Services;
    const KIND: &'static str = "SLEEP";

    async fn run(self, ctx: JobContext) -> Result<(), JobError> {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(self.ms.min(3_600_000))) => Ok(()),
            _ = ctx.cancelled() => Err(JobError::Cancelled),
        }
    }
}
