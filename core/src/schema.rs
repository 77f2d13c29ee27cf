//! Schema migrations: up with refinery, down with our reviewed scripts.
//!
//! Up migrations are `sql/migrations/V{n}__{name}.sql`, embedded at build time; each
//! has a down script `sql/down/V{n}__{name}.down.sql` (the build fails without one).
//! Rolling back runs the down scripts newest first, each in its own transaction
//! together with removing the migration from refinery's history, so an interrupted
//! rollback leaves the schema at a well-defined version. Both directions hold an
//! advisory lock so two operators cannot migrate the same database at once.
//!
//! Only `atum migrate` and `atum up` change the schema; every long-running binary
//! calls [`ensure_current`] at start-up and refuses to run against another version.

use tokio_postgres::Client;

mod embedded {
    refinery::embed_migrations!("../sql/migrations");
}
include!(concat!(env!("OUT_DIR"), "/down_scripts.rs"));

/// refinery's history table (its default name).
const HISTORY: &str = "refinery_schema_history";
/// Arbitrary constant shared by every migrating process: "atum" in ASCII.
const MIGRATION_LOCK: i64 = 0x6174_756d;

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error(
        "the database schema is at version {current}, this build of ATUM Desk needs version {expected}; run `atum migrate`"
    )]
    Behind { current: u32, expected: u32 },
    #[error(
        "the database schema is at version {current}, newer than this build of ATUM Desk knows ({expected}); run the matching release or `atum migrate down --to {expected}` from the newer one"
    )]
    Ahead { current: u32, expected: u32 },
    #[error("unknown migration version {0}: versions in this build are {known}", known = known_versions())]
    UnknownVersion(u32),
    #[error("the schema is at version {current}; migrate down needs a lower version than that")]
    NothingToRollBack { current: u32 },
    #[error("migration V{version} is applied but this build has no down script for it")]
    NoDownScript { version: u32 },
    #[error("migration failed: {}", atum_runtime::db::root_cause(.0))]
    Refinery(#[from] refinery::Error),
    #[error("rolling back V{version}__{name} failed: {reason}")]
    DownFailed { version: u32, name: String, reason: String },
    #[error(transparent)]
    Db(#[from] tokio_postgres::Error),
}

/// One migration as this build knows it, and whether the database has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    pub version: u32,
    pub name: String,
    pub applied_on: Option<String>,
}

fn runner() -> refinery::Runner {
    // Divergent or missing history means someone edited an applied migration: stop.
    embedded::migrations::runner().set_abort_divergent(true).set_abort_missing(true)
}

/// The version this build was made for: the newest embedded migration.
pub fn expected_version() -> u32 {
    DOWN_SCRIPTS.last().map(|(v, _, _)| *v).unwrap_or(0)
}

fn known_versions() -> String {
    let mut v: Vec<String> = vec!["0".into()];
    v.extend(DOWN_SCRIPTS.iter().map(|(n, _, _)| n.to_string()));
    v.join(", ")
}

/// The newest applied version, or 0 for a database refinery has never touched.
pub async fn current_version(client: &Client) -> Result<u32, SchemaError> {
    let exists: bool = client.query_one("SELECT to_regclass($1) IS NOT NULL", &[&HISTORY]).await?.get(0);
    if !exists {
        return Ok(0);
    }
    let row = client.query_one(&format!("SELECT coalesce(max(version), 0) FROM {HISTORY}"), &[]).await?;
    Ok(row.get::<_, i32>(0) as u32)
}

/// Refuses to run against a schema other than the one this build expects.
pub async fn ensure_current(client: &Client) -> Result<u32, SchemaError> {
    let (current, expected) = (current_version(client).await?, expected_version());
    match current.cmp(&expected) {
        std::cmp::Ordering::Less => Err(SchemaError::Behind { current, expected }),
        std::cmp::Ordering::Greater => Err(SchemaError::Ahead { current, expected }),
        std::cmp::Ordering::Equal => Ok(current),
    }
}

/// [`ensure_current`] in the shape the service runtime takes ([`atum_runtime::SchemaCheck`]):
/// every binary passes it to `atum_runtime::launch`.
pub fn check(
    client: &Client,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<u32, atum_runtime::BoxError>> + Send + '_>> {
    Box::pin(async move { Ok(ensure_current(client).await?) })
}

/// Applies pending migrations up to `target` (all when `None`); returns what it applied.
pub async fn migrate_up(client: &mut Client, target: Option<u32>) -> Result<Vec<MigrationStatus>, SchemaError> {
    if let Some(t) = target {
        check_known(t)?;
    }
    lock(client).await?;
    let result = async {
        let runner = match target {
            Some(t) => runner().set_target(refinery::Target::Version(t)),
            None => runner(),
        };
        let report = runner.run_async(client).await?;
        Ok(report
            .applied_migrations()
            .iter()
            .map(|m| MigrationStatus { version: m.version(), name: m.name().to_owned(), applied_on: None })
            .collect())
    }
    .await;
    unlock(client).await?;
    result
}

/// Rolls back every applied migration newer than `to`, newest first; returns what it
/// reverted. `to` must be 0 or a version this build knows.
pub async fn migrate_down(client: &mut Client, to: u32) -> Result<Vec<MigrationStatus>, SchemaError> {
    check_known(to)?;
    lock(client).await?;
    let result = roll_back(client, to).await;
    unlock(client).await?;
    result
}

async fn roll_back(client: &mut Client, to: u32) -> Result<Vec<MigrationStatus>, SchemaError> {
    let current = current_version(client).await?;
    if to >= current {
        return Err(SchemaError::NothingToRollBack { current });
    }
    let applied: Vec<u32> = client
        .query(&format!("SELECT version FROM {HISTORY} WHERE version > $1 ORDER BY version DESC"), &[&(to as i32)])
        .await?
        .iter()
        .map(|r| r.get::<_, i32>(0) as u32)
        .collect();
    // Check every script exists before touching anything.
    let scripts = applied
        .iter()
        .map(|v| DOWN_SCRIPTS.iter().find(|(n, _, _)| n == v).ok_or(SchemaError::NoDownScript { version: *v }))
        .collect::<Result<Vec<_>, _>>()?;

    let mut reverted = Vec::new();
    for (version, name, sql) in scripts {
        let failed = |e: tokio_postgres::Error| SchemaError::DownFailed {
            version: *version,
            name: (*name).to_owned(),
            reason: atum_runtime::db::root_cause(&e),
        };
        let tx = client.transaction().await?;
        tx.batch_execute(sql).await.map_err(failed)?;
        tx.execute(&format!("DELETE FROM {HISTORY} WHERE version = $1"), &[&(*version as i32)])
            .await
            .map_err(failed)?;
        tx.commit().await?;
        tracing::info!(migration.version = version, migration.name = name, "rolled back");
        reverted.push(MigrationStatus { version: *version, name: (*name).to_owned(), applied_on: None });
    }
    Ok(reverted)
}

/// Every migration this build knows, with when it was applied.
pub async fn status(client: &Client) -> Result<Vec<MigrationStatus>, SchemaError> {
    let applied: Vec<(u32, String)> = if current_version(client).await? == 0 {
        Vec::new()
    } else {
        client
            .query(&format!("SELECT version, coalesce(applied_on, '') FROM {HISTORY}"), &[])
            .await?
            .iter()
            .map(|r| (r.get::<_, i32>(0) as u32, r.get(1)))
            .collect()
    };
    Ok(DOWN_SCRIPTS
        .iter()
        .map(|(version, name, _)| MigrationStatus {
            version: *version,
            name: (*name).to_owned(),
            applied_on: applied.iter().find(|(v, _)| v == version).map(|(_, on)| on.clone()),
        })
        .collect())
}

fn check_known(version: u32) -> Result<(), SchemaError> {
    if version == 0 || DOWN_SCRIPTS.iter().any(|(v, _, _)| *v == version) {
        Ok(())
    } else {
        Err(SchemaError::UnknownVersion(version))
    }
}

async fn lock(client: &Client) -> Result<(), SchemaError> {
    client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK]).await?;
    Ok(())
}

async fn unlock(client: &Client) -> Result<(), SchemaError> {
    client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_migration_has_a_down_script_of_the_same_name() {
        // refinery lists embedded migrations in directory order: sort before comparing.
        let mut ups: Vec<(u32, String)> = embedded::migrations::runner()
            .get_migrations()
            .iter()
            .map(|m| (m.version(), m.name().to_owned()))
            .collect();
        ups.sort();
        let downs: Vec<(u32, String)> = DOWN_SCRIPTS.iter().map(|(v, n, _)| (*v, (*n).to_owned())).collect();
        assert!(!ups.is_empty());
        assert_eq!(ups, downs);
    }

    #[test]
    fn unknown_versions_are_refused_before_touching_the_database() {
        assert!(check_known(0).is_ok());
        assert!(check_known(expected_version()).is_ok());
        let err = check_known(9999).unwrap_err();
        assert!(err.to_string().starts_with("unknown migration version 9999"), "{err}");
    }
}
