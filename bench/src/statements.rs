//! Where a ticket create spends its database time: `pg_stat_statements` over a pass of
//! creates at concurrency 1, per create (calls, mean and total execution time of each
//! statement the API ran), so the raw baseline can be checked against what the API
//! really does and a change to the create shows up statement by statement.

use anyhow::Context as _;
use atum_core::pg_cluster::Cluster;
use atum_runtime::config::parse_database_url;
use serde_json::{Value, json};

use crate::load::round;

/// Loads `pg_stat_statements` into the benchmark cluster (a restart on the same port
/// the first time). It runs during the whole benchmark, so the API and the raw
/// baseline pay its small cost alike.
pub async fn ensure_loaded(cluster: &Cluster, port: u16) -> anyhow::Result<()> {
    let url = parse_database_url("bench", &cluster.url(port, "postgres")?)?;
    let client = atum_runtime::db::connect(&url).await?;
    let loaded: String = client.query_one("SHOW shared_preload_libraries", &[]).await?.get(0);
    if loaded.contains("pg_stat_statements") {
        return Ok(());
    }
    client.batch_execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'").await?;
    drop(client);
    cluster.stop()?;
    cluster.start_on(port)?;
    Ok(())
}

/// Clears the statistics of database `url` (creating the extension there if needed).
pub async fn reset(url: &str) -> anyhow::Result<()> {
    let client = atum_runtime::db::connect(&parse_database_url("bench", url)?).await?;
    client
        .batch_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset();")
        .await
        .context("resetting pg_stat_statements")?;
    Ok(())
}

/// The statements run since `reset` in `url`'s database, per `unit` (a create, a
/// sweep; `units` of them ran), each that ran at least once per 20 units, the
/// costliest first; and the sums: statements (round trips) and execution time per unit.
pub async fn per(url: &str, units: usize, unit: &str) -> anyhow::Result<Value> {
    let client = atum_runtime::db::connect(&parse_database_url("bench", url)?).await?;
    let rows = client
        .query(
            "SELECT query, calls, total_exec_time, rows
               FROM pg_stat_statements
              WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                AND query NOT LIKE '%pg_stat_statements%'
              ORDER BY total_exec_time DESC",
            &[],
        )
        .await?;
    let n = units.max(1) as f64;
    let (mut calls_sum, mut ms_sum) = (0.0, 0.0);
    let mut statements = Vec::new();
    for row in rows {
        let query: String = row.get(0);
        let calls = row.get::<_, i64>(1) as f64;
        let total_ms: f64 = row.get(2);
        calls_sum += calls;
        ms_sum += total_ms;
        if calls / n < 0.05 {
            continue;
        }
        let query = query.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut s = serde_json::Map::new();
        s.insert(format!("calls_per_{unit}"), json!(round(calls / n)));
        s.insert("mean_ms".into(), json!((total_ms / calls * 1000.0).round() / 1000.0));
        s.insert(format!("ms_per_{unit}"), json!((total_ms / n * 1000.0).round() / 1000.0));
        s.insert("rows_per_call".into(), json!(round(row.get::<_, i64>(3) as f64 / calls)));
        s.insert("query".into(), json!(query.chars().take(240).collect::<String>()));
        statements.push(Value::Object(s));
    }
    let mut out = serde_json::Map::new();
    out.insert(format!("{unit}s"), json!(units));
    out.insert(format!("statements_per_{unit}"), json!(round(calls_sum / n)));
    out.insert(format!("exec_ms_per_{unit}"), json!((ms_sum / n * 1000.0).round() / 1000.0));
    out.insert("statements".into(), Value::Array(statements));
    Ok(Value::Object(out))
}

/// Prints `profile` (from [`per`]) one statement a line.
pub fn print(profile: &Value, unit: &str) {
    for s in profile["statements"].as_array().into_iter().flatten() {
        println!(
            "  {:>7} × {:>8.3} ms = {:>8.3} ms  {}",
            s[format!("calls_per_{unit}")],
            s["mean_ms"].as_f64().unwrap_or_default(),
            s[format!("ms_per_{unit}")].as_f64().unwrap_or_default(),
            s["query"].as_str().unwrap_or_default().chars().take(100).collect::<String>()
        );
    }
}
