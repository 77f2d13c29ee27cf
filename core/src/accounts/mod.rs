//! What people do with their own accounts, and what admins set for their
//! organisation's account security: passwords, invitations and sign-up, verified
//! addresses, two-factor authentication, sessions, security settings and unlocking.
//!
//! It stands on `auth` (sessions, passwords, lockout, TOTP, the audit log), `users`
//! and `orgs`, and mails through the queue. Each change that makes other sessions
//! suspect revokes them: a password change or reset, enabling or disabling two-factor
//! authentication.

pub mod messages;
pub mod mfa;
pub mod password;
pub mod registration;
pub mod security;
pub mod sessions;
