//! `atum tickets import`: an organisation's history from another help desk, as a CSV
//! file with a header row — each row a ticket, its category and priority as agents
//! set them, its times and the agent's reply. Auto-triage learns from it (a training
//! is queued with the import) and retrieval finds its solved tickets.

use std::{path::PathBuf, process::ExitCode};

use anyhow::{Context, bail};
use atum_core::{
    assist::training::TrainTriage,
    auth::Role,
    ids::UserId,
    orgs,
    tickets::import::{self, Row},
    users::{self, NewUser},
};
use atum_queue::enqueue::Options;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum Action {
    /// Load labelled history from a CSV file as tickets of an organisation, in one
    /// transaction: a bad row (named with its number) writes nothing.
    Import {
        /// The organisation's slug.
        #[arg(long)]
        org: String,
        file: PathBuf,
        /// Column of the subject (default `subject`; without one, the body's first line).
        #[arg(long)]
        subject_column: Option<String>,
        /// Column of what the customer wrote (default `body`).
        #[arg(long)]
        body_column: Option<String>,
        /// Column of the category an agent gave it (default `category`).
        #[arg(long)]
        category_column: Option<String>,
        /// Column of the priority: low, normal, high or urgent (default `priority`).
        #[arg(long)]
        priority_column: Option<String>,
        /// Column of when it was filed, RFC 3339 or `YYYY-MM-DD[ HH:MM:SS]` UTC
        /// (default `created_at`).
        #[arg(long)]
        created_column: Option<String>,
        /// Column of when it was solved (default `solved_at`).
        #[arg(long)]
        solved_column: Option<String>,
        /// Column of the agent's reply (default `reply`); a ticket with one is solved.
        #[arg(long)]
        reply_column: Option<String>,
        /// The requester of every ticket: an e-mail address of the organisation
        /// (default: a customer "Imported history" made for it, who cannot sign in).
        #[arg(long)]
        requester: Option<String>,
        /// The author of the replies: an agent's or admin's e-mail address (default:
        /// the organisation's first admin).
        #[arg(long)]
        agent: Option<String>,
        /// Read at most this many rows.
        #[arg(long)]
        limit: Option<usize>,
    },
}

/// Where each field is in the file's header.
struct Columns {
    subject: Option<usize>,
    body: Option<usize>,
    category: Option<usize>,
    priority: Option<usize>,
    created: Option<usize>,
    solved: Option<usize>,
    reply: Option<usize>,
}

/// A named column must exist; a default one may be absent.
fn find(header: &csv::StringRecord, named: Option<&str>, default: &str) -> anyhow::Result<Option<usize>> {
    let name = named.unwrap_or(default);
    match header.iter().position(|h| h.trim() == name) {
        Some(i) => Ok(Some(i)),
        None if named.is_some() => {
            bail!("the file has no column {name:?}; its columns are: {}", header.iter().collect::<Vec<_>>().join(", "))
        }
        None => Ok(None),
    }
}

fn time(value: &str, n: usize, what: &str) -> anyhow::Result<Option<DateTime<Utc>>> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(v, "%Y-%m-%d %H:%M:%S") {
        return Ok(Some(t.and_utc()));
    }
    if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).map(|t| t.and_utc()));
    }
    bail!("row {n}: {what} {v:?} is not a time (RFC 3339, or YYYY-MM-DD[ HH:MM:SS] in UTC)")
}

pub async fn run(action: Action) -> anyhow::Result<ExitCode> {
    let Action::Import {
        org,
        file,
        subject_column,
        body_column,
        category_column,
        priority_column,
        created_column,
        solved_column,
        reply_column,
        requester,
        agent,
        limit,
    } = action;
    let mut reader = csv::Reader::from_path(&file).with_context(|| format!("reading {}", file.display()))?;
    let header = reader.headers()?.clone();
    let cols = Columns {
        subject: find(&header, subject_column.as_deref(), "subject")?,
        body: find(&header, body_column.as_deref(), "body")?,
        category: find(&header, category_column.as_deref(), "category")?,
        priority: find(&header, priority_column.as_deref(), "priority")?,
        created: find(&header, created_column.as_deref(), "created_at")?,
        solved: find(&header, solved_column.as_deref(), "solved_at")?,
        reply: find(&header, reply_column.as_deref(), "reply")?,
    };
    if cols.subject.is_none() && cols.body.is_none() {
        bail!("the file has neither a subject nor a body column (name them with --subject-column / --body-column)");
    }
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        if limit.is_some_and(|l| rows.len() >= l) {
            break;
        }
        let n = i + 1;
        let record = record.with_context(|| format!("row {n}"))?;
        let get = |c: Option<usize>| c.and_then(|c| record.get(c)).map(str::to_owned);
        let body = get(cols.body).unwrap_or_default();
        let subject = get(cols.subject).filter(|s| !s.trim().is_empty()).unwrap_or_else(|| import::subject_from(&body));
        rows.push(Row {
            subject,
            body,
            category: get(cols.category),
            priority: get(cols.priority),
            created_at: time(&get(cols.created).unwrap_or_default(), n, "created_at")?,
            solved_at: time(&get(cols.solved).unwrap_or_default(), n, "solved_at")?,
            reply: get(cols.reply),
        });
    }

    let mut conn = crate::migrate::pooled().await?;
    let tx = conn.transaction().await?;
    let org = orgs::find_by_slug(&tx, &org).await?;
    let requester = match requester {
        Some(email) => person(&tx, org.id, &email, false).await?,
        None => history_customer(&tx, org.id).await?,
    };
    let agent = match agent {
        Some(email) => person(&tx, org.id, &email, true).await?,
        None => UserId(
            tx.query_opt("SELECT id FROM users WHERE org_id = $1 AND role = 'admin' ORDER BY id LIMIT 1", &[&org.id])
                .await?
                .context("the organisation has no admin to author the replies: name one with --agent")?
                .get(0),
        ),
    };
    let imported = import::import(&tx, org.id, requester, agent, &rows).await?;
    atum_queue::enqueue(&tx, &TrainTriage { org_id: org.id }, Options::default()).await?;
    tx.commit().await?;
    println!(
        "imported {} tickets into {} (numbers {}–{}), {} with the agent's reply; a training of the triage models is queued",
        imported.tickets, org.slug, imported.first_number, imported.last_number, imported.replies
    );
    Ok(ExitCode::SUCCESS)
}

async fn person(
    db: &impl deadpool_postgres::GenericClient,
    org: atum_core::ids::OrgId,
    email: &str,
    staff: bool,
) -> anyhow::Result<UserId> {
    let row = db
        .query_opt("SELECT id, role FROM users WHERE org_id = $1 AND lower(email) = lower($2)", &[&org, &email.trim()])
        .await?
        .with_context(|| format!("no one with the address {email} in this organisation"))?;
    let role: &str = row.get(1);
    if staff && role == "customer" {
        bail!("{email} is a customer: the replies need an agent or admin");
    }
    Ok(UserId(row.get(0)))
}

/// The customer who files imported tickets when the file names nobody: made once,
/// with no password, so nobody signs in as them.
async fn history_customer(
    db: &impl deadpool_postgres::GenericClient,
    org: atum_core::ids::OrgId,
) -> anyhow::Result<UserId> {
    const EMAIL: &str = "imported-history@example.invalid";
    if let Some(r) = db.query_opt("SELECT id FROM users WHERE org_id = $1 AND email = $2", &[&org, &EMAIL]).await? {
        return Ok(UserId(r.get(0)));
    }
    let new =
        NewUser { email: EMAIL.into(), display_name: "Imported history".into(), role: Role::Customer, password: None };
    Ok(users::insert(db, org, &new, None).await?.id)
}
