//! Organisations (tenants). Created with their first admin by `atum org create`.

use crate::ids::OrgId;
use deadpool_postgres::GenericClient;
use serde::Serialize;

use crate::{
    auth::Role,
    error::{Error, FieldErrors, Result},
    users::{self, NewUser, User},
};

#[derive(Debug, Clone, Serialize)]
pub struct Org {
    pub id: OrgId,
    pub slug: String,
    pub name: String,
}

use crate::text::SLUG_RULE;
pub use crate::text::{SLUG_PATTERN, is_slug};

pub fn validate_slug(fields: &mut FieldErrors, slug: &str) {
    if !is_slug(slug) {
        fields.add("slug", SLUG_RULE);
    }
}

/// Creates an organisation and its first admin in the caller's transaction.
pub async fn create_with_admin(
    db: &impl GenericClient,
    slug: &str,
    name: &str,
    admin: &NewUser,
    admin_password_hash: String,
) -> Result<(Org, User)> {
    let mut f = FieldErrors::default();
    validate_slug(&mut f, slug);
    users::validate_name(&mut f, "name", name);
    if admin.role != Role::Admin {
        f.add("role", "the first user of an organisation is its admin");
    }
    f.finish()?;
    let row = db
        .query_opt(
            "INSERT INTO organizations (slug, name) VALUES ($1, $2) ON CONFLICT (slug) DO NOTHING RETURNING id",
            &[&slug, &name.trim()],
        )
        .await?
        .ok_or_else(|| Error::Conflict {
            code: crate::error::Code::SlugTaken,
            message: format!("organisation {slug:?} exists"),
        })?;
    let org = Org { id: row.get(0), slug: slug.to_owned(), name: name.trim().to_owned() };
    let user = users::insert(db, org.id, admin, Some(admin_password_hash)).await?;
    Ok((org, user))
}

pub async fn find_by_slug(db: &impl GenericClient, slug: &str) -> Result<Org> {
    db.query_opt("SELECT id, slug, name FROM organizations WHERE slug = $1", &[&slug])
        .await?
        .map(|r| Org { id: r.get(0), slug: r.get(1), name: r.get(2) })
        .ok_or(Error::NotFound("organisation"))
}
