//! Replies and internal notes.
//!
//! A public reply by staff is the ticket's first response if none came before, and
//! moves a `new` ticket to `open`. A customer's reply reopens a ticket that was
//! waiting on them (`pending`) or `solved`. Customers see and write public comments
//! only, and only on their own tickets.

use crate::attachments::Attachment;
use crate::auth::policy::Action;
use crate::ids::{AttachmentId, TicketId, UserId};
use crate::named::Named as _;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{
    Status,
    events::{Event, Kind},
    get, get_for_update,
    write::record,
};
use crate::{
    auth::Principal,
    error::{Error, FieldErrors, Result},
    paging::Thread,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    Public,
    Internal,
}

impl Visibility {
    fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Internal => "internal",
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Comment {
    pub id: i64,
    #[schema(value_type = i64)]
    pub ticket_id: TicketId,
    #[schema(value_type = i64)]
    pub author_id: UserId,
    /// The author's name as it is now, so a customer reading their request sees who
    /// answered (they may not list the organisation's people).
    pub author_name: String,
    pub visibility: Visibility,
    pub body: String,
    pub created_at: DateTime<Utc>,
    /// Its files, in the order they were attached.
    pub attachments: Vec<Attachment>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    #[schema(
        min_length = 1,
        max_length = 100000,
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub body: String,
    /// `public` (default) or `internal`.
    #[serde(default)]
    #[schema(pattern = "^(public|internal)$")]
    pub visibility: Option<String>,
    /// Your pending uploads (`POST /attachments`) to put on it.
    #[serde(default)]
    #[schema(value_type = Vec<i64>, max_items = 100)]
    pub attachment_ids: Vec<AttachmentId>,
}

pub async fn add(db: &impl GenericClient, who: &Principal, ticket_id: TicketId, new: &NewComment) -> Result<Comment> {
    let ticket = get_for_update(db, who, ticket_id).await?;
    super::locks::ensure_free_for(db, who, ticket_id).await?;
    let mut f = FieldErrors::default();
    crate::text::prose(&mut f, "body", &new.body, 100_000, true);
    let visibility = match new.visibility.as_deref() {
        None | Some("public") => Visibility::Public,
        Some("internal") => Visibility::Internal,
        Some(_) => {
            f.add("visibility", "must be one of: public, internal");
            Visibility::Public
        }
    };
    f.finish()?;
    if visibility == Visibility::Internal && !who.may(Action::WorkTickets) {
        return Err(Error::Forbidden("customers cannot write internal notes"));
    }
    if ticket.status == Status::Closed {
        return Err(Error::Conflict {
            code: crate::error::Code::TicketClosed,
            message: "the ticket is closed; open a new ticket instead".into(),
        });
    }

    let row = db
        .query_one(
            "INSERT INTO ticket_comments (org_id, ticket_id, author_id, visibility, body)
             VALUES ($1, $2, $3, $4, $5)
             RETURNING id, created_at, (SELECT display_name FROM users WHERE id = author_id)",
            &[&who.org_id, &ticket_id, &who.user_id, &visibility.as_str(), &new.body],
        )
        .await?;
    let comment = Comment {
        id: row.get(0),
        ticket_id,
        author_id: who.user_id,
        author_name: row.get(2),
        visibility,
        body: new.body.clone(),
        created_at: row.get(1),
        attachments: Vec::new(),
    };
    let on = crate::attachments::On::Comment { ticket_id, comment_id: comment.id };
    let comment =
        Comment { attachments: crate::attachments::link::attach(db, who, &new.attachment_ids, on).await?, ..comment };

    if who.may(Action::WorkTickets) {
        super::locks::release_after_reply(db, who, ticket_id).await?;
    }
    let public = visibility == Visibility::Public;
    let next_status = match (who.may(Action::WorkTickets), public, ticket.status) {
        (true, true, Status::New) => Status::Open,
        (false, _, Status::Pending | Status::Solved) => Status::Open,
        (_, _, s) => s,
    };
    let first_response = who.may(Action::WorkTickets) && public && ticket.first_responded_at.is_none();
    db.execute(
        "UPDATE tickets SET status = $3, updated_at = now(), version = version + 1,
                first_responded_at = CASE WHEN $4 THEN coalesce(first_responded_at, now()) ELSE first_responded_at END,
                solved_at = CASE WHEN $3 IN ('solved', 'closed') THEN solved_at END
         WHERE org_id = $1 AND id = $2",
        &[&who.org_id, &ticket_id, &next_status.as_str(), &first_response],
    )
    .await?;
    let added = json!({"comment_id": comment.id, "visibility": visibility});
    record(db, Event::by(who, ticket_id, Kind::CommentAdded).after(added)).await?;
    if next_status != ticket.status {
        let (before, after) = (json!({"status": ticket.status}), json!({"status": next_status}));
        record(db, Event::by(who, ticket_id, Kind::Updated).before(before).after(after)).await?;
    }
    Ok(comment)
}

/// Whether comment `id` is a public reply (a customer may see its files).
pub async fn is_public(db: &impl GenericClient, org_id: crate::ids::OrgId, id: i64) -> Result<bool> {
    let row =
        db.query_opt("SELECT visibility FROM ticket_comments WHERE org_id = $1 AND id = $2", &[&org_id, &id]).await?;
    Ok(row.is_some_and(|r| r.get::<_, &str>(0) == "public"))
}

/// A page of a ticket's comments.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CommentPage {
    /// In the order asked for.
    pub items: Vec<Comment>,
    /// Pass as `cursor` (with the same `order`) for the next page; absent on the last.
    pub next_cursor: Option<String>,
    /// How many comments the reader may see on the ticket in all, on every page.
    pub total: i64,
}

/// A page of the comments `who` may see (customers: public ones), from either end.
pub async fn list(db: &impl GenericClient, who: &Principal, ticket_id: TicketId, page: &Thread) -> Result<CommentPage> {
    get(db, who, ticket_id).await?;
    let (at, id) = page.after.map(|a| (Some(a.at), Some(a.id))).unwrap_or_default();
    // `(created_at, id)` is the order of index ticket_comments_ticket_idx, read from
    // either end: a page deep into a 20,000-message thread costs what the first does.
    let sql = format!(
        "SELECT c.id, c.author_id, c.visibility, c.body, c.created_at, u.display_name
           FROM ticket_comments c JOIN users u ON u.id = c.author_id
          WHERE c.org_id = $1 AND c.ticket_id = $2 AND ($3 OR c.visibility = 'public')
            AND ($4::timestamptz IS NULL OR (c.created_at, c.id) {} ($4, $5))
          ORDER BY c.created_at {dir}, c.id {dir} LIMIT $6",
        page.order.after(),
        dir = page.order.sql()
    );
    let staff = who.may(Action::WorkTickets);
    let rows = db.query(&sql, &[&who.org_id, &ticket_id, &staff, &at, &id, &(page.limit + 1)]).await?;
    let items = rows
        .iter()
        .map(|r| Comment {
            id: r.get("id"),
            ticket_id,
            author_id: r.get("author_id"),
            author_name: r.get("display_name"),
            visibility: if r.get::<_, &str>("visibility") == "internal" {
                Visibility::Internal
            } else {
                Visibility::Public
            },
            body: r.get("body"),
            created_at: r.get("created_at"),
            attachments: Vec::new(),
        })
        .collect();
    let (mut items, next_cursor) = page.page(items, |c: &Comment| (c.created_at, c.id));
    let ids: Vec<i64> = items.iter().map(|c| c.id).collect();
    let mut files = crate::attachments::link::of_comments(db, who.org_id, &ids).await?;
    for c in &mut items {
        c.attachments = files.remove(&c.id).unwrap_or_default();
    }
    let total = db
        .query_one(
            "SELECT count(*) FROM ticket_comments
              WHERE org_id = $1 AND ticket_id = $2 AND ($3 OR visibility = 'public')",
            &[&who.org_id, &ticket_id, &staff],
        )
        .await?
        .get(0);
    Ok(CommentPage { items, next_cursor, total })
}
