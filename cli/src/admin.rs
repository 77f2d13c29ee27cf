//! `atum org create`, `atum user create` and `atum user unlock`: bootstrapping a tenant
//! and its people from the command line (the API needs an admin to exist before anyone
//! can sign in), and letting in someone locked out when no admin can.
//!
//! The password comes from `ATUM_PASSWORD` when set (for scripts), otherwise a random
//! one is generated and printed once; it is never logged.

use std::process::ExitCode;

use anyhow::Context as _;
use atum_core::{
    auth::Role,
    orgs,
    users::{self, NewUser},
};
use atum_runtime::config::Env;
use clap::Subcommand;
use rand::{RngExt, distr::Alphanumeric};

#[derive(Subcommand)]
pub enum OrgAction {
    /// Create an organisation and its first admin.
    Create {
        /// Short name used in URLs: lowercase letters, digits and dashes.
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        admin_email: String,
        #[arg(long)]
        admin_name: String,
    },
}

#[derive(Subcommand)]
pub enum UserAction {
    /// Add a user to an organisation.
    Create {
        /// The organisation's slug.
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["admin", "agent", "customer"])]
        role: String,
        /// Create without a password (the user is invited and sets one later).
        #[arg(long)]
        invite: bool,
    },
    /// Lift a sign-in lockout (what an admin does with POST /users/{id}/unlock).
    Unlock {
        /// The organisation's slug.
        #[arg(long)]
        org: String,
        /// The person's e-mail address in that organisation.
        email: String,
    },
}

fn password() -> (String, bool) {
    match Env::process().get("ATUM_PASSWORD") {
        Some(p) => (p, false),
        None => (rand::rng().sample_iter(Alphanumeric).take(20).map(char::from).collect(), true),
    }
}

fn hash(new: &NewUser) -> anyhow::Result<Option<String>> {
    new.validate()?;
    users::hash_for(new).map_err(|e| anyhow::anyhow!("{e}"))
}

pub async fn org(action: OrgAction) -> anyhow::Result<ExitCode> {
    let OrgAction::Create { slug, name, admin_email, admin_name } = action;
    let (secret, generated) = password();
    let admin = NewUser {
        email: admin_email.into(),
        display_name: admin_name,
        role: Role::Admin,
        password: Some(secret.clone()),
    };
    let hash = hash(&admin)?.context("an admin needs a password")?;
    let mut conn = crate::migrate::pooled().await?;
    let tx = conn.transaction().await?;
    let (org, user) = orgs::create_with_admin(&tx, &slug, &name, &admin, hash).await?;
    tx.commit().await?;
    println!("created organisation {} (id {}) with admin {} (id {})", org.slug, org.id, user.email, user.id);
    if generated {
        println!("password: {secret}");
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn user(action: UserAction) -> anyhow::Result<ExitCode> {
    match action {
        UserAction::Create { org, email, name, role, invite } => create_user(org, email, name, role, invite).await,
        UserAction::Unlock { org, email } => unlock_user(org, email).await,
    }
}

async fn unlock_user(org: String, email: String) -> anyhow::Result<ExitCode> {
    let mut conn = crate::migrate::pooled().await?;
    let tx = conn.transaction().await?;
    let org = orgs::find_by_slug(&tx, &org).await?;
    let id = atum_core::accounts::security::unlock_as_operator(&tx, org.id, &email).await?;
    tx.commit().await?;
    println!("unlocked {} (id {id}) in {}", email.trim(), org.slug);
    Ok(ExitCode::SUCCESS)
}

async fn create_user(org: String, email: String, name: String, role: String, invite: bool) -> anyhow::Result<ExitCode> {
    let role = Role::parse(&role).context("unknown role")?;
    let (secret, generated) = password();
    let new = NewUser { email: email.into(), display_name: name, role, password: (!invite).then(|| secret.clone()) };
    let hash = hash(&new)?;
    let mut conn = crate::migrate::pooled().await?;
    let tx = conn.transaction().await?;
    let org = orgs::find_by_slug(&tx, &org).await?;
    let user = users::insert(&tx, org.id, &new, hash).await?;
    tx.commit().await?;
    println!("created {} {} (id {}) in {}", role.as_str(), user.email, user.id, org.slug);
    if generated && !invite {
        println!("password: {secret}");
    }
    Ok(ExitCode::SUCCESS)
}
