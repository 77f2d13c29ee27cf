//! The benchmark organisation: a million tickets generated in SQL, made once and kept
//! in the benchmark's own cluster.

use std::time::Instant;

use anyhow::Context as _;
use atum_core::{
    auth::Role,
    orgs,
    users::{self, NewUser},
};

pub const SLUG: &str = "bench";
pub const PASSWORD: &str = "bench-admin-password";
const BATCH: i64 = 100_000;

/// The bench org's id, creating the org, its admin, a customer and `tickets` tickets
/// when missing.
pub async fn ensure(client: &mut atum_runtime::db::Connection, tickets: i64) -> anyhow::Result<i64> {
    let org = match orgs::find_by_slug(&*client, SLUG).await {
        Ok(org) => org.id,
        Err(_) => {
            let admin = NewUser {
                email: "admin@bench.test".into(),
                display_name: "Bench Admin".into(),
                role: Role::Admin,
                password: Some(PASSWORD.into()),
            };
            let hash = users::hash_for(&admin)?.context("password")?;
            let tx = client.transaction().await?;
            let (org, _) = orgs::create_with_admin(&tx, SLUG, "Benchmark", &admin, hash).await?;
            let customer = NewUser {
                email: "customer@bench.test".into(),
                display_name: "Customer".into(),
                role: Role::Customer,
                password: None,
            };
            users::insert(&tx, org.id, &customer, None).await?;
            tx.commit().await?;
            org.id
        }
    };
    // Tickets the benchmark itself created do not count towards the seeded size.
    let have: i64 = client
        .query_one("SELECT count(*) FROM tickets WHERE org_id = $1 AND subject <> 'Benchmark ticket'", &[&org])
        .await?
        .get(0);
    if have >= tickets {
        return Ok(org.get());
    }
    let customer: i64 =
        client.query_one("SELECT id FROM users WHERE org_id = $1 AND role = 'customer' LIMIT 1", &[&org]).await?.get(0);
    let started = Instant::now();
    let mut from = have + 1;
    while from <= tickets {
        let to = (from + BATCH - 1).min(tickets);
        // Numbers continue after whatever the org already has (earlier runs create tickets).
        let base: i32 = client
            .query_one(
                "UPDATE organizations SET last_ticket_number = last_ticket_number + $2 WHERE id = $1
                 RETURNING last_ticket_number - $2",
                &[&org, &((to - from + 1) as i32)],
            )
            .await?
            .get(0);
        // One every 30 s, oldest first, up to a minute ago (a million span about a year);
        // a sixth of the tickets in each status.
        client
            .execute(
                "INSERT INTO tickets (org_id, number, subject, description, status, priority, category, tags,
                                      requester_id, channel, created_at, updated_at, solved_at, closed_at)
                 SELECT $1, $5 + (g - $3)::int + 1,
                        (ARRAY['Printer offline','VPN keeps dropping','Refund not received','Invoice is wrong',
                               'Cannot reset password','Delivery is late'])[1 + g % 6] || ' #' || g,
                        'Customer message ' || g || ': ' ||
                        (ARRAY['the device shows an error','it fails since yesterday','I was charged twice',
                               'the address is outdated','no email arrives','tracking has not moved'])[1 + (g / 7) % 6],
                        s.status,
                        (ARRAY['low','normal','normal','high','urgent'])[1 + g % 5],
                        (ARRAY['hardware','network','billing','account','delivery'])[1 + g % 5],
                        ARRAY[(ARRAY['vip','eu','us','mobile'])[1 + g % 4]],
                        $2, 'email', t.at, t.at,
                        CASE WHEN s.status IN ('solved','closed') THEN t.at END,
                        CASE WHEN s.status = 'closed' THEN t.at END
                 FROM generate_series($3::bigint, $4::bigint) g
                 CROSS JOIN LATERAL (SELECT (ARRAY['new','open','pending','on_hold','solved','closed'])[1 + g % 6] AS status) s
                 CROSS JOIN LATERAL (SELECT now() - make_interval(secs => ($6 - g) * 30 + 60) AS at) t",
                &[&org, &customer, &from, &to, &base, &tickets],
            )
            .await?;
        println!("  seeded tickets {from}..{to} ({:.0}s)", started.elapsed().as_secs_f64());
        from = to + 1;
    }
    client.batch_execute("VACUUM ANALYZE tickets").await?;
    Ok(org.get())
}
