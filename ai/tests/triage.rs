//! The triage model trained and asked for real: the fetched embedding model, a small
//! labelled history written here, and texts the model has not seen.

use std::path::PathBuf;

use atum_ai::{
    Embedder,
    triage::{self, Example, TrainError},
};

fn embedder() -> Embedder {
    let dir = atum_core::model_files::ensure(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../var"), &mut |m| {
        eprintln!("{m}")
    })
    .expect("the embedding model can be fetched");
    Embedder::load(&dir).expect("the model loads")
}

/// Tickets of three kinds, each said many ways.
fn history() -> Vec<(String, &'static str)> {
    let kinds: [(&str, &[&str], &[&str]); 3] = [
        (
            "billing",
            &[
                "I was charged twice for",
                "Please refund the invoice for",
                "Why is my bill higher for",
                "The payment failed for",
            ],
            &["my subscription", "last month", "the annual plan", "order 1182"],
        ),
        (
            "access",
            &[
                "I cannot log in to",
                "My password stopped working for",
                "I am locked out of",
                "Two-factor codes fail for",
            ],
            &["my account", "the portal", "the admin console", "the mobile app"],
        ),
        (
            "shipping",
            &[
                "Where is my package for",
                "The delivery is late for",
                "Tracking shows nothing for",
                "The parcel arrived damaged for",
            ],
            &["my order", "order 5521", "the replacement", "the spare parts"],
        ),
    ];
    let mut out = Vec::new();
    for (label, starts, ends) in kinds {
        for s in starts {
            for e in ends {
                out.push((format!("{s} {e}."), label));
            }
        }
    }
    out
}

#[test]
fn a_model_trained_on_a_history_labels_new_tickets_with_calibrated_confidence() {
    let embedder = embedder();
    let history = history();
    let examples: Vec<Example<'_>> =
        history.iter().enumerate().map(|(i, (t, l))| Example { id: i as i64, text: t, label: l }).collect();
    let model = triage::train(&embedder, &examples, 7).expect("trains");
    assert_eq!(model.labels, ["access", "billing", "shipping"]);
    assert_eq!(model.trained_on + model.calibrated_on, 48);

    let new = [
        "My card was billed two times this month",
        "I can't sign in, it says my password is wrong",
        "My parcel never arrived",
    ];
    let got = model.predict(&embedder, &new).expect("predicts");
    let labels: Vec<&str> = got.iter().map(|p| p.label.as_str()).collect();
    assert_eq!(labels, ["billing", "access", "shipping"]);
    for p in &got {
        assert!(p.confidence > 0.5 && p.confidence <= 1.0, "{p:?}");
        assert_eq!(p.alternatives.len(), 2);
        assert!(p.alternatives.iter().all(|(_, q)| *q <= p.confidence));
        assert_eq!(p.neighbours.len(), 3, "the nearest labelled tickets are the reasons");
        assert!(p.neighbours.windows(2).all(|w| w[0].similarity >= w[1].similarity));
    }
    assert_eq!(got[0].neighbours[0].label, "billing");

    // Stored and read back, the model answers the same.
    let stored = serde_json::to_string(&model).expect("serialises");
    let back: triage::Model = serde_json::from_str(&stored).expect("deserialises");
    let again = back.predict(&embedder, &new).expect("predicts");
    for (a, b) in got.iter().zip(&again) {
        assert_eq!(a.label, b.label);
        assert!((a.confidence - b.confidence).abs() < 1e-6);
    }
}

#[test]
fn too_little_history_trains_nothing_and_says_how_much_more_is_needed() {
    let embedder = embedder();
    let history = history();
    let few: Vec<Example<'_>> =
        history.iter().take(20).enumerate().map(|(i, (t, l))| Example { id: i as i64, text: t, label: l }).collect();
    match triage::train(&embedder, &few, 7) {
        Err(TrainError::TooLittle { have, need }) => {
            assert_eq!(have, 20);
            assert_eq!(need, triage::MIN_EXAMPLES - 20);
        }
        other => panic!("expected too little history, got {other:?}"),
    }
    let one_label: Vec<Example<'_>> = (0..40).map(|i| Example { id: i, text: "same", label: "only" }).collect();
    assert!(
        matches!(triage::train(&embedder, &one_label, 7), Err(TrainError::TooLittle { have: 40, need: 0 })),
        "a single label teaches nothing"
    );
}
