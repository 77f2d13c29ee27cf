//! The API over real HTTP (bound to port 0) against a real database: one test
//! binary, a shared `helpers` module, tests named as sentences.

mod ai;
mod allowlist;
mod attachments;
mod auth;
mod catalog;
mod copilot;
mod dashboard;
mod deflection;
mod email;
mod errors;
mod events;
mod groups;
mod helpers;
mod hostile;
mod jobs;
mod kb;
mod llm;
mod lockout;
mod mfa;
mod nginx;
mod notifications;
mod observability;
mod openapi;
mod pagination;
mod people;
mod presence;
mod requester;
mod schemathesis;
mod sessions;
mod sla;
mod tenancy;
mod tickets;
mod users;
mod web_ui;
mod workflow;
