use atum_core::jobs::JobContext;
use atum_queue::{Job, JobError, enqueue::Options};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::helpers::TestApp;

#[derive(Serialize, Deserialize)]
struct OrgJob {
    org: Option<i64>,
}

impl Job for OrgJob {
    type Services = atum_core::jobs::Services;
    const KIND: &'static str = "ORG_JOB";

    fn org_id(&self) -> Option<impl Into<i64>> {
        self.org
    }

    async fn run(self, _ctx: JobContext) -> Result<(), JobError> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn admins_see_and_steer_only_their_organisations_jobs() {
    let app = TestApp::spawn().await;
    let acme = app.org("acme").await;
    let globex = app.org("globex").await;
    let agent = app.person(&acme, "agent", "ada").await;
    let conn = app.db.pool.get().await.unwrap();
    let mine =
        atum_queue::enqueue(&conn, &OrgJob { org: Some(acme.org_id) }, Options::default()).await.unwrap().unwrap();
    let theirs =
        atum_queue::enqueue(&conn, &OrgJob { org: Some(globex.org_id) }, Options::default()).await.unwrap().unwrap();
    atum_queue::enqueue(&conn, &OrgJob { org: None }, Options::default()).await.unwrap();
    let t = Some(acme.token.as_str());

    let list = app.get("/api/v1/admin/jobs", t).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let ids: Vec<i64> = list.body["items"].as_array().unwrap().iter().map(|j| j["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [mine]);
    // The counts are the organisation's own: globex's job and the instance's are not in them.
    assert_eq!(
        list.body["counts"],
        json!({"available": 1, "running": 0, "succeeded": 0, "discarded": 0, "cancelled": 0})
    );
    let none = app.get("/api/v1/admin/jobs?state=discarded", t).await;
    assert_eq!(none.body["items"], json!([]));
    assert_eq!(none.body["counts"]["available"], 1, "the counts do not follow the filter");
    assert_eq!(app.get("/api/v1/admin/jobs", Some(&agent.token)).await.status, 403);
    assert_eq!(app.get("/api/v1/admin/jobs?state=lost", t).await.status, 422);

    for path in [format!("/api/v1/admin/jobs/{theirs}")] {
        assert_eq!(app.get(&path, t).await.status, 404);
        assert_eq!(app.post(&format!("{path}/cancel"), t, json!({})).await.status, 404);
        assert_eq!(app.post(&format!("{path}/retry"), t, json!({})).await.status, 404);
    }

    let detail = app.get(&format!("/api/v1/admin/jobs/{mine}"), t).await;
    assert_eq!(detail.body["job"]["state"], "available");
    assert_eq!(detail.body["events"][0]["event"], "enqueued");
    let cancelled = app.post(&format!("/api/v1/admin/jobs/{mine}/cancel"), t, json!({})).await;
    assert_eq!(cancelled.body["state"], "cancelled");
    let again = app.post(&format!("/api/v1/admin/jobs/{mine}/cancel"), t, json!({})).await;
    assert_eq!((again.status, again.code()), (409, "invalid_job_state"));
    let counted = app.get("/api/v1/admin/jobs", t).await;
    assert_eq!(
        (counted.body["counts"]["available"].as_i64(), counted.body["counts"]["cancelled"].as_i64()),
        (Some(0), Some(1))
    );
    let retried = app.post(&format!("/api/v1/admin/jobs/{mine}/retry"), t, json!({})).await;
    assert_eq!(retried.body["state"], "available");
    let theirs_state: String =
        conn.query_one("SELECT state FROM job_queue WHERE id = $1", &[&theirs]).await.unwrap().get(0);
    assert_eq!(theirs_state, "available", "globex's job was touched");
}
