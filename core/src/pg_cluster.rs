//! A private PostgreSQL cluster for development (`atum up`) and tests.
//!
//! It is made with the machine's own `initdb`/`pg_ctl` (from PATH or Debian's
//! `/usr/lib/postgresql/<version>/bin`), lives in one directory, listens on loopback
//! only with a generated password, and is run as the `postgres` user when we are root
//! (PostgreSQL refuses to run as root). The port is chosen at each start, so two
//! checkouts never collide; a running cluster is found again through `postmaster.pid`.

use std::{
    fs,
    io::Write,
    net::TcpListener,
    os::unix::{
        fs::{OpenOptionsExt, PermissionsExt},
        process::CommandExt,
    },
    path::{Path, PathBuf},
    process::Command,
};

use rand::RngExt;

/// The role the cluster is created with.
pub const SUPERUSER: &str = "atum";
/// The unprivileged account PostgreSQL runs as when we are root.
const SYSTEM_USER: &str = "postgres";

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH or in /usr/lib/postgresql/*/bin; install them (Debian/Ubuntu: `apt-get install postgresql`, Fedora: `dnf install postgresql-server`) or set ATUM_DATABASE_URL to an existing database"
    )]
    NoBinaries,
    #[error(
        "running as root, but there is no `{SYSTEM_USER}` user to run PostgreSQL as; create it or run as an ordinary user"
    )]
    NoSystemUser,
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{command} failed: {output}")]
    Command { command: String, output: String },
    #[error("{0}")]
    Other(String),
}

/// Durable for `atum up` (your demo data survives a power cut); ephemeral for tests,
/// where fsync off makes creating a database per test cheap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    Durable,
    Ephemeral,
}

#[derive(Debug, Clone)]
pub struct Cluster {
    root: PathBuf,
    bin: PathBuf,
    run_as_postgres: bool,
}

impl Cluster {
    /// Opens the cluster under `root`, creating it (`initdb`) when it does not exist.
    pub fn open_or_init(root: &Path, durability: Durability) -> Result<Cluster, ClusterError> {
        let bin = locate_binaries()?;
        let run_as_postgres = nix::unistd::geteuid().is_root();
        let owner = if run_as_postgres {
            Some(nix::unistd::User::from_name(SYSTEM_USER).ok().flatten().ok_or(ClusterError::NoSystemUser)?)
        } else {
            None
        };
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ClusterError::Io { path, source }
        };
        fs::create_dir_all(root).map_err(io(root))?;
        let root = root.canonicalize().map_err(io(root))?;
        let cluster = Cluster { root, bin, run_as_postgres };
        if cluster.data_dir().join("PG_VERSION").exists() {
            return Ok(cluster);
        }

        // A half-made data directory (initdb interrupted) is useless: start over.
        if cluster.data_dir().exists() {
            fs::remove_dir_all(cluster.data_dir()).map_err(io(&cluster.data_dir()))?;
        }
        let password: String = rand::rng().sample_iter(rand::distr::Alphanumeric).take(32).map(char::from).collect();
        let pwfile = cluster.password_file();
        fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&pwfile)
            .and_then(|mut f| f.write_all(password.as_bytes()))
            .map_err(io(&pwfile))?;
        fs::set_permissions(&cluster.root, fs::Permissions::from_mode(0o700)).map_err(io(&cluster.root))?;
        if let Some(owner) = &owner {
            for path in [&cluster.root, &pwfile] {
                nix::unistd::chown(path, Some(owner.uid), Some(owner.gid))
                    .map_err(|e| io(path)(std::io::Error::from(e)))?;
            }
        }

        let mut initdb = cluster.command("initdb");
        initdb
            .arg("--pgdata")
            .arg(cluster.data_dir())
            .args(["--username", SUPERUSER, "--auth", "scram-sha-256", "--encoding", "UTF8", "--no-locale"])
            .arg(format!("--pwfile={}", pwfile.display()));
        if durability == Durability::Ephemeral {
            initdb.arg("--no-sync");
        }
        run(initdb, "initdb")?;

        let mut settings = String::from(
            "\n# Added by ATUM Desk: loopback TCP only, the port is given at start-up.\n\
             listen_addresses = '127.0.0.1'\n\
             unix_socket_directories = ''\n\
             max_connections = 200\n",
        );
        if durability == Durability::Ephemeral {
            settings.push_str("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n");
        }
        let conf = cluster.data_dir().join("postgresql.conf");
        fs::OpenOptions::new()
            .append(true)
            .open(&conf)
            .and_then(|mut f| f.write_all(settings.as_bytes()))
            .map_err(io(&conf))?;
        Ok(cluster)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    fn password_file(&self) -> PathBuf {
        self.root.join("password")
    }

    /// The port of the running postmaster, read from `postmaster.pid` (its fourth line),
    /// or `None` when the cluster is not running.
    pub fn running_port(&self) -> Option<u16> {
        let pidfile = fs::read_to_string(self.data_dir().join("postmaster.pid")).ok()?;
        let pid: i32 = pidfile.lines().next()?.trim().parse().ok()?;
        // A stale pid file after a crash names a process that is gone.
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).ok()?;
        pidfile.lines().nth(3)?.trim().parse().ok()
    }

    /// The postmaster's process id while it runs.
    pub fn postmaster_pid(&self) -> Option<i32> {
        self.running_port()?;
        fs::read_to_string(self.data_dir().join("postmaster.pid")).ok()?.lines().next()?.trim().parse().ok()
    }

    /// Starts the cluster on a free loopback port unless it already runs; returns the port.
    pub fn start(&self) -> Result<u16, ClusterError> {
        if let Some(port) = self.running_port() {
            return Ok(port);
        }
        self.start_on(free_port()?)
    }

    /// Starts the cluster on `port` (a restart where clients expect the old address).
    pub fn start_on(&self, port: u16) -> Result<u16, ClusterError> {
        let mut pg_ctl = self.command("pg_ctl");
        pg_ctl
            .arg("start")
            .arg("--pgdata")
            .arg(self.data_dir())
            .arg("--log")
            .arg(self.root.join("postgres.log"))
            .args(["--wait", "--timeout", "60", "--silent"])
            .arg(format!("--options=-p {port}"));
        run(pg_ctl, "pg_ctl start").map_err(|e| match e {
            ClusterError::Command { command, output } => ClusterError::Command {
                command,
                output: format!("{output} (see {})", self.root.join("postgres.log").display()),
            },
            other => other,
        })?;
        self.running_port()
            .ok_or_else(|| ClusterError::Other("PostgreSQL started but wrote no port to postmaster.pid".into()))
    }

    /// Stops the cluster (fast shutdown: connections are closed, data is safe).
    pub fn stop(&self) -> Result<bool, ClusterError> {
        if self.running_port().is_none() {
            return Ok(false);
        }
        let mut pg_ctl = self.command("pg_ctl");
        pg_ctl.arg("stop").arg("--pgdata").arg(self.data_dir()).args(["--mode", "fast", "--wait", "--silent"]);
        run(pg_ctl, "pg_ctl stop")?;
        Ok(true)
    }

    /// A connection URL for `dbname` on the running cluster.
    pub fn url(&self, port: u16, dbname: &str) -> Result<String, ClusterError> {
        let pwfile = self.password_file();
        let password = fs::read_to_string(&pwfile).map_err(|source| ClusterError::Io { path: pwfile, source })?;
        Ok(format!("postgres://{SUPERUSER}:{}@127.0.0.1:{port}/{dbname}", password.trim()))
    }

    /// A command for one of PostgreSQL's programs, run as `postgres` when we are root.
    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        let mut cmd = if self.run_as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", SYSTEM_USER, "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        // PostgreSQL programs refuse to start if the working directory is unreadable
        // by the postgres user (e.g. root's home), so run them from the cluster root.
        cmd.current_dir(&self.root).stdin(std::process::Stdio::null());
        // Its own process group, so a Ctrl-C meant for `atum up` does not also shut
        // the database down underneath the services that are still draining.
        cmd.process_group(0);
        cmd
    }
}

/// Finds the directory holding `initdb`, `pg_ctl` and their siblings: PATH first, then the newest
/// Debian-style `/usr/lib/postgresql/<version>/bin`.
pub fn locate_binaries() -> Result<PathBuf, ClusterError> {
    locate_in(std::env::var_os("PATH").as_deref(), Path::new("/usr/lib/postgresql"))
}

fn locate_in(path: Option<&std::ffi::OsStr>, versions_dir: &Path) -> Result<PathBuf, ClusterError> {
    let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(path) = path
        && let Some(dir) = std::env::split_paths(path).find(|d| has_both(d))
    {
        // PATH often holds symlinks (Debian's /usr/bin wrappers, /usr/local/bin
        // links); the real directory also has pg_dump and postgres of the same version.
        let real = dir.join("initdb").canonicalize().ok().and_then(|p| p.parent().map(Path::to_path_buf));
        return Ok(real.unwrap_or(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir(versions_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            has_both(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).ok_or(ClusterError::NoBinaries)
}

fn free_port() -> Result<u16, ClusterError> {
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .map_err(|source| ClusterError::Io { path: "127.0.0.1:0".into(), source })?;
    listener.local_addr().map(|a| a.port()).map_err(|source| ClusterError::Io { path: "127.0.0.1:0".into(), source })
}

fn run(mut cmd: Command, command: &str) -> Result<(), ClusterError> {
    let command = command.to_owned();
    let out = cmd.output().map_err(|e| ClusterError::Command { command: command.clone(), output: e.to_string() })?;
    if out.status.success() {
        return Ok(());
    }
    let mut output = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    if output.is_empty() {
        output = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    }
    Err(ClusterError::Command { command, output: output.lines().last().unwrap_or("no output").to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_bin(dir: &Path) {
        fs::create_dir_all(dir).unwrap();
        for program in ["initdb", "pg_ctl"] {
            fs::write(dir.join(program), "").unwrap();
        }
    }

    #[test]
    fn the_newest_debian_version_is_chosen_when_path_has_none() {
        let root = std::env::temp_dir().join(format!("atum-locate-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fake_bin(&root.join("lib/13/bin"));
        fake_bin(&root.join("lib/16/bin"));
        fs::create_dir_all(root.join("lib/17/bin")).unwrap(); // client only: no initdb
        let found = locate_in(Some(root.join("empty").as_os_str()), &root.join("lib")).unwrap();
        assert_eq!(found, root.join("lib/16/bin"));

        fake_bin(&root.join("onpath"));
        let found = locate_in(Some(root.join("onpath").as_os_str()), &root.join("lib")).unwrap();
        assert_eq!(found, root.join("onpath").canonicalize().unwrap());
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn without_server_binaries_the_error_says_what_to_install() {
        let nowhere = std::env::temp_dir().join("atum-no-such-dir");
        let err = locate_in(Some(nowhere.as_os_str()), &nowhere).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("apt-get install postgresql"), "{text}");
        assert!(text.contains("ATUM_DATABASE_URL"), "{text}");
    }
}
