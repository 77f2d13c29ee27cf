//! How a person comes to have an account: an admin's invitation, a customer's sign-up
//! in the help centre, and the address each verifies through a mailed link.

use crate::auth::policy::Action;
use std::net::IpAddr;

use atum_queue::enqueue::Options;
use deadpool_postgres::GenericClient;
use serde::Deserialize;

use super::messages::{self, AccountPages, RECIPIENT_COLUMNS, Recipient};
use super::password::hash_blocking;
use crate::{
    auth::{
        Principal, Role,
        audit::{self, Record, event},
        email_tokens::{self, Purpose},
    },
    email::Email,
    error::{Error, Result},
    ids::UserId,
    orgs, users,
};

/// Mails an invited person (an account with no password yet) the link to choose one,
/// in the name of the admin `who`; a newer invitation voids the older link.
pub async fn invite(db: &impl GenericClient, public_url: &str, who: &Principal, user_id: UserId) -> Result<()> {
    who.require(Action::ManagePeople)?;
    let row = db
        .query_opt(
            &format!(
                "SELECT {RECIPIENT_COLUMNS}, o.name AS org_name, u.password_hash IS NULL AS invited,
                        (SELECT display_name FROM users WHERE id = $3) AS inviter
                   FROM users u JOIN organizations o ON o.id = u.org_id
                  WHERE u.org_id = $1 AND u.id = $2 AND u.is_active"
            ),
            &[&who.org_id, &user_id, &who.user_id],
        )
        .await?
        .ok_or(Error::NotFound("user"))?;
    if !row.get::<_, bool>("invited") {
        return Err(Error::Conflict {
            code: crate::error::Code::Conflict,
            message: "this person has a password already; they can ask for a reset link".into(),
        });
    }
    let (org_name, inviter): (String, Option<String>) = (row.get("org_name"), row.get("inviter"));
    let Recipient { address, name, pages, .. } = Recipient::from_row(public_url, &row)?;
    let token = email_tokens::issue(db, Purpose::Invite, who.org_id, user_id, &address).await?;
    let inviter = inviter.unwrap_or_else(|| "An administrator".into());
    let mail = messages::invitation(&pages, who.org_id, &org_name, &inviter, &address, &name, &token);
    atum_queue::enqueue(db, &mail, Options::default()).await?;
    audit::record(db, Record::by(who, event::INVITED, None).target(user_id)).await
}

pub async fn verify_email(db: &impl GenericClient, token: &str, ip: Option<IpAddr>) -> Result<()> {
    let (org_id, user_id) = email_tokens::consume(db, Purpose::VerifyEmail, token).await?.ok_or(Error::InvalidToken)?;
    db.execute("UPDATE users SET email_verified_at = now(), updated_at = now() WHERE id = $1", &[&user_id]).await?;
    audit::record(db, Record::about(org_id, user_id, event::EMAIL_VERIFIED, ip)).await
}

/// A new verification link for an account of `org` that still needs one; silent
/// otherwise.
pub async fn resend_verification(
    db: &impl GenericClient,
    public_url: &str,
    org: Option<&str>,
    email: &str,
) -> Result<()> {
    let Some(org_id) = crate::auth::login::org_for_sign_in(db, org).await? else { return Ok(()) };
    let Some(Recipient { user_id, org_id, address, name, pages }) =
        Recipient::by_email(db, public_url, org_id, email, true).await?
    else {
        return Ok(());
    };
    let token = email_tokens::issue(db, Purpose::VerifyEmail, org_id, user_id, &address).await?;
    atum_queue::enqueue(db, &messages::verify_email(&pages, org_id, &address, &name, &token), Options::default())
        .await?;
    Ok(())
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Signup {
    #[schema(inline)]
    pub email: Email,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub display_name: String,
    #[schema(min_length = 12, max_length = 1024)]
    pub password: String,
}

/// A customer creates a portal account on an org that allows it. The account cannot
/// sign in until the address is verified; an unverified sign-up whose link expired is
/// deleted by the hourly housekeeping. An address that already has an account in
/// this organisation gets a note instead, and the caller's answer is the same (no
/// enumeration). Accounts in other organisations play no part.
pub async fn signup(
    db: &impl GenericClient,
    public_url: &str,
    org_slug: &str,
    s: &Signup,
    ip: Option<IpAddr>,
) -> Result<()> {
    let org = match orgs::find_by_slug(db, org_slug).await {
        Ok(org) => org,
        Err(Error::NotFound(_)) => return Err(Error::NotFound("portal")),
        Err(e) => return Err(e),
    };
    let open: bool = db.query_one("SELECT portal_signup FROM organizations WHERE id = $1", &[&org.id]).await?.get(0);
    if !open {
        return Err(Error::NotFound("portal"));
    }
    let new = users::NewUser {
        email: s.email.clone(),
        display_name: s.display_name.clone(),
        role: Role::Customer,
        password: Some(s.password.clone()),
    };
    new.validate()?;
    let existing = db
        .query_opt("SELECT role FROM users WHERE org_id = $1 AND lower(email) = lower($2)", &[&org.id, &s.email.trim()])
        .await?;
    if let Some(row) = existing {
        let role = Role::parse(row.get(0)).ok_or_else(|| Error::Internal("a user with an unknown role".into()))?;
        let pages = AccountPages::of(public_url, role, &org.slug);
        atum_queue::enqueue(db, &messages::already_registered(&pages, org.id, s.email.trim()), Options::default())
            .await?;
        return Ok(());
    }
    let hash = hash_blocking(s.password.clone()).await?;
    let user = users::insert(db, org.id, &new, Some(hash)).await?;
    db.execute("UPDATE users SET must_verify_email = true WHERE id = $1", &[&user.id]).await?;
    let token = email_tokens::issue(db, Purpose::VerifyEmail, org.id, user.id, &user.email).await?;
    let pages = AccountPages::of(public_url, Role::Customer, &org.slug);
    atum_queue::enqueue(
        db,
        &messages::verify_email(&pages, org.id, &user.email, &user.display_name, &token),
        Options::default(),
    )
    .await?;
    audit::record(db, Record::about(org.id, user.id, event::SIGNUP, ip)).await
}
