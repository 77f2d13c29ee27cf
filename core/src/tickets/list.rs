//! Listing tickets: filters, full-text search and keyset ("cursor") pagination.
//!
//! Pages are cut on `(sort column, id)`, never by OFFSET, so a deep page costs the
//! same as the first (index `tickets_org_created_idx` / `tickets_org_updated_idx`)
//! and tickets created while a client pages through do not shift or repeat entries.
//! The cursor is opaque to clients: hex of `sort|microseconds|id`.

use crate::auth::policy::Action;
use crate::named::Named as _;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};
use tokio_postgres::types::ToSql;

use super::{COLUMNS, Priority, Status, Ticket, from_row};
use crate::{
    auth::Principal,
    error::{FieldErrors, Result},
};

pub const MAX_LIMIT: i64 = 100;
pub const DEFAULT_LIMIT: i64 = 25;

/// Query-string parameters, as text so every bad value gets a per-field message.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// One status or several, comma-separated.
    #[param(
        pattern = r"^\s*(new|open|pending|on_hold|solved|closed)\s*(,\s*(new|open|pending|on_hold|solved|closed)\s*)*$"
    )]
    pub status: Option<String>,
    #[param(pattern = r"^\s*(low|normal|high|urgent)\s*$")]
    pub priority: Option<String>,
    /// A user id, `me`, or `none` for unassigned tickets.
    #[param(pattern = r"^\s*([+-]?[0-9]{1,19}|me|none)\s*$")]
    pub assignee_id: Option<String>,
    #[param(pattern = r"^\s*[+-]?[0-9]{1,19}\s*$")]
    pub requester_id: Option<String>,
    #[param(max_length = 200)]
    pub category: Option<String>,
    /// An agent group id.
    #[param(pattern = r"^\s*[+-]?[0-9]{1,19}\s*$")]
    pub group_id: Option<String>,
    /// The ticket's number in its organisation (`#42` in the UI).
    #[param(pattern = r"^\s*[+]?[0-9]{1,9}\s*$")]
    pub number: Option<String>,
    #[param(max_length = 200)]
    pub tag: Option<String>,
    #[param(format = DateTime)]
    pub created_after: Option<String>,
    #[param(format = DateTime)]
    pub created_before: Option<String>,
    #[param(format = DateTime)]
    pub updated_after: Option<String>,
    #[param(format = DateTime)]
    pub updated_before: Option<String>,
    /// Full-text search over subject and description (web-search syntax).
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// `breached` (an SLA breach was recorded) or `at_risk` (the next deadline is
    /// within the policy's warning time and not yet passed).
    #[param(pattern = r"^\s*(breached|at_risk)\s*$")]
    pub sla: Option<String>,
    /// `-created_at` (default), `created_at`, `-updated_at`, `updated_at`, or
    /// `sla_due`: tickets with a running SLA deadline, the most urgent first.
    #[param(pattern = r"^\s*(-created_at|created_at|-updated_at|updated_at|sla_due)\s*$")]
    pub sort: Option<String>,
    /// `next_cursor` of the previous page, with the same `sort`.
    #[param(max_length = 200)]
    pub cursor: Option<String>,
    /// 1 to 100, default 25.
    #[param(pattern = r"^\s*[+]?0*([1-9][0-9]?|100)\s*$")]
    pub limit: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Page {
    pub items: Vec<Ticket>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortKey {
    Created,
    Updated,
    SlaDue,
}

impl SortKey {
    fn tag(self) -> &'static str {
        match self {
            SortKey::Created => "c",
            SortKey::Updated => "u",
            SortKey::SlaDue => "s",
        }
    }

    fn column(self) -> &'static str {
        match self {
            SortKey::Created => "created_at",
            SortKey::Updated => "updated_at",
            SortKey::SlaDue => "sla_next_due_at",
        }
    }
}

/// SQL built up with numbered parameters.
struct Sql {
    clauses: Vec<String>,
    params: Vec<Box<dyn ToSql + Sync + Send>>,
}

impl Sql {
    fn param(&mut self, value: impl ToSql + Sync + Send + 'static) -> String {
        self.params.push(Box::new(value));
        format!("${}", self.params.len())
    }
}

fn parse_time(f: &mut FieldErrors, field: &str, raw: Option<&str>) -> Option<DateTime<Utc>> {
    let raw = raw?;
    match DateTime::parse_from_rfc3339(raw.trim()) {
        Ok(t) => Some(t.with_timezone(&Utc)),
        Err(_) => {
            f.add(field, "must be an RFC 3339 time such as 2026-01-31T09:00:00Z");
            None
        }
    }
}

/// The cursor that continues the default listing (`-created_at`) after this ticket;
/// for tools (the benchmark) that need a page deep into a large list without walking it.
pub fn cursor_after(created_at: DateTime<Utc>, id: i64) -> String {
    encode_cursor(SortKey::Created, created_at, id)
}

fn encode_cursor(key: SortKey, at: DateTime<Utc>, id: i64) -> String {
    crate::paging::encode(key.tag(), at, id)
}

pub async fn list(db: &impl GenericClient, who: &Principal, q: &ListQuery) -> Result<Page> {
    let mut f = FieldErrors::default();
    let mut sql = Sql { clauses: Vec::new(), params: Vec::new() };
    let org = sql.param(who.org_id);
    sql.clauses.push(format!("org_id = {org}"));
    if !who.may(Action::WorkTickets) {
        // Their own requests, and tickets theirs were merged into.
        let me = sql.param(who.user_id);
        sql.clauses.push(format!(
            "(requester_id = {me} OR id IN (SELECT ticket_id FROM ticket_requesters WHERE org_id = {org} AND user_id = {me}))"
        ));
    }

    if let Some(raw) = &q.status {
        let parsed: Vec<Option<Status>> = raw.split(',').map(|s| Status::parse(s.trim())).collect();
        if parsed.iter().any(Option::is_none) {
            f.add("status", format!("must be one or more of: {}", Status::choices()));
        } else {
            let mut list: Vec<String> = parsed.into_iter().flatten().map(|s| s.as_str().to_owned()).collect();
            // One status is an equality, so the planner can walk tickets_org_status_idx in
            // order; a list needs ANY.
            if list.len() == 1 {
                let p = sql.param(list.remove(0));
                sql.clauses.push(format!("status = {p}"));
            } else {
                let p = sql.param(list);
                sql.clauses.push(format!("status = ANY({p})"));
            }
        }
    }
    if let Some(raw) = &q.priority {
        match Priority::parse(raw.trim()) {
            Some(p) => {
                let p = sql.param(p.as_str());
                sql.clauses.push(format!("priority = {p}"));
            }
            None => f.add("priority", format!("must be one of: {}", Priority::choices())),
        }
    }
    match q.assignee_id.as_deref().map(str::trim) {
        None => {}
        Some("none") => sql.clauses.push("assignee_id IS NULL".into()),
        Some("me") => {
            let p = sql.param(who.user_id);
            sql.clauses.push(format!("assignee_id = {p}"));
        }
        Some(raw) => match raw.parse::<i64>() {
            Ok(id) => {
                let p = sql.param(id);
                sql.clauses.push(format!("assignee_id = {p}"));
            }
            Err(_) => f.add("assignee_id", "must be a user id, `me` or `none`"),
        },
    }
    if let Some(raw) = &q.requester_id {
        match raw.trim().parse::<i64>() {
            Ok(id) => {
                let p = sql.param(id);
                sql.clauses.push(format!("requester_id = {p}"));
            }
            Err(_) => f.add("requester_id", "must be a user id"),
        }
    }
    if let Some(raw) = &q.group_id {
        match raw.trim().parse::<i64>() {
            Ok(id) => {
                let p = sql.param(id);
                sql.clauses.push(format!("group_id = {p}"));
            }
            Err(_) => f.add("group_id", "must be a group id"),
        }
    }
    if let Some(raw) = &q.number {
        match raw.trim().parse::<i32>() {
            Ok(n) if n > 0 => {
                let p = sql.param(n);
                sql.clauses.push(format!("number = {p}"));
            }
            _ => f.add("number", "must be a ticket number"),
        }
    }
    for (field, value) in [("category", &q.category), ("tag", &q.tag), ("cursor", &q.cursor)] {
        if value.as_ref().is_some_and(|v| v.chars().count() > 200) {
            f.add(field, "must be at most 200 characters");
        }
    }
    if let Some(c) = &q.category {
        let p = sql.param(c.trim().to_lowercase());
        sql.clauses.push(format!("category = {p}"));
    }
    if let Some(t) = &q.tag {
        let p = sql.param(vec![t.trim().to_lowercase()]);
        sql.clauses.push(format!("tags @> {p}"));
    }
    for (field, column, op) in [
        ("created_after", "created_at", ">="),
        ("created_before", "created_at", "<"),
        ("updated_after", "updated_at", ">="),
        ("updated_before", "updated_at", "<"),
    ] {
        let raw = match field {
            "created_after" => &q.created_after,
            "created_before" => &q.created_before,
            "updated_after" => &q.updated_after,
            _ => &q.updated_before,
        };
        if let Some(t) = parse_time(&mut f, field, raw.as_deref()) {
            let p = sql.param(t);
            sql.clauses.push(format!("{column} {op} {p}"));
        }
    }
    if let Some(raw) = q.q.as_deref().filter(|t| !t.trim().is_empty()) {
        let text = raw.trim();
        if raw.chars().count() > 200 {
            f.add("q", "must be at most 200 characters");
        } else {
            let p = sql.param(text.to_owned());
            sql.clauses.push(format!("search @@ websearch_to_tsquery('english', {p})"));
        }
    }

    match q.sla.as_deref().map(str::trim) {
        None => {}
        Some("breached") => sql
            .clauses
            .push(format!("id IN (SELECT ticket_id FROM sla_breaches WHERE org_id = {org} AND kind = 'breach')")),
        Some("at_risk") => sql.clauses.push("sla_warn_at <= now() AND sla_next_due_at > now()".into()),
        Some(_) => f.add("sla", "must be breached or at_risk"),
    }
    let (key, descending) = match q.sort.as_deref().map(str::trim) {
        None | Some("-created_at") => (SortKey::Created, true),
        Some("created_at") => (SortKey::Created, false),
        Some("-updated_at") => (SortKey::Updated, true),
        Some("updated_at") => (SortKey::Updated, false),
        Some("sla_due") => (SortKey::SlaDue, false),
        Some(_) => {
            f.add("sort", "must be one of: -created_at, created_at, -updated_at, updated_at, sla_due");
            (SortKey::Created, true)
        }
    };
    let column = key.column();
    if key == SortKey::SlaDue {
        // Index tickets_org_sla_due_idx holds only tickets with a running deadline.
        sql.clauses.push("sla_next_due_at IS NOT NULL".into());
    }
    if let Some(raw) = &q.cursor {
        match crate::paging::decode(raw.trim(), key.tag()) {
            Some(crate::paging::After { at, id }) => {
                let (pa, pi) = (sql.param(at), sql.param(id));
                let op = if descending { "<" } else { ">" };
                sql.clauses.push(format!("({column}, id) {op} ({pa}, {pi})"));
            }
            None => f.add("cursor", "is not a cursor from this listing (or the sort changed)"),
        }
    }
    let limit = crate::paging::limit(&mut f, q.limit.as_deref(), DEFAULT_LIMIT, MAX_LIMIT);
    f.finish()?;

    let dir = if descending { "DESC" } else { "ASC" };
    // One row more than asked for says whether there is a next page.
    let fetch = sql.param(limit + 1);
    let query = format!(
        "SELECT {COLUMNS} FROM tickets WHERE {} ORDER BY {column} {dir}, id {dir} LIMIT {fetch}",
        sql.clauses.join(" AND ")
    );
    let params: Vec<&(dyn ToSql + Sync)> = sql.params.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)).collect();
    // The text depends only on which filters are present, so the cache stays small.
    let stmt = db.prepare_cached(&query).await?;
    let rows = db.query(&stmt, &params).await?;
    let mut items = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().and_then(|t| {
            let at = match key {
                SortKey::Created => Some(t.created_at),
                SortKey::Updated => Some(t.updated_at),
                SortKey::SlaDue => t.sla_next_due_at,
            };
            at.map(|at| encode_cursor(key, at, t.id.0))
        })
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}
