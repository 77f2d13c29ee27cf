//! Running the suite's binaries as a systemd would: with a notify socket owned by the
//! test, and HTTP probes of their listeners.

use std::{
    net::{SocketAddr, TcpListener},
    os::unix::net::UnixDatagram,
    path::{Path, PathBuf},
    sync::atomic::{AtomicU32, Ordering},
    time::{Duration, Instant},
};

/// The path of a workspace binary. `cargo test --workspace` builds every binary into
/// the directory above the test executable's `deps/`.
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe.parent().and_then(Path::parent).expect("target directory");
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} is missing: run the tests with `cargo test --workspace` so every binary is built",
        path.display()
    );
    path
}

/// A loopback address nobody listens on right now.
pub fn free_addr() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local address")
}

/// A datagram socket standing in for systemd's `NOTIFY_SOCKET`.
pub struct NotifySocket {
    socket: UnixDatagram,
    path: PathBuf,
}

impl NotifySocket {
    pub fn new() -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "atum-notify-{}-{}.sock",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_file(&path);
        let socket = UnixDatagram::bind(&path).expect("bind the notify socket");
        NotifySocket { socket, path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The next message, or `None` after `timeout`.
    pub fn recv(&self, timeout: Duration) -> Option<String> {
        self.socket.set_read_timeout(Some(timeout.max(Duration::from_millis(1)))).ok()?;
        let mut buf = [0u8; 4096];
        let n = self.socket.recv(&mut buf).ok()?;
        Some(String::from_utf8_lossy(&buf[..n]).into_owned())
    }

    /// Waits for a message containing `wanted`, returning every message seen until then;
    /// panics after `timeout`.
    pub fn expect(&self, wanted: &str, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            if let Some(msg) = self.recv(left) {
                let found = msg.lines().any(|l| l == wanted);
                seen.push(msg);
                if found {
                    return seen;
                }
            }
        }
        panic!("no {wanted:?} within {timeout:?}; saw {seen:?}");
    }

    /// Every message received during `period`.
    pub fn collect(&self, period: Duration) -> Vec<String> {
        let deadline = Instant::now() + period;
        let mut seen = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            if let Some(msg) = self.recv(left) {
                seen.push(msg);
            }
        }
        seen
    }
}

impl Default for NotifySocket {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for NotifySocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// `GET http://{addr}{path}`: status and body; status 0 when nothing answers.
pub fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(5)).build();
    match agent.get(&format!("http://{addr}{path}")).call() {
        Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap_or_default()),
        Err(_) => (0, String::new()),
    }
}

/// Polls `GET path` until it answers 200 or `timeout` passes.
pub fn wait_for_http(addr: SocketAddr, path: &str, timeout: Duration) -> String {
    let deadline = Instant::now() + timeout;
    loop {
        let (status, body) = http_get(addr, path);
        if status == 200 {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "http://{addr}{path} did not answer 200 within {timeout:?} (last: {status})"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Whether a process with this id exists (zombies count as gone).
pub fn is_alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rsplit_once(") ").map(|(_, rest)| !rest.starts_with('Z')).unwrap_or(false),
        Err(_) => false,
    }
}

/// The ids of every descendant of `pid`, from /proc.
pub fn descendants(pid: i32) -> Vec<i32> {
    let parents: Vec<(i32, i32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let child: i32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let ppid = stat.rsplit_once(") ")?.1.split_whitespace().nth(1)?.parse().ok()?;
            Some((child, ppid))
        })
        .collect();
    let mut found = vec![pid];
    let mut i = 0;
    while i < found.len() {
        let p = found[i];
        found.extend(parents.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    found.remove(0);
    found
}

/// A child process killed (SIGKILL) and reaped when dropped, so a failing test
/// leaves nothing running.
pub struct Reaped(pub std::process::Child);

impl Reaped {
    pub fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
