//! `atum ai eval`: trains exactly the product's triage model on one CSV file and
//! reports how it does on another — accuracy, macro-F1, the majority-class baseline,
//! calibration and what each confidence tier covers — so anyone can measure it on
//! their own tickets before letting it near their queue.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
    time::Instant,
};

use anyhow::{Context, bail};
use atum_ai::{
    Embedder,
    triage::{self, Example},
};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum Action {
    /// Train the triage model on TRAIN and report how it labels TEST.
    Eval {
        /// Labelled rows to learn from (CSV with a header).
        #[arg(long)]
        train: PathBuf,
        /// Labelled rows to measure on (same columns).
        #[arg(long)]
        test: PathBuf,
        /// The column with the ticket's text.
        #[arg(long)]
        text_column: String,
        /// The column with the label to learn (a category, a priority).
        #[arg(long)]
        label_column: String,
        /// Write each test row's prediction here (CSV).
        #[arg(long)]
        predictions: Option<PathBuf>,
        /// Write the report here (JSON).
        #[arg(long)]
        json: Option<PathBuf>,
        /// The embedding model's directory (default: ATUM_EMBED_MODEL_DIR, else
        /// var/models/all-minilm-l6-v2, fetched there first when missing).
        #[arg(long)]
        model_dir: Option<PathBuf>,
    },
}

/// The rows of `path` as (text, label), the rows with either empty left out.
fn read(path: &Path, text: &str, label: &str) -> anyhow::Result<Vec<(String, String)>> {
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let headers = reader.headers()?.clone();
    let col = |name: &str| {
        headers.iter().position(|h| h == name).with_context(|| {
            format!(
                "{} has no column {name:?} (it has: {})",
                path.display(),
                headers.iter().collect::<Vec<_>>().join(", ")
            )
        })
    };
    let (t, l) = (col(text)?, col(label)?);
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("{} row {}", path.display(), i + 2))?;
        let (text, label) = (record.get(t).unwrap_or("").trim(), record.get(l).unwrap_or("").trim());
        if !text.is_empty() && !label.is_empty() {
            rows.push((text.to_owned(), label.to_owned()));
        }
    }
    Ok(rows)
}

pub fn run(action: Action) -> anyhow::Result<ExitCode> {
    let Action::Eval { train, test, text_column, label_column, predictions, json, model_dir } = action;
    let train_rows = read(&train, &text_column, &label_column)?;
    let test_rows = read(&test, &text_column, &label_column)?;
    if test_rows.is_empty() {
        bail!("{} has no labelled rows", test.display());
    }
    // Like `atum up`: the default model is fetched (and said so) when it is missing;
    // a directory named by the flag or ATUM_EMBED_MODEL_DIR is used as it is.
    let dir = match model_dir {
        Some(dir) => dir,
        None => atum_core::model_files::ensure(Path::new("var"), &mut |m| println!("{m}"))?,
    };
    let embedder = Embedder::load(&dir)?;

    let examples: Vec<Example<'_>> =
        train_rows.iter().enumerate().map(|(i, (text, label))| Example { id: i as i64 + 2, text, label }).collect();
    let started = Instant::now();
    let model = triage::train(&embedder, &examples, 20261201)?;
    let trained_in = started.elapsed().as_secs_f64();
    println!(
        "trained on {} rows (calibrated on {} held back) of {} in {trained_in:.1} s: {} labels, linear share {:.1}, temperature {:.2}",
        model.trained_on,
        model.calibrated_on,
        train.display(),
        model.labels.len(),
        model.mix,
        model.temperature
    );

    let started = Instant::now();
    let test_examples: Vec<Example<'_>> =
        test_rows.iter().enumerate().map(|(i, (text, label))| Example { id: i as i64 + 2, text, label }).collect();
    let majority = triage::majority(train_rows.iter().map(|(_, l)| l.as_str()));
    let (predicted, report) = triage::evaluate(&model, &embedder, &test_examples, &majority)?;
    let predicted_in = started.elapsed().as_secs_f64();

    println!(
        "{} test rows in {predicted_in:.1} s: accuracy {:.3}, macro-F1 {:.3}; majority-class baseline ({}) {:.3}; ECE {:.3}",
        report.examples, report.accuracy, report.macro_f1, report.majority_label, report.majority_accuracy, report.ece
    );
    println!("confidence tiers (answers at or above):");
    for t in &report.tiers {
        println!("  ≥ {:.1}: coverage {:.3}, accuracy {:.3}", t.threshold, t.coverage, t.accuracy);
    }
    println!("reliability (confidence bin: answers, mean confidence, accuracy):");
    for b in report.reliability.iter().filter(|b| b.count > 0) {
        println!("  {:.1}–{:.1}: {:>5}, {:.3}, {:.3}", b.from, b.to, b.count, b.confidence, b.accuracy);
    }

    if let Some(path) = predictions {
        let mut w = csv::Writer::from_path(&path).with_context(|| format!("writing {}", path.display()))?;
        w.write_record(["text", "label", "predicted", "confidence", "nearest"])?;
        for ((text, label), p) in test_rows.iter().zip(&predicted) {
            let nearest: Vec<String> = p.neighbours.iter().map(|n| format!("row {} ({})", n.id, n.label)).collect();
            w.write_record([text, label, &p.label, &format!("{:.4}", p.confidence), &nearest.join("; ")])?;
        }
        w.flush()?;
        println!("predictions written to {}", path.display());
    }
    if let Some(path) = json {
        let out = serde_json::json!({
            "train": train.display().to_string(), "test": test.display().to_string(),
            "trained_on": model.trained_on, "calibrated_on": model.calibrated_on,
            "linear_share": model.mix, "temperature": model.temperature,
            "train_seconds": trained_in, "predict_seconds": predicted_in,
            "report": report,
        });
        std::fs::write(&path, serde_json::to_string_pretty(&out)?)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("report written to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
