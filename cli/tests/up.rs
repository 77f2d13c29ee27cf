//! `atum up` on a machine with no database configured: it must bring up a private
//! PostgreSQL and all five binaries, and SIGTERM must leave nothing running.

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use atum_runtime::config::Service;
use atum_testing::process::{binary, descendants, free_addr, http_get, is_alive};
use nix::{sys::signal::Signal, unistd::Pid};

struct Up {
    child: Child,
    output: Arc<Mutex<String>>,
    var: PathBuf,
}

impl Up {
    fn start(var: &Path, listens: &[(Service, SocketAddr)]) -> Up {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_atum"));
        cmd.arg("up")
            .arg("--var-dir")
            .arg(var)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("ATUM_TICK_SECS", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (service, addr) in listens {
            cmd.env(service.listen_var(), addr.to_string());
        }
        let mut child = cmd.spawn().expect("start atum up");
        let output = Arc::new(Mutex::new(String::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let sink = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let mut out = sink.lock().unwrap_or_else(|e| e.into_inner());
                    out.push_str(&line);
                    out.push('\n');
                }
            });
        }
        Up { child, output, var: var.to_path_buf() }
    }

    fn output(&self) -> String {
        self.output.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn wait_for_output(&mut self, wanted: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while !self.output().contains(wanted) {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("atum up exited with {status} before printing {wanted:?}:\n{}", self.output());
            }
            assert!(Instant::now() < deadline, "no {wanted:?} within {timeout:?}:\n{}", self.output());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn postmaster_pid(&self) -> i32 {
        let pidfile = std::fs::read_to_string(self.var.join("pg/data/postmaster.pid")).expect("postmaster.pid");
        pidfile.lines().next().unwrap().trim().parse().unwrap()
    }

    /// SIGTERM, then the exit status and how long it took.
    fn terminate(&mut self) -> std::process::ExitStatus {
        nix::sys::signal::kill(Pid::from_raw(self.child.id() as i32), Signal::SIGTERM).unwrap();
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "atum up did not exit after SIGTERM:\n{}", self.output());
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            // Its children follow through their parent-death signal.
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ =
            Command::new(env!("CARGO_BIN_EXE_atum")).args(["db", "stop", "--root"]).arg(self.var.join("pg")).output();
        if std::thread::panicking() {
            eprintln!("--- atum up printed ---\n{}", self.output());
        }
    }
}

fn assert_all_gone(pids: &[i32]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let alive: Vec<i32> = pids.iter().copied().filter(|p| is_alive(*p)).collect();
        if alive.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "processes left behind after SIGTERM: {alive:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn admin_password(output: &str) -> String {
    let line = output.lines().find(|l| l.contains("admin@demo.atum.test")).expect("the admin login is printed");
    line.split_whitespace().last().unwrap().to_owned()
}

fn run_suite_once(var: &Path, listens: &[(Service, SocketAddr)]) -> String {
    let mut up = Up::start(var, listens);
    up.wait_for_output("ATUM Desk is up", Duration::from_secs(180));

    for (service, addr) in listens {
        let (status, body) = http_get(*addr, "/metrics");
        assert_eq!(status, 200, "{} /metrics", service.binary());
        assert!(body.contains(&format!("service=\"{}\"", service.binary())), "{} metrics:\n{body}", service.binary());
    }
    let api = listens.iter().find(|(s, _)| *s == Service::Api).unwrap().1;
    let (status, health) = http_get(api, "/api/v1/health");
    assert_eq!(status, 200, "{health}");
    assert!(health.contains("\"database\":{\"status\":\"connected\""), "{health}");

    let mut pids = descendants(up.child.id() as i32);
    assert!(pids.len() >= 5, "expected the five binaries as children, found {pids:?}");
    pids.push(up.postmaster_pid());

    let status = up.terminate();
    assert!(status.success(), "atum up exited with {status}:\n{}", up.output());
    assert_all_gone(&pids);
    up.output()
}

#[test]
fn atum_up_runs_the_suite_on_a_private_database_and_sigterm_leaves_nothing_behind() {
    let var = std::env::temp_dir().join(format!("atum-up-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&var);
    let listens: Vec<(Service, SocketAddr)> = Service::ALL.iter().map(|&s| (s, free_addr())).collect();
    // `atum up` runs its siblings; fail clearly if this run did not build them.
    for service in Service::ALL {
        binary(service.binary());
    }

    let first = run_suite_once(&var, &listens);
    assert!(first.contains("seeded the demo organisation"), "{first}");
    for service in Service::ALL {
        let prefix = format!("{} | ", service.binary().trim_start_matches("atum-"));
        assert!(first.lines().any(|l| l.trim_start().starts_with(&prefix)), "no prefixed log lines from {service:?}");
    }

    // A second run reuses the cluster and its data: no new seed, same logins.
    let second = run_suite_once(&var, &listens);
    assert!(!second.contains("seeded the demo organisation"), "{second}");
    assert!(!second.contains("applied migration"), "{second}");
    assert_eq!(admin_password(&first), admin_password(&second));

    let _ = std::fs::remove_dir_all(&var);
}
