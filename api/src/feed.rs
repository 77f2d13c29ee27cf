//! The API's one reader of the ticket journal, fanned out to every open event stream.
//!
//! One LISTEN connection per API process, whatever the number of clients: each
//! notice names its journal entry, which the reader fetches by its key (the notices
//! waiting are read together, once for every organisation) and broadcasts; each
//! stream keeps those its principal may see. A notice arrives only once its entry has
//! committed, so reading by id needs no look-back. Only when notices may have been
//! missed — the listener (re)connected — does the reader scan the journal from its
//! newest id less a window: ids are assigned at insert but become visible at commit,
//! so a smaller id can appear after a larger one, and it remembers which ids it sent.
//! While no stream is open the reader reads nothing.

use std::{collections::BTreeSet, sync::Arc, time::Duration};

use atum_core::tickets::{
    events::{CHANNEL, Notice},
    feed, presence,
};
use atum_runtime::{
    Metrics,
    db::DbPool,
    listener::{self, Wakeup},
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
        // A presence notice is passed on as it is; a journal notice names the entry to
        // read; a (re)connection means scanning for what may have been missed.
        let Some(first) = wakeup else { return };
        let (mut wanted, mut scan) = (Vec::new(), false);
        let mut next = Some(first);
        while let Some(w) = next {
            match w {
                Wakeup::Notification { channel, payload } if channel == presence::CHANNEL => {
                    if let Some(notice) = Notice::parse(&payload) {
                        let _ = tx.send(Live::Presence(notice));
                    }
                }
                Wakeup::Notification { payload, .. } => match Notice::parse(&payload).and_then(|n| n.entry_id) {
                    Some(id) => wanted.push(id),
                    None => scan = true,
                },
                Wakeup::Connected => scan = true,
            }
            next = wakeups.try_recv().ok();
        }
        if wanted.is_empty() && !scan {
            continue;
        }
        if let Err(e) = reader.pass(&pool, &tx, wanted, scan).await {
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
    async fn pass(
        &mut self,
        pool: &DbPool,
        tx: &broadcast::Sender<Live>,
        wanted: Vec<i64>,
        mut scan: bool,
    ) -> atum_core::error::Result<()> {
        if self.high.is_some() && tx.receiver_count() == 0 {
            // Nobody is watching: nothing to read. A stream opened later resumes from
            // its Last-Event-ID (`feed::missed`), not from this reader.
            self.mark(wanted.iter().copied());
            return Ok(());
        }
        let conn = atum_runtime::db::connection(pool).await?;
        if self.high.is_none() {
            // What is in the journal already is history, not news: a fresh reader
            // marks the look-back window as sent and streams what happens from now
            // on. A client that was connected before resumes with Last-Event-ID.
            let newest = feed::newest(&conn).await?;
            self.sent.extend(feed::after(&conn, newest - LOOK_BACK, LOOK_BACK).await?.iter().map(|e| e.id));
            self.high = Some(newest);
            return Ok(());
        }
        let unsent: Vec<i64> = wanted.into_iter().filter(|id| !self.sent.contains(id)).collect();
        if !unsent.is_empty() {
            let entries = feed::by_ids(&conn, &unsent).await?;
            self.send(tx, entries);
        }
        while scan {
            let from = self.high.unwrap_or(0).saturating_sub(LOOK_BACK);
            let entries = feed::after(&conn, from, BATCH).await?;
            scan = entries.len() as i64 == BATCH;
            self.send(tx, entries);
        }
        Ok(())
    }

    /// Broadcasts the entries not sent yet, oldest first.
    fn send(&mut self, tx: &broadcast::Sender<Live>, entries: Vec<feed::Entry>) {
        let ids: Vec<i64> = entries.iter().map(|e| e.id).collect();
        for entry in entries {
            if !self.sent.contains(&entry.id) {
                // No receiver is not an error: nobody is watching right now.
                let _ = tx.send(Live::Entry(Arc::new(Encoded::new(entry))));
            }
        }
        self.mark(ids);
    }

    /// Remembers ids as sent, and forgets those older than the look-back window.
    fn mark(&mut self, ids: impl IntoIterator<Item = i64>) {
        let mut newest = self.high.unwrap_or(0);
        for id in ids {
            newest = newest.max(id);
            self.sent.insert(id);
        }
        self.high = Some(newest);
        self.sent = self.sent.split_off(&(newest - LOOK_BACK));
    }
}
