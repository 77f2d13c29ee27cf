// A ticket's conversation as a mail client shows a long one: the newest messages,
// and the earlier ones a page at a time on demand, so a 20,000-message thread costs
// what a 20-message one does until someone asks for more.
import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Comment, Schemas } from './api';
import { $api, attempt } from './query';

/** How many of the newest messages are shown at first and fetched on each change. */
export const LATEST = 20;
/** How many earlier messages one "show earlier" brings. */
export const EARLIER = 100;

/** The loaded part of a conversation, oldest first. */
export interface Thread {
  items: Comment[];
  /** Every message the reader may see on the ticket, loaded or not. */
  total: number;
  /** Continues to the messages before `items[0]`; null when there are none. */
  older: string | null;
}

const byTime = (a: Comment, b: Comment) => a.created_at.localeCompare(b.created_at) || a.id - b.id;

/** How many messages are not loaded (between the first message and those shown). */
export const earlier = (t: Thread) => Math.max(0, t.total - t.items.length);

/** The "show earlier" button's words: "19,980 earlier messages: show 100 more". */
export function earlierLabel(t: Thread): string {
  const n = earlier(t);
  return `${n.toLocaleString()} earlier ${n === 1 ? 'message' : 'messages'}: show ${Math.min(EARLIER, n)} more`;
}

/**
 * The thread after fetching its newest page (newest first): what is new is added in
 * order. When the page does not reach what was loaded, or the count moved by more
 * than what arrived (messages moved in by a merge), it starts again from the page.
 */
export function withLatest(thread: Thread | null, page: Schemas['CommentPage']): { thread: Thread; added: Comment[] } {
  const fresh = [...page.items].reverse();
  const restart = { thread: { items: fresh, total: page.total, older: page.next_cursor ?? null }, added: [] };
  if (!thread) return restart;
  const known = new Set(thread.items.map((c) => c.id));
  const added = fresh.filter((c) => !known.has(c.id));
  const reaches = !page.next_cursor || thread.items.length === 0 || fresh.some((c) => known.has(c.id));
  if (!reaches || page.total - thread.total !== added.length) return { ...restart, added };
  return { thread: { items: [...thread.items, ...added].sort(byTime), total: page.total, older: thread.older }, added };
}

/** The thread after fetching the page before its first loaded message (newest first). */
export function withEarlier(thread: Thread, page: Schemas['CommentPage']): Thread {
  const known = new Set(thread.items.map((c) => c.id));
  const before = [...page.items].reverse().filter((c) => !known.has(c.id));
  return { items: [...before, ...thread.items], total: page.total, older: page.next_cursor ?? null };
}

/**
 * Ticket `id`'s conversation: `refresh` fetches the newest messages (on opening, after
 * a change) and says which arrived; `showEarlier` brings the page before those loaded.
 */
export function useThread(id: number) {
  const [thread, setThread] = useState<Thread | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const current = useRef<Thread | null>(null);
  const showing = useRef(id);
  showing.current = id;
  const loading = useRef(false);
  const client = useQueryClient();
  // A page of the thread, through the query layer (retried, de-duplicated), never from
  // the cache: the thread itself is what is kept.
  const page = useCallback(
    (limit: number, cursor?: string) =>
      attempt(
        client.fetchQuery(
          $api.queryOptions(
            'get',
            '/api/v1/tickets/{id}/comments',
            { params: { path: { id }, query: { order: 'newest', limit: String(limit), ...(cursor ? { cursor } : {}) } } },
            { staleTime: 0, gcTime: 0 },
          ),
        ),
      ),
    [client, id],
  );

  useEffect(() => {
    current.current = null;
    setThread(null);
    setError(null);
  }, [id]);

  const keep = (next: Thread) => {
    current.current = next;
    setThread(next);
  };

  const refresh = useCallback(async (): Promise<Comment[]> => {
    const { data, problem } = await page(LATEST);
    if (showing.current !== id) return [];
    if (!data) {
      setError(problem.message);
      return [];
    }
    setError(null);
    const { thread: next, added } = withLatest(current.current, data);
    keep(next);
    return added;
  }, [id, page]);

  const showEarlier = useCallback(async () => {
    const from = current.current;
    // The button stays enabled while a page loads (disabling it would take the focus
    // from it); a second press meanwhile asks for nothing.
    if (!from?.older || loading.current) return 0;
    loading.current = true;
    setBusy(true);
    const { data, problem } = await page(EARLIER, from.older);
    setBusy(false);
    loading.current = false;
    if (showing.current !== id) return 0;
    if (!data) {
      setError(problem.message);
      return 0;
    }
    // A refresh may have started the thread again meanwhile: the page then continues
    // a thread no longer shown. New messages merged meanwhile are kept.
    const now = current.current;
    if (!now || now.older !== from.older) return 0;
    keep(withEarlier(now, data));
    return data.items.length;
  }, [id, page]);

  return { thread, error, busy, refresh, showEarlier };
}
