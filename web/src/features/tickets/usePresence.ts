// Who else has this ticket open, and whether they are typing; and this agent's own
// presence: here while the ticket is open, renewed by a heartbeat, gone on close.
import { useEffect, useRef, useState } from 'react';
import type { Schemas } from '../../lib/api';
import { deleteOnLeave } from '../../lib/beacon';
import { $api, attempt } from '../../lib/query';

/** How often the open view says it is still here (the server's lease is 15 s). */
const HEARTBEAT_MS = 5_000;
/** Typing within this long counts as typing. */
const TYPING_MS = 4_000;

/**
 * Returns the viewers and `typed`, to call on each keystroke: the first one after a
 * quiet spell says "typing" at once rather than at the next heartbeat.
 */
export function usePresence(id: number, presenceAt: number | null) {
  const [viewers, setViewers] = useState<Schemas['Viewer'][]>([]);
  const lastTyped = useRef(0);
  const beat = useRef<() => void>(() => {});
  const here = $api.useMutation('put', '/api/v1/tickets/{id}/presence');
  const { mutateAsync } = here;

  useEffect(() => {
    let open = true;
    let sentTyping = false;
    const send = async () => {
      const typing = Date.now() - lastTyped.current < TYPING_MS;
      sentTyping = typing;
      // A missed heartbeat is made up by the next; the lease outlasts two.
      const { data } = await attempt(mutateAsync({ params: { path: { id } }, body: { typing } }));
      if (data && open) setViewers(data.items);
    };
    beat.current = () => {
      if (!sentTyping) void send();
    };
    void send();
    const timer = window.setInterval(() => void send(), HEARTBEAT_MS);
    const leave = () => deleteOnLeave(`/api/v1/tickets/${id}/presence`);
    window.addEventListener('pagehide', leave);
    return () => {
      open = false;
      window.clearInterval(timer);
      window.removeEventListener('pagehide', leave);
      leave();
    };
  }, [id, mutateAsync]);

  // The feed said who is here changed: ask.
  const asked = $api.useQuery('get', '/api/v1/tickets/{id}/presence', { params: { path: { id } } }, { enabled: presenceAt !== null });
  const { refetch } = asked;
  useEffect(() => {
    if (presenceAt !== null) void refetch();
  }, [presenceAt, refetch]);
  useEffect(() => {
    if (asked.data) setViewers(asked.data.items);
  }, [asked.data]);

  const typed = () => {
    lastTyped.current = Date.now();
    beat.current();
  };
  return { viewers, typed };
}
