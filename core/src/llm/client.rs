//! One chat request to an organisation's endpoint, in either dialect, with the
//! endpoint's timeout for each attempt and its retries. Blocking (`ureq`): async code
//! calls it on a blocking thread ([`chat_async`]).
//!
//! The request asks for JSON against a schema (Ollama's `format`, OpenAI's
//! `response_format`); whether the answer obeys it is the caller's check, not the
//! server's promise.

use crate::ids::TicketId;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::endpoint::{Endpoint, Provider};

/// What a feature asks: the instructions, the data (already marked, see
/// [`super::prompt`]) and the JSON schema of the answer.
#[derive(Debug, Clone)]
pub struct Request {
    /// The feature asking (`reply`, `test`), for the log.
    pub feature: &'static str,
    pub ticket_id: Option<TicketId>,
    pub system: String,
    pub user: String,
    pub schema_name: &'static str,
    pub schema: Value,
}

/// How an exchange ended, as the request log records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Outcome {
    /// The answer was used.
    Ok,
    /// Not the JSON asked for.
    Invalid,
    /// Well-formed, but a sentence its citations do not back (or a citation to no source).
    Unsupported,
    Timeout,
    /// No connection (refused, no route, TLS, or the key could not be opened).
    Unreachable,
    /// An HTTP error status, or a body that is not the provider's answer format.
    HttpError,
}

/// A request and what came of it.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub url: String,
    /// The JSON body sent (the key travels in a header and is never here).
    pub sent: Value,
    /// The model's message text, when an answer came.
    pub content: Option<String>,
    /// The last response body as received.
    pub raw: Option<String>,
    pub outcome: Outcome,
    pub error: Option<String>,
    pub attempts: u32,
    pub duration: Duration,
}

impl Exchange {
    /// The answer's verdict after the caller checked its content.
    pub fn judged(mut self, outcome: Outcome, error: Option<String>) -> Self {
        self.outcome = outcome;
        self.error = error;
        self
    }
}

/// The body in the endpoint's dialect. Temperature 0: the same draft asks the same.
pub fn body(endpoint: &Endpoint, request: &Request) -> Value {
    let messages = json!([
        { "role": "system", "content": request.system },
        { "role": "user", "content": request.user },
    ]);
    match endpoint.provider {
        Provider::Ollama => json!({
            "model": endpoint.model,
            "messages": messages,
            "stream": false,
            "format": request.schema,
            "options": { "temperature": 0 },
        }),
        Provider::Openai => json!({
            "model": endpoint.model,
            "messages": messages,
            "temperature": 0,
            "response_format": {
                "type": "json_schema",
                "json_schema": { "name": request.schema_name, "strict": true, "schema": request.schema },
            },
        }),
    }
}

/// The model's message text in the provider's answer.
fn content(provider: Provider, raw: &str) -> Option<String> {
    let v: Value = serde_json::from_str(raw).ok()?;
    let text = match provider {
        Provider::Ollama => v.pointer("/message/content"),
        Provider::Openai => v.pointer("/choices/0/message/content"),
    };
    text.and_then(Value::as_str).map(str::to_owned)
}

/// The most of an answer read: a draft's JSON is a few kilobytes.
const MAX_ANSWER: u64 = 1 << 20;

/// Between attempts: 250 ms, doubling to at most 4 s (a model that answers slowly
/// under load gets a moment, not a storm).
const RETRY: atum_runtime::backoff::Backoff = atum_runtime::backoff::Backoff::new(
    Duration::from_millis(250),
    Duration::from_secs(4),
    atum_runtime::backoff::Jitter::None,
);

/// Sends the request, retrying what may pass later (no connection, a timeout, 429 or
/// 5xx) up to the endpoint's retries, a little longer apart each time.
pub fn chat(endpoint: &Endpoint, request: &Request) -> Exchange {
    let started = Instant::now();
    let url = endpoint.url();
    let sent = body(endpoint, request);
    let mut exchange = Exchange {
        url: url.clone(),
        sent,
        content: None,
        raw: None,
        outcome: Outcome::Unreachable,
        error: None,
        attempts: 0,
        duration: Duration::ZERO,
    };
    let key = match &endpoint.api_key {
        Ok(k) => k.clone(),
        Err(why) => {
            exchange.attempts = 1;
            exchange.error = Some((*why).to_owned());
            return exchange;
        }
    };
    let mut agent = ureq::AgentBuilder::new()
        .timeout(endpoint.timeout)
        // A redirect could carry the key and the customer's text to another host.
        .redirects(0);
    if let Some(tls) = super::tls::connector() {
        agent = agent.tls_connector(tls);
    }
    let agent = agent.build();
    let text = exchange.sent.to_string();
    for attempt in 0..=endpoint.retries {
        if attempt > 0 {
            std::thread::sleep(RETRY.delay(attempt - 1));
        }
        exchange.attempts = attempt + 1;
        let mut req = agent.post(&url).set("Content-Type", "application/json");
        if let Some(k) = &key {
            req = req.set("Authorization", &format!("Bearer {k}"));
        }
        let retry = match req.send_string(&text) {
            Ok(res) => {
                let mut raw = String::new();
                let read =
                    std::io::Read::read_to_string(&mut std::io::Read::take(res.into_reader(), MAX_ANSWER), &mut raw);
                match read {
                    Ok(_) => {
                        exchange.content = content(endpoint.provider, &raw);
                        (exchange.outcome, exchange.error) = match exchange.content {
                            Some(_) => (Outcome::Ok, None),
                            None => (Outcome::HttpError, Some("the answer is not the provider's chat format".into())),
                        };
                        exchange.raw = Some(raw);
                        false
                    }
                    Err(e) => {
                        (exchange.outcome, exchange.error) = transport_io(&e);
                        true
                    }
                }
            }
            Err(ureq::Error::Status(code, res)) => {
                exchange.outcome = Outcome::HttpError;
                exchange.error = Some(format!("HTTP {code}"));
                exchange.raw = res.into_string().ok();
                code == 429 || code >= 500
            }
            Err(ureq::Error::Transport(t)) => {
                let timed_out = std::error::Error::source(&t)
                    .and_then(|s| s.downcast_ref::<std::io::Error>())
                    .is_some_and(|e| matches!(e.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock));
                exchange.outcome = if timed_out { Outcome::Timeout } else { Outcome::Unreachable };
                exchange.error = Some(t.to_string());
                !matches!(t.kind(), ureq::ErrorKind::InvalidUrl | ureq::ErrorKind::UnknownScheme)
            }
        };
        if !retry {
            break;
        }
    }
    exchange.duration = started.elapsed();
    exchange
}

fn transport_io(e: &std::io::Error) -> (Outcome, Option<String>) {
    let outcome = match e.kind() {
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => Outcome::Timeout,
        _ => Outcome::Unreachable,
    };
    (outcome, Some(format!("reading the answer: {e}")))
}

/// [`chat`] on a blocking thread.
pub async fn chat_async(endpoint: Endpoint, request: Request) -> Exchange {
    let url = endpoint.url();
    let fallback = Exchange {
        url,
        sent: Value::Null,
        content: None,
        raw: None,
        outcome: Outcome::Unreachable,
        error: Some("the request's thread stopped".into()),
        attempts: 1,
        duration: Duration::ZERO,
    };
    tokio::task::spawn_blocking(move || chat(&endpoint, &request)).await.unwrap_or(fallback)
}
