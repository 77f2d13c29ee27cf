//! Checks every service binary must pass, run the way systemd runs it: a notify
//! socket owned by the test, a watchdog interval, SIGTERM to stop. Each binary's
//! crate calls these from its own integration test with `env!("CARGO_BIN_EXE_…")`,
//! which also makes `cargo test --workspace` build every binary.

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    path::Path,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use atum_runtime::config::Service;
use nix::{sys::signal::Signal, unistd::Pid};

use crate::{
    TestDb,
    process::{NotifySocket, free_addr, http_get, wait_for_http},
};

pub struct Running {
    pub child: Child,
    pub notify: NotifySocket,
    pub listen: SocketAddr,
    /// The binary's log, shown only when the test fails.
    log: Arc<Mutex<String>>,
}

impl Running {
    pub fn start(exe: &Path, service: Service, db: &TestDb, watchdog: Duration) -> Running {
        Self::start_with(exe, service, db, watchdog, &[])
    }

    /// [`start`](Self::start) with more environment variables.
    pub fn start_with(exe: &Path, service: Service, db: &TestDb, watchdog: Duration, env: &[(&str, &str)]) -> Running {
        let notify = NotifySocket::new();
        let listen = free_addr();
        let mut child = Command::new(exe)
            .env_clear()
            .envs(env.iter().copied())
            .env("ATUM_DATABASE_URL", &db.url)
            .env(service.listen_var(), listen.to_string())
            .env("NOTIFY_SOCKET", notify.path())
            .env("WATCHDOG_USEC", watchdog.as_micros().to_string())
            .env("ATUM_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("piped stderr");
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = sink.lock().unwrap_or_else(|e| e.into_inner());
                log.push_str(&line);
                log.push('\n');
            }
        });
        Running { child, notify, listen, log }
    }

    /// What the binary has logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn terminate(&mut self) {
        nix::sys::signal::kill(Pid::from_raw(self.child.id() as i32), Signal::SIGTERM).expect("send SIGTERM");
    }

    pub fn wait_exit(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the child") {
                return status;
            }
            assert!(Instant::now() < deadline, "the process did not exit within {timeout:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Running {
    // A failed assertion must not leave the binary running against a dropped database.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- the binary's log ---\n{}", self.log.lock().unwrap_or_else(|e| e.into_inner()));
        }
    }
}

fn count(messages: &[String], wanted: &str) -> usize {
    messages.iter().flat_map(|m| m.lines()).filter(|l| *l == wanted).count()
}

/// READY=1 after start-up, watchdog pings while healthy, `/metrics` with the build
/// info, STOPPING=1 and a clean exit on SIGTERM, and the listener gone afterwards.
pub async fn assert_systemd_lifecycle(exe: &Path, service: Service) {
    let db = TestDb::migrated().await;
    let mut run = Running::start(exe, service, &db, Duration::from_millis(1500));

    run.notify.expect("READY=1", Duration::from_secs(20));
    let metrics = wait_for_http(run.listen, "/metrics", Duration::from_secs(10));
    let build = format!("atum_build_info{{service=\"{}\",version=", service.binary());
    assert!(metrics.contains(&build), "{} metrics lack {build}:\n{metrics}", service.binary());
    assert_promtool_accepts(&metrics, service.binary());

    // Pings come every third of the interval while the loop makes progress.
    let seen = run.notify.collect(Duration::from_millis(2200));
    assert!(count(&seen, "WATCHDOG=1") >= 3, "{}: too few watchdog pings: {seen:?}", service.binary());

    run.terminate();
    run.notify.expect("STOPPING=1", Duration::from_secs(10));
    let status = run.wait_exit(Duration::from_secs(15));
    assert!(status.success(), "{} exited with {status} after SIGTERM", service.binary());
    assert_eq!(http_get(run.listen, "/metrics").0, 0, "{} still answers after exiting", service.binary());
}

/// A malformed setting stops the binary before it starts anything: exit status 78
/// (EX_CONFIG) and one line on stderr that names the variable and not its value.
pub fn assert_bad_setting_exits_78(exe: &Path, args: &[&str], var: &str, value: &str) {
    let out = Command::new(exe)
        .args(args)
        .env_clear()
        .env("ATUM_DATABASE_URL", "postgres://atum@127.0.0.1:1/atum")
        .env(var, value)
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{} with {var}={value:?}: {stderr}", exe.display());
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains(var), "the message names {var}: {stderr}");
    assert!(!stderr.contains(value), "the value is not echoed: {stderr}");
}

/// `promtool check metrics` (Debian package `prometheus`; `.ci/run` installs it) on an
/// exposition: the format Prometheus will scrape, with its naming lints.
pub fn assert_promtool_accepts(metrics: &str, what: &str) {
    use std::io::Write;
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool is installed (Debian package `prometheus`; .ci/run installs it)");
    child.stdin.take().expect("stdin").write_all(metrics.as_bytes()).expect("write metrics to promtool");
    let out = child.wait_with_output().expect("promtool finishes");
    assert!(
        out.status.success(),
        "promtool rejects {what}'s /metrics: {}{}\n{metrics}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Once the database is gone for longer than the watchdog interval, pings stop (so
/// systemd restarts the process) and a worker's `/health` says 503.
pub async fn assert_watchdog_withheld_without_database(exe: &Path, service: Service) {
    let db = TestDb::migrated().await;
    let limit = Duration::from_millis(1200);
    let mut run = Running::start(exe, service, &db, limit);
    run.notify.expect("READY=1", Duration::from_secs(20));
    run.notify.expect("WATCHDOG=1", Duration::from_secs(5));

    db.drop_now().await;
    // Pings may go on until the last progress is older than the limit...
    let _ = run.notify.collect(limit + Duration::from_millis(800));
    // ...and then must stop.
    let after = run.notify.collect(Duration::from_secs(3));
    assert_eq!(count(&after, "WATCHDOG=1"), 0, "{} kept pinging without a database: {after:?}", service.binary());
    if service != Service::Api {
        assert_eq!(http_get(run.listen, "/health").0, 503, "{} reports healthy while stalled", service.binary());
    }
    run.terminate();
    run.wait_exit(Duration::from_secs(15));
}
