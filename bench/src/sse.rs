//! `atum-bench sse`: the event stream (`GET /api/v1/events`) with many clients on one
//! API process. The baseline is the same process in the same run with no client:
//! idle, and with the same flow of ticket changes.
//!
//! Phases, each measured as the API process's RSS and CPU (from /proc):
//! 1. no client, idle; 2. no client, `RATE` new tickets a second;
//! 3. `CLIENTS` streams open, idle (a keep-alive round, which re-checks each session,
//!    falls inside the window); 4. the streams open, the same flow. In phase 4 every
//!    client must receive every change; the latency is from the start of the create
//!    request to the event's arrival at each client.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::TcpStream,
};

use crate::load::round;

pub struct Setup {
    pub api_pid: u32,
    pub listen: SocketAddr,
    pub token: String,
    pub clients: usize,
    pub rate: u32,
    pub seconds: u64,
}

/// Each client's arrivals: (ticket id, when).
type Arrivals = Arc<Mutex<Vec<(i64, Instant)>>>;

pub fn run(setup: &Setup) -> anyhow::Result<Value> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    let window = Duration::from_secs(setup.seconds);
    // The keep-alive comes every 15 s: an idle window that long sees one round.
    let idle_window = window.max(Duration::from_secs(16));

    let idle_0 = measure(setup.api_pid, idle_window, || Ok(HashMap::new()))?;
    println!("no client, idle:           CPU {:>5.1}%  RSS {:>6.1} MB", idle_0.cpu_pct, idle_0.rss_mb);
    let flow_0 = measure(setup.api_pid, window, || create_tickets(setup, window))?;
    println!("no client, {} changes/s:    CPU {:>5.1}%  RSS {:>6.1} MB", setup.rate, flow_0.cpu_pct, flow_0.rss_mb);

    let opened = Arc::new(AtomicUsize::new(0));
    let arrivals: Vec<Arrivals> = (0..setup.clients).map(|_| Arrivals::default()).collect();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for list in &arrivals {
        let (listen, token, opened, list) = (setup.listen, setup.token.clone(), opened.clone(), list.clone());
        tasks.push(runtime.spawn(async move { client(listen, &token, &opened, &list).await }));
    }
    while opened.load(Ordering::Relaxed) < setup.clients {
        if tasks.iter().any(|t| t.is_finished()) {
            bail!("a stream closed while the others were opening ({} open)", opened.load(Ordering::Relaxed));
        }
        if started.elapsed() > Duration::from_secs(120) {
            bail!("only {} of {} streams opened in 120 s", opened.load(Ordering::Relaxed), setup.clients);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let connect_s = started.elapsed().as_secs_f64();
    println!("{} streams open in {connect_s:.2} s", setup.clients);

    let idle_n = measure(setup.api_pid, idle_window, || Ok(HashMap::new()))?;
    println!("{} clients, idle:         CPU {:>5.1}%  RSS {:>6.1} MB", setup.clients, idle_n.cpu_pct, idle_n.rss_mb);
    for list in &arrivals {
        list.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.clear();
    }
    let flow_n = measure(setup.api_pid, window, || create_tickets(setup, window))?;
    println!(
        "{} clients, {} changes/s: CPU {:>5.1}%  RSS {:>6.1} MB",
        setup.clients, setup.rate, flow_n.cpu_pct, flow_n.rss_mb
    );
    // Give the last events time to arrive (bounded), then stop the clients.
    let expected = flow_n.sent.len() * setup.clients;
    let deadline = Instant::now() + Duration::from_secs(10);
    let delivered = loop {
        let n: usize = arrivals.iter().map(|l| l.lock().map(|l| l.len()).unwrap_or(0)).sum();
        if n >= expected || Instant::now() > deadline {
            break n;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    for t in &tasks {
        t.abort();
    }
    let mut latencies: Vec<f64> = Vec::with_capacity(delivered);
    for list in &arrivals {
        for (ticket, at) in list.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.iter() {
            if let Some(sent) = flow_n.sent.get(ticket) {
                latencies.push(at.saturating_duration_since(*sent).as_secs_f64() * 1000.0);
            }
        }
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies.get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)));
    let (p50, p95, p99) = (pct(0.50).copied(), pct(0.95).copied(), pct(0.99).copied());
    println!(
        "delivered {delivered} of {expected}; latency p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms",
        p50.unwrap_or(f64::NAN),
        p95.unwrap_or(f64::NAN),
        p99.unwrap_or(f64::NAN)
    );
    let per_client_kb = (idle_n.rss_mb - idle_0.rss_mb) * 1024.0 / setup.clients as f64;
    println!("memory per stream: {per_client_kb:.1} KB");

    Ok(json!({
        "clients": setup.clients,
        "changes_per_second": setup.rate,
        "window_seconds": setup.seconds,
        "idle_window_seconds": idle_window.as_secs(),
        "connect_seconds": round(connect_s),
        "no_client": {"idle": idle_0.to_json(), "flow": flow_0.to_json()},
        "with_clients": {"idle": idle_n.to_json(), "flow": flow_n.to_json()},
        "rss_per_stream_kb": round(per_client_kb),
        "flow_cpu_ratio_to_no_client": round(flow_n.cpu_pct / flow_0.cpu_pct),
        "events_sent": flow_n.sent.len(),
        "deliveries_expected": expected,
        "deliveries": delivered,
        "latency_ms": {"p50": p50.map(round), "p95": p95.map(round), "p99": p99.map(round)},
    }))
}

struct Window {
    cpu_pct: f64,
    rss_mb: f64,
    achieved_rate: f64,
    sent: HashMap<i64, Instant>,
}

impl Window {
    fn to_json(&self) -> Value {
        json!({"cpu_percent": round(self.cpu_pct), "rss_mb": round(self.rss_mb), "changes_per_second": round(self.achieved_rate)})
    }
}

/// Runs `during` (which takes the window's length) and reports the API's CPU share
/// (of one core) and its RSS at the end.
fn measure(
    pid: u32,
    window: Duration,
    during: impl FnOnce() -> anyhow::Result<HashMap<i64, Instant>>,
) -> anyhow::Result<Window> {
    let (cpu_before, started) = (cpu_seconds(pid)?, Instant::now());
    let sent = during()?;
    if let Some(rest) = window.checked_sub(started.elapsed()) {
        std::thread::sleep(rest);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds(pid)? - cpu_before;
    Ok(Window {
        cpu_pct: cpu / elapsed * 100.0,
        rss_mb: crate::rss_mb(pid)?,
        achieved_rate: sent.len() as f64 / elapsed,
        sent,
    })
}

/// User and system CPU time of a process so far.
fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = stat.rsplit_once(')').context("/proc stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 =
        fields.get(11).context("utime")?.parse::<f64>()? + fields.get(12).context("stime")?.parse::<f64>()?;
    Ok(ticks / clock_ticks())
}

/// The kernel's clock ticks per second (`getconf CLK_TCK`; 100 on Linux almost always).
fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// Creates tickets through the API at the set rate for `window`; when each create
/// request started, by ticket id.
fn create_tickets(setup: &Setup, window: Duration) -> anyhow::Result<HashMap<i64, Instant>> {
    let base = format!("http://{}", setup.listen);
    let agent = ureq::AgentBuilder::new().build();
    let body = json!({"subject": "Event stream benchmark", "description": "a change to stream"}).to_string();
    let step = Duration::from_secs_f64(1.0 / f64::from(setup.rate));
    let total = (window.as_secs_f64() * f64::from(setup.rate)) as u32;
    let started = Instant::now();
    let mut sent = HashMap::new();
    for i in 0..total {
        if let Some(wait) = (step * i).checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
        let at = Instant::now();
        let res: Value = serde_json::from_str(
            &agent
                .post(&format!("{base}/api/v1/tickets"))
                .set("Authorization", &format!("Bearer {}", setup.token))
                .set("Content-Type", "application/json")
                .send_string(&body)?
                .into_string()?,
        )?;
        sent.insert(res["id"].as_i64().context("the created ticket's id")?, at);
    }
    Ok(sent)
}

/// One stream: counts itself open once the headers arrive, then records each
/// `ticket` event's ticket id and arrival time until aborted.
async fn client(listen: SocketAddr, token: &str, opened: &AtomicUsize, arrivals: &Arrivals) -> anyhow::Result<()> {
    let mut stream = TcpStream::connect(listen).await?;
    let request = format!(
        "GET /api/v1/events HTTP/1.1\r\nHost: {listen}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).await?;
    if !line.starts_with("HTTP/1.1 200") {
        bail!("the stream answered {line}");
    }
    let mut chunked = false;
    loop {
        line.clear();
        reader.read_line(&mut line).await?;
        if line.trim().is_empty() {
            break;
        }
        chunked |= line.to_ascii_lowercase().starts_with("transfer-encoding: chunked");
    }
    opened.fetch_add(1, Ordering::Relaxed);
    let mut pending = String::new();
    let mut event = String::new();
    loop {
        // The body, de-chunked when it is chunked.
        let piece = if chunked {
            line.clear();
            if reader.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let size = usize::from_str_radix(line.trim(), 16).context("a chunk size")?;
            if size == 0 {
                return Ok(());
            }
            let mut buf = vec![0; size + 2];
            reader.read_exact(&mut buf).await?;
            buf.truncate(size);
            buf
        } else {
            let mut buf = vec![0; 4096];
            let n = reader.read(&mut buf).await?;
            if n == 0 {
                return Ok(());
            }
            buf.truncate(n);
            buf
        };
        pending.push_str(&String::from_utf8_lossy(&piece));
        while let Some(end) = pending.find('\n') {
            let text: String = pending.drain(..=end).collect();
            let text = text.trim_end();
            if let Some(kind) = text.strip_prefix("event: ") {
                event = kind.to_owned();
            } else if let Some(data) = text.strip_prefix("data: ")
                && event == "ticket"
                && let Ok(v) = serde_json::from_str::<Value>(data)
                && v["kind"] == "created"
                && let Some(id) = v["ticket_id"].as_i64()
            {
                arrivals.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.push((id, Instant::now()));
            } else if text.is_empty() {
                event.clear();
            }
        }
    }
}
