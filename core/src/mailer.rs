//! The mail transport: over SMTP to the relay named by `ATUM_SMTP_URL`, or — with
//! none configured, in development — `.eml` files under `ATUM_MAIL_DIR` (default
//! `./var/mail`), or memory (tests). What is sent, and when, is `mail`'s.

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
};

use atum_queue::JobError;
use atum_runtime::config::{ConfigError, Env};
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
};

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

impl Mailer {
    /// Sends one plain-text message (over SMTP, as an `.eml` file named after `job_id`, or
    /// into memory). The error says whether trying again could help.
    pub async fn send(&self, to: &str, subject: &str, text: &str, job_id: i64) -> Result<(), JobError> {
        let (mailer, mail) = (self, Outgoing { to, subject, text });
        let to: Mailbox =
            mail.to.parse().map_err(|e| JobError::Permanent(format!("bad recipient address {:?}: {e}", mail.to)))?;
        let message = Message::builder()
            .from(mailer.from.clone())
            .to(to)
            .subject(mail.subject)
            .header(ContentType::TEXT_PLAIN)
            // lettre picks the transfer encoding: quoted-printable once a line (a link) is
            // longer than 76 characters, which every mail reader decodes.
            .body(mail.text.to_owned())
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
                let sent =
                    Sent { to: mail.to.to_owned(), subject: mail.subject.to_owned(), text: mail.text.to_owned() };
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
}

/// The parts of a message, borrowed.
struct Outgoing<'a> {
    to: &'a str,
    subject: &'a str,
    text: &'a str,
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
        let link = format!("https://desk.example.test/reset-password?token={}", "a".repeat(64));
        let text = format!("Hello Ann,\n\nChoose a new password: {link}\n");
        Mailer::new(&config).unwrap().send("ann@example.test", "Reset your password", &text, 77).await.unwrap();
        let files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(files.len(), 1);
        assert!(files[0].to_string_lossy().ends_with("-77.eml"), "{files:?}");
        // Undo quoted-printable's soft line breaks and escaped '='.
        let text =
            std::fs::read_to_string(&files[0]).unwrap().replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
        assert!(text.contains("To: ann@example.test"), "{text}");
        assert!(text.contains(&link), "{text}");
        std::fs::remove_dir_all(&dir).unwrap();
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
