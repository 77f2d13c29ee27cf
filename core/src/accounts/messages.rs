//! The mails the desk sends about accounts (a password reset, an invitation, an
//! address to verify). Their links open the account's pages ([`AccountPages`]).

use deadpool_postgres::GenericClient;

use crate::{
    auth::Role,
    error::{Error, Result},
    ids::{OrgId, UserId},
    mail::SendEmail,
};

/// Where a person's account pages are: a customer's in their organisation's help
/// centre (`/help/{org}/…`), so they never land in the agents' app; staff's at the
/// desk's root (`/reset-password`, `/verify-email`, signing in at `/app/`).
/// `public_url` is where users reach the desk (`ATUM_PUBLIC_URL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountPages {
    base: String,
    customer: bool,
}

impl AccountPages {
    pub fn of(public_url: &str, role: Role, org_slug: &str) -> Self {
        let root = public_url.trim_end_matches('/');
        match role {
            Role::Customer => AccountPages { base: format!("{root}/help/{org_slug}"), customer: true },
            Role::Admin | Role::Agent => AccountPages { base: root.to_owned(), customer: false },
        }
    }

    pub fn verify_email(&self, token: &str) -> String {
        format!("{}/verify-email?token={token}", self.base)
    }

    pub fn reset_password(&self, token: &str) -> String {
        format!("{}/reset-password?token={token}", self.base)
    }

    pub fn sign_in(&self) -> String {
        if self.customer { format!("{}/sign-in", self.base) } else { format!("{}/app/", self.base) }
    }

    /// Where to ask for a reset link.
    pub fn forgot_password(&self) -> String {
        if self.customer { format!("{}/forgot-password", self.base) } else { format!("{}/app/", self.base) }
    }
}

pub fn verify_email(pages: &AccountPages, org_id: crate::ids::OrgId, to: &str, name: &str, token: &str) -> SendEmail {
    SendEmail {
        org_id: Some(org_id),
        to: to.to_owned(),
        subject: "Confirm your email address".into(),
        text: format!(
            "Hello {name},\n\nplease confirm your email address to finish creating your account:\n\n\
             {}\n\nThe link works once and expires in 48 hours. \
             If you did not sign up, ignore this message.\n",
            pages.verify_email(token)
        ),
        sensitive: true,
    }
}

pub fn reset_password(pages: &AccountPages, org_id: crate::ids::OrgId, to: &str, name: &str, token: &str) -> SendEmail {
    SendEmail {
        org_id: Some(org_id),
        to: to.to_owned(),
        subject: "Reset your password".into(),
        text: format!(
            "Hello {name},\n\nsomeone (hopefully you) asked to reset the password of this account. \
             To choose a new one, open:\n\n{}\n\n\
             The link works once and expires in 1 hour. Resetting signs out every session. \
             If you did not ask for this, ignore this message; your password stays as it is.\n",
            pages.reset_password(token)
        ),
        sensitive: true,
    }
}

pub fn invitation(
    pages: &AccountPages,
    org_id: crate::ids::OrgId,
    org_name: &str,
    inviter: &str,
    to: &str,
    name: &str,
    token: &str,
) -> SendEmail {
    SendEmail {
        org_id: Some(org_id),
        to: to.to_owned(),
        subject: format!("You are invited to {org_name}"),
        text: format!(
            "Hello {name},\n\n{inviter} made you an account at {org_name}. \
             To choose your password and sign in, open:\n\n{}\n\n\
             The link works once and expires in 7 days; after that, ask {inviter} for a new one. \
             If you did not expect this, ignore this message.\n",
            pages.reset_password(token)
        ),
        sensitive: true,
    }
}

pub fn already_registered(pages: &AccountPages, org_id: crate::ids::OrgId, to: &str) -> SendEmail {
    SendEmail {
        org_id: Some(org_id),
        to: to.to_owned(),
        subject: "You already have an account".into(),
        text: format!(
            "Hello,\n\nsomeone tried to sign up with this address, which already has an account. \
             If it was you, sign in at {} or ask for a new password at {}.\n",
            pages.sign_in(),
            pages.forgot_password(),
        ),
        sensitive: false,
    }
}

/// Whom a mail about their account goes to: their address, their name and their pages.
pub(super) struct Recipient {
    pub user_id: UserId,
    pub org_id: OrgId,
    pub address: String,
    pub name: String,
    pub pages: AccountPages,
}

/// What [`Recipient::from_row`] reads, from `users u JOIN organizations o`.
pub(super) const RECIPIENT_COLUMNS: &str = "u.id, u.org_id, u.email, u.display_name, u.role, o.slug";

impl Recipient {
    pub(super) fn from_row(public_url: &str, row: &tokio_postgres::Row) -> Result<Self> {
        let role = Role::parse(row.get("role")).ok_or_else(|| Error::Internal("a user with an unknown role".into()))?;
        Ok(Recipient {
            user_id: row.get("id"),
            org_id: row.get("org_id"),
            address: row.get("email"),
            name: row.get("display_name"),
            pages: AccountPages::of(public_url, role, row.get("slug")),
        })
    }

    /// The active person of `org_id` with the address `email` (`unverified`: only while
    /// that address is still to be verified), if there is one.
    pub(super) async fn by_email(
        db: &impl GenericClient,
        public_url: &str,
        org_id: OrgId,
        email: &str,
        unverified: bool,
    ) -> Result<Option<Self>> {
        let row = db
            .query_opt(
                &format!(
                    "SELECT {RECIPIENT_COLUMNS} FROM users u JOIN organizations o ON o.id = u.org_id
                      WHERE u.org_id = $1 AND lower(u.email) = lower($2) AND u.is_active
                        AND (NOT $3 OR (u.must_verify_email AND u.email_verified_at IS NULL))"
                ),
                &[&org_id, &email.trim(), &unverified],
            )
            .await?;
        row.map(|r| Recipient::from_row(public_url, &r)).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_customers_links_open_their_help_centre_and_staffs_the_desk() {
        let customer = AccountPages::of("https://desk.example.test/", Role::Customer, "acme");
        assert_eq!(customer.reset_password("t"), "https://desk.example.test/help/acme/reset-password?token=t");
        assert_eq!(customer.verify_email("t"), "https://desk.example.test/help/acme/verify-email?token=t");
        assert_eq!(customer.sign_in(), "https://desk.example.test/help/acme/sign-in");
        let agent = AccountPages::of("https://desk.example.test", Role::Agent, "acme");
        assert_eq!(agent.reset_password("t"), "https://desk.example.test/reset-password?token=t");
        assert_eq!(agent.sign_in(), "https://desk.example.test/app/");
        let note = already_registered(&customer, crate::ids::OrgId(1), "c@example.test");
        assert!(note.text.contains("https://desk.example.test/help/acme/forgot-password"), "{}", note.text);
    }
}
