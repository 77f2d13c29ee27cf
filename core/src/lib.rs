//! atum-core: what every ATUM Desk binary shares — configuration, the service
//! runtime, the database pool and schema, and (as they arrive) the domain modules.

pub mod actor;
pub mod assist;
pub mod auth;
pub mod catalog;
pub mod config;
pub mod copilot;
pub mod dashboard;
pub mod db;
pub mod demo;
pub mod desk;
pub mod error;
pub mod groups;
pub mod ids;
pub mod jobs;
pub mod kb;
pub mod llm;
pub mod mail;
pub mod model_files;
pub mod notifications;
pub mod orgs;
pub mod paging;
pub mod pg_cluster;
pub mod retrieval;
pub mod runtime;
pub mod schema;
pub mod settings;
pub mod sla;
pub mod telemetry;
pub mod text;
pub mod tickets;
pub mod users;
