import { useEffect, useRef } from 'react';
import { api, type Schemas } from './api';

interface Props {
  inbox: Schemas['Inbox'] | null;
  /** Asks for the inbox again (after marking something read). */
  onChanged: () => void;
  onOpenTicket: (id: number) => void;
}

/**
 * The signed-in person's notifications: the SLA's and the AI's escalations of tickets
 * they are responsible for. Opening one marks it read.
 */
export function Notifications({ inbox, onChanged, onOpenTicket }: Props) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);

  const open = async (n: Schemas['NotificationView']) => {
    if (!n.read_at) await api.POST('/api/v1/notifications/{id}/read', { params: { path: { id: n.id } } });
    onChanged();
    if (n.ticket_id) onOpenTicket(n.ticket_id);
  };
  const readAll = async () => {
    await api.POST('/api/v1/notifications/read');
    onChanged();
  };

  return (
    <section className="notifications" aria-labelledby="notifications-title">
      <h1 id="notifications-title" ref={heading} tabIndex={-1}>
        Notifications
      </h1>
      {inbox === null ? (
        <p role="status">Loading…</p>
      ) : (
        <>
          <p role="status">{inbox.unread === 0 ? 'Nothing unread.' : `${inbox.unread} unread.`}</p>
          {inbox.unread > 0 && (
            <button type="button" onClick={() => void readAll()}>
              Mark all read
            </button>
          )}
          {inbox.items.length === 0 ? (
            <p>No notifications yet: escalations of tickets you are responsible for arrive here.</p>
          ) : (
            <ul>
              {inbox.items.map((n) => (
                <li key={n.id} className={n.read_at ? 'read' : 'unread'} data-testid="notification">
                  <button type="button" className="link" onClick={() => void open(n)}>
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
