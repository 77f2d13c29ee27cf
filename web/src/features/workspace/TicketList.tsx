// The virtualised ticket list of a view, with its badges and SLA due times.
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef } from 'react';
import type { Schemas, Ticket } from '../../lib/api';
import { dueLabel } from '../../lib/tickets';

interface Props {
  tickets: Ticket[];
  /** Who is on which ticket now, by ticket id. */
  activity: Map<number, Schemas['Activity']>;
  selectedId: number | null;
  onSelect: (id: number) => void;
  onNearEnd: () => void;
  label: string;
}

const ROW = 56;

/**
 * The ticket list. Only the rows in view (and a few around them) are in the DOM, so a
 * view of 10,000 tickets scrolls as smoothly as one of ten; rows keep their identity by
 * ticket id, so a live refresh keeps the scroll position and the selection.
 */
export function TicketList({ tickets, activity, selectedId, onSelect, onNearEnd, label }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({
    count: tickets.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW,
    overscan: 8,
    getItemKey: (i) => tickets[i]?.id ?? i,
  });
  const items = virtual.getVirtualItems();
  const last = items[items.length - 1];
  useEffect(() => {
    if (last && last.index >= tickets.length - 20) onNearEnd();
  }, [last, tickets.length, onNearEnd]);
  const selectedIndex = tickets.findIndex((t) => t.id === selectedId);
  useEffect(() => {
    if (selectedIndex >= 0) virtual.scrollToIndex(selectedIndex, { align: 'auto' });
  }, [selectedIndex, virtual]);

  return (
    <div
      ref={scroller}
      className="ticket-list"
      role="listbox"
      aria-label={label}
      aria-activedescendant={selectedId ? `ticket-${selectedId}` : undefined}
      tabIndex={0}
      data-testid="ticket-list"
      data-count={tickets.length}
    >
      <div style={{ height: virtual.getTotalSize(), position: 'relative' }}>
        {items.map((row) => {
          const t = tickets[row.index];
          if (!t) return null;
          const overdue = (t.time_to_breach_minutes ?? 1) < 0 || Boolean(t.sla_breached_at);
          return (
            <div
              key={row.key}
              id={`ticket-${t.id}`}
              role="option"
              aria-selected={t.id === selectedId}
              className={`ticket-row${t.id === selectedId ? ' selected' : ''}`}
              style={{ transform: `translateY(${row.start}px)`, height: ROW }}
              onClick={() => onSelect(t.id)}
            >
              <span className="number">#{t.number}</span>
              <span className="subject">{t.subject}</span>
              <span className={`badge status-${t.status}`}>{t.status.replace('_', ' ')}</span>
              <span className={`badge priority-${t.priority}`}>{t.priority}</span>
              {t.time_to_breach_minutes !== null && t.time_to_breach_minutes !== undefined && (
                <span className={`sla${overdue ? ' overdue' : ''}`}>{dueLabel(t.time_to_breach_minutes)}</span>
              )}
              <OnTicket activity={activity.get(t.id)} />
            </div>
          );
        })}
      </div>
    </div>
  );
}

/** The lock holder and the other viewers of a row's ticket, as small badges. */
function OnTicket({ activity }: { activity: Schemas['Activity'] | undefined }) {
  if (!activity) return null;
  const holder = activity.lock_holder;
  const others = activity.viewers.filter((v) => !v.me && v.user_id !== holder?.user_id);
  if (!holder && others.length === 0) return null;
  const words = [
    ...(holder ? [`${holder.me ? 'you are' : `${holder.display_name} is`} answering`] : []),
    ...others.map((v) => `${v.display_name} is ${v.typing ? 'typing' : 'viewing'}`),
  ].join(', ');
  return (
    <span className="on-ticket" title={words} data-testid="on-ticket">
      {holder && (
        <span className="lock-badge" aria-hidden="true">
          🔒 {holder.me ? 'you' : holder.display_name}
        </span>
      )}
      {others.slice(0, 3).map((v) => (
        <span key={v.user_id} className={`avatar small${v.typing ? ' typing' : ''}`} aria-hidden="true">
          {v.display_name.slice(0, 1).toUpperCase()}
        </span>
      ))}
      {others.length > 3 && <span aria-hidden="true">+{others.length - 3}</span>}
      <span className="sr-only">{words}</span>
    </span>
  );
}
