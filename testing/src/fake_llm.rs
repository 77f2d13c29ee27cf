//! A stand-in for a language model server, speaking both dialects the product uses:
//! Ollama's `POST /api/chat` and OpenAI's `POST /v1/chat/completions`. It answers the
//! product's requests the way a model might, and misbehaves on demand, chosen by the
//! model name the request asks for:
//!
//! | model contains | answer |
//! |---|---|
//! | `slow` | waits 3 s, then answers (past a short timeout) |
//! | `flaky` | every other request gets 503 |
//! | `invalid` | prose, not the JSON asked for |
//! | `invent` | a sentence citing a source that was never given |
//! | `opposite` | the sources' sentences negated |
//! | `obey` | follows the instruction planted in the customer's message |
//! | anything else | the sources' sentences, lightly reworded, each citing its source |
//!
//! A connection test (`connection_test` schema) gets `{"ok": true}`; the copilot's
//! plan (`copilot_plan`) gets `{"intents": ["resolve"]}` (prose for `invalid`). The
//! customer's text is the `CUSTOMER MESSAGE` or `TICKET` block. Every request is kept,
//! with its path and `Authorization` header, for tests to look at.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use serde_json::{Value, json};

#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub authorization: Option<String>,
    pub body: Value,
}

impl Received {
    /// The message of `role` (`system` or `user`).
    pub fn message(&self, role: &str) -> String {
        self.body["messages"]
            .as_array()
            .and_then(|m| m.iter().find(|m| m["role"] == role))
            .and_then(|m| m["content"].as_str())
            .unwrap_or_default()
            .to_owned()
    }
}

#[derive(Clone)]
pub struct FakeLlm {
    /// `http://127.0.0.1:PORT`, the base URL an endpoint is configured with.
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl FakeLlm {
    /// Serves on a free port of 127.0.0.1 from a background thread, for the life of
    /// the process.
    pub fn start() -> FakeLlm {
        Self::serve("127.0.0.1:0")
    }

    pub fn serve(addr: &str) -> FakeLlm {
        let listener = TcpListener::bind(addr).expect("the fake model server binds");
        let url = format!("http://{}", listener.local_addr().expect("it has an address"));
        let received = Arc::new(Mutex::new(Vec::new()));
        let count = Arc::new(AtomicUsize::new(0));
        let log = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (log, count) = (log.clone(), count.clone());
                std::thread::spawn(move || handle(stream, &log, &count));
            }
        });
        FakeLlm { url, received }
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

fn handle(mut stream: TcpStream, log: &Mutex<Vec<Received>>, count: &AtomicUsize) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let (mut length, mut authorization) = (0usize, None);
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = h.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "authorization" => authorization = Some(value.trim().to_owned()),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if let Ok(mut l) = log.lock() {
        l.push(Received { path: path.clone(), authorization, body: body.clone() });
    }
    let n = count.fetch_add(1, Ordering::SeqCst);
    let (status, answer) = respond(&path, &body, n);
    let text = answer.to_string();
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
}

fn respond(path: &str, body: &Value, n: usize) -> (&'static str, Value) {
    let model = body["model"].as_str().unwrap_or_default();
    let wrap = |content: String| match path {
        "/api/chat" => json!({ "model": model, "message": { "role": "assistant", "content": content }, "done": true }),
        _ => {
            json!({ "choices": [{ "index": 0, "message": { "role": "assistant", "content": content }, "finish_reason": "stop" }] })
        }
    };
    if path != "/api/chat" && path != "/v1/chat/completions" {
        return ("404 Not Found", json!({ "error": "no such route" }));
    }
    if model.contains("slow") {
        std::thread::sleep(Duration::from_secs(3));
    }
    if model.contains("flaky") && n.is_multiple_of(2) {
        return ("503 Service Unavailable", json!({ "error": "overloaded" }));
    }
    let schema = body["format"]["title"]
        .as_str()
        .or(body["response_format"]["json_schema"]["name"].as_str())
        .unwrap_or_default();
    let is_test = schema == "connection_test"
        || body["format"]["required"] == json!(["ok"])
        || body["response_format"]["json_schema"]["schema"]["required"] == json!(["ok"]);
    if is_test {
        return ("200 OK", wrap(json!({ "ok": true }).to_string()));
    }
    let is_plan = schema == "copilot_plan"
        || body["format"]["required"] == json!(["intents"])
        || body["response_format"]["json_schema"]["schema"]["required"] == json!(["intents"]);
    if is_plan {
        if model.contains("invalid") {
            return ("200 OK", wrap("I would look at the knowledge base first.".into()));
        }
        return ("200 OK", wrap(json!({ "intents": ["resolve"] }).to_string()));
    }
    let user = body["messages"][1]["content"].as_str().unwrap_or_default();
    let sources = blocks(user, "SOURCE ");
    let customer =
        blocks(user, "CUSTOMER MESSAGE").into_iter().chain(blocks(user, "TICKET")).next().unwrap_or_default();
    if model.contains("invalid") {
        return ("200 OK", wrap("Sure! Here is a friendly reply: {\"sentences\": [".into()));
    }
    let mut sentences = Vec::new();
    for (i, text) in sources.iter().enumerate() {
        for (k, s) in split_sentences(text).into_iter().enumerate() {
            let worded = if model.contains("opposite") {
                format!("Do not {}", lower_first(&s))
            } else if k == 0 {
                format!("In short, {}", lower_first(&s))
            } else {
                s
            };
            sentences.push(json!({ "text": worded, "sources": [i + 1] }));
        }
    }
    if model.contains("invent") {
        sentences.push(json!({ "text": "Your account has been credited.", "sources": [sources.len() + 4] }));
    }
    if model.contains("obey") {
        // What a model that takes the customer's text as orders would write.
        let order = customer.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default();
        sentences.insert(0, json!({ "text": order.trim(), "sources": [1] }));
    }
    ("200 OK", wrap(json!({ "sentences": sentences }).to_string()))
}

/// The texts of the blocks `<<LABEL… marker>>` … `<</LABEL… marker>>`, in order.
fn blocks(user: &str, label: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in user.lines() {
        if line.starts_with(&format!("<<{label}")) {
            current = Some(String::new());
        } else if line.starts_with(&format!("<</{label}")) {
            out.extend(current.take());
        } else if let Some(c) = current.as_mut() {
            if !c.is_empty() {
                c.push('\n');
            }
            c.push_str(line);
        }
    }
    out
}

fn split_sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for ch in text.chars() {
        current.push(ch);
        if matches!(ch, '.' | '!' | '?') {
            out.push(current.trim().to_owned());
            current.clear();
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_owned());
    }
    out.retain(|s| s.chars().any(char::is_alphanumeric));
    out
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}
