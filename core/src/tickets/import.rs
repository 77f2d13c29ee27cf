//! Loading an organisation's ticket history from another help desk (`atum tickets
//! import`): each row a ticket with its category and priority as agents set them,
//! its times, and the agent's reply that solved it — the history auto-triage learns
//! from and retrieval finds solved tickets in.
//!
//! Rows are checked as the API checks a new ticket, every bad row named with its
//! number and field before anything is written; then they go in batches, in the
//! caller's one transaction. Each ticket's journal says the operator created it.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;

use serde_json::json;

use super::{
    Priority,
    events::{self, Announce, Event, Kind},
};
use crate::named::Named as _;
use crate::{
    actor::Actor,
    error::{Error, FieldErrors, Result},
    ids::{OrgId, TicketId, UserId},
};

/// Rows written per statement.
const BATCH: usize = 1_000;

/// One historical ticket, as read from a file.
#[derive(Debug, Clone, Default)]
pub struct Row {
    pub subject: String,
    pub body: String,
    pub category: Option<String>,
    pub priority: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub solved_at: Option<DateTime<Utc>>,
    /// The agent's public reply; a ticket with one (or with `solved_at`) is solved.
    pub reply: Option<String>,
}

/// A row checked and normalised as a new ticket is.
struct Checked {
    subject: String,
    body: String,
    category: Option<String>,
    priority: &'static str,
    created_at: Option<DateTime<Utc>>,
    solved_at: Option<DateTime<Utc>>,
    reply: Option<String>,
}

/// The first line of `body`, cut at a word near 120 characters: the subject of a row
/// that has none.
pub fn subject_from(body: &str) -> String {
    let line = body.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default();
    if line.chars().count() <= 120 {
        return line.to_owned();
    }
    let cut: String = line.chars().take(120).collect();
    match cut.rfind(' ') {
        Some(i) if i > 60 => format!("{}…", &cut[..i]),
        _ => format!("{cut}…"),
    }
}

fn check(f: &mut FieldErrors, n: usize, row: &Row) -> Checked {
    let at = |field: &str| format!("row {n}: {field}");
    let subject = row.subject.trim().to_owned();
    if subject.is_empty() || subject.chars().count() > 300 || subject.contains('\0') {
        f.add(&at("subject"), "must be 1 to 300 characters");
    }
    if row.body.chars().count() > 100_000 || row.body.contains('\0') {
        f.add(&at("body"), "must be at most 100,000 characters");
    }
    let category = row.category.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_lowercase);
    if category.as_ref().is_some_and(|c| c.chars().count() > 100 || c.contains('\0')) {
        f.add(&at("category"), "must be at most 100 characters");
    }
    let priority = match row.priority.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        None => Priority::Normal,
        Some(p) => Priority::parse(&p.to_lowercase()).unwrap_or_else(|| {
            f.add(&at("priority"), format!("must be one of {}", Priority::choices()));
            Priority::Normal
        }),
    };
    if let (Some(c), Some(s)) = (row.created_at, row.solved_at)
        && s < c
    {
        f.add(&at("solved_at"), "is before created_at");
    }
    let reply = row.reply.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned);
    if reply.as_ref().is_some_and(|r| r.chars().count() > 100_000 || r.contains('\0')) {
        f.add(&at("reply"), "must be at most 100,000 characters");
    }
    Checked {
        subject,
        body: row.body.clone(),
        category,
        priority: priority.as_str(),
        created_at: row.created_at,
        solved_at: row.solved_at,
        reply,
    }
}

/// What an import wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Imported {
    pub tickets: usize,
    pub replies: usize,
    pub first_number: i32,
    pub last_number: i32,
}

/// Writes `rows` as tickets of `org_id` requested by `requester`, replies by `agent`.
/// Nothing is written when a row is invalid: the error names every bad row's field
/// (`row 12: priority`), numbered from 1 as the file's data rows are.
pub async fn import(
    db: &impl GenericClient,
    org_id: OrgId,
    requester: UserId,
    agent: UserId,
    rows: &[Row],
) -> Result<Imported> {
    let mut f = FieldErrors::default();
    let checked: Vec<Checked> = rows.iter().enumerate().map(|(i, r)| check(&mut f, i + 1, r)).collect();
    f.finish()?;
    if checked.is_empty() {
        return Err(FieldErrors::single("rows", "the file has no tickets"));
    }
    // The organisation's row lock serialises numbering with tickets filed meanwhile.
    let first: i32 = db
        .query_one(
            "UPDATE organizations SET last_ticket_number = last_ticket_number + $2 WHERE id = $1
             RETURNING last_ticket_number - $2 + 1",
            &[&org_id, &(checked.len() as i32)],
        )
        .await
        .map_err(|e| match e.as_db_error() {
            None => Error::Db(e),
            Some(_) => Error::NotFound("organisation"),
        })?
        .get(0);
    let mut replies = 0;
    for (b, batch) in checked.chunks(BATCH).enumerate() {
        let numbers: Vec<i32> = (0..batch.len()).map(|i| first + (b * BATCH + i) as i32).collect();
        let subjects: Vec<&str> = batch.iter().map(|c| c.subject.as_str()).collect();
        let bodies: Vec<&str> = batch.iter().map(|c| c.body.as_str()).collect();
        let categories: Vec<Option<&str>> = batch.iter().map(|c| c.category.as_deref()).collect();
        let priorities: Vec<&str> = batch.iter().map(|c| c.priority).collect();
        let created: Vec<Option<DateTime<Utc>>> = batch.iter().map(|c| c.created_at).collect();
        let solved: Vec<Option<DateTime<Utc>>> = batch.iter().map(|c| c.solved_at).collect();
        let replies_in: Vec<Option<&str>> = batch.iter().map(|c| c.reply.as_deref()).collect();
        let stmt = db
            .prepare_cached(
                "WITH input AS (
                     SELECT * FROM unnest($3::int[], $4::text[], $5::text[], $6::text[], $7::text[],
                                          $8::timestamptz[], $9::timestamptz[], $10::text[])
                              AS r(number, subject, body, category, priority, created, solved, reply)
                 ), made AS (
                     INSERT INTO tickets (org_id, number, subject, description, category, priority, status,
                                          requester_id, assignee_id, channel, created_at, updated_at,
                                          first_responded_at, solved_at)
                     SELECT $1, number, subject, body, category, priority,
                            CASE WHEN solved IS NOT NULL OR reply IS NOT NULL THEN 'solved' ELSE 'open' END,
                            $2, CASE WHEN reply IS NOT NULL THEN $11::bigint END, 'api',
                            coalesce(created, now()), coalesce(solved, created, now()),
                            CASE WHEN reply IS NOT NULL THEN coalesce(solved, created, now()) END,
                            CASE WHEN solved IS NOT NULL OR reply IS NOT NULL THEN coalesce(solved, created, now()) END
                       FROM input
                     RETURNING id, number, created_at, solved_at
                 ), answered AS (
                     INSERT INTO ticket_comments (org_id, ticket_id, author_id, visibility, body, created_at)
                     SELECT $1, m.id, $11, 'public', i.reply, coalesce(m.solved_at, m.created_at)
                       FROM made m JOIN input i USING (number)
                      WHERE i.reply IS NOT NULL
                 )
                 SELECT id, created_at, EXISTS (SELECT 1 FROM input i WHERE i.number = made.number AND i.reply IS NOT NULL)
                            AS answered
                   FROM made ORDER BY number",
            )
            .await?;
        let made = db
            .query(
                &stmt,
                &[
                    &org_id,
                    &requester,
                    &numbers,
                    &subjects,
                    &bodies,
                    &categories,
                    &priorities,
                    &created,
                    &solved,
                    &replies_in,
                    &agent,
                ],
            )
            .await?;
        // Each ticket's journal says the operator created it, when it was created; the
        // whole import is announced once, below (the retrieval worker's catch-up pass
        // indexes every solved ticket).
        let journal: Vec<Event> = made
            .iter()
            .map(|r| {
                Event::by_system(Actor::Operator, org_id, r.get::<_, TicketId>("id"), Kind::Created)
                    .after(json!({"imported": true}))
                    .at(r.get("created_at"))
            })
            .collect();
        let last_batch = (b + 1) * BATCH >= checked.len();
        let announce = if last_batch { Announce::Once } else { Announce::Silent };
        events::record_many(db, org_id, &journal, announce).await?;
        replies += made.iter().filter(|r| r.get::<_, bool>("answered")).count();
    }
    let last = first + checked.len() as i32 - 1;
    Ok(Imported { tickets: checked.len(), replies, first_number: first, last_number: last })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subject_is_the_first_line_cut_at_a_word() {
        assert_eq!(subject_from("\n  Where is my order?\nIt was due Monday."), "Where is my order?");
        let long = "word ".repeat(40);
        let s = subject_from(&long);
        assert!(s.ends_with('…') && s.chars().count() <= 121 && !s.contains("wor…"), "{s}");
    }

    #[test]
    fn every_bad_row_is_named_with_its_number_and_field() {
        let mut f = FieldErrors::default();
        let good = Row { subject: "Refund".into(), priority: Some("HIGH".into()), ..Row::default() };
        let c = check(&mut f, 1, &good);
        assert!(f.is_empty());
        assert_eq!(c.priority, "high");
        let bad = Row {
            subject: " ".into(),
            priority: Some("asap".into()),
            created_at: Some(Utc::now()),
            solved_at: Some(Utc::now() - chrono::Duration::days(1)),
            ..Row::default()
        };
        check(&mut f, 7, &bad);
        for field in ["row 7: subject", "row 7: priority", "row 7: solved_at"] {
            assert!(f.0.contains_key(field), "{field}: {:?}", f.0);
        }
    }
}
