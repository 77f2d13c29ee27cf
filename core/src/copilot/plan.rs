//! The deterministic planner: which tools a run calls, decided from the agent's
//! question alone — before any customer-written text is read, so nothing a customer
//! wrote can add a tool, drop one or change what it is asked.
//!
//! A cue ("how do", "before", "due") names an intent only in a question about the
//! ticket in front of the agent: one that refers to it, its customer or its clocks
//! ("this", "the customer", "them", "the SLA"). "How do I raise money for a startup?"
//! has a cue and no such reference, and plans nothing: the copilot refuses it before
//! any tool runs. [`super::scope`] then holds what the rules kept to the question as a
//! whole.

use serde::Serialize;
use serde_json::{Value, json};

use super::tools::Tool;

pub const PLANNER: &str = "rules-2";

/// What the agent asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// How to resolve the ticket: the knowledge base and similar solved tickets.
    Resolve,
    /// Whether the customer had this before: their other tickets.
    History,
    /// When the ticket's SLA is due or breaches.
    Sla,
}

/// A planned call: the tool and where its arguments come from. `"ticket"` binds the
/// run's ticket when the call is made; the plan itself holds no ticket text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Call {
    pub tool: Tool,
    pub arguments: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub intents: Vec<Intent>,
    pub calls: Vec<Call>,
}

const SLA: &[&str] = &[
    "sla",
    "breach",
    "due",
    "deadline",
    "overdue",
    "when",
    "how long",
    "how much time",
    "time left",
    "target",
    "late",
    "expire",
];
const HISTORY: &[&str] = &[
    "before",
    "again",
    "history",
    "previous",
    "earlier",
    "past",
    "other ticket",
    "repeat",
    "had this",
    "recurring",
    "last time",
    "already",
];
const RESOLVE: &[&str] = &[
    "how do",
    "how can",
    "how to",
    "how should",
    "how would",
    "resolve",
    "fix",
    "solve",
    "answer",
    "reply",
    "steps",
    "what should",
    "what do",
    "help",
    "workaround",
    "what can",
    "suggest",
    "recommend",
];

/// Words that tie a question to the ticket the copilot is asked about: it, its
/// customer, its conversation or its clocks.
const ABOUT_THE_TICKET: &[&str] = &[
    "this",
    "these",
    "it",
    "its",
    "here",
    "ticket",
    "tickets",
    "customer",
    "customers",
    "customer's",
    "client",
    "requester",
    "caller",
    "they",
    "them",
    "their",
    "he",
    "him",
    "his",
    "she",
    "her",
    "issue",
    "problem",
    "request",
    "case",
    "complaint",
    "sla",
    "reply",
    "respond",
    "response",
];

fn mentions(question: &str, words: &[&str]) -> bool {
    let q = format!(" {} ", question.to_lowercase().split_whitespace().collect::<Vec<_>>().join(" "));
    words.iter().any(|w| {
        q.match_indices(w).any(|(at, _)| {
            // A whole word or phrase: "due" is not "produce", "fix" is not "prefix".
            let before = q[..at].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
            let after = q[at + w.len()..].chars().next().is_none_or(|c| !c.is_alphanumeric());
            before && after
        })
    })
}

/// The plan for `question`: the ticket is read, then what each intent needs; a
/// question that is not about the ticket plans nothing.
pub fn plan(question: &str) -> Plan {
    let mut intents = Vec::new();
    if !mentions(question, ABOUT_THE_TICKET) {
        return for_intents(intents);
    }
    if mentions(question, RESOLVE) {
        intents.push(Intent::Resolve);
    }
    if mentions(question, HISTORY) {
        intents.push(Intent::History);
    }
    if mentions(question, SLA) {
        intents.push(Intent::Sla);
    }
    for_intents(intents)
}

/// The calls the intents need, the ticket read first; an intent named twice is one.
/// No intent, no call: not even the ticket is read for a question outside the scope.
pub fn for_intents(mut intents: Vec<Intent>) -> Plan {
    let mut seen = Vec::new();
    intents.retain(|i| {
        let new = !seen.contains(i);
        seen.push(*i);
        new
    });
    if intents.is_empty() {
        return Plan { intents, calls: Vec::new() };
    }
    let mut calls = vec![Call { tool: Tool::GetTicket, arguments: json!({ "ticket_id": "ticket" }) }];
    for intent in &intents {
        match intent {
            Intent::Resolve => {
                calls.push(Call { tool: Tool::SearchKb, arguments: json!({ "query": "ticket", "limit": 5 }) });
                calls.push(Call {
                    tool: Tool::SimilarResolvedTickets,
                    arguments: json!({ "ticket_id": "ticket", "limit": 3 }),
                });
            }
            Intent::History => calls
                .push(Call { tool: Tool::CustomerHistory, arguments: json!({ "ticket_id": "ticket", "limit": 10 }) }),
            Intent::Sla => calls.push(Call { tool: Tool::GetSlaStatus, arguments: json!({ "ticket_id": "ticket" }) }),
        }
    }
    Plan { intents, calls }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_question_gets_the_tools_its_intents_need_and_nothing_else() {
        assert_eq!(plan("How do I resolve this?").intents, [Intent::Resolve]);
        assert_eq!(plan("Has this customer had this before?").intents, [Intent::History]);
        assert_eq!(plan("When does this breach?").intents, [Intent::Sla]);
        assert_eq!(plan("How long until the SLA is due, and how do I fix it?").intents, [Intent::Resolve, Intent::Sla]);
        let p = plan("What is the weather in Lisbon?");
        assert!(p.intents.is_empty());
        assert!(p.calls.is_empty(), "nothing is read for a question outside the scope");
        assert!(plan("How do we produce a prefix for this?").intents == [Intent::Resolve], "words, not parts of words");
    }

    #[test]
    fn a_cue_in_a_question_that_is_not_about_the_ticket_plans_nothing() {
        for question in [
            "How do I raise money for a startup?",
            "What do I do if someone faints?",
            "When is the best time to fly to Japan?",
            "How can I install Debian from CD-ROMs?",
            "What is the deadline for filing taxes in Germany?",
        ] {
            let p = plan(question);
            assert!(p.intents.is_empty() && p.calls.is_empty(), "{question}: {p:?}");
        }
        assert_eq!(plan("When is the best time to reply to this customer?").intents, [Intent::Resolve, Intent::Sla]);
        assert_eq!(plan("Has she had this before?").intents, [Intent::History]);
    }
}
