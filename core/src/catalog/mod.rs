//! The service catalog: request types an organisation publishes ("New laptop",
//! "Access to a system"), each with a typed form. A customer's submission is checked
//! field by field and becomes a ticket with the item's category, priority and group,
//! the answers stored as structured data against the form version used. Editing a form
//! makes a new version; past tickets keep showing the one they were filed with.

pub mod form;

use crate::auth::policy::Action;
use crate::ids::OrgId;
use crate::ids::TicketId;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio_postgres::Row;

pub use form::Field;

use crate::{
    auth::Principal,
    error::{Error, FieldErrors, Result},
    tickets::{
        self, Ticket,
        write::{NewTicket, create},
    },
};

const PRIORITIES: [&str; 4] = ["low", "normal", "high", "urgent"];

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Item {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub category: Option<String>,
    pub priority: String,
    pub group_id: Option<i64>,
    pub published: bool,
    pub version: i32,
    pub fields: Vec<Field>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemInput {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 5000, pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
    pub description: String,
    #[serde(default)]
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub category: Option<String>,
    /// Priority of the tickets it creates (default normal).
    #[serde(default)]
    #[schema(value_type = Option<crate::tickets::Priority>)]
    pub priority: Option<String>,
    /// Agent group the tickets go to.
    #[serde(default)]
    pub group_id: Option<i64>,
    #[serde(default)]
    pub published: bool,
    #[schema(min_items = 1, max_items = 50)]
    pub fields: Vec<Field>,
}

const COLUMNS: &str = "i.id, i.name, i.description, i.category, i.priority, i.group_id, i.published, \
    i.current_version AS version, f.fields, i.updated_at";

fn from_row(r: &Row) -> Result<Item> {
    Ok(Item {
        id: r.get("id"),
        name: r.get("name"),
        description: r.get("description"),
        category: r.get("category"),
        priority: r.get("priority"),
        group_id: r.get("group_id"),
        published: r.get("published"),
        version: r.get("version"),
        fields: serde_json::from_value(r.get("fields")).map_err(|e| Error::Internal(format!("stored form: {e}")))?,
        updated_at: r.get("updated_at"),
    })
}

async fn validate(db: &impl GenericClient, who: &Principal, input: &ItemInput) -> Result<()> {
    let mut f = FieldErrors::default();
    crate::text::line(&mut f, "name", &input.name, 200);
    crate::text::prose(&mut f, "description", &input.description, 5000, false);
    if let Some(c) = &input.category {
        crate::text::line(&mut f, "category", c, 100);
    }
    if input.priority.as_deref().is_some_and(|p| !PRIORITIES.contains(&p)) {
        f.add("priority", "must be one of: low, normal, high, urgent");
    }
    if let Some(g) = input.group_id {
        let exists = db
            .query_opt("SELECT 1 FROM agent_groups WHERE org_id = $1 AND id = $2", &[&who.org_id, &g])
            .await?
            .is_some();
        if !exists {
            f.add("group_id", "no such agent group");
        }
    }
    form::validate_definition(&input.fields, &mut f);
    f.finish()
}

async fn fetch(db: &impl GenericClient, org_id: OrgId, id: i64, published_only: bool) -> Result<Item> {
    let row = db
        .query_opt(
            &format!(
                "SELECT {COLUMNS} FROM service_catalog_items i
                 JOIN service_catalog_forms f ON f.item_id = i.id AND f.version = i.current_version
                 WHERE i.org_id = $1 AND i.id = $2 AND (i.published OR NOT $3)"
            ),
            &[&org_id, &id, &published_only],
        )
        .await?
        .ok_or(Error::NotFound("catalog item"))?;
    from_row(&row)
}

/// Admins see every item; everyone else the published ones.
pub async fn list(db: &impl GenericClient, who: &Principal) -> Result<Vec<Item>> {
    let all = who.may(Action::Configure);
    let rows = db
        .query(
            &format!(
                "SELECT {COLUMNS} FROM service_catalog_items i
                 JOIN service_catalog_forms f ON f.item_id = i.id AND f.version = i.current_version
                 WHERE i.org_id = $1 AND (i.published OR $2) ORDER BY i.name, i.id"
            ),
            &[&who.org_id, &all],
        )
        .await?;
    rows.iter().map(from_row).collect()
}

pub async fn get(db: &impl GenericClient, who: &Principal, id: i64) -> Result<Item> {
    fetch(db, who.org_id, id, !who.may(Action::Configure)).await
}

fn fields_json(fields: &[Field]) -> Result<Value> {
    let trimmed: Vec<Field> = fields
        .iter()
        .map(|f| Field {
            label: f.label.trim().into(),
            help: f.help.trim().into(),
            options: f.options.iter().map(|o| o.trim().to_owned()).collect(),
            ..f.clone()
        })
        .collect();
    serde_json::to_value(trimmed).map_err(|e| Error::Internal(e.to_string()))
}

fn name_taken() -> Error {
    Error::Conflict { code: crate::error::Code::NameTaken, message: "another catalog item has this name".into() }
}

pub async fn create_item(db: &impl GenericClient, who: &Principal, input: &ItemInput) -> Result<Item> {
    who.require(Action::Configure)?;
    validate(db, who, input).await?;
    let id: i64 = db
        .query_opt(
            "INSERT INTO service_catalog_items (org_id, name) VALUES ($1, $2)
             ON CONFLICT (org_id, name) DO NOTHING RETURNING id",
            &[&who.org_id, &input.name.trim()],
        )
        .await?
        .ok_or_else(name_taken)?
        .get(0);
    add_version(db, who, id, 1, &fields_json(&input.fields)?).await?;
    write_item(db, who, id, input, 1).await
}

/// Changes an item. A changed form becomes a new version; tickets already filed keep
/// theirs.
pub async fn update_item(db: &impl GenericClient, who: &Principal, id: i64, input: &ItemInput) -> Result<Item> {
    who.require(Action::Configure)?;
    let current = fetch(db, who.org_id, id, false).await?;
    validate(db, who, input).await?;
    let fields = fields_json(&input.fields)?;
    let changed = serde_json::to_value(&current.fields).map_err(|e| Error::Internal(e.to_string()))? != fields;
    let version = if changed { current.version + 1 } else { current.version };
    if changed {
        add_version(db, who, id, version, &fields).await?;
    }
    write_item(db, who, id, input, version).await
}

async fn add_version(db: &impl GenericClient, who: &Principal, id: i64, version: i32, fields: &Value) -> Result<()> {
    db.execute(
        "INSERT INTO service_catalog_forms (org_id, item_id, version, fields, created_by) VALUES ($1, $2, $3, $4, $5)",
        &[&who.org_id, &id, &version, fields, &who.user_id],
    )
    .await?;
    Ok(())
}

/// Writes an item's settings (validated) and points it at form `version`.
async fn write_item(
    db: &impl GenericClient,
    who: &Principal,
    id: i64,
    input: &ItemInput,
    version: i32,
) -> Result<Item> {
    let updated = db
        .execute(
            "UPDATE service_catalog_items SET name = $3, description = $4, category = $5, priority = $6, group_id = $7,
                    published = $8, current_version = $9, updated_at = now()
             WHERE org_id = $1 AND id = $2",
            &[
                &who.org_id,
                &id,
                &input.name.trim(),
                &input.description,
                &input.category.as_deref().map(str::trim),
                &input.priority.as_deref().unwrap_or("normal"),
                &input.group_id,
                &input.published,
                &version,
            ],
        )
        .await;
    match updated {
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) => return Err(name_taken()),
        other => {
            other?;
        }
    }
    fetch(db, who.org_id, id, false).await
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    /// Answers by field key.
    #[schema(value_type = Object)]
    pub answers: Map<String, Value>,
    /// Your pending uploads (`POST /attachments`) to send with the request.
    #[serde(default)]
    #[schema(value_type = Vec<i64>, max_items = 100)]
    pub attachment_ids: Vec<crate::ids::AttachmentId>,
}

/// A customer (or an agent for themselves) files a request: the answers are checked
/// against the item's current form and become a ticket.
pub async fn submit(db: &impl GenericClient, who: &Principal, item_id: i64, s: &Submission) -> Result<Ticket> {
    let item = fetch(db, who.org_id, item_id, true).await?;
    let mut f = FieldErrors::default();
    let answers = form::validate_answers(&item.fields, &s.answers, &mut f);
    f.finish()?;
    let new = NewTicket {
        subject: item.name.clone(),
        description: form::render(&item.fields, &answers),
        // A customer's ticket is a portal ticket anyway (and customers may not name
        // the channel in every organisation); an agent filing one says where from.
        channel: who.may(Action::WorkTickets).then(|| "portal".into()),
        attachment_ids: s.attachment_ids.clone(),
        ..Default::default()
    };
    let ticket = create(db, who, &new).await?;
    // The item decides how the ticket is classified and routed, whoever files it.
    db.execute(
        "UPDATE tickets SET priority = $3, category = $4, group_id = $5 WHERE org_id = $1 AND id = $2",
        &[&who.org_id, &ticket.id, &item.priority, &item.category, &item.group_id],
    )
    .await?;
    db.execute(
        "INSERT INTO ticket_catalog_requests (org_id, ticket_id, item_id, form_version, answers) VALUES ($1, $2, $3, $4, $5)",
        &[&who.org_id, &ticket.id, &item.id, &item.version, &Value::Object(answers)],
    )
    .await?;
    tickets::get(db, who, ticket.id).await
}

/// The request behind a ticket: the form as it was when filed, and the answers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Request {
    pub item_id: i64,
    pub item_name: String,
    pub form_version: i32,
    pub fields: Vec<Field>,
    #[schema(value_type = Object)]
    pub answers: Value,
}

pub async fn request_of(db: &impl GenericClient, who: &Principal, ticket_id: TicketId) -> Result<Request> {
    tickets::get(db, who, ticket_id).await?;
    let row = db
        .query_opt(
            "SELECT r.item_id, i.name, r.form_version, f.fields, r.answers
             FROM ticket_catalog_requests r
             JOIN service_catalog_items i ON i.id = r.item_id
             JOIN service_catalog_forms f ON f.item_id = r.item_id AND f.version = r.form_version
             WHERE r.org_id = $1 AND r.ticket_id = $2",
            &[&who.org_id, &ticket_id],
        )
        .await?
        .ok_or(Error::NotFound("catalog request"))?;
    Ok(Request {
        item_id: row.get("item_id"),
        item_name: row.get("name"),
        form_version: row.get("form_version"),
        fields: serde_json::from_value(row.get("fields")).map_err(|e| Error::Internal(e.to_string()))?,
        answers: row.get("answers"),
    })
}
