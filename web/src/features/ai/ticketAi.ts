// The ticket's AI view (its triage, suggested articles and draft reply), as one query.
import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect } from 'react';
import type { Schemas } from '../../lib/api';
import { $api } from '../../lib/query';

type TicketAi = Schemas['TicketAi'];

/** How long to look again for what the AI has not made yet, and how often. */
const POLL_MS = 3_000;
const POLLS = 20;

const waiting = (ai: TicketAi | undefined) => !ai?.triage || !ai.kb || !ai.draft || ai.draft.wording === 'asked';

/**
 * The ticket's AI view, looked for again every few seconds until the jobs that make
 * it have run (a language model wording the draft included), and again when the
 * ticket changed (a customer's message brings new ones). Returns the view, a setter
 * for what a decision on it changed, and `refresh` to look again now.
 */
export function useTicketAi(ticketId: number, changedAt: number) {
  const init = { params: { path: { id: ticketId } } };
  const query = $api.useQuery('get', '/api/v1/tickets/{id}/ai', init, {
    refetchInterval: (q) => (waiting(q.state.data) && q.state.dataUpdateCount < POLLS ? POLL_MS : false),
  });
  const { refetch } = query;
  useEffect(() => {
    if (changedAt) void refetch();
  }, [changedAt, refetch]);
  const client = useQueryClient();
  const key = $api.queryOptions('get', '/api/v1/tickets/{id}/ai', init).queryKey;
  const setAi = useCallback(
    (next: TicketAi | ((prev: TicketAi | null) => TicketAi | null)) =>
      client.setQueryData<TicketAi>(key, (prev) => (typeof next === 'function' ? next(prev ?? null) : next) ?? undefined),
    // The key is rebuilt each render; its id is what identifies it.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [client, ticketId],
  );
  /** Looks again now (after one's own reply, which may have sent the draft). */
  const refresh = useCallback(() => void refetch(), [refetch]);
  return [query.data ?? null, setAi, refresh, query] as const;
}
