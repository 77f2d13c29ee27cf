//! Creating and changing tickets. Each write records a `ticket_events` row and
//! NOTIFYs `atum_tickets` (delivered once, at commit), and recomputes its SLA clocks.

use crate::auth::policy::Action;
use crate::ids::TicketId;
use crate::ids::{OrgId, UserId};
use crate::named::Named as _;
use deadpool_postgres::GenericClient;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{
    COLUMNS, Channel, Priority, Status, Ticket,
    events::{self, Event, Kind},
    from_row, get_for_update,
};
use crate::{
    auth::{Principal, Role},
    error::{Error, FieldErrors, Result},
};

pub const MAX_TAGS: usize = 50;

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTicket {
    #[schema(
        min_length = 1,
        max_length = 300,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub subject: String,
    #[serde(default)]
    #[schema(max_length = 100000, pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
    pub description: String,
    #[serde(default)]
    #[schema(value_type = Option<super::Priority>)]
    pub priority: Option<String>,
    #[serde(default)]
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub category: Option<String>,
    #[serde(default)]
    #[schema(max_items = 50)]
    pub tags: Vec<Tag>,
    /// Staff may open a ticket on a customer's behalf; customers always request for themselves.
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    pub requester_id: Option<UserId>,
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    pub assignee_id: Option<UserId>,
    #[serde(default)]
    #[schema(value_type = Option<super::Channel>)]
    pub channel: Option<String>,
    /// Your pending uploads (`POST /attachments`) to put on its description.
    #[serde(default)]
    #[schema(value_type = Vec<i64>, max_items = 100)]
    pub attachment_ids: Vec<crate::ids::AttachmentId>,
}

/// A tag: 1 to 50 characters that are not spaces, control characters or ASCII
/// punctuation other than `- _ . :`; surrounding spaces are ignored; stored lowercased.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(value_type = String, pattern = r"^\s*[^\s\x00-\x1f\x7f-\x9f!-,/;-@\[-\^`{-~]{1,50}\s*$")]
pub struct Tag(pub String);

/// A partial update: absent fields stay as they are; `null` clears a clearable field.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketChange {
    #[serde(default)]
    #[schema(
        min_length = 1,
        max_length = 300,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub subject: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<super::Status>)]
    pub status: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<super::Priority>)]
    pub priority: Option<String>,
    #[serde(default, deserialize_with = "crate::change::present")]
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub category: Option<Option<String>>,
    #[serde(default)]
    #[schema(max_items = 50)]
    pub tags: Option<Vec<Tag>>,
    #[serde(default, deserialize_with = "crate::change::present")]
    #[schema(value_type = Option<i64>)]
    pub assignee_id: Option<Option<UserId>>,
    /// The agent group the ticket is routed to, or null for none.
    #[serde(default, deserialize_with = "crate::change::present")]
    pub group_id: Option<Option<i64>>,
}

// The limits below are stated in the OpenAPI document as the fields' `maxLength`,
// `maxItems` and `pattern`; lengths count the characters as sent, so the two agree.

fn subject(f: &mut FieldErrors, s: &str) -> String {
    crate::text::line(f, "subject", s, 300);
    s.trim().to_owned()
}

fn category(f: &mut FieldErrors, c: Option<&str>) -> Option<String> {
    let c = c?;
    crate::text::line(f, "category", c, 100);
    Some(c.trim().to_lowercase())
}

/// A tag character: anything but spaces, control characters and ASCII punctuation
/// other than `- _ . :` (so `billing`, `vpn:eu`, `größe` and `発送` are tags).
fn is_tag_char(c: char) -> bool {
    !c.is_whitespace() && !c.is_control() && (!c.is_ascii_punctuation() || matches!(c, '-' | '_' | '.' | ':'))
}

/// Tags are lowercased, trimmed and de-duplicated, keeping their first order.
pub(crate) fn tags(f: &mut FieldErrors, raw: &[Tag]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for Tag(t) in raw {
        let t = t.trim();
        if !(1..=50).contains(&t.chars().count()) || !t.chars().all(is_tag_char) {
            f.add("tags", "each tag must be 1 to 50 letters, digits or - _ . :");
            continue;
        }
        let t = t.to_lowercase();
        if !out.contains(&t) {
            out.push(t);
        }
    }
    if raw.len() > MAX_TAGS {
        f.add("tags", format!("at most {MAX_TAGS} tags"));
    }
    out
}

pub(crate) fn parse_enum<T>(
    f: &mut FieldErrors,
    field: &str,
    raw: Option<&str>,
    parse: fn(&str) -> Option<T>,
    choices: fn() -> String,
) -> Option<T> {
    let raw = raw?;
    let v = parse(raw);
    if v.is_none() {
        f.add(field, format!("must be one of: {}", choices()));
    }
    v
}

/// Checks that `user_id` is a user of the org with an allowed role; adds `field` errors.
async fn check_user(
    db: &impl GenericClient,
    f: &mut FieldErrors,
    org_id: OrgId,
    field: &str,
    user_id: UserId,
    staff: bool,
) -> Result<()> {
    let role: Option<String> = db
        .query_opt("SELECT role FROM users WHERE org_id = $1 AND id = $2 AND is_active", &[&org_id, &user_id])
        .await?
        .map(|r| r.get(0));
    match role.as_deref().and_then(Role::parse) {
        None => f.add(field, "no active user with this id in your organisation"),
        Some(r) if staff && !r.is_staff() => f.add(field, "must be an agent or admin"),
        Some(_) => {}
    }
    Ok(())
}

async fn check_group(db: &impl GenericClient, f: &mut FieldErrors, org_id: OrgId, group_id: i64) -> Result<()> {
    let found = db.query_opt("SELECT 1 FROM agent_groups WHERE org_id = $1 AND id = $2", &[&org_id, &group_id]).await?;
    if found.is_none() {
        f.add("group_id", "no agent group with this id in your organisation");
    }
    Ok(())
}

pub async fn create(db: &impl GenericClient, who: &Principal, new: &NewTicket) -> Result<Ticket> {
    let mut f = FieldErrors::default();
    let subject = subject(&mut f, &new.subject);
    crate::text::prose(&mut f, "description", &new.description, 100_000, false);
    let priority = parse_enum(&mut f, "priority", new.priority.as_deref(), Priority::parse, Priority::choices)
        .unwrap_or(Priority::Normal);
    let category = category(&mut f, new.category.as_deref());
    let tags = tags(&mut f, &new.tags);
    let channel = parse_enum(&mut f, "channel", new.channel.as_deref(), Channel::parse, Channel::choices);

    let staff = who.may(Action::WorkTickets);
    if !staff {
        if (new.priority.is_some() || new.channel.is_some())
            && !crate::settings::of_org(db, who.org_id).await?.customers_set_priority
        {
            let message = "is chosen by the help desk in this organisation";
            if new.priority.is_some() {
                f.add("priority", message);
            }
            if new.channel.is_some() {
                f.add("channel", message);
            }
        }
        if new.requester_id.is_some_and(|r| r != who.user_id) {
            f.add("requester_id", "customers open tickets for themselves");
        }
        if new.assignee_id.is_some() {
            f.add("assignee_id", "customers cannot assign tickets");
        }
    }
    let requester = if staff { new.requester_id.unwrap_or(who.user_id) } else { who.user_id };
    if staff && requester != who.user_id {
        check_user(db, &mut f, who.org_id, "requester_id", requester, false).await?;
    }
    if let (true, Some(a)) = (staff, new.assignee_id) {
        check_user(db, &mut f, who.org_id, "assignee_id", a, true).await?;
    }
    f.finish()?;
    let channel = channel.unwrap_or(if staff { Channel::Web } else { Channel::Portal });
    let assignee = if staff { new.assignee_id } else { None };

    // The org row lock serialises numbering: numbers are gap-free per organisation.
    let stmt = db
        .prepare_cached(&format!(
            "WITH n AS (
                     UPDATE organizations SET last_ticket_number = last_ticket_number + 1
                     WHERE id = $1 RETURNING last_ticket_number
                 )
                 INSERT INTO tickets (org_id, number, subject, description, priority, category, tags,
                                      requester_id, assignee_id, channel)
                 SELECT $1, n.last_ticket_number, $2, $3, $4, $5, $6, $7, $8, $9 FROM n
                 RETURNING {COLUMNS}"
        ))
        .await?;
    let row = db
        .query_one(
            &stmt,
            &[
                &who.org_id,
                &subject,
                &new.description,
                &priority.as_str(),
                &category,
                &tags,
                &requester,
                &assignee,
                &channel.as_str(),
            ],
        )
        .await?;
    let ticket = from_row(&row)?;
    let after = json!({
        "subject": ticket.subject, "status": ticket.status, "priority": ticket.priority,
        "category": ticket.category, "tags": ticket.tags, "assignee_id": ticket.assignee_id,
        "requester_id": ticket.requester_id, "channel": ticket.channel,
    });
    record(db, Event::by(who, ticket.id, Kind::Created).after(after)).await?;
    let on = crate::attachments::On::Ticket(ticket.id);
    crate::attachments::link::attach(db, who, &new.attachment_ids, on).await?;
    // Neither changes a column of the ticket: the inserted row is the ticket.
    Ok(ticket)
}

/// The ticket as it is after `record` (its SLA deadlines were just computed).
async fn reread(db: &impl GenericClient, id: TicketId) -> Result<Ticket> {
    let stmt = db.prepare_cached(&format!("SELECT {COLUMNS} FROM tickets WHERE id = $1")).await?;
    from_row(&db.query_one(&stmt, &[&id]).await?)
}

/// Applies `change` if the ticket is still at `expected_version` (`None`: whatever
/// version it is at, as `If-Match: *` asks); staff only.
pub async fn update(
    db: &impl GenericClient,
    who: &Principal,
    id: TicketId,
    expected_version: Option<i32>,
    change: &TicketChange,
) -> Result<Ticket> {
    let current = get_for_update(db, who, id).await?;
    who.require(Action::WorkTickets)?;
    super::locks::ensure_free_for(db, who, id).await?;
    if expected_version.is_some_and(|v| v != current.version) {
        return Err(Error::Stale { current: current.version });
    }

    let mut f = FieldErrors::default();
    let mut next = current.clone();
    if let Some(s) = &change.subject {
        next.subject = subject(&mut f, s);
    }
    if let Some(s) = parse_enum(&mut f, "status", change.status.as_deref(), Status::parse, Status::choices) {
        if !current.status.can_become(s) {
            f.add("status", format!("cannot change from {} to {}", current.status.as_str(), s.as_str()));
        }
        next.status = s;
    }
    if let Some(p) = parse_enum(&mut f, "priority", change.priority.as_deref(), Priority::parse, Priority::choices) {
        next.priority = p;
    }
    if let Some(c) = &change.category {
        next.category = category(&mut f, c.as_deref());
    }
    if let Some(t) = &change.tags {
        next.tags = tags(&mut f, t);
    }
    if let Some(a) = change.assignee_id {
        if let Some(a) = a {
            check_user(db, &mut f, who.org_id, "assignee_id", a, true).await?;
        }
        next.assignee_id = a;
    }
    if let Some(g) = change.group_id {
        if let Some(g) = g {
            check_group(db, &mut f, who.org_id, g).await?;
        }
        next.group_id = g;
    }
    f.finish()?;

    let (before, after) = diff(&current, &next);
    if after.is_empty() {
        return Ok(current);
    }
    let row = db
        .query_one(
            &format!(
                "UPDATE tickets SET subject = $3, status = $4, priority = $5, category = $6, tags = $7,
                        assignee_id = $8, group_id = $9, updated_at = now(), version = version + 1,
                        solved_at = CASE WHEN $4 IN ('solved', 'closed') THEN coalesce(solved_at, now()) END,
                        closed_at = CASE WHEN $4 = 'closed' THEN coalesce(closed_at, now()) END
                 WHERE org_id = $1 AND id = $2
                 RETURNING {COLUMNS}"
            ),
            &[
                &who.org_id,
                &id,
                &next.subject,
                &next.status.as_str(),
                &next.priority.as_str(),
                &next.category,
                &next.tags,
                &next.assignee_id,
                &next.group_id,
            ],
        )
        .await?;
    record(db, Event::by(who, id, Kind::Updated).before(Value::Object(before)).after(Value::Object(after))).await?;
    drop(row);
    reread(db, id).await
}

/// The requester says their request is solved (the portal's "close"): the ticket
/// becomes `solved`, as an agent would set it, and a later reply from them reopens it
/// as it does any solved ticket. Staff change the status with [`update`]; this is the
/// customer's one say over it. Agent locks do not apply: they keep agents from
/// overwriting each other, not a customer from closing their own request.
pub async fn solve_as_requester(db: &impl GenericClient, who: &Principal, id: TicketId) -> Result<Ticket> {
    let current = get_for_update(db, who, id).await?;
    if who.may(Action::WorkTickets) {
        return Err(Error::Forbidden("staff set a ticket's status with PATCH /api/v1/tickets/{id}"));
    }
    match current.status {
        Status::Solved => return Ok(current),
        Status::Closed => {
            return Err(Error::Conflict {
                code: crate::error::Code::TicketClosed,
                message: "this request is closed already".into(),
            });
        }
        _ => {}
    }
    db.execute(
        "UPDATE tickets SET status = 'solved', solved_at = coalesce(solved_at, now()), updated_at = now(),
                version = version + 1
          WHERE org_id = $1 AND id = $2",
        &[&who.org_id, &id],
    )
    .await?;
    let before = json!({ "status": current.status });
    let after = json!({ "status": Status::Solved });
    record(db, Event::by(who, id, Kind::Updated).before(before).after(after)).await?;
    reread(db, id).await
}

/// What auto-triage sets on a ticket (`crate::assist::triage`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AiChange {
    pub category: Option<String>,
    pub priority: Option<Priority>,
    /// An escalation's move (the group is the organisation's: its rule was checked).
    pub group_id: Option<i64>,
}

impl AiChange {
    pub fn is_empty(&self) -> bool {
        self.category.is_none() && self.priority.is_none() && self.group_id.is_none()
    }
}

/// Sets what triage decided, as the AI actor, on a ticket the caller has locked. The
/// journal entry is an ordinary update, so an agent sees who did it and undoes it as
/// any other change. A category that is not a valid one is not set.
pub async fn apply_ai(db: &impl GenericClient, org_id: OrgId, id: TicketId, change: &AiChange) -> Result<()> {
    let Some(row) =
        db.query_opt(&format!("SELECT {COLUMNS} FROM tickets WHERE org_id = $1 AND id = $2"), &[&org_id, &id]).await?
    else {
        return Ok(());
    };
    let current = from_row(&row)?;
    let mut next = current.clone();
    let mut f = FieldErrors::default();
    if let Some(c) = &change.category {
        next.category = category(&mut f, Some(c));
    }
    if let Some(p) = change.priority {
        next.priority = p;
    }
    if let Some(g) = change.group_id {
        next.group_id = Some(g);
    }
    if !f.is_empty() {
        return Ok(());
    }
    let (before, after) = diff(&current, &next);
    if after.is_empty() {
        return Ok(());
    }
    db.execute(
        "UPDATE tickets SET category = $3, priority = $4, group_id = $5, updated_at = now(), version = version + 1
          WHERE org_id = $1 AND id = $2",
        &[&org_id, &id, &next.category, &next.priority.as_str(), &next.group_id],
    )
    .await?;
    let event = Event::by_system(crate::actor::Actor::Ai, org_id, id, Kind::Updated);
    record(db, event.before(Value::Object(before)).after(Value::Object(after))).await
}

/// The fields that differ, as (before, after) JSON objects.
fn diff(a: &Ticket, b: &Ticket) -> (Map<String, Value>, Map<String, Value>) {
    let (va, vb) = (serde_json::to_value(a).unwrap_or_default(), serde_json::to_value(b).unwrap_or_default());
    let (mut before, mut after) = (Map::new(), Map::new());
    for field in ["subject", "status", "priority", "category", "tags", "assignee_id", "group_id"] {
        if va[field] != vb[field] {
            before.insert(field.into(), va[field].clone());
            after.insert(field.into(), vb[field].clone());
        }
    }
    (before, after)
}

/// Records a person's change in the journal. The SLA clocks follow in
/// [`crate::desk`], once the whole change is written.
pub(crate) async fn record(db: &impl GenericClient, event: Event) -> Result<()> {
    events::record(db, event).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_normalised_and_checked() {
        let mut f = FieldErrors::default();
        let t = tags(&mut f, &[Tag("Billing".into()), Tag(" billing ".into()), Tag("vip".into())]);
        assert!(f.is_empty());
        assert_eq!(t, vec!["billing".to_string(), "vip".to_string()]);
        tags(&mut f, &[Tag("has space".into())]);
        assert!(f.0.contains_key("tags"));
    }
}
