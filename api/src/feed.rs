//! The API's one reader of the ticket journal, fanned out to every open event stream.
//!
//! One LISTEN connection per API process, whatever the number of clients: on each
//! notice the reader fetches the new journal entries once (for every organisation)
//! and broadcasts them; each stream keeps those its principal may see. Ids of
//! `ticket_events` are assigned at insert but become visible at commit, so a smaller
//! id can appear after a larger one: the reader looks back over a window and remembers
//! which ids it already sent.

use std::{collections::BTreeSet, sync::Arc, time::Duration};

use atum_core::{
    db::DbPool,
    runtime::{
        Metrics,
        listener::{self, Wakeup},
    },
    tickets::{
        events::{CHANNEL, Notice},
        feed, presence,
    },
};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

/// How far back, in journal ids, the reader looks for entries that committed late.
const LOOK_BACK: i64 = 1_000;
/// Entries read per statement.
const BATCH: i64 = 5_000;
/// Entries one streaming client may fall behind before it is told to resynchronise.
const BUFFER: usize = 4_096;

/// What the feed broadcasts.
#[derive(Debug, Clone)]
pub enum Live {
    /// A journal entry (a change to a ticket), with its event already encoded: one
    /// encoding for all the streams that pass it on.
    Entry(Arc<Encoded>),
    /// Someone opened, closed or started typing on a ticket (staff only).
    Presence(Notice),
}

/// A journal entry and its server-sent event.
#[derive(Debug)]
pub struct Encoded {
    pub entry: feed::Entry,
    pub event: actix_web::web::Bytes,
}

impl Encoded {
    pub fn new(entry: feed::Entry) -> Encoded {
        let event = encode(&entry);
        Encoded { entry, event }
    }
}

/// `entry` as a server-sent event: `id` is its journal id, `data` the entry itself.
pub fn encode(entry: &feed::Entry) -> actix_web::web::Bytes {
    let data = serde_json::to_string(entry).unwrap_or_else(|_| "{}".into());
    actix_web::web::Bytes::from(format!("id: {}\nevent: ticket\ndata: {data}\n\n", entry.id))
}

/// The broadcast side of the feed: cheap to clone, one per API process.
#[derive(Clone)]
pub struct Feed {
    tx: broadcast::Sender<Live>,
    /// Ends every open stream when the API shuts down.
    pub shutdown: CancellationToken,
}

impl Feed {
    /// Starts the reader; it stops with `shutdown`.
    pub fn start(pool: DbPool, pg: tokio_postgres::Config, metrics: Metrics, shutdown: CancellationToken) -> Feed {
        let (tx, _) = broadcast::channel(BUFFER);
        let feed = Feed { tx, shutdown: shutdown.clone() };
        let wakeups = listener::spawn(pg, vec![CHANNEL, presence::CHANNEL], metrics, shutdown.clone());
        tokio::spawn(read(pool, feed.tx.clone(), wakeups, shutdown));
        feed
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Live> {
        self.tx.subscribe()
    }
}

async fn read(
    pool: DbPool,
    tx: broadcast::Sender<Live>,
    mut wakeups: tokio::sync::mpsc::Receiver<Wakeup>,
    shutdown: CancellationToken,
) {
    let mut reader = Reader { high: None, sent: BTreeSet::new() };
    loop {
        let wakeup = tokio::select! {
            _ = shutdown.cancelled() => return,
            w = wakeups.recv() => w,
        };
        // A presence notice is passed on as it is; anything else (a journal notice, a
        // reconnection) means reading what is new, once for all notices waiting.
        let Some(first) = wakeup else { return };
        let mut read = false;
        let mut next = Some(first);
        while let Some(w) = next {
            match w {
                Wakeup::Notification { channel, payload } if channel == presence::CHANNEL => {
                    if let Some(notice) = Notice::parse(&payload) {
                        let _ = tx.send(Live::Presence(notice));
                    }
                }
                _ => read = true,
            }
            next = wakeups.try_recv().ok();
        }
        if !read {
            continue;
        }
        if let Err(e) = reader.pass(&pool, &tx).await {
            tracing::warn!(error = %e, "reading the ticket journal for the event stream failed");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

struct Reader {
    /// The largest id sent (`None` until the first read fixes where to start).
    high: Option<i64>,
    /// Ids sent within the look-back window.
    sent: BTreeSet<i64>,
}

impl Reader {
    async fn pass(&mut self, pool: &DbPool, tx: &broadcast::Sender<Live>) -> atum_core::error::Result<()> {
        let conn = atum_core::db::connection(pool).await?;
        if self.high.is_none() {
            // What is in the journal already is history, not news: a fresh reader
            // marks the look-back window as sent and streams what happens from now
            // on. A client that was connected before resumes with Last-Event-ID.
            let newest = feed::newest(&conn).await?;
            self.sent.extend(feed::after(&conn, newest - LOOK_BACK, LOOK_BACK).await?.iter().map(|e| e.id));
            self.high = Some(newest);
            return Ok(());
        }
        loop {
            let from = self.high.unwrap_or(0).saturating_sub(LOOK_BACK);
            let entries = feed::after(&conn, from, BATCH).await?;
            let full = entries.len() as i64 == BATCH;
            let mut newest = self.high.unwrap_or(0);
            for entry in entries {
                newest = newest.max(entry.id);
                if self.sent.insert(entry.id) {
                    // No receiver is not an error: nobody is watching right now.
                    let _ = tx.send(Live::Entry(Arc::new(Encoded::new(entry))));
                }
            }
            self.high = Some(newest);
            self.sent = self.sent.split_off(&(newest - LOOK_BACK));
            if !full {
                return Ok(());
            }
        }
    }
}
