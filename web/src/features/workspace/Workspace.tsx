// The agent workspace: the rail, the live list of the chosen view, and the open pane.
import { lazy, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Loading } from '../../components/Loading';
import type { FeedEntry, Me } from '../../lib/api';
import { usePeople, useGroups } from '../../lib/directory';
import { useLiveFeed } from '../../lib/live';
import { useInvalidate, useThrottle } from '../../lib/query';
import { Profile } from '../account';
import { TicketView, type TicketViewHandle } from '../tickets';
import { ListPane, type Search } from './ListPane';
import { NewTicket } from './NewTicket';
import { Notifications } from './Notifications';
import { Palette } from './Palette';
import type { Pane } from './panes';
import { useActivity } from './queries';
import { Rail } from './Rail';
import { ShortcutsHelp, useShortcuts } from './Shortcuts';
import { useTicketList } from './useTicketList';
import { filterQuery, NO_FILTERS, VIEWS, type View } from './views';

interface Props {
  me: Me;
  onSignOut: () => void;
}

const PAGE = '100';
// The charts (uPlot) load only when the dashboard is opened.
const Dashboard = lazy(() => import('../dashboard'));
// So does the knowledge base.
const Knowledge = lazy(() => import('../kb'));
// And the admin console.
const Admin = lazy(() => import('../admin'));

function ticketFromPath(): number | null {
  const m = /^\/app\/tickets\/(\d+)/.exec(window.location.pathname);
  return m ? Number(m[1]) : null;
}

export function Workspace({ me, onSignOut }: Props) {
  const [view, setView] = useState<View>(VIEWS[2]);
  const [search, setSearch] = useState<Search>({ text: '', sort: '-created_at', filters: NO_FILTERS });
  const [pane, setPane] = useState<Pane>('ticket');
  const [lastChange, setLastChange] = useState(0);
  const [selected, setSelected] = useState<number | null>(ticketFromPath());
  const [changed, setChanged] = useState<{ id: number; actor_id: number | null; actor_kind: string; at: number } | null>(null);
  const [presenceAt, setPresenceAt] = useState<{ id: number; at: number } | null>(null);
  const [announcement, setAnnouncement] = useState('');
  const [help, setHelp] = useState(false);
  const [palette, setPalette] = useState(false);
  const ticketView = useRef<TicketViewHandle>(null);
  // Everyone in the organisation, for names (authors, requesters) and the assignee list.
  const people = usePeople();
  const groups = useGroups();
  const [activity] = useActivity();

  const query = useMemo(
    () => ({
      ...view.query,
      ...filterQuery(search.filters),
      ...(search.text.trim() ? { q: search.text.trim() } : {}),
      sort: search.sort,
      limit: PAGE,
    }),
    [view, search],
  );
  const list = useTicketList(query);

  // The rail's counts, asked again at most once a second while changes stream in (an
  // escalation is a change to its ticket, so the notifications with them); who is on
  // which ticket at most every half second.
  const invalidate = useInvalidate();
  const refreshCounts = useThrottle(() => {
    void invalidate('/api/v1/tickets/counts');
    void invalidate('/api/v1/notifications');
  }, 1_000);
  const refreshActivity = useThrottle(() => void invalidate('/api/v1/tickets/activity'), 500);

  const onEntry = (e: FeedEntry) => {
    refreshCounts();
    setLastChange(Date.now());
    if (e.ticket_id === selected) setChanged({ id: e.ticket_id, actor_id: e.actor_id ?? null, actor_kind: e.actor_kind, at: Date.now() });
    if (e.kind === 'created') setAnnouncement('A new ticket arrived.');
    void list.apply(e);
  };
  useLiveFeed(
    onEntry,
    () => {
      refreshCounts();
      refreshActivity();
      void list.refresh();
    },
    (id) => {
      setPresenceAt({ id, at: Date.now() });
      refreshActivity();
    },
  );

  const open = useCallback((id: number | null) => {
    setPane('ticket');
    setSelected(id);
    window.history.pushState(null, '', id ? `/app/tickets/${id}` : '/app/');
  }, []);
  useEffect(() => {
    const onPop = () => setSelected(ticketFromPath());
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  const move = (step: number) => {
    const { tickets } = list;
    if (tickets.length === 0) return;
    const at = tickets.findIndex((t) => t.id === selected);
    const next = Math.min(tickets.length - 1, Math.max(0, at < 0 ? 0 : at + step));
    open(tickets[next].id);
  };
  useShortcuts({
    move,
    onTicket: selected
      ? (key) => {
          const t = ticketView.current;
          if (key === 'r') t?.focusComposer('public');
          else if (key === 'n') t?.focusComposer('internal');
          else if (key === 'a') t?.acceptTriage();
          else if (key === 'c') t?.correctTriage();
          else if (key === 'i') t?.insertDraft();
          else t?.focusRequesterTickets();
        }
      : null,
    openPalette: () => setPalette(true),
    openHelp: () => setHelp(true),
    closeHelp: () => setHelp(false),
  });

  if (me.user.role === 'customer') {
    return (
      <main className="signin">
        <h1>This workspace is for agents and admins</h1>
        <p>You are signed in as {me.user.email}, a customer account.</p>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </main>
    );
  }

  return (
    <div className={`workspace${pane !== 'ticket' || selected ? ' has-detail' : ''}`}>
      <Rail me={me} view={view} pane={pane} onView={setView} onPane={setPane} onShortcuts={() => setHelp(true)} onSignOut={onSignOut} />
      {pane === 'dashboard' && (
        <main className="dashboard-pane">
          <Loading what="dashboard">
            <Dashboard changedAt={lastChange} />
          </Loading>
        </main>
      )}
      {pane === 'inbox' && (
        <main className="inbox-pane">
          <Notifications onOpenTicket={open} />
        </main>
      )}
      {pane === 'admin' && (
        <main className="admin-pane">
          <Loading what="administration">
            <Admin me={me} />
          </Loading>
        </main>
      )}
      {pane === 'kb' && (
        <main className="kb-pane">
          <Loading what="knowledge base">
            <Knowledge people={people} onOpenTicket={open} />
          </Loading>
        </main>
      )}
      <ListPane
        view={view}
        search={search}
        onSearch={(change) => setSearch((old) => ({ ...old, ...change }))}
        list={list}
        activity={activity}
        selectedId={selected}
        onSelect={open}
        announcement={announcement}
        hidden={pane === 'dashboard' || pane === 'kb' || pane === 'admin' || pane === 'inbox'}
      />
      {pane === 'new' && (
        <NewTicket
          onCreated={(id) => open(id)}
          customers={people.filter((u) => u.role === 'customer' && u.is_active)}
          onCancel={() => setPane('ticket')}
        />
      )}
      {pane === 'account' && <Profile />}
      {selected && pane === 'ticket' && (
        <TicketView
          ref={ticketView}
          onBack={() => open(null)}
          onOpenTicket={open}
          id={selected}
          me={me}
          changedBy={changed && changed.id === selected ? changed : null}
          presenceAt={presenceAt && presenceAt.id === selected ? presenceAt.at : null}
          people={people}
          groups={groups}
          onSentAndNext={() => move(1)}
        />
      )}
      {palette && (
        <Palette
          onClose={() => setPalette(false)}
          commands={[
            ...VIEWS.map((v) => ({
              label: `View: ${v.label}`,
              run: () => {
                setView(v);
                setPane('ticket');
              },
            })),
            { label: 'New ticket', run: () => setPane('new') },
            { label: 'Dashboard', run: () => setPane('dashboard') },
            { label: 'Knowledge base', run: () => setPane('kb') },
            ...(me.user.role === 'admin' ? [{ label: 'Administration', run: () => setPane('admin') }] : []),
            { label: 'Your account', run: () => setPane('account') },
            { label: 'Keyboard shortcuts', run: () => setHelp(true) },
            { label: 'Sign out', run: onSignOut },
          ]}
        />
      )}
      {help && <ShortcutsHelp onClose={() => setHelp(false)} />}
    </div>
  );
}
