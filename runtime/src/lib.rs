//! atum-runtime: what every ATUM Desk binary runs inside, and nothing of the help desk.
//!
//! [`launch`] is the whole of a binary's `main`. Around it: the typed configuration
//! ([`config`]), the database pool ([`db`]), logging ([`telemetry`]), the Prometheus
//! registry ([`metrics`]), the LISTEN/NOTIFY listener that wakes a main loop
//! ([`listener`]), signals and the systemd protocol. The domain (`atum-core`) and the
//! job engine (`atum-queue`) build on it; it imports neither.

pub mod backoff;
pub mod config;
pub mod db;
mod lifecycle;
pub mod listener;
pub mod metrics;
pub mod signals;
pub mod systemd;
pub mod telemetry;

pub use lifecycle::{BoxError, Context, EXIT_CONFIG, SchemaCheck, drain, launch, serve};
pub use metrics::Metrics;
pub use systemd::Progress;
