// The live ticket list of a view: its first page, more pages as the reader scrolls, and
// rows kept current by the event stream without moving under the reader.
import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { FeedEntry, Schemas, Ticket } from '../../lib/api';
import { $api, attempt, useFetchIfChanged } from '../../lib/query';

const LIST = '/api/v1/tickets';

export interface TicketList {
  tickets: Ticket[];
  /** The first page has arrived (an empty list then means an empty view). */
  loaded: boolean;
  /** Why the last load failed, if it did; cleared by the next one that works. */
  error: string | null;
  /** Asks for the first page again; rows already shown are updated in place. */
  refresh: () => Promise<void>;
  loadMore: () => Promise<void>;
  /** A streamed change: a new ticket refreshes the first page, any other updates its row. */
  apply: (e: FeedEntry) => Promise<void>;
}

/** The list for `query` (the view, filters, search and sort as GET /api/v1/tickets parameters). */
export function useTicketList(query: Record<string, string>): TicketList {
  const [tickets, setTickets] = useState<Ticket[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const loading = useRef(false);
  const fetchIfChanged = useFetchIfChanged();
  const client = useQueryClient();
  const key = JSON.stringify(query);
  const latestKey = useRef(key);
  latestKey.current = key;

  // The first page's ETag: a refresh (a resync, or polling while the event stream is
  // down) sends it and gets a 304 when nothing in the page changed.
  const firstPageTag = useRef<{ key: string; etag: string } | null>(null);

  const loadFirst = useCallback(
    async (merge: boolean) => {
      const q = JSON.parse(key) as Record<string, string>;
      const known = merge && firstPageTag.current?.key === key ? firstPageTag.current.etag : undefined;
      const { data, problem } = await fetchIfChanged<Schemas['Page']>(LIST, q, known);
      // The reader changed the view meanwhile: this page is for a list no longer shown.
      if (latestKey.current !== key) return;
      if (problem) {
        setError(problem.message);
        return;
      }
      setError(null);
      if (!data) return;
      setLoaded(true);
      firstPageTag.current = data.etag ? { key, etag: data.etag } : null;
      const page = data.data;
      setTickets((old) => {
        if (!merge) return page.items;
        // The first page as it is now on top; everything else already loaded stays
        // where it was, so a live refresh never takes rows from under the reader.
        const fresh = new Set(page.items.map((t) => t.id));
        return [...page.items, ...old.filter((t) => !fresh.has(t.id))];
      });
      if (!merge) setCursor(page.next_cursor ?? null);
    },
    [key, fetchIfChanged],
  );

  useEffect(() => {
    void loadFirst(false);
  }, [loadFirst]);

  const loadMore = useCallback(async () => {
    if (!cursor || loading.current) return;
    loading.current = true;
    const { data, problem } = await fetchIfChanged<Schemas['Page']>(LIST, { ...(JSON.parse(key) as Record<string, string>), cursor });
    loading.current = false;
    if (latestKey.current !== key) return;
    if (problem) {
      setError(problem.message);
      return;
    }
    if (!data) return;
    const page = data.data;
    setTickets((old) => {
      const seen = new Set(old.map((t) => t.id));
      return [...old, ...page.items.filter((t) => !seen.has(t.id))];
    });
    setCursor(page.next_cursor ?? null);
  }, [cursor, key, fetchIfChanged]);

  const apply = useCallback(
    async (e: FeedEntry) => {
      if (e.kind === 'created') {
        await loadFirst(true);
        return;
      }
      const { data } = await attempt(
        client.fetchQuery($api.queryOptions('get', '/api/v1/tickets/{id}', { params: { path: { id: e.ticket_id } } }, { staleTime: 0 })),
      );
      // A ticket this reader may no longer see (or that is gone) keeps its row until
      // the next refresh of the page, which no longer lists it.
      if (data) setTickets((old) => old.map((t) => (t.id === data.id ? { ...t, ...data } : t)));
    },
    [client, loadFirst],
  );

  const refresh = useCallback(() => loadFirst(true), [loadFirst]);
  return { tickets, loaded, error, refresh, loadMore, apply };
}
