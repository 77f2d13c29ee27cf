//! atum-core: the help desk itself — the schema and every domain module (tickets,
//! SLAs, the knowledge base, account security, AI assistance, …). It stands on
//! `atum-runtime` (configuration, the pool, the service lifecycle).

pub mod accounts;
pub mod actor;
pub mod assist;
pub mod attachments;
pub mod auth;
pub mod catalog;
pub mod change;
pub mod copilot;
pub mod dashboard;
pub mod demo;
pub mod desk;
pub mod email;
pub mod error;
pub mod groups;
pub mod ids;
pub mod jobs;
pub mod kb;
pub mod llm;
pub mod mail;
pub mod mailer;
pub mod markdown;
pub mod model_files;
pub mod models;
pub mod named;
pub mod notifications;
pub mod orgs;
pub mod paging;
pub mod pg_cluster;
pub mod retrieval;
pub mod schema;
pub mod secret_key;
pub mod settings;
pub mod sla;
pub mod storage;
pub mod text;
pub mod tickets;
pub mod users;
