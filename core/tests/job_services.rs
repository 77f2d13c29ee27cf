//! Jobs reach their services through their context, and a queue can be drained in
//! this process with `Runner::run_until_empty` — no worker process, no polling.

use std::time::Duration;

use atum_core::{
    accounts::messages,
    error::Error,
    jobs::{JobContext, Need, Registry, Services},
    mail::{REDACTED, SendEmail},
    mailer::Mailer,
};
use atum_queue::{
    Job, JobError,
    enqueue::Options,
    worker::{Runner, WorkerConfig},
};
use atum_runtime::{Metrics, config::Service};
use atum_testing::TestDb;
use serde::{Deserialize, Serialize};

fn config() -> WorkerConfig {
    WorkerConfig {
        worker_id: "in-process".into(),
        queues: vec![("default".into(), 1)],
        lease: Duration::from_secs(30),
        poll_interval: Duration::from_secs(1),
        retention: Duration::from_secs(3600),
        claim_batch: 10,
        prefetch: 0,
        batch_completions: true,
    }
}

/// Fails the way a handler does when its ticket was deleted meanwhile.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Vanished;

impl Job for Vanished {
    type Services = atum_core::jobs::Services;
    const KIND: &'static str = "VANISHED";

    async fn run(self, _ctx: JobContext) -> Result<(), JobError> {
        Err(Error::NotFound("ticket").into())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mail_job_is_delivered_through_the_mailer_the_worker_was_given() {
    let db = TestDb::migrated().await;
    let (mailer, sent) = Mailer::in_memory("Desk <desk@example.test>".parse().unwrap());
    let registry = Registry::default().register::<SendEmail>().with_services(Services::builder().mail(mailer).build());
    registry.check().expect("the worker has what its kinds need");
    let mut conn = db.pool.get().await.unwrap();
    let org = atum_testing::fixtures::org(&conn, "acme").await;
    let token = "b".repeat(64);
    let pages = messages::AccountPages::of("https://desk.example.test", atum_core::auth::Role::Agent, "acme");
    let mail = messages::reset_password(&pages, org.into(), "ann@example.test", "Ann", &token);
    let tx = conn.transaction().await.unwrap();
    let id = atum_queue::enqueue(&tx, &mail, Options::default()).await.unwrap().unwrap();
    tx.commit().await.unwrap();

    let runner = Runner::new(db.pool.clone(), registry, config(), &Metrics::new(Service::JobWorker));
    assert_eq!(runner.run_until_empty().await.unwrap(), 1);
    assert_eq!(runner.run_until_empty().await.unwrap(), 0, "nothing is left");

    let sent = sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to, "ann@example.test");
    assert!(sent[0].text.contains(&format!("reset-password?token={token}")), "{}", sent[0].text);
    let row = conn.query_one("SELECT state, payload->>'text' FROM job_queue WHERE id = $1", &[&id]).await.unwrap();
    assert_eq!(row.get::<_, String>(0), "succeeded");
    assert_eq!(row.get::<_, String>(1), REDACTED, "the one-time link does not stay in the queue");
}

#[test]
fn a_worker_without_a_mail_transport_refuses_to_run_mail_jobs_naming_both() {
    let err = Registry::default().register::<SendEmail>().check().unwrap_err();
    assert_eq!((err.kind, err.need.as_str()), ("SEND_EMAIL", Need::Mail.to_string().as_str()));
    assert!(err.to_string().contains("SEND_EMAIL") && err.to_string().contains("mail"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_domain_error_discards_the_job_at_once_with_its_error_kept() {
    let db = TestDb::migrated().await;
    let mut conn = db.pool.get().await.unwrap();
    let tx = conn.transaction().await.unwrap();
    let id = atum_queue::enqueue(&tx, &Vanished, Options::default()).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    let runner = Runner::new(
        db.pool.clone(),
        Registry::default().register::<Vanished>(),
        config(),
        &Metrics::new(Service::JobWorker),
    );
    assert_eq!(runner.run_until_empty().await.unwrap(), 1);
    let row = conn.query_one("SELECT state, attempt, errors::text FROM job_queue WHERE id = $1", &[&id]).await.unwrap();
    assert_eq!((row.get::<_, String>(0).as_str(), row.get::<_, i32>(1)), ("discarded", 1));
    assert!(row.get::<_, String>(2).contains("ticket not found"), "{}", row.get::<_, String>(2));
}
