//! Rows tests start from, written in SQL (no passwords to hash, no sessions): for
//! tests of workers, which act on data rather than on signed-in people.

use tokio_postgres::Client;

/// A new organisation; returns its id.
pub async fn org(client: &Client, slug: &str) -> i64 {
    client
        .query_one("INSERT INTO organizations (slug, name) VALUES ($1, $1) RETURNING id", &[&slug])
        .await
        .expect("insert organisation")
        .get(0)
}

/// A person of `role` (admin, agent, customer) in `org`, without a password; returns the id.
pub async fn user(client: &Client, org: i64, role: &str, name: &str) -> i64 {
    client
        .query_one(
            "INSERT INTO users (org_id, email, display_name, role)
             VALUES ($1, $3 || '@' || (SELECT slug FROM organizations WHERE id = $1) || '.test', $3, $2)
             RETURNING id",
            &[&org, &role, &name],
        )
        .await
        .expect("insert user")
        .get(0)
}
