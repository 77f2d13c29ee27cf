// A ticket's history tab: its journal, newest first, a page at a time.
import { Pending } from '../../components/Failed';
import type { Schemas } from '../../lib/api';
import { usePages } from '../../lib/query';
import { actorName, nameOf } from './names';

/** "status, assignee" from an update's `after`. */
function changedFields(after: unknown): string {
  return Object.keys(after as Record<string, unknown>)
    .map((k) => k.replace(/_id$/, '').replaceAll('_', ' '))
    .join(', ');
}

export function History({ id, people }: { id: number; people: Schemas['User'][] }) {
  const history = usePages<Schemas['EventPage']>(
    '/api/v1/tickets/{id}/history',
    { params: { path: { id }, query: { order: 'newest' } } },
    'cursor',
    (last) => last.next_cursor ?? undefined,
  );
  const events = history.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <>
      <Pending query={history} what="history" />
      <ol className="history" aria-label="History, newest first">
        {events.map((h) => (
          <li key={h.id} data-testid="history-event">
            <span className="when">{new Date(h.created_at).toLocaleString()}</span> <strong>{h.event_type.replaceAll('_', ' ')}</strong>
            {h.event_type === 'updated' && h.after ? ` (${changedFields(h.after)})` : ''} by{' '}
            {h.actor_kind === 'user' ? nameOf(people, h.actor_id) : actorName(h.actor_kind)}
          </li>
        ))}
        {history.hasNextPage && (
          <li>
            <button type="button" onClick={() => void history.fetchNextPage()}>
              Show older events
            </button>
          </li>
        )}
      </ol>
    </>
  );
}
