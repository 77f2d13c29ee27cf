//! Who did something: a signed-in person, or which part of the system. The ticket
//! journal and the security audit log both store it (`actor_kind`, plus `actor_id`
//! for a person), so a history reads "the SLA worker escalated this", not "nobody".

use serde::Serialize;

use crate::ids::UserId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// A person with a session (or, in the audit log, the person an unauthenticated
    /// step such as a sign-in was about).
    User(UserId),
    /// The SLA worker: warnings, breaches and escalations.
    SlaWorker,
    /// A background job.
    Job,
    /// The API's periodic housekeeping (expired sign-ups).
    Housekeeping,
    /// The operator, through the `atum` CLI on the server.
    Operator,
    /// A request without a session: a sign-in attempt, a reset or a sign-up.
    Anonymous,
    /// Auto-triage and the AI's other changes to a ticket, each undoable.
    Ai,
}

/// The stored and serialised name of an [`Actor`]'s kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::IntoStaticStr, strum::EnumString, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ActorKind {
    User,
    SlaWorker,
    Job,
    Housekeeping,
    Operator,
    Anonymous,
    Ai,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// An `actor_kind` column's value. The columns' CHECK lists exactly these kinds,
    /// so anything else cannot be read; it would be shown as anonymous.
    pub fn from_column(value: &str) -> ActorKind {
        value.parse().unwrap_or(ActorKind::Anonymous)
    }
}

impl Actor {
    pub fn kind(self) -> ActorKind {
        match self {
            Actor::User(_) => ActorKind::User,
            Actor::SlaWorker => ActorKind::SlaWorker,
            Actor::Job => ActorKind::Job,
            Actor::Housekeeping => ActorKind::Housekeeping,
            Actor::Operator => ActorKind::Operator,
            Actor::Anonymous => ActorKind::Anonymous,
            Actor::Ai => ActorKind::Ai,
        }
    }

    pub fn user_id(self) -> Option<UserId> {
        match self {
            Actor::User(id) => Some(id),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_person_carries_a_user_id() {
        assert_eq!(Actor::User(UserId(3)).user_id(), Some(UserId(3)));
        assert_eq!(Actor::User(UserId(3)).kind().as_str(), "user");
        assert_eq!(Actor::SlaWorker.user_id(), None);
        assert_eq!(Actor::SlaWorker.kind().as_str(), "sla_worker");
        assert_eq!("housekeeping".parse::<ActorKind>().unwrap(), ActorKind::Housekeeping);
    }
}
