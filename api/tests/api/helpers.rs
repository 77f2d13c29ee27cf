//! A running API on its own database, organisations and people to act as, and a
//! small HTTP client that never panics on 4xx/5xx.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use actix_web::dev::ServerHandle;
use atum_api::{AppState, Security, rate_limit::RateLimiter};
use atum_core::{
    auth::{Role, session::SessionPolicy},
    orgs,
    secret_key::SecretKey,
    users::{self, NewUser},
};
use atum_runtime::{Metrics, config::Service};
use atum_testing::TestDb;
use serde_json::{Value, json};

/// The key the test API seals secrets with (TOTP secrets, a model's API key).
pub fn secret_key() -> SecretKey {
    SecretKey::from_bytes([42; 32])
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub db: TestDb,
    /// The attachment store, a directory of this app's own.
    pub files: atum_core::storage::Store,
    handle: ServerHandle,
    /// Ends the live feed's reader and every open event stream.
    shutdown: tokio_util::sync::CancellationToken,
}

/// Someone who can sign in.
#[derive(Clone, Debug)]
pub struct Person {
    pub id: i64,
    pub org_id: i64,
    /// The organisation's slug, which signing in names.
    pub org: String,
    pub email: String,
    pub password: String,
    pub token: String,
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl TestApp {
    /// An API with generous rate limits (tests sign in often) and a test secret key.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// An API whose security settings `tune` adjusts (limits, lockout, proxies).
    pub async fn spawn_with(tune: impl FnOnce(&mut Security)) -> TestApp {
        Self::spawn_serving(tune, None).await
    }

    /// An API that also serves the browser UI from `web`.
    pub async fn spawn_serving(tune: impl FnOnce(&mut Security), web: Option<atum_api::web_ui::WebUi>) -> TestApp {
        Self::spawn_full(tune, web, None).await
    }

    /// An API with the embedding model (fetched into the workspace's `var/` when
    /// missing; a test that needs it fails without it).
    pub async fn spawn_with_model() -> TestApp {
        let dir = atum_core::model_files::ensure(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../var"),
            &mut |m| eprintln!("{m}"),
        )
        .expect("the embedding model can be fetched");
        Self::spawn_full(|_| {}, None, Some(dir)).await
    }

    async fn spawn_full(
        tune: impl FnOnce(&mut Security),
        web: Option<atum_api::web_ui::WebUi>,
        model_dir: Option<std::path::PathBuf>,
    ) -> TestApp {
        let db = TestDb::migrated().await;
        let files = atum_core::storage::Store::local(std::env::temp_dir().join(format!("atum-files-{}", db.name)));
        let mut security = Security {
            key: Some(secret_key()),
            per_ip: RateLimiter::new(100_000, 10_000),
            per_account: RateLimiter::new(100_000, 10_000),
            per_ip_reads: RateLimiter::new(100_000, 10_000),
            ..Security::default()
        };
        tune(&mut security);
        let shutdown = tokio_util::sync::CancellationToken::new();
        let feed = atum_api::feed::Feed::start(
            db.pool.clone(),
            db.config.pg.clone(),
            Metrics::new(Service::Api),
            shutdown.clone(),
        );
        let retrieval = atum_ai::vectors::Retrieval::start(
            model_dir,
            db.config.pg.clone(),
            Metrics::new(Service::Api),
            shutdown.clone(),
        )
        .await;
        let state = AppState {
            pool: db.pool.clone(),
            sessions: SessionPolicy::default(),
            security: Arc::new(security),
            feed,
            web: web.map(Arc::new),
            retrieval,
            files: files.clone(),
        };
        atum_api::unlocks::start(
            db.pool.clone(),
            db.config.pg.clone(),
            Metrics::new(Service::Api),
            state.security.clone(),
            shutdown.clone(),
        );
        let (server, addr) =
            atum_api::start(state, Metrics::new(Service::Api), "127.0.0.1:0".parse().unwrap(), Duration::from_secs(1))
                .expect("bind the API");
        let handle = server.handle();
        tokio::spawn(server);
        TestApp { addr, db, files, handle, shutdown }
    }

    /// A new organisation with its admin signed in.
    pub async fn org(&self, slug: &str) -> Person {
        let mut conn = self.db.pool.get().await.unwrap();
        let tx = conn.transaction().await.unwrap();
        let password = format!("{slug}-admin-password");
        let admin = NewUser {
            email: format!("admin@{slug}.test").into(),
            display_name: format!("{slug} admin"),
            role: Role::Admin,
            password: Some(password.clone()),
        };
        let hash = users::hash_for(&admin).unwrap().unwrap();
        let (org, user) = orgs::create_with_admin(&tx, slug, slug, &admin, hash).await.unwrap();
        tx.commit().await.unwrap();
        let mut p = Person {
            id: user.id.get(),
            org_id: org.id.get(),
            org: slug.to_owned(),
            email: admin.email.to_string(),
            password,
            token: String::new(),
        };
        p.token = self.sign_in(&p).await;
        p
    }

    /// A new user of `admin`'s organisation, signed in.
    pub async fn person(&self, admin: &Person, role: &str, name: &str) -> Person {
        let domain = admin.email.split('@').nth(1).unwrap();
        let email = format!("{name}@{domain}");
        let password = format!("{name}-long-password");
        let res = self
            .post(
                "/api/v1/users",
                Some(&admin.token),
                json!({"email": email, "display_name": name, "role": role, "password": password}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.body);
        let mut p = Person {
            id: res.body["id"].as_i64().unwrap(),
            org_id: admin.org_id,
            org: admin.org.clone(),
            email,
            password,
            token: String::new(),
        };
        p.token = self.sign_in(&p).await;
        p
    }

    /// A new session for `who`, naming their organisation.
    pub async fn sign_in(&self, who: &Person) -> String {
        let body = json!({"org": who.org, "email": who.email, "password": who.password});
        let res = self.post("/api/v1/auth/login", None, body).await;
        assert_eq!(res.status, 200, "login failed: {}", res.body);
        res.body["token"].as_str().unwrap().to_owned()
    }

    /// Signs in without naming the organisation, as an instance with only one allows.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let res = self.post("/api/v1/auth/login", None, json!({"email": email, "password": password})).await;
        assert_eq!(res.status, 200, "login failed: {}", res.body);
        res.body["token"].as_str().unwrap().to_owned()
    }

    pub async fn ticket(&self, as_: &Person, subject: &str) -> Value {
        let res =
            self.post("/api/v1/tickets", Some(&as_.token), json!({"subject": subject, "description": "details"})).await;
        assert_eq!(res.status, 201, "{}", res.body);
        res.body
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.send("GET", path, token, None, &[]).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.send("POST", path, token, Some(body.to_string()), &[]).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.send("PUT", path, token, Some(body.to_string()), &[]).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Response {
        self.send("DELETE", path, token, None, &[]).await
    }

    /// A sign-in attempt without naming the organisation (an instance with one),
    /// answered whatever it is (headers e.g. X-Forwarded-For).
    pub async fn try_login(&self, email: &str, password: &str, headers: &[(&str, &str)]) -> Response {
        let body = json!({"email": email, "password": password}).to_string();
        self.send("POST", "/api/v1/auth/login", None, Some(body), headers).await
    }

    /// A sign-in attempt to the organisation `org` (its slug).
    pub async fn try_login_to(&self, org: &str, email: &str, password: &str, headers: &[(&str, &str)]) -> Response {
        let body = json!({"org": org, "email": email, "password": password}).to_string();
        self.send("POST", "/api/v1/auth/login", None, Some(body), headers).await
    }

    /// Runs SQL on the test's database (to set up what the API would refuse, or look
    /// at what it stored).
    /// What atum-rag-worker does on a change: one pass of the retrieval index, drained
    /// here so a test reads the index right after it.
    pub async fn index(&self) -> atum_core::retrieval::index::Stats {
        atum_core::retrieval::index::catch_up(&self.db.pool, None, |_| {}).await.unwrap()
    }

    /// Publishes an article through the API (`public` or `internal`); its id.
    pub async fn publish(&self, admin: &Person, title: &str, body: &str, visibility: &str) -> i64 {
        let res = self
            .post(
                "/api/v1/kb/articles",
                Some(&admin.token),
                serde_json::json!({"title": title, "body": body, "visibility": visibility, "publish": true}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.body);
        res.body["id"].as_i64().unwrap()
    }

    /// Publishes the public article on resetting a VPN token the AI tests answer from,
    /// then indexes and embeds every passage; the article's id.
    pub async fn vpn_article(&self, admin: &Person) -> i64 {
        let id = self
            .publish(
                admin,
                "Resetting your VPN token",
                "When the VPN refuses your token, reset it yourself.\n\n\
                 Open the security page of your account and choose the VPN tab. \
                 Press the reset token button and confirm with your password. \
                 Then sign in to the VPN client again with the new token.",
                "public",
            )
            .await;
        self.index().await;
        self.embed_all().await;
        id
    }

    /// What atum-rag-worker does with a model: a vector for every passage.
    pub async fn embed_all(&self) {
        let dir = atum_core::model_files::default_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../var"));
        let embedder = atum_ai::Embedder::load(&dir).expect("the model loads");
        let conn = self.db.pool.get().await.unwrap();
        loop {
            let pending = atum_core::retrieval::index::pending_vectors(&conn, embedder.id(), 64).await.unwrap();
            if pending.is_empty() {
                break;
            }
            let texts: Vec<&str> = pending.iter().map(|(_, _, t)| t.as_str()).collect();
            let vectors = embedder.embed(&texts).unwrap();
            let rows: Vec<_> = pending.iter().zip(vectors).map(|((id, org, _), v)| (*id, *org, v)).collect();
            atum_core::retrieval::index::store_vectors(&conn, embedder.id(), &rows).await.unwrap();
        }
    }

    pub async fn sql(&self, query: &str) -> Vec<tokio_postgres::Row> {
        self.db.pool.get().await.unwrap().query(query, &[]).await.unwrap()
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value, if_match: Option<i64>) -> Response {
        let version = if_match.map(|v| format!("\"{v}\""));
        let headers: Vec<(&str, &str)> = version.iter().map(|v| ("If-Match", v.as_str())).collect();
        self.send("PATCH", path, token, Some(body.to_string()), &headers).await
    }

    /// Uploads `bytes` as a file named `name`, declared as `content_type`.
    pub async fn upload(&self, token: &str, name: &str, content_type: &str, bytes: &[u8]) -> Response {
        let url = format!("http://{}/api/v1/attachments", self.addr);
        let (token, name, content_type, bytes) =
            (token.to_owned(), name.to_owned(), content_type.to_owned(), bytes.to_vec());
        tokio::task::spawn_blocking(move || {
            let res = ureq::post(&url)
                .query("name", &name)
                .set("Authorization", &format!("Bearer {token}"))
                .set("Content-Type", &content_type)
                .send_bytes(&bytes);
            answered(res)
        })
        .await
        .unwrap()
    }

    /// A GET whose body is bytes: status, headers and body.
    pub async fn fetch(&self, path: &str, token: &str, headers: &[(&str, &str)]) -> (Response, Vec<u8>) {
        let url = format!("http://{}{path}", self.addr);
        let token = token.to_owned();
        let headers: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        tokio::task::spawn_blocking(move || {
            let mut req = ureq::get(&url).set("Authorization", &format!("Bearer {token}"));
            for (k, v) in &headers {
                req = req.set(k, v);
            }
            let res = any_status(req.call());
            let (status, headers) = (res.status(), headers_of(&res));
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut res.into_reader(), &mut bytes).unwrap();
            let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            (Response { status, headers, body }, bytes)
        })
        .await
        .unwrap()
    }

    /// Any request; `body` is sent as JSON unless a Content-Type header overrides it.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<String>,
        headers: &[(&str, &str)],
    ) -> Response {
        let url = format!("http://{}{path}", self.addr);
        let (method, token) = (method.to_owned(), token.map(str::to_owned));
        let headers: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        tokio::task::spawn_blocking(move || {
            let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(10)).build();
            let mut req = agent.request(&method, &url);
            if let Some(t) = token {
                req = req.set("Authorization", &format!("Bearer {t}"));
            }
            let has_type = headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
            for (k, v) in &headers {
                req = req.set(k, v);
            }
            if body.is_some() && !has_type {
                req = req.set("Content-Type", "application/json");
            }
            let result = match body {
                Some(b) => req.send_string(&b),
                None => req.call(),
            };
            answered(result)
        })
        .await
        .unwrap()
    }
}

/// The answer whatever its status; only a request that got none fails the test.
fn any_status(result: Result<ureq::Response, ureq::Error>) -> ureq::Response {
    match result {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("request failed: {e}"),
    }
}

fn headers_of(res: &ureq::Response) -> Vec<(String, String)> {
    res.headers_names().iter().map(|n| (n.clone(), res.header(n).unwrap_or("").to_owned())).collect()
}

/// An answer with a JSON body (or its text when it is not JSON).
fn answered(result: Result<ureq::Response, ureq::Error>) -> Response {
    let res = any_status(result);
    let (status, headers) = (res.status(), headers_of(&res));
    let text = res.into_string().unwrap_or_default();
    Response { status, headers, body: serde_json::from_str(&text).unwrap_or(Value::String(text)) }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
        let handle = self.handle.clone();
        tokio::spawn(async move { handle.stop(false).await });
    }
}

/// One server-sent event as received.
#[derive(Debug, Clone)]
pub struct Sse {
    pub id: Option<i64>,
    pub event: String,
    pub data: Value,
}

/// An open `GET /api/v1/events` stream, read on its own thread.
pub struct EventStream {
    events: std::sync::mpsc::Receiver<Sse>,
}

impl EventStream {
    /// The next event, or a panic naming what was awaited after 10 s.
    pub fn next(&self, what: &str) -> Sse {
        self.events.recv_timeout(Duration::from_secs(10)).unwrap_or_else(|_| panic!("no event: waited for {what}"))
    }

    /// The next `ticket` event as (ticket_id, kind).
    pub fn next_ticket(&self, what: &str) -> (i64, String) {
        let e = self.next(what);
        assert_eq!(e.event, "ticket", "{what}: {e:?}");
        (e.data["ticket_id"].as_i64().unwrap(), e.data["kind"].as_str().unwrap().to_owned())
    }

    /// Waits up to `within` for the server to end the stream (events before that are
    /// passed over).
    pub fn ends(&self, what: &str, within: Duration) {
        let deadline = std::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.events.recv_timeout(left) {
                Ok(_) => continue,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => panic!("the stream is still open: {what}"),
            }
        }
    }

    /// The ticket id of the next `presence` event, passing over journal events.
    pub fn next_presence(&self, what: &str) -> i64 {
        loop {
            let e = self.next(what);
            if e.event == "presence" {
                return e.data["ticket_id"].as_i64().unwrap();
            }
        }
    }
}

impl TestApp {
    /// Opens the event stream as `token` (resuming after `last_event_id`); returns once
    /// the server has answered and subscribed.
    pub fn events(&self, token: &str, last_event_id: Option<i64>) -> EventStream {
        use std::io::BufRead;
        let url = format!("http://{}/api/v1/events", self.addr);
        let mut req = ureq::get(&url).set("Authorization", &format!("Bearer {token}"));
        if let Some(id) = last_event_id {
            req = req.set("Last-Event-ID", &id.to_string());
        }
        let res = req.call().expect("the event stream opens");
        assert_eq!(res.header("content-type"), Some("text/event-stream"));
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let reader = std::io::BufReader::new(res.into_reader());
            let (mut id, mut event, mut data) = (None, String::new(), String::new());
            for line in reader.lines() {
                let Ok(line) = line else { return };
                if line.is_empty() {
                    if !event.is_empty() {
                        let sse =
                            Sse { id, event: std::mem::take(&mut event), data: serde_json::from_str(&data).unwrap() };
                        if tx.send(sse).is_err() {
                            return;
                        }
                    }
                    (id, data) = (None, String::new());
                } else if let Some(v) = line.strip_prefix("id: ") {
                    id = v.parse().ok();
                } else if let Some(v) = line.strip_prefix("event: ") {
                    event = v.to_owned();
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data = v.to_owned();
                }
            }
        });
        EventStream { events: rx }
    }
}
