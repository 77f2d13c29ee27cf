// The person who asked, beside their ticket: who they are, their language, when they
// were last here, and their other tickets (o moves to them from the keyboard).
import { forwardRef, type MouseEvent, useEffect, useImperativeHandle, useRef, useState } from 'react';
import type { Schemas } from '../../lib/api';
import { $api, asProblem } from '../../lib/query';

export interface RequesterHandle {
  /** Puts the focus on their first other ticket (or on the panel when there is none). */
  focusTickets: () => void;
}

interface Props {
  ticketId: number;
  /** Bumped when the ticket changed (its status moves it between the lists). */
  changedAt: number;
  onOpenTicket: (id: number) => void;
  /** Beside the conversation (a wide pane): the other tickets are listed open. */
  wide: boolean;
}

const languages = typeof Intl.DisplayNames === 'function' ? new Intl.DisplayNames(['en'], { type: 'language' }) : null;
const languageName = (code: string) => {
  try {
    return languages?.of(code) ?? code;
  } catch {
    return code;
  }
};

/** "3 minutes ago", "2 days ago": when they were last seen. */
export function ago(at: string, now = Date.now()): string {
  const minutes = Math.round((now - Date.parse(at)) / 60_000);
  if (minutes < 1) return 'just now';
  const [n, unit] = minutes < 60 ? [minutes, 'minute'] : minutes < 1440 ? [Math.round(minutes / 60), 'hour'] : [Math.round(minutes / 1440), 'day'];
  return `${n} ${unit}${n === 1 ? '' : 's'} ago`;
}

export const Requester = forwardRef<RequesterHandle, Props>(function Requester({ ticketId, changedAt, onOpenTicket, wide }, ref) {
  const requester = $api.useQuery('get', '/api/v1/tickets/{id}/requester', { params: { path: { id: ticketId } } });
  const person = requester.data ?? null;
  const error = requester.isError ? asProblem(requester.error).message : null;
  const { refetch } = requester;
  const panel = useRef<HTMLElement>(null);
  const others = useRef<HTMLDetailsElement>(null);
  // Folded in one column (the conversation comes first there), unfolded beside it.
  const [unfolded, setUnfolded] = useState(wide);
  useEffect(() => setUnfolded(wide), [wide]);

  // Another ticket is another query, so its requester is not the last one's, not even
  // for a moment; a change to this ticket asks again.
  useEffect(() => {
    if (changedAt) void refetch();
  }, [changedAt, refetch]);

  useImperativeHandle(ref, () => ({
    focusTickets: () => {
      if (others.current) others.current.open = true;
      const first = panel.current?.querySelector<HTMLAnchorElement>('a[data-ticket]');
      (first ?? panel.current)?.focus();
    },
  }));

  const open = (e: MouseEvent<HTMLAnchorElement>, id: number) => {
    // A modified click opens a new tab, as on any link.
    if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    onOpenTicket(id);
  };
  const list = (items: Schemas['TicketSummary'][], label: string) => (
    <ul aria-label={label}>
      {items.map((t) => (
        <li key={t.id}>
          <a href={`/app/tickets/${t.id}`} data-ticket onClick={(e) => open(e, t.id)}>
            #{t.number} {t.subject}
          </a>{' '}
          <span className="status">{t.status.replace('_', ' ')}</span>
        </li>
      ))}
    </ul>
  );

  return (
    <section className="requester" aria-labelledby="requester-title" ref={panel} tabIndex={-1}>
      <h3 id="requester-title">Requester</h3>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {!person && !error && <p className="none">Loading…</p>}
      {person && (
        <>
          <p className="who">
            <strong>{person.display_name}</strong>
            {!person.is_active && ' (deactivated)'}
            {person.role !== 'customer' && ` (${person.role})`}
            <br />
            <a href={`mailto:${person.email}`}>{person.email}</a>
          </p>
          <dl>
            <dt>Domain</dt>
            <dd>{person.domain}</dd>
            <dt>Language</dt>
            <dd>{person.language ? languageName(person.language) : 'not known yet'}</dd>
            <dt>Last seen</dt>
            <dd>
              {person.last_seen_at ? <time dateTime={person.last_seen_at} title={new Date(person.last_seen_at).toLocaleString()}>{ago(person.last_seen_at)}</time> : 'never signed in'}
            </dd>
            <dt>Tickets</dt>
            <dd>
              {person.tickets} in all, {person.open_tickets} open
            </dd>
          </dl>
          {person.open.length + person.recent.length === 0 ? (
            <p className="none">No other tickets.</p>
          ) : (
            <details ref={others} open={unfolded} onToggle={(e) => setUnfolded(e.currentTarget.open)}>
              <summary>
                Other tickets (o): {person.open.length} open, {person.recent.length} solved or closed
              </summary>
              {person.open.length > 0 && list(person.open, 'Their other open tickets')}
              {person.recent.length > 0 && list(person.recent, 'Their recently solved tickets')}
            </details>
          )}
        </>
      )}
    </section>
  );
});
