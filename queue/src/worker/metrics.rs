//! What a worker reports on `/metrics`: attempts by kind and outcome, run and wait
//! times, queue depth, rescues and lost leases.

use atum_runtime::Metrics;
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct KindOutcome {
    pub(super) kind: String,
    pub(super) outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct KindLabel {
    pub(super) kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct QueueState {
    pub(super) queue: String,
    pub(super) state: String,
}

#[derive(Clone)]
pub(super) struct JobMetrics {
    pub(super) jobs: Family<KindOutcome, Counter>,
    pub(super) run_seconds: Family<KindLabel, Histogram>,
    pub(super) wait_seconds: Family<KindLabel, Histogram>,
    pub(super) depth: Family<QueueState, Gauge>,
    pub(super) rescued: Counter,
    pub(super) lost_leases: Counter,
}

impl JobMetrics {
    pub(super) fn register(m: &Metrics) -> Self {
        let buckets = || Histogram::new([0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0, 600.0]);
        let jm = JobMetrics {
            jobs: Family::default(),
            run_seconds: Family::new_with_constructor(buckets),
            wait_seconds: Family::new_with_constructor(buckets),
            depth: Family::default(),
            rescued: Counter::default(),
            lost_leases: Counter::default(),
        };
        m.register("jobs", "Finished job attempts by kind and outcome", jm.jobs.clone());
        m.register("job_run_duration_seconds", "How long handlers ran", jm.run_seconds.clone());
        m.register("job_wait_seconds", "From runnable (enqueued or scheduled) to started", jm.wait_seconds.clone());
        m.register("job_queue_depth", "Jobs by queue and state", jm.depth.clone());
        m.register("job_rescues", "Jobs returned to the queue after their lease expired", jm.rescued.clone());
        m.register(
            "job_lost_leases",
            "Attempts whose result was dropped because the lease was lost",
            jm.lost_leases.clone(),
        );
        jm
    }
}
