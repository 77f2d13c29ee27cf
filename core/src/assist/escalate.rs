//! Sentiment-triggered escalation: after triage reads a customer's message, the
//! organisation's rules ([`crate::settings::EscalationRule`]) look at the tone of the
//! customer's latest messages; a rule whose run of negative messages is long enough
//! raises the priority, moves the ticket to a group or notifies people — as the AI
//! actor, in the ticket's history.
//!
//! Never a loop: a rule fires once per ticket until a person (an agent or an admin)
//! acts on the ticket after it. The AI's own changes are not a person acting.

use deadpool_postgres::GenericClient;
use serde_json::json;

use crate::named::Named as _;
use crate::{
    actor::Actor,
    error::Result,
    ids::{OrgId, TicketId},
    notifications::{self, Responsible},
    settings::{self, EscalationAction},
    tickets::{
        Priority, Status,
        events::{Event, Kind},
        write::AiChange,
    },
};

/// Records the tone of one customer message (`comment_id` 0: what they wrote when
/// filing), then applies the rules that it sets off. One transaction.
pub(super) async fn after_message(
    tx: &impl GenericClient,
    org_id: OrgId,
    ticket_id: TicketId,
    comment_id: i64,
    score: f32,
) -> Result<()> {
    tx.execute(
        "INSERT INTO ticket_message_sentiment (org_id, ticket_id, comment_id, score)
         SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM tickets WHERE org_id = $1 AND id = $2)
         ON CONFLICT (org_id, ticket_id, comment_id) DO UPDATE SET score = excluded.score",
        &[&org_id, &ticket_id, &comment_id, &score.clamp(-1.0, 1.0)],
    )
    .await?;
    let rules = settings::of_org(tx, org_id).await?.ai.escalation;
    if rules.is_empty() {
        return Ok(());
    }
    let Some(ticket) = tx
        .query_opt(
            "SELECT status, priority, group_id, assignee_id FROM tickets WHERE org_id = $1 AND id = $2 FOR UPDATE",
            &[&org_id, &ticket_id],
        )
        .await?
    else {
        return Ok(());
    };
    if matches!(Status::parse(ticket.get(0)), Some(Status::Solved | Status::Closed)) {
        return Ok(());
    }
    let priority = Priority::parse(ticket.get(1)).unwrap_or(Priority::Normal);
    let (group_id, assignee_id): (Option<i64>, Option<crate::ids::UserId>) = (ticket.get(2), ticket.get(3));
    // The newest first: the run of negative messages ends with this one.
    let scores: Vec<f32> = tx
        .query(
            "SELECT score FROM ticket_message_sentiment WHERE org_id = $1 AND ticket_id = $2
              ORDER BY comment_id DESC LIMIT 10",
            &[&org_id, &ticket_id],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut change = AiChange::default();
    let mut raised = priority;
    for rule in &rules {
        let n = rule.consecutive as usize;
        if scores.len() < n || !scores[..n].iter().all(|&s| f64::from(s) <= rule.threshold) {
            continue;
        }
        if fired_since_a_person_acted(tx, org_id, ticket_id, &rule.name).await? {
            continue;
        }
        match rule.action {
            EscalationAction::RaisePriority => {
                raised = raise(raised);
                if raised != priority {
                    change.priority = Some(raised);
                }
            }
            EscalationAction::MoveToGroup => {
                if rule.group_id != group_id {
                    change.group_id = rule.group_id;
                }
            }
            EscalationAction::Notify => {
                // The rule's group, when it names one, stands for the ticket's.
                let to = Responsible { assignee_id, group_id: rule.group_id.or(group_id) };
                let body = json!({ "rule": rule.name });
                notifications::notify(tx, org_id, ticket_id, "ai_escalation", &body, &to).await?;
            }
        }
        let run = &scores[..n];
        tx.execute(
            "INSERT INTO ticket_escalations (org_id, ticket_id, rule, action, comment_id, scores)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[&org_id, &ticket_id, &rule.name, &<&'static str>::from(rule.action), &comment_id, &run],
        )
        .await?;
        let event = Event::by_system(Actor::Ai, org_id, ticket_id, Kind::Escalated).after(json!({
            "rule": rule.name, "action": <&'static str>::from(rule.action), "scores": run,
        }));
        crate::tickets::write::record(tx, event).await?;
    }
    if !change.is_empty() {
        crate::sla::follow::apply_ai(tx, org_id, ticket_id, &change).await?;
    }
    Ok(())
}

/// One step up; urgent stays urgent.
fn raise(p: Priority) -> Priority {
    match p {
        Priority::Low => Priority::Normal,
        Priority::Normal => Priority::High,
        Priority::High | Priority::Urgent => Priority::Urgent,
    }
}

/// Whether `rule` fired on the ticket after the last thing a person (an agent or an
/// admin; not the customer, not the AI) did on it.
async fn fired_since_a_person_acted(
    tx: &impl GenericClient,
    org_id: OrgId,
    ticket_id: TicketId,
    rule: &str,
) -> Result<bool> {
    Ok(tx
        .query_one(
            "SELECT EXISTS (
                 SELECT 1 FROM ticket_escalations x
                  WHERE x.org_id = $1 AND x.ticket_id = $2 AND x.rule = $3
                    AND x.created_at >= coalesce((
                        SELECT max(e.created_at) FROM ticket_events e
                          JOIN users u ON u.org_id = e.org_id AND u.id = e.actor_id
                         WHERE e.org_id = $1 AND e.ticket_id = $2 AND e.actor_kind = 'user'
                           AND u.role IN ('agent', 'admin')), '-infinity'))",
            &[&org_id, &ticket_id, &rule],
        )
        .await?
        .get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raising_a_priority_goes_one_step_and_stops_at_urgent() {
        assert_eq!(raise(Priority::Low), Priority::Normal);
        assert_eq!(raise(Priority::Normal), Priority::High);
        assert_eq!(raise(Priority::Urgent), Priority::Urgent);
    }
}
