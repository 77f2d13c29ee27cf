//! `atum health`: is every binary answering? With `--restart-failed`, restart the
//! systemd unit of each one that is not (what atum-healthcheck.timer runs every
//! minute). The API is asked for `/api/v1/health`, the workers for `/health`, each at
//! its `ATUM_*_LISTEN` address, with a short timeout: a listener that accepts but never
//! answers counts as down.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    process::{Command, ExitCode},
    time::Duration,
};

use atum_runtime::config::{Env, Service};

#[derive(clap::Args)]
pub struct HealthArgs {
    /// Restart (systemctl restart <binary>.service) each unit whose endpoint fails.
    #[arg(long)]
    restart_failed: bool,
    /// The systemctl to run (for testing or a non-standard path).
    #[arg(long, default_value = "systemctl", hide = true)]
    systemctl: String,
    /// Seconds to wait for each answer.
    #[arg(long, default_value_t = 5)]
    timeout: u64,
}

/// Status code of `GET path` at `addr`, or why there is none.
fn probe(addr: SocketAddr, path: &str, timeout: Duration) -> Result<u16, String> {
    let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    stream.set_write_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").map_err(|e| e.to_string())?;
    let mut head = [0u8; 64];
    let n = stream.read(&mut head).map_err(|e| format!("no answer: {e}"))?;
    let line = String::from_utf8_lossy(&head[..n]);
    line.split_whitespace().nth(1).and_then(|code| code.parse().ok()).ok_or_else(|| format!("not HTTP: {line:?}"))
}

pub fn run(args: HealthArgs) -> anyhow::Result<ExitCode> {
    let env = Env::process();
    let timeout = Duration::from_secs(args.timeout.max(1));
    let mut failed = Vec::new();
    for service in Service::ALL {
        let addr: SocketAddr = env.parse_or(service.listen_var(), service.default_listen(), "host:port")?;
        let path = if service == Service::Api { "/api/v1/health" } else { "/health" };
        match probe(addr, path, timeout) {
            Ok(200) => println!("{:<20} ok      {addr}", service.binary()),
            Ok(code) => {
                println!("{:<20} FAILED  {addr}: HTTP {code}", service.binary());
                failed.push(service);
            }
            Err(why) => {
                println!("{:<20} FAILED  {addr}: {why}", service.binary());
                failed.push(service);
            }
        }
    }
    if args.restart_failed {
        for service in &failed {
            let unit = format!("{}.service", service.binary());
            let status = Command::new(&args.systemctl).args(["restart", &unit]).status();
            match status {
                Ok(s) if s.success() => println!("restarted {unit}"),
                Ok(s) => eprintln!("atum: systemctl restart {unit} failed ({s})"),
                Err(e) => eprintln!("atum: cannot run {}: {e}", args.systemctl),
            }
        }
    }
    Ok(if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
