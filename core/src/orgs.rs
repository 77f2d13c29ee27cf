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

/// The OpenAPI document states the same rule as [`SLUG_PATTERN`].
pub fn is_slug(slug: &str) -> bool {
    (1..=63).contains(&slug.len())
        && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
}

/// A slug as a JSON Schema pattern (with `maxLength: 63`).
pub const SLUG_PATTERN: &str = "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$";

const SLUG_RULE: &str = "must be 1 to 63 lowercase letters, digits or dashes, not starting or ending with a dash";

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

/// The organisation a sign-in, reset or verification request names: by slug, or —
/// when the request names none — the only organisation of an instance that has
/// exactly one. `Ok(None)` for a slug that names nothing; the caller answers as it
/// would for an unknown address, so a guessed slug learns nothing more than a
/// guessed e-mail address does.
pub async fn for_sign_in(db: &impl GenericClient, slug: Option<&str>) -> Result<Option<OrgId>> {
    if let Some(slug) = slug {
        if !is_slug(slug) {
            return Err(FieldErrors::single("org", SLUG_RULE));
        }
        let row = db.query_opt("SELECT id FROM organizations WHERE slug = $1", &[&slug]).await?;
        return Ok(row.map(|r| r.get(0)));
    }
    let rows = db.query("SELECT id FROM organizations ORDER BY id LIMIT 2", &[]).await?;
    match rows.as_slice() {
        [only] => Ok(Some(only.get(0))),
        [] => Ok(None),
        _ => Err(FieldErrors::single(
            "org",
            "name the organisation to sign in to (its short name, as in the sign-in address)",
        )),
    }
}
