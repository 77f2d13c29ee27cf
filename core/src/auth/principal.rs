//! Who is making a request. Always built from a session, never from client input.

use crate::ids::{OrgId, UserId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Agent,
    Customer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Agent => "agent",
            Role::Customer => "customer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "agent" => Some(Role::Agent),
            "customer" => Some(Role::Customer),
            _ => None,
        }
    }

    /// Admins and agents work tickets; customers only see their own.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Admin | Role::Agent)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    pub session_id: i64,
    pub user_id: UserId,
    pub org_id: OrgId,
    pub role: Role,
    /// The org requires two-factor authentication and this user has none yet: the
    /// session may only enrol (and read who it is, and sign out).
    pub must_enrol_mfa: bool,
}

/// What a person with a session did is theirs.
impl From<&Principal> for crate::actor::Actor {
    fn from(who: &Principal) -> Self {
        crate::actor::Actor::User(who.user_id)
    }
}
