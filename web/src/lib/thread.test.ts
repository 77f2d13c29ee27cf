import { describe, expect, it } from 'vitest';
import type { Comment } from './api';
import { earlier, earlierLabel, withEarlier, withLatest } from './thread';

const c = (id: number, minute = id): Comment => ({
  id,
  ticket_id: 1,
  author_id: 2,
  author_name: 'Ada',
  visibility: 'public',
  body: `message ${id}`,
  created_at: new Date(Date.UTC(2026, 11, 5, 9, minute)).toISOString(),
  attachments: [],
});
/** The API's page: newest first. */
const page = (ids: number[], total: number, next?: string) => ({ items: ids.map((id) => c(id)).reverse(), total, next_cursor: next ?? null });

describe('withLatest', () => {
  it('shows the newest page oldest first and counts what is not loaded', () => {
    const { thread, added } = withLatest(null, page([81, 82, 83], 83, 'older'));
    expect(thread.items.map((m) => m.id)).toEqual([81, 82, 83]);
    expect(earlier(thread)).toBe(80);
    expect(thread.older).toBe('older');
    expect(added).toEqual([]);
  });

  it('adds what arrived after the loaded messages and says which arrived', () => {
    const { thread: start } = withLatest(null, page([81, 82, 83], 83, 'older'));
    const { thread, added } = withLatest(start, page([82, 83, 84, 85], 85, 'x'));
    expect(thread.items.map((m) => m.id)).toEqual([81, 82, 83, 84, 85]);
    expect(added.map((m) => m.id)).toEqual([84, 85]);
    expect(thread.older).toBe('older');
    expect(earlier(thread)).toBe(80);
  });

  it('starts again from the newest page when more arrived than one page holds', () => {
    const { thread: start } = withLatest(null, page([1, 2], 2));
    const { thread } = withLatest(start, page([40, 41, 42], 42, 'gap'));
    expect(thread.items.map((m) => m.id)).toEqual([40, 41, 42]);
    expect(earlier(thread)).toBe(39);
    expect(thread.older).toBe('gap');
  });

  it('starts again when the count moved by more than what arrived (messages merged in)', () => {
    const { thread: start } = withLatest(null, page([5, 6], 6, 'older'));
    const { thread } = withLatest(start, page([6, 7], 9, 'older2'));
    expect(thread.items.map((m) => m.id)).toEqual([6, 7]);
    expect(thread.older).toBe('older2');
  });

  it('orders a message that committed late by when it was written', () => {
    const { thread: start } = withLatest(null, page([10, 12], 2));
    const late = { items: [c(12), c(11, 11), c(10)], total: 3, next_cursor: null };
    expect(withLatest(start, late).thread.items.map((m) => m.id)).toEqual([10, 11, 12]);
  });
});

describe('withEarlier', () => {
  it('puts the page before the loaded messages and continues from it', () => {
    const { thread: start } = withLatest(null, page([81, 82, 83], 83, 'older'));
    const more = withEarlier(start, page([79, 80], 83, 'older still'));
    expect(more.items.map((m) => m.id)).toEqual([79, 80, 81, 82, 83]);
    expect(more.older).toBe('older still');
    expect(earlier(more)).toBe(78);
    const last = withEarlier(more, page([1, 2], 83));
    expect(last.older).toBeNull();
  });
});

describe('earlierLabel', () => {
  it('counts what is not loaded and offers at most a page of it', () => {
    const items = Array.from({ length: 20 }, (_, i) => ({ id: i + 1 }) as never);
    expect(earlierLabel({ items, total: 20_000, older: 'c' })).toBe('19,980 earlier messages: show 100 more');
    expect(earlierLabel({ items, total: 21, older: 'c' })).toBe('1 earlier message: show 1 more');
  });
});
