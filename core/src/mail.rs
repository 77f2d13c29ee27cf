//! Outgoing mail: the `SEND_EMAIL` job and the messages the desk sends.
//!
//! Mail is queued in the transaction that decides to send it (a rolled-back sign-up
//! sends nothing) and delivered by the job worker: over SMTP to the relay named by
//! `ATUM_SMTP_URL`, or — with none configured, in development — written as `.eml`
//! files under `ATUM_MAIL_DIR` (default `./var/mail`).
//!
//! Messages carrying a one-time link are marked sensitive: once delivered, the job
//! row's copy of the body is replaced by a note, so the link does not linger in
//! `job_queue` (the admin jobs API never shows a sensitive body either).

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
};

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
};
use serde::{Deserialize, Serialize};

use crate::jobs::{JobContext, Need};
use atum_queue::{Job, JobError};
use atum_runtime::config::{ConfigError, Env};

/// Where mail goes.
#[derive(Debug, Clone)]
pub enum Transport {
    /// `smtp://host:port` (plain, a local relay), `smtp://…?tls=required` (STARTTLS),
    /// `smtps://user:pass@host` (TLS); see lettre's `from_url`.
    Smtp(String),
    Directory(PathBuf),
}

#[derive(Clone)]
pub struct MailConfig {
    pub transport: Transport,
    pub from: Mailbox,
}

impl std::fmt::Debug for MailConfig {
    // The SMTP URL may hold a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let t = match &self.transport {
            Transport::Smtp(_) => "smtp(<url redacted>)".to_string(),
            Transport::Directory(d) => format!("directory({})", d.display()),
        };
        f.debug_struct("MailConfig").field("transport", &t).field("from", &self.from.to_string()).finish()
    }
}

impl MailConfig {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let from_raw = env.get("ATUM_MAIL_FROM").unwrap_or_else(|| "ATUM Desk <desk@localhost>".into());
        let from: Mailbox = from_raw.parse().map_err(|e| ConfigError::Invalid {
            var: "ATUM_MAIL_FROM".into(),
            reason: format!("expected a mailbox such as \"Help Desk <help@example.com>\": {e}"),
        })?;
        let transport = match env.get("ATUM_SMTP_URL") {
            Some(url) => {
                // Check it now, so a typo stops the worker at start rather than every mail.
                smtp_transport(&url)?;
                Transport::Smtp(url)
            }
            None => Transport::Directory(env.get("ATUM_MAIL_DIR").unwrap_or_else(|| "var/mail".into()).into()),
        };
        Ok(MailConfig { transport, from })
    }
}

/// The relay `ATUM_SMTP_URL` names, ready to build. The error never repeats the URL,
/// which may hold a password.
fn smtp_transport(url: &str) -> Result<lettre::transport::smtp::AsyncSmtpTransportBuilder, ConfigError> {
    AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|_| ConfigError::Invalid {
        var: "ATUM_SMTP_URL".into(),
        reason: "expected smtp://host:port, smtp://host:587?tls=required or smtps://user:pass@host".into(),
    })
}

/// The job worker's mail transport, built once at start and shared by every
/// `SEND_EMAIL` (a job reaches it through its context): the SMTP transport keeps its
/// connection pool across messages.
#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    outlet: Outlet,
}

#[derive(Clone)]
enum Outlet {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Directory(PathBuf),
    /// Kept in memory, for tests that read what was sent and for embedding.
    Memory(Arc<Mutex<Vec<Sent>>>),
}

/// A message as the in-memory outlet keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub to: String,
    pub subject: String,
    pub text: String,
}

impl Mailer {
    pub fn new(config: &MailConfig) -> Result<Self, ConfigError> {
        let outlet = match &config.transport {
            Transport::Smtp(url) => Outlet::Smtp(smtp_transport(url)?.build()),
            Transport::Directory(dir) => Outlet::Directory(dir.clone()),
        };
        Ok(Mailer { from: config.from.clone(), outlet })
    }

    /// A mailer that keeps what it sends; the second value reads it.
    pub fn in_memory(from: Mailbox) -> (Self, Arc<Mutex<Vec<Sent>>>) {
        let sink = Arc::new(Mutex::new(Vec::new()));
        (Mailer { from, outlet: Outlet::Memory(sink.clone()) }, sink)
    }
}

/// Text the admin jobs API shows instead of a sensitive body (the queue's convention).
pub use atum_queue::REDACTED;

/// One plain-text message.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendEmail {
    pub org_id: Option<crate::ids::OrgId>,
    pub to: String,
    pub subject: String,
    pub text: String,
    /// The body holds a secret (a one-time link): scrubbed from the job once sent.
    #[serde(default)]
    pub sensitive: bool,
}

impl Job for SendEmail {
    type Services = crate::jobs::Services;
    const KIND: &'static str = "SEND_EMAIL";
    const PRIORITY: i16 = 2;
    const MAX_ATTEMPTS: i32 = 8;
    const NEEDS: &'static [Need] = &[Need::Mail];

    fn org_id(&self) -> Option<impl Into<i64>> {
        self.org_id
    }

    async fn run(self, ctx: JobContext) -> Result<(), JobError> {
        deliver(ctx.services.mail()?, &self, ctx.job_id).await?;
        if self.sensitive {
            // Delivered: the queue's copy of the link has no further use.
            if let Ok(conn) = ctx.pool.get().await {
                let _ = conn
                    .execute(
                        "UPDATE job_queue SET payload = jsonb_set(payload, '{text}', to_jsonb($2::text)) WHERE id = $1",
                        &[&ctx.job_id, &REDACTED],
                    )
                    .await;
            }
        }
        tracing::info!(job.id = ctx.job_id, subject = %self.subject, "mail sent");
        Ok(())
    }
}

/// Sends one message through `mailer` (SMTP, an `.eml` file named after `job_id`, or
/// memory).
pub async fn deliver(mailer: &Mailer, mail: &SendEmail, job_id: i64) -> Result<(), JobError> {
    let to: Mailbox =
        mail.to.parse().map_err(|e| JobError::Permanent(format!("bad recipient address {:?}: {e}", mail.to)))?;
    let message = Message::builder()
        .from(mailer.from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .header(ContentType::TEXT_PLAIN)
        // lettre picks the transfer encoding: quoted-printable once a line (a link) is
        // longer than 76 characters, which every mail reader decodes.
        .body(mail.text.clone())
        .map_err(|e| JobError::Permanent(format!("cannot build the message: {e}")))?;
    match &mailer.outlet {
        Outlet::Smtp(transport) => {
            transport.send(message).await.map_err(|e| {
                // Permanent SMTP replies (5xx: no such mailbox) will not improve with retries.
                if e.is_permanent() {
                    JobError::Permanent(format!("the relay refused the message: {e}"))
                } else {
                    JobError::Retry(format!("sending failed: {e}"))
                }
            })?;
        }
        Outlet::Memory(sink) => {
            let sent = Sent { to: mail.to.clone(), subject: mail.subject.clone(), text: mail.text.clone() };
            sink.lock().unwrap_or_else(|e| e.into_inner()).push(sent);
        }
        Outlet::Directory(dir) => {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| JobError::Retry(format!("cannot create {}: {e}", dir.display())))?;
            let path = dir.join(format!("{}-{job_id}.eml", chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ")));
            tokio::fs::write(&path, message.formatted())
                .await
                .map_err(|e| JobError::Retry(format!("cannot write {}: {e}", path.display())))?;
        }
    }
    Ok(())
}

/// The messages the desk sends about accounts. Their links open the account's pages
/// ([`AccountPages`]).
pub mod messages {
    use super::SendEmail;
    use crate::auth::Role;

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

    pub fn verify_email(
        pages: &AccountPages,
        org_id: crate::ids::OrgId,
        to: &str,
        name: &str,
        token: &str,
    ) -> SendEmail {
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

    pub fn reset_password(
        pages: &AccountPages,
        org_id: crate::ids::OrgId,
        to: &str,
        name: &str,
        token: &str,
    ) -> SendEmail {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn without_a_relay_mail_is_written_as_an_eml_file() {
        let dir = std::env::temp_dir().join(format!("atum-mail-test-{}", std::process::id()));
        let config = MailConfig {
            transport: Transport::Directory(dir.clone()),
            from: "Desk <desk@example.test>".parse().unwrap(),
        };
        let pages = messages::AccountPages::of("https://desk.example.test/", crate::auth::Role::Agent, "acme");
        let mail = messages::reset_password(&pages, crate::ids::OrgId(1), "ann@example.test", "Ann", &"a".repeat(64));
        deliver(&Mailer::new(&config).unwrap(), &mail, 77).await.unwrap();
        let files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(files.len(), 1);
        assert!(files[0].to_string_lossy().ends_with("-77.eml"), "{files:?}");
        // Undo quoted-printable's soft line breaks and escaped '='.
        let text =
            std::fs::read_to_string(&files[0]).unwrap().replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
        assert!(text.contains("To: ann@example.test"), "{text}");
        assert!(text.contains(&format!("https://desk.example.test/reset-password?token={}", "a".repeat(64))), "{text}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_customers_links_open_their_help_centre_and_staffs_the_desk() {
        use crate::auth::Role;
        let customer = messages::AccountPages::of("https://desk.example.test/", Role::Customer, "acme");
        assert_eq!(customer.reset_password("t"), "https://desk.example.test/help/acme/reset-password?token=t");
        assert_eq!(customer.verify_email("t"), "https://desk.example.test/help/acme/verify-email?token=t");
        assert_eq!(customer.sign_in(), "https://desk.example.test/help/acme/sign-in");
        let agent = messages::AccountPages::of("https://desk.example.test", Role::Agent, "acme");
        assert_eq!(agent.reset_password("t"), "https://desk.example.test/reset-password?token=t");
        assert_eq!(agent.sign_in(), "https://desk.example.test/app/");
        let note = messages::already_registered(&customer, crate::ids::OrgId(1), "c@example.test");
        assert!(note.text.contains("https://desk.example.test/help/acme/forgot-password"), "{}", note.text);
    }

    #[test]
    fn a_bad_relay_url_or_sender_is_refused_at_start_by_name() {
        let env = Env::from_fn(|v| (v == "ATUM_SMTP_URL").then(|| "ftp://nope".to_string()));
        assert!(MailConfig::from_env(&env).unwrap_err().to_string().contains("ATUM_SMTP_URL"));
        let env = Env::from_fn(|v| (v == "ATUM_MAIL_FROM").then(|| "not a mailbox".to_string()));
        assert!(MailConfig::from_env(&env).unwrap_err().to_string().contains("ATUM_MAIL_FROM"));
        let env =
            Env::from_fn(|v| (v == "ATUM_SMTP_URL").then(|| "smtps://user:hunter2@relay.example.test".to_string()));
        let config = MailConfig::from_env(&env).unwrap();
        assert!(!format!("{config:?}").contains("hunter2"), "the relay password must not be printed");
    }
}
