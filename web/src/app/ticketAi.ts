import { useEffect, useState } from 'react';
import { api, type Schemas } from './api';

/** How long to look again for what the AI has not made yet, and how often. */
const POLL_MS = 3_000;
const POLLS = 20;

/**
 * The ticket's AI view (its triage, articles and draft reply), looked for again every
 * few seconds until the jobs that make them have run (a language model wording the
 * draft included), and again when the ticket
 * changed (a customer's message brings new ones).
 */
export function useTicketAi(ticketId: number, changedAt: number) {
  const [ai, setAi] = useState<Schemas['TicketAi'] | null>(null);
  const [asked, setAsked] = useState(0);
  useEffect(() => {
    setAi(null);
  }, [ticketId]);
  useEffect(() => {
    let live = true;
    let timer = 0;
    let tries = 0;
    const look = async () => {
      const { data } = await api.GET('/api/v1/tickets/{id}/ai', { params: { path: { id: ticketId } } });
      if (!live) return;
      if (data) setAi(data);
      const waiting = !data?.triage || !data.kb || !data.draft || data.draft.wording === 'asked';
      if (waiting && ++tries < POLLS) timer = window.setTimeout(() => void look(), POLL_MS);
    };
    void look();
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [ticketId, changedAt, asked]);
  /** Looks again now (after one's own reply, which may have sent the draft). */
  const refresh = () => setAsked((n) => n + 1);
  return [ai, setAi, refresh] as const;
}

/** The text between two UTF-8 byte offsets of `text` (the API counts in bytes). */
export function byteSlice(text: string, start: number, end: number): string {
  const bytes = new TextEncoder().encode(text);
  return new TextDecoder().decode(bytes.slice(start, end));
}
