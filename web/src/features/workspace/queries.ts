// What the workspace's rail and list show beside the tickets: the views' counts, the
// notifications inbox and who is on which ticket, each one cached query.
import { useMemo } from 'react';
import type { Schemas } from '../../lib/api';
import { $api } from '../../lib/query';

/** An SLA's escalation changes no ticket: the inbox is also asked for every minute. */
const INBOX_POLL_MS = 60_000;

export function useCounts() {
  return $api.useQuery('get', '/api/v1/tickets/counts');
}

export function useInbox() {
  return $api.useQuery('get', '/api/v1/notifications', undefined, { refetchInterval: INBOX_POLL_MS });
}

/** Who is on which ticket (viewers, lock holders), by ticket, for the list's badges. */
export function useActivity() {
  const query = $api.useQuery('get', '/api/v1/tickets/activity');
  const byTicket = useMemo(
    () => new Map<number, Schemas['Activity']>((query.data?.items ?? []).map((a) => [a.ticket_id, a])),
    [query.data],
  );
  return [byTicket, query] as const;
}
