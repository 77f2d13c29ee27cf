//! Test harness: real PostgreSQL for every test, with no set-up.
//!
//! When `ATUM_TEST_DATABASE_URL` is set, it names a server (any database on it) where
//! the harness may create and drop databases. Otherwise the harness starts one private
//! cluster under `target/atum-test-pg`, shared by every test binary of the run: a lock
//! file serialises starting it and building the template, and each process then
//! reuses it. The cluster keeps running after the tests so the next run starts in
//! milliseconds; `atum db stop --root target/atum-test-pg` stops it (CI does).
//!
//! The schema is migrated once into a template database named after a hash of the
//! migrations; every test gets its own database created from it and dropped when the
//! [`TestDb`] is dropped.

use std::{
    fs::File,
    path::PathBuf,
    sync::{
        OnceLock,
        atomic::{AtomicU32, Ordering},
    },
};

use atum_core::pg_cluster::{Cluster, Durability};
use atum_runtime::config::{DatabaseConfig, parse_database_url};
use sha2::{Digest, Sha256};
use tokio_postgres::NoTls;

pub mod eventually;
pub mod fake_llm;
pub mod fixtures;
pub mod process;
pub mod service;
pub mod smtp;

/// Where the server is, for creating and dropping databases.
#[derive(Debug)]
struct Server {
    /// The maintenance URL, pointing at the `postgres` database.
    admin_url: String,
    template: String,
}

/// A database of its own for one test, migrated to the current schema.
pub struct TestDb {
    pub name: String,
    pub url: String,
    pub config: DatabaseConfig,
    pub pool: deadpool_postgres::Pool,
}

impl TestDb {
    /// A fresh database at the current schema version.
    pub async fn migrated() -> TestDb {
        let server = server();
        Self::create(server, Some(&server.template)).await
    }

    /// A fresh, empty database (no migrations applied).
    pub async fn empty() -> TestDb {
        Self::create(server(), None).await
    }

    async fn create(server: &Server, template: Option<&str>) -> TestDb {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let name = format!("atum_test_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
        let admin = connect(&server.admin_url).await;
        let sql = match template {
            Some(t) => format!("CREATE DATABASE {name} TEMPLATE {t}"),
            None => format!("CREATE DATABASE {name}"),
        };
        admin.batch_execute(&sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        let url = with_dbname(&server.admin_url, &name);
        let mut config = DatabaseConfig {
            pg: parse_database_url("ATUM_TEST_DATABASE_URL", &url).expect("valid test database URL"),
            pool_size: 8,
        };
        config.pg.application_name("atum-test");
        let pool = atum_runtime::db::pool(&config).expect("test pool");
        TestDb { name, url, config, pool }
    }

    /// A plain client on this database.
    pub async fn client(&self) -> tokio_postgres::Client {
        connect(&self.url).await
    }

    /// Drops the database now, cutting every connection to it: the way to make the
    /// database "unreachable" for a running binary.
    pub async fn drop_now(&self) {
        let admin = connect(&server().admin_url).await;
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
            .await
            .expect("drop the test database");
    }

    /// The schema as `pg_dump --schema-only` prints it, for comparisons.
    pub fn schema_dump(&self) -> String {
        let bin = atum_core::pg_cluster::locate_binaries().expect("PostgreSQL binaries for pg_dump");
        let out = std::process::Command::new(bin.join("pg_dump"))
            .args(["--schema-only", "--no-owner", "--no-privileges", "--dbname"])
            .arg(&self.url)
            .output()
            .expect("pg_dump runs");
        assert!(out.status.success(), "pg_dump failed: {}", String::from_utf8_lossy(&out.stderr));
        let dump = String::from_utf8(out.stdout).expect("pg_dump prints UTF-8");
        // `\restrict <random key>` (pg_dump since 15.14) differs on every run.
        dump.lines()
            .filter(|l| !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        self.pool.close();
        let admin_url = server().admin_url.clone();
        let name = self.name.clone();
        // Drop runs inside the test's runtime, which cannot be blocked on; use a
        // thread with its own.
        let _ = std::thread::spawn(move || {
            block_on(async move {
                let admin = connect(&admin_url).await;
                let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
            })
        })
        .join();
    }
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    // Started on a thread of its own: callers are inside an async runtime, and this
    // blocks on a file lock and on child processes.
    SERVER.get_or_init(|| std::thread::spawn(start_server).join().expect("test database server starts"))
}

fn start_server() -> Server {
    let root = test_root();
    std::fs::create_dir_all(&root).expect("create the test cluster directory");
    let lock = File::create(root.with_extension("lock")).expect("create the test cluster lock file");
    lock.lock().expect("lock the test cluster");

    let shared = std::env::var("ATUM_TEST_DATABASE_URL").ok().filter(|s| !s.is_empty());
    let private = shared.is_none();
    let admin_url = match shared {
        Some(url) => with_dbname(&url, "postgres"),
        None => {
            let cluster = Cluster::open_or_init(&root, Durability::Ephemeral).unwrap_or_else(|e| panic!("{e}"));
            let port = cluster.start().unwrap_or_else(|e| panic!("{e}"));
            cluster.url(port, "postgres").expect("test cluster URL")
        }
    };
    let template = format!("atum_template_{}", migrations_hash());
    block_on(async {
        // Only on our own cluster: on a shared server a process id means nothing.
        if private {
            drop_orphans(&admin_url).await;
        }
        ensure_template(&admin_url, &template).await;
    });
    drop(lock);
    Server { admin_url, template }
}

/// Drops the databases of test processes that died without cleaning up (killed, or
/// aborted), recognised by the process id in their name.
async fn drop_orphans(admin_url: &str) {
    let admin = connect(admin_url).await;
    let names: Vec<String> = admin
        .query("SELECT datname FROM pg_database WHERE datname LIKE 'atum\\_test\\_%'", &[])
        .await
        .map(|rows| rows.iter().map(|r| r.get(0)).collect())
        .unwrap_or_default();
    for name in names {
        let pid = name.split('_').nth(2).and_then(|p| p.parse::<i32>().ok());
        if pid.is_some_and(|pid| !process::is_alive(pid)) {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
        }
    }
}

/// Creates the migrated template unless a previous run already did. Built under a
/// temporary name and renamed, so an interrupted build is never used.
async fn ensure_template(admin_url: &str, template: &str) {
    let admin = connect(admin_url).await;
    let exists = admin
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate", &[&template])
        .await
        .expect("query pg_database")
        .is_some();
    if exists {
        return;
    }
    let building = format!("{template}_building");
    // One statement per call: DROP/CREATE DATABASE refuse to run in a transaction,
    // which a multi-statement simple query implicitly is.
    for sql in [
        format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"),
        format!("DROP DATABASE IF EXISTS {template} WITH (FORCE)"),
        format!("CREATE DATABASE {building}"),
    ] {
        admin.batch_execute(&sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    {
        let mut client = connect(&with_dbname(admin_url, &building)).await;
        atum_core::schema::migrate_up(&mut client, None)
            .await
            .unwrap_or_else(|e| panic!("migrating the template: {e}"));
    }
    for sql in [
        format!("ALTER DATABASE {building} RENAME TO {template}"),
        format!("ALTER DATABASE {template} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"),
    ] {
        admin.batch_execute(&sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

/// Changes whenever a migration changes, so an edited migration gets a new template.
fn migrations_hash() -> String {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../sql");
    let mut files: Vec<PathBuf> = ["migrations", "down"]
        .iter()
        .flat_map(|sub| std::fs::read_dir(dir.join(sub)).expect("read sql/").flatten().map(|e| e.path()))
        .collect();
    files.sort();
    let mut hasher = Sha256::new();
    for f in files {
        hasher.update(f.file_name().unwrap_or_default().as_encoded_bytes());
        hasher.update(std::fs::read(&f).expect("read a migration"));
    }
    hasher.finalize().iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// `target/atum-test-pg` of this workspace, or `ATUM_TEST_PG_DIR`.
pub fn test_root() -> PathBuf {
    match std::env::var_os("ATUM_TEST_PG_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/atum-test-pg"),
    }
}

fn with_dbname(url: &str, dbname: &str) -> String {
    match url.rsplit_once('/') {
        Some((base, tail)) if base.contains("://") && !tail.contains('@') => {
            let query = tail.split_once('?').map(|(_, q)| format!("?{q}")).unwrap_or_default();
            format!("{base}/{dbname}{query}")
        }
        _ => format!("{}/{dbname}", url.trim_end_matches('/')),
    }
}

async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, conn) =
        tokio_postgres::connect(url, NoTls).await.unwrap_or_else(|e| panic!("connecting to the test server: {e}"));
    tokio::spawn(async move {
        let _ = conn.await;
    });
    client
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime").block_on(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_is_replaced_in_a_url() {
        assert_eq!(with_dbname("postgres://a:b@h:1/x", "y"), "postgres://a:b@h:1/y");
        assert_eq!(with_dbname("postgres://a:b@h:1/x?sslmode=disable", "y"), "postgres://a:b@h:1/y?sslmode=disable");
        assert_eq!(with_dbname("postgres://a:b@h:1", "y"), "postgres://a:b@h:1/y");
    }
}
