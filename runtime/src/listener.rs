//! One LISTEN connection per process, re-established with backoff.
//!
//! Consumers receive [`Wakeup`]s on a channel. After every (re)connect a
//! [`Wakeup::Connected`] is sent first: notifications sent while we were disconnected
//! are lost, so a consumer must look at the tables again rather than trust that it
//! has seen everything. Because LISTEN is issued before that message, a consumer that
//! queries after receiving it cannot miss a row committed afterwards.

use std::time::Duration;

use futures_util::{StreamExt, stream};
use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, NoTls};
use tokio_util::sync::CancellationToken;

use crate::metrics::{ChannelLabel, Metrics};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wakeup {
    /// Listening (again): anything may have changed meanwhile.
    Connected,
    Notification {
        channel: String,
        payload: String,
    },
}

/// Spawns the listener task; it ends when `shutdown` is cancelled.
pub fn spawn(
    pg: tokio_postgres::Config,
    channels: Vec<&'static str>,
    metrics: Metrics,
    shutdown: CancellationToken,
) -> mpsc::Receiver<Wakeup> {
    // A small buffer is enough: a full buffer means the consumer already has a reason
    // to look at the tables, so extra notifications are dropped, not queued.
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        let mut backoff = Backoff::default();
        let mut first = true;
        while !shutdown.is_cancelled() {
            if !first {
                metrics.listener_reconnects.inc();
            }
            first = false;
            let outcome = tokio::select! {
                _ = shutdown.cancelled() => return,
                r = listen_once(&pg, &channels, &tx, &metrics, &mut backoff) => r,
            };
            if let Err(e) = outcome {
                let delay = backoff.next_delay();
                tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "LISTEN connection lost");
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(delay) => {}
                }
            }
        }
    });
    rx
}

async fn listen_once(
    pg: &tokio_postgres::Config,
    channels: &[&str],
    tx: &mpsc::Sender<Wakeup>,
    metrics: &Metrics,
    backoff: &mut Backoff,
) -> Result<(), String> {
    let (client, mut connection) = pg.connect(NoTls).await.map_err(|e| crate::db::root_cause(&e))?;
    let (msg_tx, mut msg_rx) = mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        let mut messages = stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(n)) => {
                    let _ = msg_tx.send((n.channel().to_owned(), n.payload().to_owned()));
                }
                Ok(_) => {}
                Err(e) => return crate::db::root_cause(&e),
            }
        }
        "the server closed the connection".to_owned()
    });

    let listen: String = channels.iter().map(|c| format!("LISTEN {c};")).collect();
    client.batch_execute(&listen).await.map_err(|e| crate::db::root_cause(&e))?;
    tracing::debug!(?channels, "listening");
    backoff.reset();
    let _ = tx.try_send(Wakeup::Connected);

    while let Some((channel, payload)) = msg_rx.recv().await {
        metrics.notifications.get_or_create(&ChannelLabel { channel: channel.clone() }).inc();
        let _ = tx.try_send(Wakeup::Notification { channel, payload });
    }
    drop(client);
    Err(driver.await.unwrap_or_else(|e| e.to_string()))
}

/// Reconnecting: from 100 ms to 30 s with equal jitter, so a restarted database is not
/// hit by every worker in the same instant, yet no retry comes sooner than half the
/// ceiling.
const RECONNECT: crate::backoff::Backoff =
    crate::backoff::Backoff::new(Duration::from_millis(100), Duration::from_secs(30), crate::backoff::Jitter::Equal);

/// The reconnection attempts since the connection last held.
#[derive(Debug, Default)]
pub struct Backoff {
    attempt: u32,
}

impl Backoff {
    pub fn next_delay(&mut self) -> Duration {
        let delay = RECONNECT.delay(self.attempt);
        self.attempt = self.attempt.saturating_add(1);
        delay
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_its_ceiling_and_resets() {
        let mut b = Backoff::default();
        let first = b.next_delay();
        assert!(first <= Duration::from_millis(100) && first >= Duration::from_millis(50), "{first:?}");
        for _ in 0..20 {
            assert!(b.next_delay() <= Duration::from_secs(30));
        }
        assert!(b.next_delay() >= Duration::from_secs(15));
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(100));
    }
}
