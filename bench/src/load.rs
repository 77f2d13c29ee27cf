//! A closed-loop load generator: `concurrency` threads each send one request after
//! another for a fixed time; every latency is kept, so percentiles are exact.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::{Value, json};

/// What one request of a scenario looks like.
#[derive(Clone)]
pub enum Call {
    Get(String),
    /// GETs of these paths, each thread going round them from its own start.
    Rotate(Vec<String>),
    Post(String, Value),
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub name: String,
    pub concurrency: usize,
    pub requests: usize,
    pub errors: usize,
    pub rps: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
}

impl Outcome {
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name, "concurrency": self.concurrency, "requests": self.requests,
            "errors": self.errors, "rps": round(self.rps), "p50_ms": round(self.p50_ms), "p95_ms": round(self.p95_ms), "p99_ms": round(self.p99_ms),
        })
    }
}

pub fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

pub fn run(name: &str, base: &str, token: &str, call: &Call, concurrency: usize, duration: Duration) -> Outcome {
    let errors = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let threads: Vec<_> = (0..concurrency)
        .map(|thread| {
            let (base, token, call, errors) = (base.to_owned(), token.to_owned(), call.clone(), errors.clone());
            std::thread::spawn(move || {
                let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(30)).build();
                let auth = format!("Bearer {token}");
                let mut latencies = Vec::new();
                let mut turn = thread * 7;
                while started.elapsed() < duration {
                    turn += 1;
                    let t = Instant::now();
                    let result = match &call {
                        Call::Get(path) => agent.get(&format!("{base}{path}")).set("Authorization", &auth).call(),
                        Call::Rotate(paths) => agent
                            .get(&format!("{base}{}", paths[turn % paths.len()]))
                            .set("Authorization", &auth)
                            .call(),
                        Call::Post(path, body) => agent
                            .post(&format!("{base}{path}"))
                            .set("Authorization", &auth)
                            .set("Content-Type", "application/json")
                            .send_string(&body.to_string()),
                    };
                    // Read the body: the response is not done until it has arrived.
                    match result.map(|r| r.into_string()) {
                        Ok(Ok(_)) => latencies.push(t.elapsed()),
                        _ => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                latencies
            })
        })
        .collect();
    let mut all: Vec<Duration> = threads.into_iter().flat_map(|t| t.join().unwrap_or_default()).collect();
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| -> f64 {
        if all.is_empty() {
            return f64::NAN;
        }
        let i = ((all.len() as f64 * p).ceil() as usize).clamp(1, all.len()) - 1;
        all[i].as_secs_f64() * 1000.0
    };
    Outcome {
        name: name.to_owned(),
        concurrency,
        requests: all.len(),
        errors: errors.load(Ordering::Relaxed),
        rps: all.len() as f64 / elapsed,
        p50_ms: pct(0.50),
        p95_ms: pct(0.95),
        p99_ms: pct(0.99),
    }
}
