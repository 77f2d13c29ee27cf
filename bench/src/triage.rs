//! `atum-bench triage`: what training the triage model costs an organisation with
//! 10,000 and 100,000 labelled tickets — time and peak memory of the release
//! `atum ai eval` (the product's own training, embedding included), and its accuracy
//! on the fixed split's test file.
//!
//! The histories are the fixed split's training rows again and again, each copy
//! worded a little differently (a greeting, a sign-off, a reference number), so that
//! every row is a distinct text to embed. `ATUM_BENCH_TRIAGE_SIZES` (comma-separated)
//! changes the sizes. Figures go to `target/bench/triage-train.json`.

use std::{
    path::Path,
    process::{Command, Stdio},
    time::Instant,
};

use anyhow::{Context, bail};
use rand::{RngExt as _, SeedableRng as _, rngs::StdRng};
use serde_json::{Value, json};

use crate::rag::peak_rss_until;

const OPENERS: [&str; 6] = ["", "Hi, ", "Hello team, ", "Good morning. ", "Urgent: ", "Quick question - "];
const CLOSERS: [&str; 6] = ["", " Thanks.", " Thank you!", " Regards, Sam", " Please help.", " Cheers"];

/// The fixed split's training rows, `n` of them: copies after the first are worded a
/// little differently, so that every row is a distinct text.
pub fn history(n: usize) -> anyhow::Result<Vec<(String, String)>> {
    let split = Path::new(env!("CARGO_MANIFEST_DIR")).join("triage");
    let mut reader = csv::Reader::from_path(split.join("train.csv"))?;
    let rows: Vec<(String, String)> =
        reader.records().map(|r| r.map(|r| (r[0].to_owned(), r[1].to_owned()))).collect::<Result<_, _>>()?;
    let mut rng = StdRng::seed_from_u64(n as u64);
    Ok((0..n)
        .map(|i| {
            let (text, label) = &rows[i % rows.len()];
            if i < rows.len() {
                return (text.clone(), label.clone());
            }
            let open = OPENERS[rng.random_range(0..OPENERS.len())];
            let close = CLOSERS[rng.random_range(0..CLOSERS.len())];
            (format!("{open}{text} (ref {}){close}", rng.random_range(10_000..99_999)), label.clone())
        })
        .collect())
}

/// [`history`] as a CSV file with the columns `text` and `category`.
pub fn write_history(file: &Path, n: usize) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_path(file)?;
    w.write_record(["text", "category"])?;
    for (text, label) in history(n)? {
        w.write_record([text.as_str(), label.as_str()])?;
    }
    w.flush()?;
    Ok(())
}

pub fn run(exe_dir: &Path, root: &Path) -> anyhow::Result<()> {
    let env = atum_runtime::config::Env::process();
    let sizes: Vec<usize> = env
        .get("ATUM_BENCH_TRIAGE_SIZES")
        .unwrap_or_else(|| "10000,100000".into())
        .split(',')
        .map(|s| s.trim().parse::<usize>().context("ATUM_BENCH_TRIAGE_SIZES must list numbers"))
        .collect::<anyhow::Result<_>>()?;
    let split = Path::new(env!("CARGO_MANIFEST_DIR")).join("triage");
    let model_dir = atum_core::model_files::ensure(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../var"), &mut |m| {
        println!("{m}")
    })?;

    let mut points: Vec<Value> = Vec::new();
    for n in sizes {
        let file = root.join(format!("triage-history-{n}.csv"));
        write_history(&file, n)?;
        let report = root.join(format!("triage-history-{n}.json"));
        println!("training on a history of {n} labelled tickets with `atum ai eval`");
        let started = Instant::now();
        let mut child = Command::new(exe_dir.join("atum"))
            .args(["ai", "eval", "--text-column", "text", "--label-column", "category", "--train"])
            .arg(&file)
            .arg("--test")
            .arg(split.join("test.csv"))
            .arg("--json")
            .arg(&report)
            .arg("--model-dir")
            .arg(&model_dir)
            .stdout(Stdio::null())
            .spawn()
            .context("starting `atum ai eval` (build it with `cargo build --release -p atum-cli`)")?;
        let peak = peak_rss_until(child.id(), || Ok(child.try_wait()?.is_some()))?;
        let took = started.elapsed().as_secs_f64();
        if !child.wait()?.success() {
            bail!("`atum ai eval` failed on {}", file.display());
        }
        let r: Value = serde_json::from_str(&std::fs::read_to_string(&report)?)?;
        let (trained, calibrated) = (r["trained_on"].as_u64().unwrap_or(0), r["calibrated_on"].as_u64().unwrap_or(0));
        let train_s = r["train_seconds"].as_f64().unwrap_or(f64::NAN);
        let accuracy = r["report"]["accuracy"].as_f64().unwrap_or(f64::NAN);
        println!(
            "  trained on {trained} (+{calibrated} held back) in {train_s:.1} s, whole run {took:.1} s, peak RSS {peak:.0} MB; test accuracy {accuracy:.3}"
        );
        points.push(json!({
            "history": n, "trained_on": trained, "calibrated_on": calibrated,
            "train_seconds": train_s, "run_seconds": took, "peak_rss_mb": peak, "test_accuracy": accuracy,
        }));
        std::fs::remove_file(&file).ok();
    }
    let path = root.join("triage-train.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&json!({"when": chrono::Utc::now().to_rfc3339(), "runs": points}))?,
    )?;
    println!("wrote {}", path.display());
    Ok(())
}
