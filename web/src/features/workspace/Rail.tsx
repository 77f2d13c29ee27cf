// The workspace's navigation rail: the views with their counts, and the other panes.
import type { Me } from '../../lib/api';
import type { Pane } from './panes';
import { useCounts, useInbox } from './queries';
import { VIEWS, type View } from './views';

interface Props {
  me: Me;
  view: View;
  pane: Pane;
  onView: (v: View) => void;
  onPane: (p: Pane) => void;
  onShortcuts: () => void;
  onSignOut: () => void;
}

export function Rail({ me, view, pane, onView, onPane, onShortcuts, onSignOut }: Props) {
  const counts = useCounts().data;
  const inbox = useInbox().data;
  const current = (p: Pane) => (pane === p ? ('page' as const) : undefined);
  return (
    <nav className="rail" aria-label="Views">
      <p className="brand">ATUM Desk</p>
      <ul>
        {VIEWS.map((v) => (
          <li key={v.id}>
            <button type="button" aria-current={v.id === view.id ? 'page' : undefined} onClick={() => onView(v)}>
              <span>{v.label}</span>
              {/* The pill is there before the counts arrive, so nothing below moves
                  under a pointer on its way to a button when they do. */}
              {counts ? (
                <span className="count" data-testid={`count-${v.id}`}>
                  {counts[v.id]}
                </span>
              ) : (
                <span className="count" aria-hidden="true">
                  …
                </span>
              )}
            </button>
          </li>
        ))}
      </ul>
      <button type="button" className="new-ticket" aria-current={current('new')} onClick={() => onPane('new')}>
        New ticket
      </button>
      <button type="button" className="inbox" aria-current={current('inbox')} onClick={() => onPane('inbox')}>
        <span>Notifications</span>
        {inbox && inbox.unread > 0 && (
          <span className="count" data-testid="unread-notifications">
            {inbox.unread}
            <span className="sr-only"> unread</span>
          </span>
        )}
      </button>
      <button type="button" aria-current={current('dashboard')} onClick={() => onPane('dashboard')}>
        Dashboard
      </button>
      <button type="button" aria-current={current('kb')} onClick={() => onPane('kb')}>
        Knowledge base
      </button>
      {me.user.role === 'admin' && (
        <button type="button" aria-current={current('admin')} onClick={() => onPane('admin')}>
          Administration
        </button>
      )}
      <p className="who">{me.user.display_name}</p>
      <button type="button" aria-current={current('account')} onClick={() => onPane('account')}>
        Your account
      </button>
      <button type="button" className="shortcuts" onClick={onShortcuts}>
        Keyboard shortcuts (?)
      </button>
      <button type="button" onClick={onSignOut}>
        Sign out
      </button>
    </nav>
  );
}
