//! Request plumbing every route shares.

pub mod client_ip;
pub mod conditional;
pub mod error;
pub mod json;
pub mod metrics;
pub mod origin;
pub mod rate_limit;
pub mod request_id;
