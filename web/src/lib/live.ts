// The event stream (GET /api/v1/events): changes as they happen, resyncs and polling while it is down.
import { useEffect, useRef } from 'react';
import type { FeedEntry } from './api';

/**
 * Calls `onEntry` for each change the server streams (`GET /api/v1/events`), and
 * `onResync` when the client should reload what it shows: after the stream was down
 * (then it polls every `pollMs` until the stream is back) or told to resynchronise.
 * While the tab is hidden the stream is closed; it reopens, with a resync, when the
 * tab is shown again. `onPresence` hears that who has a ticket open changed.
 */
export function useLiveFeed(
  onEntry: (e: FeedEntry) => void,
  onResync: () => void,
  onPresence: (ticketId: number) => void = () => {},
  pollMs = 10_000,
) {
  const handlers = useRef({ onEntry, onResync, onPresence });
  handlers.current = { onEntry, onResync, onPresence };

  useEffect(() => {
    let source: EventSource | null = null;
    let poll: number | undefined;
    let downSince: number | null = null;

    const stopPolling = () => {
      if (poll !== undefined) window.clearInterval(poll);
      poll = undefined;
    };
    const open = () => {
      source = new EventSource('/api/v1/events');
      source.addEventListener('open', () => {
        if (downSince !== null) {
          downSince = null;
          stopPolling();
          handlers.current.onResync();
        }
      });
      source.addEventListener('ticket', (e) => {
        handlers.current.onEntry(JSON.parse((e as MessageEvent<string>).data) as FeedEntry);
      });
      source.addEventListener('resync', () => handlers.current.onResync());
      source.addEventListener('presence', (e) => {
        handlers.current.onPresence((JSON.parse((e as MessageEvent<string>).data) as { ticket_id: number }).ticket_id);
      });
      source.addEventListener('error', () => {
        if (downSince === null) {
          downSince = Date.now();
          poll = window.setInterval(() => handlers.current.onResync(), pollMs);
        }
      });
    };
    const close = () => {
      source?.close();
      source = null;
      stopPolling();
    };
    const onVisibility = () => {
      if (document.hidden) {
        close();
      } else if (!source) {
        open();
        handlers.current.onResync();
      }
    };
    open();
    document.addEventListener('visibilitychange', onVisibility);
    return () => {
      document.removeEventListener('visibilitychange', onVisibility);
      close();
    };
  }, [pollMs]);
}
