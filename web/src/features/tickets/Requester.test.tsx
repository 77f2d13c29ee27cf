import { cleanup, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ago, Requester } from './Requester';
import { renderWithQueries } from '../../lib/testing';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });

const person = (id: number, name: string) => ({
  id,
  display_name: name,
  email: `${name.toLowerCase()}@example.com`,
  domain: 'example.com',
  role: 'customer',
  is_active: true,
  language: 'de',
  since: '2026-01-01T00:00:00Z',
  last_seen_at: null,
  tickets: 3,
  open_tickets: 1,
  open: [],
  recent: [],
});

describe('Requester', () => {
  it('says it is loading, and never shows the last ticket’s requester beside the next ticket', async () => {
    let release: (r: Response) => void = () => {};
    const fetch = vi.fn(async (request: Request) =>
      request.url.includes('/tickets/1/') ? json(person(10, 'Maria')) : new Promise<Response>((r) => (release = r)),
    );
    vi.stubGlobal('fetch', fetch);
    const props = { changedAt: 0, onOpenTicket: () => {}, wide: true };
    const { rerender } = renderWithQueries(<Requester ticketId={1} {...props} />);
    expect(screen.getByText('Loading…')).toBeTruthy();
    expect(await screen.findByText('Maria')).toBeTruthy();
    expect(screen.getByText('German')).toBeTruthy();
    expect(screen.getByText('never signed in')).toBeTruthy();

    rerender(<Requester ticketId={2} {...props} />);
    expect(screen.queryByText('Maria')).toBeNull();
    expect(screen.getByText('Loading…')).toBeTruthy();
    release(json(person(11, 'Jonas')));
    expect(await screen.findByText('Jonas')).toBeTruthy();
  });

  it('counts time since the last visit in the largest unit that fits', () => {
    const now = Date.parse('2026-12-05T12:00:00Z');
    expect(ago('2026-12-05T11:59:40Z', now)).toBe('just now');
    expect(ago('2026-12-05T11:57:00Z', now)).toBe('3 minutes ago');
    expect(ago('2026-12-05T11:00:00Z', now)).toBe('1 hour ago');
    expect(ago('2026-12-03T12:00:00Z', now)).toBe('2 days ago');
  });
});
