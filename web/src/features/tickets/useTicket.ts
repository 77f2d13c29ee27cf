// One ticket and its SLA clocks as queries, and its changes: sent one after another,
// each with the version the previous one returned.
import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useRef, useState } from 'react';
import type { Schemas, TicketView } from '../../lib/api';
import { $api, attempt } from '../../lib/query';

export function useTicket(id: number) {
  const init = { params: { path: { id } } };
  const ticket = $api.useQuery('get', '/api/v1/tickets/{id}', init);
  const sla = $api.useQuery('get', '/api/v1/tickets/{id}/sla', init);
  const patch = $api.useMutation('patch', '/api/v1/tickets/{id}');
  const client = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  const key = $api.queryOptions('get', '/api/v1/tickets/{id}', init).queryKey;

  const { refetch: refetchTicket } = ticket;
  const { refetch: refetchSla } = sla;
  const reload = useCallback(async () => {
    await Promise.all([refetchTicket(), refetchSla()]);
  }, [refetchTicket, refetchSla]);

  // A tag edit right after an assignment is not refused as stale: each change waits
  // for the one before and sends the version it returned.
  const queue = useRef<Promise<void>>(Promise.resolve());
  const apply = async (body: Schemas['TicketChange']) => {
    const current = client.getQueryData<TicketView>(key);
    if (!current) return;
    const { data, problem } = await attempt(
      patch.mutateAsync({ params: { path: { id }, header: { 'If-Match': `"${current.version}"` } }, body }),
    );
    if (data) {
      setError(null);
      client.setQueryData<TicketView>(key, { ...current, ...data });
      // Status and priority move the SLA clocks (a pause, another policy).
      void refetchSla();
    } else {
      setError(problem.code === 'version_mismatch' ? 'Someone changed this ticket meanwhile; it has been reloaded.' : problem.message);
      await reload();
    }
  };
  const change = (body: Schemas['TicketChange']) => {
    queue.current = queue.current.then(() => apply(body));
    return queue.current;
  };

  return { ticket, sla: sla.data ?? null, reload, change, error };
}
