//! The handlers, one file per resource, named as the `atum-core` module they call.

pub mod account;
pub mod ai;
pub mod auth;
pub mod catalog;
pub mod copilot;
pub mod dashboard;
pub mod events;
pub mod groups;
pub mod health;
pub mod jobs;
pub mod kb;
pub mod locks;
pub mod notifications;
pub mod presence;
pub mod relationships;
pub mod security;
pub mod settings;
pub mod sla;
pub mod tickets;
pub mod users;
