//! The copilot's tools: a fixed allowlist, read-only, each with checked arguments and
//! capped results. The organisation and the agent's rights come from the session
//! (`Principal`), never from a plan or a model; every tool runs in the run's
//! read-only transaction.
//!
//! Every passage a tool returns says where its text comes from (`provenance`):
//! `kb` (an article), `solved_ticket` (an agent's reply that solved a ticket),
//! `system` (facts this desk states: SLA clocks, ticket history) or `customer`
//! (anything a customer wrote). Answers never quote `customer` passages.

use crate::auth::policy::Action;
use crate::ids::TicketId;
use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{
    assist::{citation::content_hash, retrieve},
    auth::Principal,
    error::{Error, FieldErrors, Result},
    models::Models,
    retrieval::chunk,
};
use atum_runtime::db::DbPool;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Tool {
    SearchKb,
    GetTicket,
    SimilarResolvedTickets,
    GetSlaStatus,
    CustomerHistory,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Provenance {
    Kb,
    SolvedTicket,
    System,
    Customer,
}

/// A passage a tool returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Passage {
    /// Stable across runs: `chunk:12`, `sla:ticket:5`, `history:ticket:5`, `ticket:5`.
    pub source_id: String,
    /// `article`, `ticket`, `sla` or `history`, and the article's or ticket's id.
    pub source: String,
    pub id: i64,
    pub title: String,
    pub provenance: Provenance,
    pub text: String,
    /// SHA-256 (hex) of `text`.
    pub content_hash: String,
}

impl Passage {
    fn new(source_id: String, source: &str, id: i64, title: String, provenance: Provenance, text: String) -> Passage {
        // What a customer wrote loses the characters that render as nothing (the usual
        // carriers of hidden instructions) before anything reads it.
        let text = match provenance {
            Provenance::Customer => crate::llm::prompt::visible(&text),
            _ => text,
        };
        let content_hash = content_hash(&text);
        Passage { source_id, source: source.into(), id, title, provenance, text, content_hash }
    }
}

/// A call's result: what it found (for the trace), and its passages.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Output {
    pub result: Value,
    pub passages: Vec<Passage>,
}

/// The most a tool returns of one passage, and of passages.
const MAX_PASSAGE_CHARS: usize = 4_000;
const MAX_LIMIT: i64 = 10;

fn capped(text: &str) -> String {
    text.chars().take(MAX_PASSAGE_CHARS).collect()
}

/// The checked arguments of a call.
#[derive(Debug, Clone, PartialEq)]
pub enum Args {
    SearchKb { query: String, limit: i64 },
    Ticket { ticket_id: TicketId },
    TicketLimit { ticket_id: TicketId, limit: i64 },
}

/// Checks `arguments` against the tool's schema: the named fields, of their types,
/// within their bounds, and nothing else.
pub fn check(tool: Tool, arguments: &Value) -> Result<Args> {
    let Some(map) = arguments.as_object() else { return Err(FieldErrors::single("arguments", "must be an object")) };
    let allowed: &[&str] = match tool {
        Tool::SearchKb => &["query", "limit"],
        Tool::GetTicket | Tool::GetSlaStatus => &["ticket_id"],
        Tool::SimilarResolvedTickets | Tool::CustomerHistory => &["ticket_id", "limit"],
    };
    if let Some(k) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(FieldErrors::single(&format!("arguments.{k}"), "is not an argument of this tool"));
    }
    let limit = |d: i64| match map.get("limit") {
        None => Ok(d),
        Some(v) => v
            .as_i64()
            .filter(|l| (1..=MAX_LIMIT).contains(l))
            .ok_or_else(|| FieldErrors::single("arguments.limit", format!("must be from 1 to {MAX_LIMIT}"))),
    };
    let ticket = || {
        map.get("ticket_id")
            .and_then(Value::as_i64)
            .filter(|t| *t > 0)
            .map(TicketId)
            .ok_or_else(|| FieldErrors::single("arguments.ticket_id", "must be a ticket id"))
    };
    Ok(match tool {
        Tool::SearchKb => {
            let query = map
                .get("query")
                .and_then(Value::as_str)
                .filter(|q| !q.trim().is_empty() && q.chars().count() <= crate::retrieval::search::MAX_QUERY)
                .ok_or_else(|| FieldErrors::single("arguments.query", "must be 1 to 500 characters"))?;
            Args::SearchKb { query: query.to_owned(), limit: limit(5)? }
        }
        Tool::GetTicket | Tool::GetSlaStatus => Args::Ticket { ticket_id: ticket()? },
        Tool::SimilarResolvedTickets => Args::TicketLimit { ticket_id: ticket()?, limit: limit(3)? },
        Tool::CustomerHistory => Args::TicketLimit { ticket_id: ticket()?, limit: limit(10)? },
    })
}

/// Runs a checked call as `who`, in the read-only transaction `db`.
pub async fn call(
    db: &impl GenericClient,
    pool: &DbPool,
    models: &dyn Models,
    who: &Principal,
    tool: Tool,
    args: &Args,
) -> Result<Output> {
    match (tool, args) {
        (Tool::GetTicket, Args::Ticket { ticket_id }) => get_ticket(db, who, *ticket_id).await,
        (Tool::SearchKb, Args::SearchKb { query, limit }) => search_kb(db, pool, models, who, query, *limit).await,
        (Tool::SimilarResolvedTickets, Args::TicketLimit { ticket_id, limit }) => {
            similar_resolved(db, pool, models, who, *ticket_id, *limit).await
        }
        (Tool::GetSlaStatus, Args::Ticket { ticket_id }) => sla_status(db, who, *ticket_id).await,
        (Tool::CustomerHistory, Args::TicketLimit { ticket_id, limit }) => history(db, who, *ticket_id, *limit).await,
        _ => Err(Error::Internal("a tool was called with another tool's arguments".into())),
    }
}

async fn get_ticket(db: &impl GenericClient, who: &Principal, id: TicketId) -> Result<Output> {
    let t = crate::tickets::get(db, who, id).await?;
    let mut result = json!({
        "id": t.id, "status": t.status, "priority": t.priority, "category": t.category, "tags": t.tags,
        "assignee_id": t.assignee_id, "group_id": t.group_id, "created_at": t.created_at,
    });
    let mut passages = vec![Passage::new(
        format!("ticket:{id}"),
        "ticket",
        id.0,
        t.subject.clone(),
        Provenance::Customer,
        capped(&format!("{}\n\n{}", t.subject, t.description)),
    )];
    let comments = db
        .query(
            "SELECT c.id, c.body FROM ticket_comments c
              WHERE c.org_id = $1 AND c.ticket_id = $2 AND c.author_id = $3 AND c.visibility = 'public'
              ORDER BY c.created_at DESC, c.id DESC LIMIT 5",
            &[&who.org_id, &id, &t.requester_id],
        )
        .await?;
    for c in comments {
        let cid: i64 = c.get(0);
        passages.push(Passage::new(
            format!("comment:{cid}"),
            "ticket",
            id.0,
            t.subject.clone(),
            Provenance::Customer,
            capped(c.get(1)),
        ));
    }
    // Phrases that read as orders to a model: in the trace and the log, trusted by nothing.
    let signs: Vec<&str> = passages.iter().flat_map(|p| crate::llm::prompt::injection_signs(&p.text)).collect();
    if !signs.is_empty() {
        tracing::warn!(
            org = who.org_id.0,
            ticket = id.0,
            ?signs,
            "the ticket's text reads like instructions to a model"
        );
    }
    result["injection_signs"] = json!(signs);
    Ok(Output { result, passages })
}

/// The ticket's text as a search query: data to match, never instructions.
pub fn query_of(t: &crate::tickets::Ticket) -> String {
    let q = crate::llm::prompt::visible(&format!("{}\n\n{}", t.subject, t.description)).replace('\0', " ");
    q.chars().take(crate::retrieval::search::MAX_QUERY).collect::<String>().trim().to_owned()
}

/// [`query_of`] the ticket `id`, as `who` may see it.
pub async fn ticket_query(db: &impl GenericClient, who: &Principal, id: TicketId) -> Result<String> {
    Ok(query_of(&crate::tickets::get(db, who, id).await?))
}

async fn search_kb(
    db: &impl GenericClient,
    pool: &DbPool,
    models: &dyn Models,
    who: &Principal,
    query: &str,
    limit: i64,
) -> Result<Output> {
    who.require(Action::UseAi)?;
    let hits = retrieve::passages(db, pool, models, who.org_id, query, 20).await?;
    let hits: Vec<_> = hits.into_iter().filter(|h| h.source == "article").take(limit as usize).collect();
    let ids: Vec<i64> = hits.iter().map(|h| h.chunk_id).collect();
    let rows =
        db.query("SELECT id, body FROM kb_chunks WHERE org_id = $1 AND id = ANY($2)", &[&who.org_id, &ids]).await?;
    let mut passages = Vec::new();
    for h in &hits {
        let Some(r) = rows.iter().find(|r| r.get::<_, i64>(0) == h.chunk_id) else { continue };
        passages.push(Passage::new(
            format!("chunk:{}", h.chunk_id),
            "article",
            h.id,
            h.title.clone(),
            Provenance::Kb,
            capped(r.get(1)),
        ));
    }
    let result = json!(
        hits.iter()
            .map(|h| json!({"article_id": h.id, "chunk_id": h.chunk_id, "title": h.title, "visibility": h.visibility}))
            .collect::<Vec<_>>()
    );
    Ok(Output { result, passages })
}

async fn similar_resolved(
    db: &impl GenericClient,
    pool: &DbPool,
    models: &dyn Models,
    who: &Principal,
    ticket_id: TicketId,
    limit: i64,
) -> Result<Output> {
    who.require(Action::UseAi)?;
    let query = ticket_query(db, who, ticket_id).await?;
    let hits = retrieve::passages(db, pool, models, who.org_id, &query, 20).await?;
    let hits: Vec<_> =
        hits.into_iter().filter(|h| h.source == "ticket" && h.id != ticket_id).take(limit as usize).collect();
    let ids: Vec<i64> = hits.iter().map(|h| h.chunk_id).collect();
    let rows = db
        .query(
            "SELECT k.id, k.body, t.description FROM kb_chunks k
               JOIN tickets t ON t.org_id = k.org_id AND t.id = k.source_id
              WHERE k.org_id = $1 AND k.id = ANY($2) AND k.source = 'ticket'",
            &[&who.org_id, &ids],
        )
        .await?;
    let mut passages = Vec::new();
    for h in &hits {
        let Some(r) = rows.iter().find(|r| r.get::<_, i64>(0) == h.chunk_id) else { continue };
        let (body, description): (String, String) = (r.get(1), r.get(2));
        // The passage opens with that ticket's customer's words: only the reply is ours.
        let reply = body.get(chunk::ticket_reply_start(&description, &body)..).unwrap_or_default().trim();
        if reply.is_empty() {
            continue;
        }
        passages.push(Passage::new(
            format!("chunk:{}:reply", h.chunk_id),
            "ticket",
            h.id,
            format!("#{}", h.id),
            Provenance::SolvedTicket,
            capped(reply),
        ));
    }
    let result = json!(hits.iter().map(|h| json!({"ticket_id": h.id, "chunk_id": h.chunk_id})).collect::<Vec<_>>());
    Ok(Output { result, passages })
}

fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn minutes(m: i64) -> String {
    let m = m.abs();
    match (m / 60, m % 60) {
        (0, m) => format!("{m} minutes"),
        (h, 0) => format!("{h} hours"),
        (h, m) => format!("{h} hours {m} minutes"),
    }
}

async fn sla_status(db: &impl GenericClient, who: &Principal, ticket_id: TicketId) -> Result<Output> {
    let sla = crate::sla::refresh::for_ticket(db, who, ticket_id).await?;
    let mut sentences = Vec::new();
    match &sla.policy {
        None => sentences.push(format!("No SLA policy applies to ticket #{ticket_id}, so no SLA clock runs for it.")),
        Some(p) => sentences.push(format!("Ticket #{ticket_id} is under the SLA policy \"{}\".", p.name)),
    }
    for c in &sla.clocks {
        let name = c.clock.replace('_', " ");
        let s = match (c.state, c.due_at, c.met_at) {
            ("met", _, Some(at)) => format!("The {name} target was met at {}.", when(at)),
            ("stopped", _, _) => format!("The {name} clock stopped: the ticket was solved before it was met."),
            (_, Some(due), _) if c.breached => {
                format!(
                    "The {name} target was due at {} and is breached by {}.",
                    when(due),
                    minutes(c.remaining_minutes)
                )
            }
            (_, Some(_), _) if c.paused => {
                format!("The {name} clock is paused; {} remain before its target.", minutes(c.remaining_minutes))
            }
            (_, Some(due), _) => {
                format!("The {name} target is due at {}, in {}.", when(due), minutes(c.remaining_minutes))
            }
            _ => format!("The {name} clock is {}.", c.state),
        };
        sentences.push(s);
    }
    let result = serde_json::to_value(&sla).map_err(|e| Error::Internal(e.to_string()))?;
    let passage = Passage::new(
        format!("sla:ticket:{ticket_id}"),
        "sla",
        ticket_id.0,
        format!("SLA of #{ticket_id}"),
        Provenance::System,
        sentences.join(" "),
    );
    Ok(Output { result, passages: vec![passage] })
}

async fn history(db: &impl GenericClient, who: &Principal, ticket_id: TicketId, limit: i64) -> Result<Output> {
    who.require(Action::UseAi)?;
    let t = crate::tickets::get(db, who, ticket_id).await?;
    let rows = db
        .query(
            "SELECT id, status, category, created_at, solved_at FROM tickets
              WHERE org_id = $1 AND requester_id = $2 AND id <> $3 ORDER BY created_at DESC LIMIT $4",
            &[&who.org_id, &t.requester_id, &ticket_id, &limit],
        )
        .await?;
    let total: i64 = db
        .query_one(
            "SELECT count(*) FROM tickets WHERE org_id = $1 AND requester_id = $2 AND id <> $3",
            &[&who.org_id, &t.requester_id, &ticket_id],
        )
        .await?
        .get(0);
    // Facts only, in our words: another ticket's subject is the customer's text.
    let mut sentences = vec![match total {
        0 => "This customer has filed no other ticket.".to_owned(),
        1 => "This customer has filed 1 other ticket.".to_owned(),
        n => format!("This customer has filed {n} other tickets."),
    }];
    let mut same_category = 0;
    for r in &rows {
        let (id, status, category, created): (i64, String, Option<String>, chrono::DateTime<chrono::Utc>) =
            (r.get(0), r.get(1), r.get(2), r.get(3));
        if category.is_some() && category == t.category {
            same_category += 1;
        }
        let category = category.map(|c| format!(", in category \"{c}\"")).unwrap_or_default();
        sentences.push(format!(
            "Ticket #{id} was filed on {}{category} and is {}.",
            created.format("%Y-%m-%d"),
            status.replace('_', " ")
        ));
    }
    if let Some(c) = &t.category
        && total > 0
    {
        sentences.push(format!("{same_category} of the {} shown are in this ticket's category \"{c}\".", rows.len()));
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    let passage = Passage::new(
        format!("history:ticket:{ticket_id}"),
        "history",
        ticket_id.0,
        format!("Other tickets of #{ticket_id}'s customer"),
        Provenance::System,
        sentences.join(" "),
    );
    Ok(Output { result: json!({ "other_tickets": total, "ticket_ids": ids }), passages: vec![passage] })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_checked_against_each_tools_schema() {
        assert_eq!(check(Tool::GetTicket, &json!({"ticket_id": 5})).unwrap(), Args::Ticket { ticket_id: TicketId(5) });
        assert_eq!(
            check(Tool::SearchKb, &json!({"query": "vpn"})).unwrap(),
            Args::SearchKb { query: "vpn".into(), limit: 5 }
        );
        assert!(check(Tool::GetTicket, &json!({"ticket_id": 5, "org_id": 2})).is_err(), "no organisation from a plan");
        assert!(check(Tool::GetTicket, &json!({"ticket_id": "5"})).is_err());
        assert!(check(Tool::CustomerHistory, &json!({"ticket_id": 5, "limit": 1000})).is_err());
        assert!(check(Tool::SearchKb, &json!({"query": " "})).is_err());
        assert!(check(Tool::SearchKb, &json!([1])).is_err());
    }
}
