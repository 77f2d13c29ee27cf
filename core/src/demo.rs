//! The demo organisation `atum up` seeds: an admin, two agents, six customers and 300
//! tickets with replies and history, derived from the Bitext customer-support sample
//! (`seed/demo-tickets.csv`, CDLA-Sharing-1.0, see `seed/NOTICE`).
//!
//! Seeding is one transaction and happens once: when the `demo` organisation exists
//! it does nothing. Passwords are random and returned to the caller, never logged.

use atum_runtime::db::Connection;
use chrono::{DateTime, Duration, Utc};
use rand::{RngExt, distr::Alphanumeric};
use serde_json::json;

use crate::{
    actor::Actor,
    auth::password,
    ids::{OrgId, UserId},
    tickets::events::{self, Announce, Event, Kind},
};

pub const ORG_SLUG: &str = "demo";
const TICKETS_CSV: &str = include_str!("../../seed/demo-tickets.csv");

const STAFF: [(&str, &str, &str); 3] = [
    ("admin@demo.atum.test", "Alex Morgan", "admin"),
    ("ada@demo.atum.test", "Ada Lovelace", "agent"),
    ("grace@demo.atum.test", "Grace Hopper", "agent"),
];
const CUSTOMERS: [(&str, &str); 6] = [
    ("maria.garcia@example.com", "Maria Garcia"),
    ("wei.chen@example.com", "Wei Chen"),
    ("amara.okafor@example.com", "Amara Okafor"),
    ("lukas.mueller@example.com", "Lukas Müller"),
    ("priya.nair@example.com", "Priya Nair"),
    ("tom.baker@example.com", "Tom Baker"),
];

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("the demo seed file is malformed at row {row}: {reason}")]
    Data { row: usize, reason: String },
    #[error(transparent)]
    Password(#[from] password::PasswordError),
    #[error("seeding the demo organisation failed: {0}")]
    Db(#[from] tokio_postgres::Error),
    #[error("seeding the demo organisation's journal failed: {0}")]
    Journal(#[from] crate::error::Error),
}

/// A demo account and its password, for printing to the person who ran `atum up`.
#[derive(Debug, Clone)]
pub struct Login {
    pub email: String,
    pub role: String,
    pub password: String,
}

/// One row of `seed/demo-tickets.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedTicket {
    pub subject: String,
    pub description: String,
    pub category: String,
    pub status: String,
    pub priority: String,
    pub channel: String,
    pub requester: usize,
    pub assignee: Option<usize>,
    pub age_hours: i64,
    pub reply: Option<String>,
}

/// Parses the embedded seed file.
pub fn tickets() -> Result<Vec<SeedTicket>, SeedError> {
    let mut reader = csv::Reader::from_reader(TICKETS_CSV.as_bytes());
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let row = i + 2;
        let bad = |reason: String| SeedError::Data { row, reason };
        let r = record.map_err(|e| bad(e.to_string()))?;
        let field = |n: usize| r.get(n).map(str::to_owned).ok_or_else(|| bad(format!("missing column {n}")));
        let number = |n: usize| -> Result<i64, SeedError> {
            field(n)?.parse().map_err(|_| bad(format!("column {n} is not a number")))
        };
        let assignee = field(8)?;
        let reply = field(10)?;
        out.push(SeedTicket {
            subject: field(0)?,
            description: field(1)?,
            category: field(2)?,
            status: field(4)?,
            priority: field(5)?,
            channel: field(6)?,
            requester: number(7)? as usize % CUSTOMERS.len(),
            assignee: if assignee.is_empty() { None } else { Some(number(8)? as usize % 2) },
            age_hours: number(9)?,
            reply: (!reply.is_empty()).then_some(reply),
        });
    }
    Ok(out)
}

/// Seeds the demo organisation unless it exists. Returns the logins it created, or
/// `None` when the organisation was already there.
pub async fn seed(client: &mut Connection) -> Result<Option<Vec<Login>>, SeedError> {
    let tickets = tickets()?;
    let tx = client.transaction().await?;
    let org: Option<i64> = tx
        .query_opt(
            "INSERT INTO organizations (slug, name, last_ticket_number) VALUES ($1, 'Demo Company', $2)
             ON CONFLICT (slug) DO NOTHING RETURNING id",
            &[&ORG_SLUG, &(tickets.len() as i32)],
        )
        .await?
        .map(|r| r.get(0));
    let Some(org) = org else { return Ok(None) };
    let org_id = OrgId(org);

    let insert_user = tx
        .prepare(
            "INSERT INTO users (org_id, email, display_name, role, password_hash, email_verified_at)
             VALUES ($1, $2, $3, $4, $5, now()) RETURNING id",
        )
        .await?;
    let mut logins = Vec::new();
    let mut staff_ids = Vec::new();
    let people = STAFF.iter().copied().chain(CUSTOMERS.iter().map(|&(e, n)| (e, n, "customer")));
    for (email, name, role) in people {
        let secret: String = rand::rng().sample_iter(Alphanumeric).take(16).map(char::from).collect();
        let hash = password::hash(&secret)?;
        let id: i64 = tx.query_one(&insert_user, &[&org, &email, &name, &role, &hash]).await?.get(0);
        staff_ids.push(id);
        logins.push(Login { email: email.into(), role: role.into(), password: secret });
    }
    let (agents, customers) = (&staff_ids[1..3], &staff_ids[3..]);

    let insert_ticket = tx
        .prepare(
            "INSERT INTO tickets (org_id, number, subject, description, status, priority, category, requester_id,
                                  assignee_id, channel, created_at, updated_at, first_responded_at, solved_at, closed_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
        )
        .await?;
    let insert_comment = tx
        .prepare(
            "INSERT INTO ticket_comments (org_id, ticket_id, author_id, visibility, body, created_at)
             VALUES ($1, $2, $3, 'public', $4, $5)",
        )
        .await?;

    let now = Utc::now();
    let mut journal = Vec::new();
    for (i, t) in tickets.iter().enumerate() {
        let times = Timeline::of(t, i, now);
        let requester = customers[t.requester];
        let assignee = t.assignee.map(|a| agents[a]);
        let id: i64 = tx
            .query_one(
                &insert_ticket,
                &[
                    &org,
                    &(i as i32 + 1),
                    &t.subject,
                    &t.description,
                    &t.status,
                    &t.priority,
                    &t.category,
                    &requester,
                    &assignee,
                    &t.channel,
                    &times.created,
                    &times.updated,
                    &times.replied,
                    &times.solved,
                    &times.closed,
                ],
            )
            .await?
            .get(0);
        let created = json!({"status": "new", "priority": t.priority, "category": t.category, "channel": t.channel});
        let by = |user: i64| Actor::User(UserId(user));
        journal.push(Event::by_system(by(requester), org_id, id, Kind::Created).after(created).at(times.created));
        if let (Some(body), Some(at)) = (&t.reply, times.replied) {
            let author = assignee.unwrap_or(agents[0]);
            tx.execute(&insert_comment, &[&org, &id, &author, body, &at]).await?;
            let after = json!({"status": t.status, "assignee_id": assignee});
            journal.push(
                Event::by_system(by(author), org_id, id, Kind::Updated)
                    .before(json!({"status": "new"}))
                    .after(after)
                    .at(at),
            );
        }
    }
    events::record_many(&tx, org_id, &journal, Announce::Once).await?;
    tx.commit().await?;
    Ok(Some(logins))
}

/// When things happened to a seeded ticket, derived from its age and position so that
/// every timestamp lies between creation and now.
struct Timeline {
    created: DateTime<Utc>,
    replied: Option<DateTime<Utc>>,
    solved: Option<DateTime<Utc>>,
    closed: Option<DateTime<Utc>>,
    updated: DateTime<Utc>,
}

impl Timeline {
    fn of(t: &SeedTicket, index: usize, now: DateTime<Utc>) -> Timeline {
        let created = now - Duration::hours(t.age_hours) - Duration::minutes(index as i64 % 60);
        let within = |d: Duration| (created + d).min(now);
        let replied = t.reply.as_ref().map(|_| within(Duration::minutes(5 + (index as i64 * 37) % 600)));
        let finished = matches!(t.status.as_str(), "solved" | "closed");
        let solved = if finished { replied.map(|r| (r + Duration::hours(2)).min(now)) } else { None };
        let closed = if t.status == "closed" { solved.map(|s| (s + Duration::hours(24)).min(now)) } else { None };
        let updated = closed.or(solved).or(replied).unwrap_or(created);
        Timeline { created, replied, solved, closed, updated }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_file_parses_into_three_hundred_consistent_tickets() {
        let tickets = tickets().unwrap();
        assert_eq!(tickets.len(), 300);
        for t in &tickets {
            assert!(!t.subject.is_empty() && t.subject.len() <= 300);
            assert!(["new", "open", "pending", "on_hold", "solved", "closed"].contains(&t.status.as_str()));
            assert!(["low", "normal", "high", "urgent"].contains(&t.priority.as_str()));
            // A ticket someone answered has moved on from `new`, and vice versa.
            assert_eq!(t.reply.is_some(), t.status != "new", "{t:?}");
            assert!(!t.description.contains("{{"), "unfilled placeholder in {t:?}");
        }
    }

    #[test]
    fn seeded_timestamps_never_lie_in_the_future_or_before_creation() {
        let now = Utc::now();
        for (i, t) in tickets().unwrap().iter().enumerate() {
            let tl = Timeline::of(t, i, now);
            for at in [tl.replied, tl.solved, tl.closed].into_iter().flatten() {
                assert!(at >= tl.created && at <= now);
            }
            assert!(tl.updated >= tl.created && tl.updated <= now);
        }
    }
}
