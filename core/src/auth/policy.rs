//! Who may do what: the one table of the desk's permissions. A check in the domain
//! names an [`Action`] (`who.require(Action::WorkTickets)?`); nothing else compares
//! roles to decide what a person may do.

use super::principal::{Principal, Role};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read and change any ticket of the organisation: its internal notes, history,
    /// requester, counts, locks, presence, links and merges. (A customer reaches
    /// only their own tickets, through the tickets' own scope rules.)
    WorkTickets,
    /// The whole knowledge base: drafts and internal articles, the search over it and
    /// solved tickets, writing, previewing and publishing articles.
    UseKnowledge,
    /// The AI on tickets: triage and its feedback, suggested articles, draft replies,
    /// the copilot.
    UseAi,
    /// See how the desk is set up and doing: its people, groups, service levels,
    /// SLA previews and the dashboard.
    SeeDesk,
    /// Add, invite, change and deactivate people, unlock them, end their sessions.
    ManagePeople,
    /// Change how the desk works: groups, service levels, the service catalog,
    /// security (sign-in rules, the IP allowlist, the audit log) and the AI (its
    /// settings, training, the language model and its log, reply statistics).
    Configure,
    /// Read the organisation's background jobs, retry and cancel them.
    OperateJobs,
}

impl Action {
    /// Whether `role` may do this.
    pub fn allowed(self, role: Role) -> bool {
        match self {
            Action::WorkTickets | Action::UseKnowledge | Action::UseAi | Action::SeeDesk => role.is_staff(),
            Action::ManagePeople | Action::Configure | Action::OperateJobs => role == Role::Admin,
        }
    }

    /// What the refusal says.
    fn refusal(self) -> &'static str {
        if self.allowed(Role::Agent) { "agents and admins only" } else { "admins only" }
    }
}

impl Principal {
    pub fn may(&self, action: Action) -> bool {
        action.allowed(self.role)
    }

    /// `Forbidden` unless this person may do `action`.
    pub fn require(&self, action: Action) -> Result<()> {
        if self.may(action) { Ok(()) } else { Err(Error::Forbidden(action.refusal())) }
    }

    /// The jobs this person may see and act on, as the queue's admin queries take it:
    /// an admin, their organisation's (`None`, every organisation's, is the operator's
    /// CLI on the server itself).
    pub fn job_scope(&self) -> Result<Option<i64>> {
        self.require(Action::OperateJobs)?;
        Ok(Some(self.org_id.get()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Action; 7] = [
        Action::WorkTickets,
        Action::UseKnowledge,
        Action::UseAi,
        Action::SeeDesk,
        Action::ManagePeople,
        Action::Configure,
        Action::OperateJobs,
    ];

    #[test]
    fn an_admin_may_do_everything_and_a_customer_nothing_staff_only() {
        for a in ALL {
            assert!(a.allowed(Role::Admin), "{a:?}");
            assert!(!a.allowed(Role::Customer), "{a:?}");
        }
    }

    #[test]
    fn an_agent_works_tickets_knowledge_and_ai_but_does_not_administer() {
        let agent: Vec<_> = ALL.into_iter().filter(|a| a.allowed(Role::Agent)).collect();
        assert_eq!(agent, [Action::WorkTickets, Action::UseKnowledge, Action::UseAi, Action::SeeDesk]);
        assert_eq!(Action::Configure.refusal(), "admins only");
        assert_eq!(Action::WorkTickets.refusal(), "agents and admins only");
    }
}
