//! Agent groups: named teams of agents and admins in one organisation. Tickets can be
//! routed to a group (today: by an SLA escalation), and a policy names the group it
//! escalates to.

use crate::auth::policy::Action;
use crate::ids::OrgId;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};
use tokio_postgres::Row;

use crate::{
    auth::Principal,
    error::{Error, FieldErrors, Result},
};

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupInput {
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: String,
    /// Agents and admins of the organisation; replaces the current members.
    #[serde(default)]
    #[schema(max_items = 1000)]
    pub member_ids: Vec<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Group {
    pub id: i64,
    pub name: String,
    pub member_ids: Vec<i64>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "g.id, g.name, \
     coalesce((SELECT array_agg(m.user_id ORDER BY m.user_id) FROM agent_group_members m WHERE m.group_id = g.id), '{}'), \
     g.updated_at";

fn from_row(r: &Row) -> Group {
    Group { id: r.get(0), name: r.get(1), member_ids: r.get(2), updated_at: r.get(3) }
}

impl GroupInput {
    fn validate(&self) -> Result<()> {
        let mut f = FieldErrors::default();
        crate::text::line(&mut f, "name", &self.name, 100);
        if self.member_ids.len() > 1000 {
            f.add("member_ids", "at most 1000 members");
        }
        f.finish()
    }
}

fn name_taken(e: tokio_postgres::Error) -> Error {
    if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) {
        Error::Conflict { code: crate::error::Code::NameTaken, message: "another group has this name".into() }
    } else {
        Error::Db(e)
    }
}

/// Replaces the members of `group`; every one must be staff of the organisation.
async fn set_members(db: &impl GenericClient, who: &Principal, group: i64, members: &[i64]) -> Result<()> {
    let mut members = members.to_vec();
    members.sort_unstable();
    members.dedup();
    let staff: i64 = db
        .query_one(
            "SELECT count(*) FROM users WHERE org_id = $1 AND id = ANY($2) AND role <> 'customer'",
            &[&who.org_id, &members],
        )
        .await?
        .get(0);
    if staff != members.len() as i64 {
        return Err(FieldErrors::single("member_ids", "every member must be an agent or admin of this organisation"));
    }
    db.execute("DELETE FROM agent_group_members WHERE group_id = $1", &[&group]).await?;
    db.execute(
        "INSERT INTO agent_group_members (org_id, group_id, user_id) SELECT $1, $2, unnest($3::bigint[])",
        &[&who.org_id, &group, &members],
    )
    .await?;
    Ok(())
}

async fn get(db: &impl GenericClient, org_id: OrgId, id: i64) -> Result<Group> {
    let row = db
        .query_opt(&format!("SELECT {COLUMNS} FROM agent_groups g WHERE g.org_id = $1 AND g.id = $2"), &[&org_id, &id])
        .await?
        .ok_or(Error::NotFound("group"))?;
    Ok(from_row(&row))
}

pub async fn create(db: &impl GenericClient, who: &Principal, input: &GroupInput) -> Result<Group> {
    who.require(Action::Configure)?;
    input.validate()?;
    let id: i64 = db
        .query_one(
            "INSERT INTO agent_groups (org_id, name) VALUES ($1, $2) RETURNING id",
            &[&who.org_id, &input.name.trim()],
        )
        .await
        .map_err(name_taken)?
        .get(0);
    set_members(db, who, id, &input.member_ids).await?;
    get(db, who.org_id, id).await
}

pub async fn update(db: &impl GenericClient, who: &Principal, id: i64, input: &GroupInput) -> Result<Group> {
    who.require(Action::Configure)?;
    input.validate()?;
    let n = db
        .execute(
            "UPDATE agent_groups SET name = $3, updated_at = now() WHERE org_id = $1 AND id = $2",
            &[&who.org_id, &id, &input.name.trim()],
        )
        .await
        .map_err(name_taken)?;
    if n == 0 {
        return Err(Error::NotFound("group"));
    }
    set_members(db, who, id, &input.member_ids).await?;
    get(db, who.org_id, id).await
}

pub async fn list(db: &impl GenericClient, who: &Principal) -> Result<Vec<Group>> {
    who.require(Action::SeeDesk)?;
    let rows = db
        .query(&format!("SELECT {COLUMNS} FROM agent_groups g WHERE g.org_id = $1 ORDER BY g.name"), &[&who.org_id])
        .await?;
    Ok(rows.iter().map(from_row).collect())
}
