//! Authentication and account security: passwords, sign-in with lockout and
//! throttling, TOTP two-factor, one-time email links, sessions, IP allowlists and the
//! security audit log.

pub mod allowlist;
pub mod audit;
pub mod email_tokens;
pub mod housekeeping;
pub mod lockout;
pub mod login;
pub mod password;
pub mod policy;
pub mod principal;
pub mod session;
pub mod totp;

pub use principal::{Principal, Role};
