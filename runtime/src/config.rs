//! Typed configuration from environment variables.
//!
//! Every binary reads its settings through [`Env`], so a missing or malformed value is
//! reported the same way everywhere: the error names the variable and says what was
//! expected. Secrets (the database password) are never part of an error or a `Debug`.

use std::{fmt, net::SocketAddr, str::FromStr, time::Duration};

use tracing_subscriber::EnvFilter;

pub const DATABASE_URL: &str = "ATUM_DATABASE_URL";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{var} is not set: {hint}")]
    Missing { var: String, hint: &'static str },
    #[error("{var} is invalid: {reason}")]
    Invalid { var: String, reason: String },
}

/// Reads variables from a lookup function: the process environment in production, a
/// map in tests (no global state to race on).
pub struct Env<'a> {
    lookup: Box<Lookup<'a>>,
}

type Lookup<'a> = dyn Fn(&str) -> Option<String> + 'a;

impl Env<'static> {
    pub fn process() -> Self {
        Self::from_fn(|var| std::env::var(var).ok())
    }
}

impl<'a> Env<'a> {
    pub fn from_fn(lookup: impl Fn(&str) -> Option<String> + 'a) -> Self {
        Env { lookup: Box::new(lookup) }
    }

    /// The value, or `None` when unset or blank.
    pub fn get(&self, var: &str) -> Option<String> {
        (self.lookup)(var).filter(|v| !v.trim().is_empty())
    }

    pub fn required(&self, var: &str, hint: &'static str) -> Result<String, ConfigError> {
        self.get(var).ok_or_else(|| ConfigError::Missing { var: var.to_owned(), hint })
    }

    /// Parses the variable when set, else returns `default`.
    pub fn parse_or<T: FromStr>(&self, var: &str, default: T, expected: &str) -> Result<T, ConfigError> {
        match self.get(var) {
            None => Ok(default),
            Some(raw) => raw.trim().parse().map_err(|_| ConfigError::Invalid {
                var: var.to_owned(),
                // The value is not repeated: a secret pasted into the wrong variable
                // must not reach a log.
                reason: format!("expected {expected}"),
            }),
        }
    }

    /// A directory the variable names, when set; one that does not exist is refused
    /// at start-up rather than at the first request that needs it.
    pub fn directory(&self, var: &str) -> Result<Option<std::path::PathBuf>, ConfigError> {
        let Some(raw) = self.get(var) else { return Ok(None) };
        let dir = std::path::PathBuf::from(raw.trim());
        if !dir.is_dir() {
            return Err(ConfigError::Invalid { var: var.to_owned(), reason: "expected an existing directory".into() });
        }
        Ok(Some(dir))
    }

    pub fn seconds_or(&self, var: &str, default: u64) -> Result<Duration, ConfigError> {
        let secs: u64 = self.parse_or(var, default, "a whole number of seconds")?;
        if secs == 0 {
            return Err(ConfigError::Invalid { var: var.to_owned(), reason: "must be at least 1 second".into() });
        }
        Ok(Duration::from_secs(secs))
    }
}

/// Where the database is and how many connections to keep.
#[derive(Clone)]
pub struct DatabaseConfig {
    pub pg: tokio_postgres::Config,
    pub pool_size: usize,
}

impl DatabaseConfig {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let url = env.required(
            DATABASE_URL,
            "set it to a PostgreSQL URL such as postgres://atum:secret@127.0.0.1:5432/atum, or use `atum up`",
        )?;
        let pool_size = env.parse_or("ATUM_DATABASE_POOL_SIZE", 10usize, "a number of connections")?;
        if !(1..=500).contains(&pool_size) {
            return Err(ConfigError::Invalid {
                var: "ATUM_DATABASE_POOL_SIZE".into(),
                reason: "must be between 1 and 500".into(),
            });
        }
        Ok(DatabaseConfig { pg: parse_database_url(DATABASE_URL, &url)?, pool_size })
    }
}

/// The sentence-embedding model's directory (`ATUM_EMBED_MODEL_DIR`), read the same
/// way by every binary that can use it.
pub fn embed_model_dir(env: &Env<'_>) -> Result<Option<std::path::PathBuf>, ConfigError> {
    env.directory("ATUM_EMBED_MODEL_DIR")
}

/// Parses a libpq-style URL or key=value string. The error never echoes the input,
/// which may hold a password.
pub fn parse_database_url(var: &str, url: &str) -> Result<tokio_postgres::Config, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid { var: var.to_owned(), reason };
    let mut pg = tokio_postgres::Config::from_str(url.trim())
        .map_err(|e| invalid(format!("not a PostgreSQL connection string ({e})")))?;
    if pg.get_hosts().is_empty() {
        return Err(invalid("names no host".into()));
    }
    if pg.get_dbname().is_none() {
        return Err(invalid("names no database".into()));
    }
    if pg.get_connect_timeout().is_none() {
        pg.connect_timeout(Duration::from_secs(5));
    }
    if pg.get_application_name().is_none() {
        pg.application_name("atum");
    }
    Ok(pg)
}

/// Where `host:port/dbname` points, for messages; never includes credentials.
pub fn describe(pg: &tokio_postgres::Config) -> String {
    let host = match pg.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "?".into(),
    };
    let port = pg.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}/{}", pg.get_dbname().unwrap_or("?"))
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("database", &describe(&self.pg))
            .field("pool_size", &self.pool_size)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Clone)]
pub struct LogConfig {
    pub format: LogFormat,
    /// An `EnvFilter` directive such as `info,atum_core=debug`; validated at load time.
    pub filter: String,
}

impl LogConfig {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let format = match env.get("ATUM_LOG_FORMAT").as_deref().map(str::trim) {
            None | Some("human") => LogFormat::Human,
            Some("json") => LogFormat::Json,
            Some(_) => {
                return Err(ConfigError::Invalid {
                    var: "ATUM_LOG_FORMAT".into(),
                    reason: "expected \"human\" or \"json\"".into(),
                });
            }
        };
        // actix-server announces every worker thread at info; that is noise in our logs.
        let filter = env.get("ATUM_LOG").unwrap_or_else(|| "info,actix_server=warn".into());
        EnvFilter::try_new(&filter)
            .map_err(|e| ConfigError::Invalid { var: "ATUM_LOG".into(), reason: e.to_string() })?;
        Ok(LogConfig { format, filter })
    }
}

/// The binaries of the suite: their names, the variable holding their listen address
/// and the channel they LISTEN on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    Api,
    JobWorker,
    SlaWorker,
    RagWorker,
    MetricsWorker,
}

impl Service {
    pub const ALL: [Service; 5] =
        [Service::Api, Service::JobWorker, Service::SlaWorker, Service::RagWorker, Service::MetricsWorker];

    /// The binary's name, also its `service` label in metrics and logs.
    pub fn binary(self) -> &'static str {
        match self {
            Service::Api => "atum-api",
            Service::JobWorker => "atum-job-worker",
            Service::SlaWorker => "atum-sla-worker",
            Service::RagWorker => "atum-rag-worker",
            Service::MetricsWorker => "atum-metrics-worker",
        }
    }

    pub fn listen_var(self) -> &'static str {
        match self {
            Service::Api => "ATUM_API_LISTEN",
            Service::JobWorker => "ATUM_JOB_WORKER_LISTEN",
            Service::SlaWorker => "ATUM_SLA_WORKER_LISTEN",
            Service::RagWorker => "ATUM_RAG_WORKER_LISTEN",
            Service::MetricsWorker => "ATUM_METRICS_WORKER_LISTEN",
        }
    }

    pub fn default_listen(self) -> SocketAddr {
        let port = match self {
            Service::Api => 8080,
            Service::JobWorker => 9101,
            Service::SlaWorker => 9102,
            Service::RagWorker => 9103,
            Service::MetricsWorker => 9104,
        };
        SocketAddr::from(([127, 0, 0, 1], port))
    }
}

/// Everything a long-running binary needs from its environment.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    pub service: Service,
    pub database: DatabaseConfig,
    pub log: LogConfig,
    /// The API's HTTP listener; for workers, the small listener serving `/metrics`.
    pub listen: SocketAddr,
    /// How long in-flight work may take to finish after SIGTERM.
    pub shutdown_timeout: Duration,
    /// How often the main loop checks the database; each success counts as progress for
    /// the systemd watchdog.
    pub tick_interval: Duration,
    /// How often an idle binary logs that it is alive.
    pub heartbeat_interval: Duration,
}

impl ServiceConfig {
    pub fn from_env(service: Service, env: &Env<'_>) -> Result<Self, ConfigError> {
        Ok(ServiceConfig {
            service,
            database: DatabaseConfig::from_env(env)?,
            log: LogConfig::from_env(env)?,
            listen: env.parse_or(
                service.listen_var(),
                service.default_listen(),
                "an address such as 127.0.0.1:8080",
            )?,
            shutdown_timeout: env.seconds_or("ATUM_SHUTDOWN_TIMEOUT_SECS", 30)?,
            tick_interval: env.seconds_or("ATUM_TICK_SECS", 5)?,
            heartbeat_interval: env.seconds_or("ATUM_HEARTBEAT_SECS", 60)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(vars: &[(&str, &str)]) -> Env<'static> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Env::from_fn(move |k| map.get(k).cloned())
    }

    const URL: (&str, &str) = (DATABASE_URL, "postgres://atum:s3cret@127.0.0.1:5432/atum");

    #[test]
    fn a_complete_environment_loads_with_defaults() {
        let cfg = ServiceConfig::from_env(Service::JobWorker, &env(&[URL])).unwrap();
        assert_eq!(cfg.listen, "127.0.0.1:9101".parse().unwrap());
        assert_eq!(cfg.database.pool_size, 10);
        assert_eq!(cfg.database.pg.get_dbname(), Some("atum"));
        assert_eq!(cfg.log.format, LogFormat::Human);
        assert_eq!(cfg.shutdown_timeout, Duration::from_secs(30));
    }

    #[test]
    fn a_missing_database_url_names_the_variable() {
        let err = ServiceConfig::from_env(Service::Api, &env(&[])).unwrap_err();
        assert!(matches!(&err, ConfigError::Missing { var, .. } if var == DATABASE_URL));
        assert!(err.to_string().starts_with("ATUM_DATABASE_URL is not set"), "{err}");
    }

    #[test]
    fn a_malformed_database_url_names_the_variable_and_hides_the_password() {
        let err =
            ServiceConfig::from_env(Service::Api, &env(&[(DATABASE_URL, "postgres://u:hunter2@[::1/db")])).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("ATUM_DATABASE_URL is invalid"), "{text}");
        assert!(!text.contains("hunter2"), "the password leaked: {text}");
    }

    #[test]
    fn a_database_url_without_a_database_name_is_refused() {
        let err = DatabaseConfig::from_env(&env(&[(DATABASE_URL, "host=127.0.0.1 user=atum")])).unwrap_err();
        assert_eq!(err, ConfigError::Invalid { var: DATABASE_URL.into(), reason: "names no database".into() });
    }

    #[test]
    fn debug_output_of_the_database_config_omits_the_password() {
        let cfg = DatabaseConfig::from_env(&env(&[URL])).unwrap();
        let shown = format!("{cfg:?}");
        assert!(shown.contains("127.0.0.1:5432/atum"), "{shown}");
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[test]
    fn malformed_numbers_addresses_and_formats_name_their_variable() {
        for (var, value) in [
            ("ATUM_DATABASE_POOL_SIZE", "many"),
            ("ATUM_DATABASE_POOL_SIZE", "0"),
            ("ATUM_SLA_WORKER_LISTEN", "localhost"),
            ("ATUM_LOG_FORMAT", "xml"),
            ("ATUM_LOG", "info,[[["),
            ("ATUM_SHUTDOWN_TIMEOUT_SECS", "0"),
            ("ATUM_TICK_SECS", "-1"),
        ] {
            let err = ServiceConfig::from_env(Service::SlaWorker, &env(&[URL, (var, value)])).unwrap_err();
            assert!(matches!(&err, ConfigError::Invalid { var: v, .. } if v == var), "{var}={value}: {err}");
        }
    }

    #[test]
    fn every_service_has_its_own_listen_variable_and_port() {
        let mut seen = std::collections::HashSet::new();
        for s in Service::ALL {
            assert!(seen.insert(s.listen_var()));
            assert!(seen.insert(s.binary()));
        }
        let ports: std::collections::HashSet<_> = Service::ALL.iter().map(|s| s.default_listen().port()).collect();
        assert_eq!(ports.len(), Service::ALL.len());
    }
}
