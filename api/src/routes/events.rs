//! `GET /api/v1/events`: the ticket journal as a server-sent-events stream.
//!
//! Each event says that a ticket changed (`ticket` events, id = the journal id), or,
//! for staff, that who has a ticket open changed (`presence` events, no id); the
//! client fetches what it needs through the other routes. A reconnect sends
//! `Last-Event-ID` and first gets what it missed from the journal. A comment line
//! every 15 s (`Security::stream_check`), busy or quiet, keeps proxies from closing
//! the connection, and is when the session is checked again: a revoked or expired
//! session ends the stream.

use std::{collections::VecDeque, pin::Pin};

use actix_web::{HttpRequest, HttpResponse, get, http::header, web};
use atum_core::{
    auth::Principal,
    tickets::{feed, presence},
};
use tokio::sync::broadcast::{self, error::RecvError};

use crate::{
    AppState,
    auth::Credentials,
    error::ApiError,
    feed::{Live, encode},
};

/// At most this many missed events are replayed after a reconnect; a client that
/// missed more is told to resynchronise (reload its lists).
const REPLAY: i64 = 1_000;

/// Live changes to the tickets you may see (server-sent events).
#[utoipa::path(tag = "tickets", security(("bearer" = [])),
    params(("Last-Event-ID" = Option<String>, Header, pattern = "^[0-9]{1,18}$", description = "The id of the last event received; the stream starts with what came after it")),
    responses((status = 200, description = "A `text/event-stream`: `ticket` events whose data is a FeedEntry; for staff, `presence` events (`{\"ticket_id\": …}`) when who has a ticket open changed; `resync` when the client should reload; keep-alive comments", content_type = "text/event-stream", body = feed::Entry)))]
#[get("/events")]
pub async fn stream(
    state: web::Data<AppState>,
    creds: Credentials,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let last_id = req
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|id| *id >= 0);
    // Subscribe before reading the journal, so nothing falls between the two.
    let rx = state.feed.subscribe();
    let (who, missed) = state
        .in_tx(&creds, async |tx, who| {
            let missed = match last_id {
                Some(after) => feed::missed(tx, &who, after, REPLAY + 1).await?,
                None => Vec::new(),
            };
            Ok((who, missed))
        })
        .await?;

    let mut first: VecDeque<web::Bytes> = VecDeque::from([web::Bytes::from_static(b"retry: 3000\n\n")]);
    let mut last_sent = last_id.unwrap_or(0);
    if missed.len() as i64 > REPLAY {
        first.push_back(resync());
    } else {
        for entry in &missed {
            first.push_back(encode(entry));
            last_sent = entry.id;
        }
    }
    let shutdown = Box::pin(state.feed.shutdown.clone().cancelled_owned());
    let beat = Box::pin(tokio::time::sleep(state.security.stream_check));
    let stream = Stream { state: state.into_inner(), creds, who, rx, pending: first, last_sent, beat, shutdown };
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        // nginx: do not buffer this response.
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(futures_util::stream::unfold(stream, Stream::next)))
}

struct Stream {
    state: std::sync::Arc<AppState>,
    creds: Credentials,
    who: Principal,
    rx: broadcast::Receiver<Live>,
    pending: VecDeque<web::Bytes>,
    /// Live events at or below this id were already sent from the journal.
    last_sent: i64,
    // Kept across events rather than made anew for each: with a thousand streams and
    // fifty changes a second, a new timer and a new wait on the shutdown token per
    // event per stream cost more than passing the event on.
    beat: Pin<Box<tokio::time::Sleep>>,
    shutdown: Pin<Box<tokio_util::sync::WaitForCancellationFutureOwned>>,
}

impl Stream {
    async fn next(mut self) -> Option<(Result<web::Bytes, actix_web::Error>, Self)> {
        loop {
            if let Some(chunk) = self.pending.pop_front() {
                return Some((Ok(chunk), self));
            }
            tokio::select! {
                _ = &mut self.shutdown => return None,
                _ = &mut self.beat => {
                    let alive = self.state.in_tx(&self.creds, async |_, _| Ok(())).await;
                    if alive.is_err() {
                        return None;
                    }
                    self.beat.as_mut().reset(tokio::time::Instant::now() + self.state.security.stream_check);
                    self.pending.push_back(web::Bytes::from_static(b": keep-alive\n\n"));
                }
                received = self.rx.recv() => match received {
                    Ok(Live::Entry(e)) if e.entry.id > self.last_sent && e.entry.visible_to(&self.who) => {
                        self.pending.push_back(e.event.clone());
                    }
                    Ok(Live::Presence(n)) if presence::audible_to(n, &self.who) => {
                        let data = format!("event: presence\ndata: {{\"ticket_id\":{}}}\n\n", n.ticket_id);
                        self.pending.push_back(web::Bytes::from(data));
                    }
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => self.pending.push_back(resync()),
                    Err(RecvError::Closed) => return None,
                },
            }
        }
    }
}

fn resync() -> web::Bytes {
    web::Bytes::from_static(b"event: resync\ndata: {}\n\n")
}
