//! A real SMTP server for tests: aiosmtpd (PyPI; `.ci/run` installs it) storing every
//! message in a Maildir the test reads. Missing aiosmtpd fails the test, never skips it.

use std::{
    net::{SocketAddr, TcpStream},
    path::PathBuf,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use crate::process::{Reaped, free_addr};

pub struct SmtpServer {
    pub addr: SocketAddr,
    maildir: PathBuf,
    _child: Reaped,
}

impl SmtpServer {
    pub fn start() -> SmtpServer {
        let addr = free_addr();
        let maildir = std::env::temp_dir().join(format!("atum-smtp-{}-{}", std::process::id(), addr.port()));
        let _ = std::fs::remove_dir_all(&maildir);
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &addr.to_string(), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 runs (aiosmtpd from PyPI is needed: pip install aiosmtpd)");
        let mut child = Reaped(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(addr).is_err() {
            if let Ok(Some(status)) = child.0.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = child.0.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut e, &mut err);
                }
                panic!("aiosmtpd exited ({status}); is it installed (pip install aiosmtpd)? {err}");
            }
            assert!(Instant::now() < deadline, "aiosmtpd did not listen on {addr} within 20 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        SmtpServer { addr, maildir, _child: child }
    }

    /// `smtp://` URL for ATUM_SMTP_URL (plain SMTP on loopback).
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Every message received so far, raw (headers and body).
    pub fn messages(&self) -> Vec<String> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(dir) = std::fs::read_dir(self.maildir.join(sub)) {
                let mut paths: Vec<PathBuf> = dir.filter_map(|e| e.ok().map(|e| e.path())).collect();
                paths.sort();
                out.extend(paths.iter().filter_map(|p| std::fs::read_to_string(p).ok()));
            }
        }
        out
    }

    /// Waits for a message to `to` whose text contains `needle`.
    pub fn wait_for(&self, to: &str, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(m) = self
                .messages()
                .into_iter()
                .find(|m| m.contains(needle) && m.to_lowercase().contains(&to.to_lowercase()))
            {
                return m;
            }
            assert!(Instant::now() < deadline, "no message to {to} containing {needle:?} within {timeout:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.maildir);
    }
}

/// The value of `token=` in a message (the one-time link), undoing quoted-printable
/// soft line breaks first.
pub fn token_in(message: &str) -> String {
    let text = message.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
    let at = text.find("token=").expect("a link with a token in the message") + "token=".len();
    let token: String = text[at..].chars().take_while(|c| c.is_ascii_hexdigit()).collect();
    assert_eq!(token.len(), 64, "a 64-hex-digit token in {text}");
    token
}
