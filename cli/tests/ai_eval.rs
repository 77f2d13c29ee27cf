//! `atum ai eval` run as someone measuring the triage model on their own data would:
//! two CSV files in, the figures and the per-row predictions out.

use std::{path::PathBuf, process::Command};

fn model_dir() -> PathBuf {
    atum_core::model_files::ensure(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../var"), &mut |m| eprintln!("{m}"))
        .expect("the embedding model can be fetched")
}

/// `n` rows a kind of three kinds of ticket, as CSV with a header.
fn csv(variant: usize) -> String {
    let kinds = [
        ("billing", ["charged twice", "refund my invoice", "the bill is wrong", "payment failed"]),
        ("access", ["cannot log in", "password reset fails", "locked out of my account", "two-factor code rejected"]),
        ("shipping", ["package is late", "tracking shows nothing", "parcel arrived damaged", "wrong delivery address"]),
    ];
    let lead = ["Hello, ", "Hi team: ", "Urgent - ", "Please help, ", "Good morning. "];
    let mut out = String::from("id,message,team\n");
    for (i, l) in lead.iter().enumerate().skip(variant).take(if variant == 0 { 4 } else { 1 }) {
        for (team, phrases) in &kinds {
            for p in phrases {
                out.push_str(&format!("{i},\"{l}{p}, \"\"ref {i}\"\"\",{team}\n"));
            }
        }
    }
    out
}

#[test]
fn ai_eval_trains_on_one_file_and_reports_on_the_other() {
    let dir = std::env::temp_dir().join(format!("atum-ai-eval-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("train.csv"), csv(0)).unwrap();
    std::fs::write(dir.join("test.csv"), csv(4)).unwrap();
    let model = model_dir();
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_atum"))
            .args(["ai", "eval", "--train"])
            .arg(dir.join("train.csv"))
            .arg("--test")
            .arg(dir.join("test.csv"))
            .args(["--text-column", "message"])
            .args(extra)
            .arg("--model-dir")
            .arg(&model)
            .output()
            .expect("runs atum")
    };

    let out = run(&[
        "--label-column",
        "team",
        "--json",
        dir.join("report.json").to_str().unwrap(),
        "--predictions",
        dir.join("p.csv").to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout.contains("trained on") && stdout.contains("macro-F1") && stdout.contains("majority-class baseline"),
        "{stdout}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["report"]["examples"], 12);
    assert!(report["report"]["accuracy"].as_f64().unwrap() >= 0.75, "{report}");
    assert!((report["report"]["majority_accuracy"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-9);
    assert_eq!(report["report"]["confusion"].as_array().unwrap().len(), 3);
    let predictions = std::fs::read_to_string(dir.join("p.csv")).unwrap();
    assert_eq!(predictions.lines().count(), 1 + 12, "a header and a row a test row");
    assert!(predictions.starts_with("text,label,predicted,confidence,nearest"));

    let out = run(&["--label-column", "queue"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.starts_with("atum: ") && stderr.contains("no column \"queue\"") && !stderr.contains("panicked"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn ai_eval_without_a_model_directory_installs_the_default_model_as_atum_up_does() {
    // A working directory whose var/ holds the model's files (linked, not copied): with
    // no flag and no ATUM_EMBED_MODEL_DIR, `atum ai eval` goes through the same fetch
    // as `atum up`, which checks the files against their pins and says so. A missing
    // file would be downloaded by that same step instead of ending the command.
    let model = model_dir();
    let work = std::env::temp_dir().join(format!("atum-ai-eval-fetch-{}", std::process::id()));
    let target = atum_core::model_files::default_dir(&work.join("var"));
    std::fs::create_dir_all(&target).unwrap();
    for entry in std::fs::read_dir(&model).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() && !path.file_name().unwrap().to_string_lossy().starts_with('.') {
            let to = target.join(path.file_name().unwrap());
            let _ = std::fs::remove_file(&to);
            std::fs::hard_link(&path, &to).or_else(|_| std::fs::copy(&path, &to).map(drop)).unwrap();
        }
    }
    std::fs::write(work.join("train.csv"), csv(0)).unwrap();
    std::fs::write(work.join("test.csv"), csv(4)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_atum"))
        .current_dir(&work)
        .env_remove("ATUM_EMBED_MODEL_DIR")
        .args(["ai", "eval", "--train", "train.csv", "--test", "test.csv", "--text-column", "message"])
        .args(["--label-column", "team"])
        .output()
        .expect("runs atum");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("the embedding model is already installed and verified"), "{stdout}");
    assert!(stdout.contains("accuracy"), "{stdout}");
    let _ = std::fs::remove_dir_all(&work);
}
