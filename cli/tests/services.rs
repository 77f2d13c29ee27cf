//! Each of the five binaries, run the way systemd runs it: a notify socket owned by
//! the test, a watchdog interval, SIGTERM to stop.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use atum_core::config::Service;
use atum_testing::{
    TestDb,
    process::{NotifySocket, binary, free_addr, http_get, wait_for_http},
};
use nix::{sys::signal::Signal, unistd::Pid};

struct Running {
    child: Child,
    notify: NotifySocket,
    listen: std::net::SocketAddr,
    /// The binary's log, shown only when the test fails.
    log: Arc<Mutex<String>>,
}

fn start(service: Service, db: &TestDb, watchdog: Duration) -> Running {
    let notify = NotifySocket::new();
    let listen = free_addr();
    let mut child = Command::new(binary(service.binary()))
        .env_clear()
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

fn terminate(child: &mut Child) {
    nix::sys::signal::kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).expect("send SIGTERM");
}

fn wait_exit(child: &mut Child, timeout: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the process did not exit within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn count(messages: &[String], wanted: &str) -> usize {
    messages.iter().flat_map(|m| m.lines()).filter(|l| *l == wanted).count()
}

async fn notifies_ready_pings_the_watchdog_serves_metrics_and_stops_on_sigterm(service: Service) {
    let db = TestDb::migrated().await;
    let mut run = start(service, &db, Duration::from_millis(1500));

    run.notify.expect("READY=1", Duration::from_secs(20));
    let metrics = wait_for_http(run.listen, "/metrics", Duration::from_secs(10));
    let build = format!("atum_build_info{{service=\"{}\",version=", service.binary());
    assert!(metrics.contains(&build), "{} metrics lack {build}:\n{metrics}", service.binary());

    // Pings come every third of the interval while the loop makes progress.
    let seen = run.notify.collect(Duration::from_millis(2200));
    assert!(count(&seen, "WATCHDOG=1") >= 3, "{}: too few watchdog pings: {seen:?}", service.binary());

    terminate(&mut run.child);
    run.notify.expect("STOPPING=1", Duration::from_secs(10));
    let status = wait_exit(&mut run.child, Duration::from_secs(15));
    assert!(status.success(), "{} exited with {status} after SIGTERM", service.binary());
    assert_eq!(http_get(run.listen, "/metrics").0, 0, "{} still answers after exiting", service.binary());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_runs_under_a_systemd_style_supervisor() {
    notifies_ready_pings_the_watchdog_serves_metrics_and_stops_on_sigterm(Service::Api).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_job_worker_runs_under_a_systemd_style_supervisor() {
    notifies_ready_pings_the_watchdog_serves_metrics_and_stops_on_sigterm(Service::JobWorker).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sla_worker_runs_under_a_systemd_style_supervisor() {
    notifies_ready_pings_the_watchdog_serves_metrics_and_stops_on_sigterm(Service::SlaWorker).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rag_worker_runs_under_a_systemd_style_supervisor() {
    notifies_ready_pings_the_watchdog_serves_metrics_and_stops_on_sigterm(Service::RagWorker).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_metrics_worker_runs_under_a_systemd_style_supervisor() {
    notifies_ready_pings_the_watchdog_serves_metrics_and_stops_on_sigterm(Service::MetricsWorker).await;
}

async fn watchdog_pings_stop_when_the_database_goes_away(service: Service) {
    let db = TestDb::migrated().await;
    let limit = Duration::from_millis(1200);
    let mut run = start(service, &db, limit);
    run.notify.expect("READY=1", Duration::from_secs(20));
    run.notify.expect("WATCHDOG=1", Duration::from_secs(5));

    db.drop_now().await;
    // Pings may go on until the last progress is older than the limit...
    let _ = run.notify.collect(limit + Duration::from_millis(800));
    // ...and then must stop, so systemd would restart the process.
    let after = run.notify.collect(Duration::from_secs(3));
    assert_eq!(count(&after, "WATCHDOG=1"), 0, "{} kept pinging without a database: {after:?}", service.binary());
    let (status, _) = http_get(run.listen, "/health");
    if service != Service::Api {
        assert_eq!(status, 503, "{} reports healthy while stalled", service.binary());
    }

    terminate(&mut run.child);
    wait_exit(&mut run.child, Duration::from_secs(15));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_stops_feeding_the_watchdog_when_its_database_is_unreachable() {
    watchdog_pings_stop_when_the_database_goes_away(Service::JobWorker).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_stops_feeding_the_watchdog_when_its_database_is_unreachable() {
    watchdog_pings_stop_when_the_database_goes_away(Service::Api).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_binary_refuses_to_start_on_an_unmigrated_database() {
    let db = TestDb::empty().await;
    let out = Command::new(binary("atum-sla-worker"))
        .env_clear()
        .env("ATUM_DATABASE_URL", &db.url)
        .env("ATUM_SLA_WORKER_LISTEN", free_addr().to_string())
        .output()
        .expect("run the worker");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("schema is at version 0") && stderr.contains("run `atum migrate`"), "{stderr}");
}

#[test]
fn a_bad_database_url_names_the_variable_and_exits_with_the_config_status() {
    let out = Command::new(binary("atum-api"))
        .env_clear()
        .env("ATUM_DATABASE_URL", "postgres://atum:hunter2@[::1/atum")
        .output()
        .expect("run the api");
    assert_eq!(out.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("atum-api: ATUM_DATABASE_URL is invalid"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
}
