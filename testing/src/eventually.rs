//! Waiting for background work to show in the database, the one way tests do it: ask
//! again every 20 ms until the answer is the one wanted, and fail with the last answer
//! (and whatever the caller adds, such as a worker's log) when it does not come in time.

use std::{future::Future, time::Duration};

/// Calls `probe` until it returns `Ok`, and returns that value; `Err` carries what the
/// probe saw, which the panic after `within` reports beside `what`.
pub async fn eventually<T, F, Fut>(what: &str, within: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match probe().await {
            Ok(value) => return value,
            Err(seen) => {
                assert!(tokio::time::Instant::now() < deadline, "{what}: not within {within:?}; last seen: {seen}");
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// [`eventually`] for the commonest probe: `query` (one `bigint`) until `done` holds.
pub async fn count_until(
    client: &tokio_postgres::Client,
    query: &str,
    within: Duration,
    done: impl Fn(i64) -> bool,
) -> i64 {
    eventually(query, within, || async {
        let n: i64 = client.query_one(query, &[]).await.map_err(|e| e.to_string())?.get(0);
        if done(n) { Ok(n) } else { Err(n.to_string()) }
    })
    .await
}
