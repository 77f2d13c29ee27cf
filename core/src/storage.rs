//! Where attachments' bytes live (the attachment store): one interface over the
//! back-ends, content-addressed per organisation (`{org}/{ab}/{sha256}`), so the same
//! bytes are stored once. Ground, like the mail transport: `attachments` decides what
//! goes in, the job worker's services carry it to the sweep.
//!
//! An upload is first *staged*: streamed into a file of its own under the store's
//! staging directory while it is hashed, with memory that does not grow with its size,
//! and cut off the moment it passes the limit. Only then is it *kept* under its hash
//! (a rename, after the bytes reached the disk), and only after that does a row make it
//! visible. Nothing here knows about rows: `attachments::upload` and the sweep hold the
//! per-file lock that keeps a keep and a removal of the same bytes apart.

use std::{
    io,
    path::{Path, PathBuf},
    pin::Pin,
    time::{Duration, SystemTime},
};

use bytes::Bytes;
use futures_util::{Stream, StreamExt as _};
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncSeekExt as _, AsyncWriteExt as _};

use crate::ids::OrgId;

/// How many leading bytes of an upload are kept for telling its type
/// (`attachments::kind::detect`).
pub const HEAD_BYTES: usize = 8192;

/// Bytes read from the store, a chunk at a time.
pub type ByteStream = Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>;

/// The attachment store of this process (`ATUM_ATTACHMENTS_DIR`).
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

/// A staged upload: its bytes on disk under a temporary name, their hash and size, and
/// their first bytes for detecting the type. Dropped without being kept, its file goes.
#[derive(Debug)]
pub struct Staged {
    path: PathBuf,
    pub sha256: [u8; 32],
    pub size: u64,
    pub head: Vec<u8>,
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Why a body could not be staged.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error("the file is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("the file is empty")]
    Empty,
    /// The connection ended or broke before the whole body came.
    #[error("the upload did not finish: {0}")]
    Body(String),
    #[error("the attachment store could not write the file: {0}")]
    Io(#[from] io::Error),
}

/// Bytes in the store, as the sweep finds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub org_id: OrgId,
    pub sha256: [u8; 32],
    pub modified: SystemTime,
}

/// The write buffer: large enough that a big upload is written in few calls, small
/// enough that two hundred uploads at once stay light.
const WRITE_BUFFER: usize = 256 * 1024;
const STAGING: &str = ".staging";

/// The variable naming the store.
pub const URL_VAR: &str = "ATUM_ATTACHMENTS_URL";

impl Store {
    /// The store `ATUM_ATTACHMENTS_URL` names: a directory on the local file system,
    /// as a path or a `file://` URL; unset, `var/attachments` under the working
    /// directory.
    pub fn from_env(env: &atum_runtime::config::Env<'_>) -> Result<Store, atum_runtime::config::ConfigError> {
        let Some(raw) = env.get(URL_VAR) else { return Ok(Store::local("var/attachments")) };
        let raw = raw.trim();
        let path = match raw.split_once("://") {
            None => raw,
            Some(("file", path)) if path.starts_with('/') => path,
            _ => {
                return Err(atum_runtime::config::ConfigError::Invalid {
                    var: URL_VAR.to_owned(),
                    reason: format!("{raw:?} is not a directory path or a file:///absolute/path URL"),
                });
            }
        };
        Ok(Store::local(path))
    }

    /// A store on the local file system under `root` (created when first written).
    pub fn local(root: impl Into<PathBuf>) -> Store {
        Store { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the bytes of `sha256` of `org_id` are (or would be) kept.
    pub fn path_of(&self, org_id: OrgId, sha256: &[u8; 32]) -> PathBuf {
        let hex = hex(sha256);
        self.root.join(org_id.to_string()).join(&hex[..2]).join(hex)
    }

    /// Streams `body` into a staged file, hashing as it goes; refuses it as soon as it
    /// passes `limit` bytes (the rest is never read).
    pub async fn stage<S, E>(&self, body: S, limit: u64) -> Result<Staged, StageError>
    where
        S: Stream<Item = Result<Bytes, E>>,
        E: std::fmt::Display,
    {
        let dir = self.root.join(STAGING);
        tokio::fs::create_dir_all(&dir).await?;
        let path = dir.join(format!("{:032x}", rand::random::<u128>()));
        let file = tokio::fs::File::create(&path).await?;
        // From here on the staged file is removed however this ends.
        let mut staged = Staged { path, sha256: [0; 32], size: 0, head: Vec::new() };
        let mut out = tokio::io::BufWriter::with_capacity(WRITE_BUFFER, file);
        let mut hash = Sha256::new();
        let mut body = std::pin::pin!(body);
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| StageError::Body(e.to_string()))?;
            staged.size += chunk.len() as u64;
            if staged.size > limit {
                return Err(StageError::TooLarge { limit });
            }
            if staged.head.len() < HEAD_BYTES {
                let take = (HEAD_BYTES - staged.head.len()).min(chunk.len());
                staged.head.extend_from_slice(&chunk[..take]);
            }
            hash.update(&chunk);
            out.write_all(&chunk).await?;
        }
        if staged.size == 0 {
            return Err(StageError::Empty);
        }
        out.flush().await?;
        // The bytes are on the disk before anything can name them.
        out.into_inner().sync_all().await?;
        staged.sha256 = hash.finalize().into();
        Ok(staged)
    }

    /// Keeps `staged` under its hash for `org_id`. Bytes already kept are left as they
    /// are (they are the same bytes); the staged copy goes. Call it holding the file's
    /// lock (`attachments::upload`).
    pub async fn keep(&self, mut staged: Staged, org_id: OrgId) -> io::Result<()> {
        let target = self.path_of(org_id, &staged.sha256);
        let from = std::mem::take(&mut staged.path);
        if tokio::fs::try_exists(&target).await? {
            tokio::fs::remove_file(&from).await?;
            return Ok(());
        }
        let Some(dir) = target.parent() else {
            return Err(io::Error::other("a kept file has no directory"));
        };
        tokio::fs::create_dir_all(dir).await?;
        if let Err(e) = tokio::fs::rename(&from, &target).await {
            let _ = tokio::fs::remove_file(&from).await;
            return Err(e);
        }
        // The new name reaches the disk too: a crash cannot lose a file a row names.
        tokio::fs::File::open(dir).await?.sync_all().await
    }

    /// `len` bytes from `offset` of the kept bytes (all of them when `len` is `None`).
    pub async fn read(
        &self,
        org_id: OrgId,
        sha256: &[u8; 32],
        offset: u64,
        len: Option<u64>,
    ) -> io::Result<ByteStream> {
        use tokio::io::AsyncReadExt as _;
        let mut file = tokio::fs::File::open(self.path_of(org_id, sha256)).await?;
        if offset > 0 {
            file.seek(io::SeekFrom::Start(offset)).await?;
        }
        let reader = file.take(len.unwrap_or(u64::MAX));
        Ok(Box::pin(tokio_util::io::ReaderStream::with_capacity(reader, 64 * 1024)))
    }

    /// Whether the bytes of `sha256` are kept for `org_id`.
    pub async fn contains(&self, org_id: OrgId, sha256: &[u8; 32]) -> io::Result<bool> {
        tokio::fs::try_exists(self.path_of(org_id, sha256)).await
    }

    /// Removes kept bytes (gone already is fine). Call it holding the file's lock.
    pub async fn remove(&self, org_id: OrgId, sha256: &[u8; 32]) -> io::Result<()> {
        match tokio::fs::remove_file(self.path_of(org_id, sha256)).await {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Every kept file, for the sweep. Names that are not the store's are skipped.
    pub async fn list(&self) -> io::Result<Vec<Stored>> {
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || list_blocking(&root)).await.map_err(io::Error::other)?
    }

    /// Removes staged files older than `age`: uploads that a crash or a killed process
    /// left behind (a live upload writes its file as it goes).
    pub async fn sweep_staging(&self, age: Duration) -> io::Result<usize> {
        let dir = self.root.join(STAGING);
        let mut removed = 0;
        let mut entries = match tokio::fs::read_dir(&dir).await {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            other => other?,
        };
        while let Some(entry) = entries.next_entry().await? {
            let modified = entry.metadata().await?.modified()?;
            if modified.elapsed().is_ok_and(|e| e >= age) {
                tokio::fs::remove_file(entry.path()).await?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

fn list_blocking(root: &Path) -> io::Result<Vec<Stored>> {
    let mut found = Vec::new();
    let orgs = match std::fs::read_dir(root) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(found),
        other => other?,
    };
    for org in orgs {
        let org = org?;
        let Some(org_id) = org.file_name().to_str().and_then(|n| n.parse::<i64>().ok()) else { continue };
        for shard in std::fs::read_dir(org.path())? {
            for file in std::fs::read_dir(shard?.path())? {
                let file = file?;
                let Some(sha256) = file.file_name().to_str().and_then(unhex) else { continue };
                found.push(Stored { org_id: OrgId(org_id), sha256, modified: file.metadata()?.modified()? });
            }
        }
    }
    Ok(found)
}

/// Lowercase hex of a hash, as file names and ETags carry it.
pub fn hex(sha256: &[u8; 32]) -> String {
    data_encoding::HEXLOWER.encode(sha256)
}

fn unhex(s: &str) -> Option<[u8; 32]> {
    data_encoding::HEXLOWER.decode(s.as_bytes()).ok()?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(chunks: &[&'static [u8]]) -> impl Stream<Item = Result<Bytes, std::convert::Infallible>> {
        futures_util::stream::iter(chunks.iter().map(|c| Ok(Bytes::from_static(c))).collect::<Vec<_>>())
    }

    async fn read_all(store: &Store, org: OrgId, sha: &[u8; 32], offset: u64, len: Option<u64>) -> Vec<u8> {
        let mut out = Vec::new();
        let mut s = store.read(org, sha, offset, len).await.unwrap();
        while let Some(c) = s.next().await {
            out.extend_from_slice(&c.unwrap());
        }
        out
    }

    #[tokio::test]
    async fn the_same_bytes_are_kept_once_under_their_hash() {
        let dir = tempdir();
        let store = Store::local(&dir);
        let a = store.stage(body(&[b"hello ", b"world"]), 11).await.unwrap();
        assert_eq!(a.size, 11);
        assert_eq!(hex(&a.sha256), "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
        let sha = a.sha256;
        store.keep(a, OrgId(7)).await.unwrap();
        let b = store.stage(body(&[b"hello world"]), 100).await.unwrap();
        store.keep(b, OrgId(7)).await.unwrap();
        let kept = store.list().await.unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!((kept[0].org_id, kept[0].sha256), (OrgId(7), sha));
        assert_eq!(read_all(&store, OrgId(7), &sha, 6, Some(3)).await, b"wor");
        assert_eq!(read_all(&store, OrgId(7), &sha, 0, None).await, b"hello world");
        // Nothing is left in staging.
        assert_eq!(std::fs::read_dir(dir.join(STAGING)).unwrap().count(), 0);
        store.remove(OrgId(7), &sha).await.unwrap();
        assert!(!store.contains(OrgId(7), &sha).await.unwrap());
        store.remove(OrgId(7), &sha).await.unwrap();
    }

    #[tokio::test]
    async fn a_body_past_the_limit_is_cut_off_and_leaves_nothing() {
        let dir = tempdir();
        let store = Store::local(&dir);
        let at_limit = store.stage(body(&[b"12345"]), 5).await.unwrap();
        assert_eq!(at_limit.size, 5);
        drop(at_limit);
        let err = store.stage(body(&[b"123", b"456"]), 5).await.unwrap_err();
        assert!(matches!(err, StageError::TooLarge { limit: 5 }), "{err}");
        assert!(matches!(store.stage(body(&[]), 5).await.unwrap_err(), StageError::Empty));
        let broken = futures_util::stream::iter(vec![Ok(Bytes::from_static(b"12")), Err("connection reset")]);
        assert!(matches!(store.stage(broken, 5).await.unwrap_err(), StageError::Body(_)));
        assert_eq!(std::fs::read_dir(dir.join(STAGING)).unwrap().count(), 0);
    }

    fn tempdir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("atum-store-{:016x}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
