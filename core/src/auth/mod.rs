//! Authentication: passwords, logins, sessions and the request principal.

pub mod login;
pub mod password;
pub mod principal;
pub mod session;

pub use principal::{Principal, Role};
