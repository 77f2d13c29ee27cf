// The signed-in person's notifications: escalations of tickets they are responsible for.
import { useEffect, useRef } from 'react';
import type { Schemas } from '../../lib/api';
import { $api, asProblem } from '../../lib/query';
import { Pending } from '../../components/Failed';
import { useInbox } from './queries';

interface Props {
  onOpenTicket: (id: number) => void;
}

/**
 * The signed-in person's notifications: the SLA's and the AI's escalations of tickets
 * they are responsible for. Opening one marks it read.
 */
export function Notifications({ onOpenTicket }: Props) {
  const query = useInbox();
  const inbox = query.data ?? null;
  const onChanged = () => void query.refetch();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);

  const markRead = $api.useMutation('post', '/api/v1/notifications/{id}/read', { onSettled: onChanged });
  const markAllRead = $api.useMutation('post', '/api/v1/notifications/read', { onSettled: onChanged });
  const failed = markRead.error ?? markAllRead.error;

  const open = (n: Schemas['NotificationView']) => {
    if (!n.read_at) markRead.mutate({ params: { path: { id: n.id } } });
    if (n.ticket_id) onOpenTicket(n.ticket_id);
  };
  const readAll = () => markAllRead.mutate({});

  return (
    <section className="notifications" aria-labelledby="notifications-title">
      <h1 id="notifications-title" ref={heading} tabIndex={-1}>
        Notifications
      </h1>
      {failed && (
        <p className="error" role="alert">
          Could not mark it read: {asProblem(failed).message}
        </p>
      )}
      {inbox === null ? (
        <Pending query={query} what="notifications" />
      ) : (
        <>
          <p role="status">{inbox.unread === 0 ? 'Nothing unread.' : `${inbox.unread} unread.`}</p>
          {inbox.unread > 0 && (
            <button type="button" onClick={readAll}>
              Mark all read
            </button>
          )}
          {inbox.items.length === 0 ? (
            <p>No notifications yet: escalations of tickets you are responsible for arrive here.</p>
          ) : (
            <ul>
              {inbox.items.map((n) => (
                <li key={n.id} className={n.read_at ? 'read' : 'unread'} data-testid="notification">
                  <button type="button" className="link" onClick={() => open(n)}>
                    {n.read_at ? '' : <span className="sr-only">Unread: </span>}
                    {n.text}
                    {n.ticket_subject ? ` — ${n.ticket_subject}` : ''}
                  </button>
                  <span className="when">{new Date(n.created_at).toLocaleString()}</span>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
}
