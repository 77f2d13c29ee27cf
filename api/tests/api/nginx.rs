//! The production front, `nginx/atum-desk.conf`, run for real: the Debian nginx on
//! loopback with a throw-away certificate, proxying to a test API. nginx, openssl and
//! curl are required (`.ci/run` installs them); a missing one fails the test.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

use atum_api::client_ip::TrustedProxies;
use atum_testing::process::{Reaped, free_addr};

use crate::helpers::TestApp;

const SERVER_NAME: &str = "desk.example.com";

fn nginx_binary() -> PathBuf {
    for p in ["/usr/sbin/nginx", "/usr/bin/nginx"] {
        if Path::new(p).is_file() {
            return p.into();
        }
    }
    panic!("nginx is not installed (Debian package nginx-light or nginx); .ci/run installs it");
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// Replaces `from` with `to`, insisting it occurs exactly `times` times: if the
/// shipped config changes shape, this test must be updated rather than silently
/// testing something else.
fn swap(config: &str, from: &str, to: &str, times: usize) -> String {
    assert_eq!(config.matches(from).count(), times, "nginx/atum-desk.conf no longer contains {from:?} {times}x");
    config.replace(from, to)
}

struct Nginx {
    dir: PathBuf,
    https: u16,
    http: u16,
    process: Option<Reaped>,
}

impl Nginx {
    fn prepare(upstream: std::net::SocketAddr) -> Nginx {
        let dir = std::env::temp_dir().join(format!("atum-nginx-{}-{}", std::process::id(), upstream.port()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        run(Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj"])
            .arg(format!("/CN={SERVER_NAME}"))
            .arg("-keyout")
            .arg(dir.join("privkey.pem"))
            .arg("-out")
            .arg(dir.join("fullchain.pem")));
        let (https, http) = (free_addr().port(), free_addr().port());
        let shipped = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../nginx/atum-desk.conf")).unwrap();
        let mut conf = swap(&shipped, "listen 443 ssl http2;", &format!("listen 127.0.0.1:{https} ssl http2;"), 1);
        conf = swap(&conf, "listen [::]:443 ssl http2;", "", 1);
        conf = swap(&conf, "listen 80;", &format!("listen 127.0.0.1:{http};"), 1);
        conf = swap(&conf, "listen [::]:80;", "", 1);
        conf = swap(&conf, "server 127.0.0.1:8080;", &format!("server {upstream};"), 1);
        conf = swap(&conf, "/etc/atum-desk/tls/", &format!("{}/", dir.display()), 2);
        // A built UI, as installed.
        let web = dir.join("web");
        std::fs::create_dir_all(web.join("app")).unwrap();
        std::fs::create_dir_all(web.join("help")).unwrap();
        std::fs::create_dir_all(web.join("assets")).unwrap();
        std::fs::write(web.join("index.html"), "landing page").unwrap();
        std::fs::write(web.join("app/index.html"), "agent app").unwrap();
        std::fs::write(web.join("help/index.html"), "help center").unwrap();
        std::fs::write(web.join("assets/app-1.js"), "console.log(1)").unwrap();
        conf = swap(&conf, "root /usr/share/atum-desk/web;", &format!("root {};", web.display()), 1);
        std::fs::write(dir.join("atum-desk.conf"), conf).unwrap();
        let d = dir.display();
        let main = format!(
            "worker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\nevents {{ worker_connections 256; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
             fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
             include {d}/atum-desk.conf;\n}}\n"
        );
        std::fs::write(dir.join("nginx.conf"), main).unwrap();
        Nginx { dir, https, http, process: None }
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(nginx_binary());
        cmd.arg("-p")
            .arg(&self.dir)
            .arg("-c")
            .arg(self.dir.join("nginx.conf"))
            .arg("-e")
            .arg(self.dir.join("error.log"));
        cmd
    }

    fn test_config(&self) -> String {
        let out = run(self.command().arg("-t"));
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    fn start(&mut self) {
        let child = self.command().args(["-g", "daemon off;"]).stdin(Stdio::null()).spawn().expect("start nginx");
        self.process = Some(Reaped(child));
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.https)).is_err() {
            assert!(Instant::now() < deadline, "nginx did not listen: {}", self.error_log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }

    /// curl through nginx over TLS; returns (status, response headers).
    fn curl(&self, method: &str, path: &str, body: Option<&str>, headers: &[&str]) -> (u16, String) {
        let mut cmd = Command::new("curl");
        cmd.args(["-sk", "-o", "/dev/null", "-D", "-", "-w", "%{http_code}", "-X", method])
            .arg("--resolve")
            .arg(format!("{SERVER_NAME}:{}:127.0.0.1", self.https))
            .arg(format!("https://{SERVER_NAME}:{}{path}", self.https));
        for h in headers {
            cmd.args(["-H", h]);
        }
        if let Some(b) = body {
            cmd.args(["-H", "Content-Type: application/json", "--data-binary", b]);
        }
        let out = run(&mut cmd);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let status = text[text.len() - 3..].parse().expect("an HTTP status from curl");
        (status, text[..text.len() - 3].to_lowercase())
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // A graceful stop takes the workers with it (SIGKILL of the master would not).
        if let Some(p) = &self.process {
            let _ =
                nix::sys::signal::kill(nix::unistd::Pid::from_raw(p.pid() as i32), nix::sys::signal::Signal::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(5);
            while std::net::TcpStream::connect(("127.0.0.1", self.https)).is_ok() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        self.process.take();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_shipped_nginx_config_passes_nginx_t_and_rate_limits_auth_bursts_while_normal_traffic_passes() {
    let app = TestApp::spawn_with(|s| s.proxies = TrustedProxies::parse("127.0.0.1").unwrap()).await;
    let admin = app.org("acme").await;
    let mut nginx = Nginx::prepare(app.addr);
    let verdict = nginx.test_config();
    assert!(verdict.contains("syntax is ok") && verdict.contains("test is successful"), "{verdict}");
    nginx.start();

    let nginx = std::sync::Arc::new(nginx);
    let n = nginx.clone();
    tokio::task::spawn_blocking(move || {
        // Normal traffic passes, with the security headers and without nginx's version.
        let (status, headers) = n.curl("GET", "/api/v1/health", None, &[]);
        assert_eq!(status, 200, "{headers}");
        for h in [
            "strict-transport-security: max-age=63072000",
            "x-content-type-options: nosniff",
            "x-frame-options: deny",
            "content-security-policy: default-src 'none'",
            "referrer-policy: no-referrer",
        ] {
            assert!(headers.contains(h), "missing {h}: {headers}");
        }
        assert!(!headers.contains("nginx/"), "the version leaks: {headers}");
        assert_eq!(n.curl("GET", "/metrics", None, &[]).0, 404, "metrics are not published");
        // The UI: the pages revalidate and may run their own scripts; assets cache for a year.
        let (status, headers) = n.curl("GET", "/app/tickets/9", None, &[]);
        assert_eq!(status, 200, "{headers}");
        for h in ["cache-control: no-cache", "script-src 'self'", "x-frame-options: deny", "strict-transport-security"]
        {
            assert!(headers.contains(h), "missing {h}: {headers}");
        }
        // The mailed links' pages are the app's, and send no referrer with their token.
        let (status, headers) = n.curl("GET", "/reset-password?token=00", None, &[]);
        assert_eq!(status, 200, "{headers}");
        assert!(headers.contains("referrer-policy: no-referrer") && headers.contains("script-src 'self'"), "{headers}");
        assert_eq!(n.curl("GET", "/verify-email?token=00", None, &[]).0, 200);
        assert_eq!(n.curl("GET", "/reset-password/elsewhere", None, &[]).0, 404);
        let (status, headers) = n.curl("GET", "/help/acme/articles/3", None, &[]);
        assert_eq!(status, 200, "{headers}");
        assert!(headers.contains("cache-control: no-cache") && headers.contains("script-src 'self'"), "{headers}");
        let (status, headers) = n.curl("GET", "/assets/app-1.js", None, &[]);
        assert_eq!(status, 200, "{headers}");
        assert!(headers.contains("cache-control: public, max-age=31536000, immutable"), "{headers}");
        assert_eq!(n.curl("GET", "/", None, &[]).0, 200);
        assert_eq!(n.curl("GET", "/assets/missing.js", None, &[]).0, 404);
        assert_eq!(n.curl("GET", "/elsewhere", None, &[]).0, 404);

        // A burst of sign-in attempts: the first few reach the API (401), then 429s.
        let login = r#"{"email":"admin@acme.test","password":"wrong-password"}"#;
        let statuses: Vec<u16> = (0..15)
            .map(|_| n.curl("POST", "/api/v1/auth/login", Some(login), &["X-Forwarded-For: 203.0.113.9"]).0)
            .collect();
        assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 6, "{statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 9, "{statuses:?}");
        // Meanwhile the rest of the API answers normally.
        for _ in 0..20 {
            assert_eq!(n.curl("GET", "/api/v1/health", None, &[]).0, 200);
        }
        // The public knowledge base is read far past the sign-in burst, with its
        // cacheable answers; a flood of it is cut off too (nginx counts per address).
        let (_, headers) = n.curl("GET", "/api/v1/portal/acme/kb/search", None, &[]);
        assert!(headers.contains("cache-control: public, max-age=60"), "{headers}");
        // Sixty at once (the test's nginx takes 256 connections): sent one after another
        // on a busy machine they could arrive slower than the zone's 5 a second refill,
        // and none would be cut off.
        let kb: Vec<u16> = std::thread::scope(|scope| {
            let sent: Vec<_> = (0..60)
                .map(|_| scope.spawn(|| n.curl("GET", "/api/v1/portal/acme/kb/search?q=vpn", None, &[]).0))
                .collect();
            sent.into_iter().map(|t| t.join().unwrap()).collect()
        });
        assert!(kb.iter().filter(|s| **s == 200).count() >= 25, "{kb:?}");
        assert!(kb.contains(&429), "{kb:?}");
        assert!(kb.iter().all(|s| *s == 200 || *s == 429), "{kb:?}");
        // Bodies past the limit never reach the API.
        let big = n.dir.join("big.json");
        std::fs::write(&big, format!("{{\"subject\":\"{}\"}}", "x".repeat(2 * 1024 * 1024))).unwrap();
        assert_eq!(n.curl("POST", "/api/v1/tickets", Some(&format!("@{}", big.display())), &[]).0, 413);
        // Files are the exception: streamed to the API, which holds each organisation's limit.
        let auth = format!("Authorization: Bearer {}", admin.token);
        let upload =
            n.curl("POST", "/api/v1/attachments?name=big.json", Some(&format!("@{}", big.display())), &[auth.as_str()]);
        assert_eq!(upload.0, 201, "{}", upload.1);
        // A browser's cookie request from the desk's own page passes the CSRF check on
        // the host nginx names; a client's own X-Forwarded-Host is replaced, not believed.
        let cookie = format!("Cookie: atum_session={}", admin.token);
        let ticket = Some(r#"{"subject":"From the browser"}"#);
        let own = ["Origin: https://desk.example.com", cookie.as_str()];
        assert_eq!(n.curl("POST", "/api/v1/tickets", ticket, &own).0, 201);
        let forged = ["Origin: https://evil.example", "X-Forwarded-Host: evil.example", cookie.as_str()];
        assert_eq!(n.curl("POST", "/api/v1/tickets", ticket, &forged).0, 403);
        // Plain HTTP redirects to HTTPS.
        let out = run(Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code} %{redirect_url}",
                "-H",
                &format!("Host: {SERVER_NAME}"),
            ])
            .arg(format!("http://127.0.0.1:{}/api/v1/health", n.http)));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(text.starts_with("301 https://desk.example.com"), "{text}");
    })
    .await
    .unwrap();

    // nginx replaced the client's forged X-Forwarded-For with the real address, and the
    // API (trusting nginx) recorded that.
    let ips: Vec<String> = app
        .sql(
            "SELECT DISTINCT host(ip) FROM auth_login_attempts WHERE email = 'admin@acme.test' AND result <> 'success'",
        )
        .await
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ips, ["127.0.0.1"], "{ips:?}");
}
