import { cleanup, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Schemas } from '../../lib/api';
import { DraftReply } from './Draft';
import { renderWithQueries } from '../../lib/testing';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

// "Grüße" has multi-byte letters: the API's offsets count UTF-8 bytes.
const body = 'Hallo Jörg,\n\nÖffnen Sie die Einstellungen. Drücken Sie Reset.';
const bytes = (s: string) => new TextEncoder().encode(s).length;
const quoteStart = bytes('Hallo Jörg,\n\n');

const draft = (extra: Partial<Schemas['DraftView']> = {}): Schemas['DraftView'] => ({
  id: 9,
  body,
  confidence: 0.71,
  language: 'deu',
  status: 'pending',
  created_at: '2026-12-01T08:00:00Z',
  citations: [
    {
      start: quoteStart,
      end: bytes(body),
      source: 'article',
      source_id: 4,
      chunk_id: 40,
      title: 'Reset — Schritte',
      quote_start: 0,
      quote_end: bytes(body) - quoteStart,
      content_hash: 'ab',
      current: true,
    },
  ],
  ...extra,
});

const json = (b: unknown) => new Response(JSON.stringify(b), { status: 200, headers: { 'Content-Type': 'application/json' } });

describe('DraftReply', () => {
  it('marks each quote with its source, counting the offsets in bytes', () => {
    renderWithQueries(<DraftReply ticketId={5} draft={draft()} onDecided={() => {}} onInsert={() => {}} onOpenTicket={() => {}} />);
    const quote = screen.getByText(/Öffnen Sie die Einstellungen/);
    expect(quote.textContent).toBe('Öffnen Sie die Einstellungen. Drücken Sie Reset.[1]');
    expect(screen.getByRole('list', { name: 'Sources of the draft' }).textContent).toContain('Reset — Schritte');
  });

  it('inserts the draft into the reply after recording it, and says when it cannot', async () => {
    const fetch = vi.fn(async (_request: Request) => json(draft({ status: "inserted" })));
    vi.stubGlobal('fetch', fetch);
    const inserted: string[] = [];
    const decided: string[] = [];
    renderWithQueries(
      <DraftReply ticketId={5} draft={draft()} onDecided={(d) => decided.push(d.status)} onInsert={(t) => inserted.push(t)} onOpenTicket={() => {}} />,
    );
    await userEvent.click(screen.getByRole('button', { name: 'Insert into the reply (i)' }));
    expect(inserted).toEqual([body]);
    expect(decided).toEqual(['inserted']);
    const request = fetch.mock.calls[0][0];
    expect(request.url).toContain('/api/v1/tickets/5/ai/drafts/9');
    expect(await request.json()).toEqual({ verdict: 'inserted' });

    cleanup();
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ error: { code: 'draft_superseded', message: 'this draft is superseded' } }), { status: 409, headers: { 'Content-Type': 'application/json' } })));
    const none: string[] = [];
    renderWithQueries(<DraftReply ticketId={5} draft={draft()} onDecided={() => {}} onInsert={(t) => none.push(t)} onOpenTicket={() => {}} />);
    await userEvent.click(screen.getByRole('button', { name: 'Insert into the reply (i)' }));
    expect((await screen.findByRole('alert')).textContent).toContain('superseded');
    expect(none).toEqual([]);
  });

  it('shows a sentence a model worded once, with every source it cites', () => {
    const worded = 'Hi Ana,\n\nReset the token and sign in again.';
    const start = bytes('Hi Ana,\n\n');
    const cite = (chunk: number, title: string): Schemas['CitationView'] => ({
      start,
      end: bytes(worded),
      source: 'article',
      source_id: chunk,
      chunk_id: chunk,
      title,
      quote_start: 0,
      quote_end: 10,
      content_hash: 'cd',
      current: true,
    });
    const d = draft({ body: worded, worded_by: 'llama3.2', citations: [cite(1, 'Tokens'), cite(2, 'Signing in')] });
    renderWithQueries(<DraftReply ticketId={5} draft={d} onDecided={() => {}} onInsert={() => {}} onOpenTicket={() => {}} />);
    expect(screen.getByTestId('draft-body').textContent).toBe('Hi Ana,\n\nReset the token and sign in again.[1][2]');
    expect(screen.getByText(/Worded by llama3.2 from 2/)).toBeTruthy();
    expect(screen.getByRole('list', { name: 'Sources of the draft' }).querySelectorAll('li')).toHaveLength(2);
  });

  it('says when nothing answered closely enough', () => {
    renderWithQueries(<DraftReply ticketId={5} draft={draft({ status: 'empty', body: '', citations: [] })} onDecided={() => {}} onInsert={() => {}} onOpenTicket={() => {}} />);
    expect(screen.getByRole('status').textContent).toContain('nothing in the public articles');
    expect(screen.queryByRole('button', { name: /Insert/ })).toBeNull();
  });
});
