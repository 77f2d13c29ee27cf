import { lazy, useCallback, useEffect, useRef, useState } from 'react';
import { api, type FeedEntry, type Me, type Schemas, type Ticket } from './api';
import { useLiveFeed } from './live';
import { TicketList } from './TicketList';
import { NewTicket } from './NewTicket';
import { Notifications } from './Notifications';
import { Palette } from './Palette';
import { Profile } from './Profile';
import { TicketView, type TicketViewHandle } from './TicketView';
import { filterQuery, type Filters, NO_FILTERS, VIEWS, type View } from './views';
import { Loading } from './Loading';

interface Props {
  me: Me;
  onSignOut: () => void;
}

const PAGE = '100';
// The charts (uPlot) load only when the dashboard is opened.
const Dashboard = lazy(() => import('./Dashboard'));
// So does the knowledge base.
const Knowledge = lazy(() => import('./Knowledge'));
// And the admin console.
const Admin = lazy(() => import('./admin/Admin'));

function ticketFromPath(): number | null {
  const m = /^\/app\/tickets\/(\d+)/.exec(window.location.pathname);
  return m ? Number(m[1]) : null;
}

/** The agent workspace: the navigation rail, the list of the chosen view, the open ticket. */
export function Workspace({ me, onSignOut }: Props) {
  const [view, setView] = useState<View>(VIEWS[2]);
  const [search, setSearch] = useState('');
  const [sort, setSort] = useState('-created_at');
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const filter = (f: Partial<Filters>) => setFilters((old) => ({ ...old, ...f }));
  const filtering = Object.keys(filterQuery(filters)).length;
  const [pane, setPane] = useState<'ticket' | 'new' | 'account' | 'dashboard' | 'kb' | 'admin' | 'inbox'>('ticket');
  const [lastChange, setLastChange] = useState(0);
  const [tickets, setTickets] = useState<Ticket[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [selected, setSelected] = useState<number | null>(ticketFromPath());
  const [changed, setChanged] = useState<{ id: number; actor_id: number | null; actor_kind: string; at: number } | null>(null);
  const [presenceAt, setPresenceAt] = useState<{ id: number; at: number } | null>(null);
  const [counts, setCounts] = useState<Schemas['Counts'] | null>(null);
  const countsTimer = useRef<number | undefined>(undefined);

  const [inbox, setInbox] = useState<Schemas['Inbox'] | null>(null);
  const loadInbox = useCallback(async () => {
    const { data } = await api.GET('/api/v1/notifications');
    if (data) setInbox(data);
  }, []);

  // The rail's counts, refreshed at most once a second while changes stream in. An
  // escalation is a change to its ticket, so the notifications are asked for with them.
  const refreshCounts = useCallback(() => {
    if (countsTimer.current !== undefined) return;
    countsTimer.current = window.setTimeout(async () => {
      countsTimer.current = undefined;
      const { data } = await api.GET('/api/v1/tickets/counts');
      if (data) setCounts(data);
      await loadInbox();
    }, 1_000);
  }, [loadInbox]);
  useEffect(() => {
    void api.GET('/api/v1/tickets/counts').then(({ data }) => data && setCounts(data));
    void loadInbox();
    // An SLA's escalation changes no ticket: look for one every minute as well.
    const timer = window.setInterval(() => void loadInbox(), 60_000);
    return () => {
      window.clearTimeout(countsTimer.current);
      window.clearInterval(timer);
    };
  }, [loadInbox]);
  const [announcement, setAnnouncement] = useState('');
  const [help, setHelp] = useState(false);
  const [palette, setPalette] = useState(false);
  // Everyone in the organisation, for names (authors, requesters) and the assignee list.
  const [people, setPeople] = useState<Schemas['User'][]>([]);
  useEffect(() => {
    void api.GET('/api/v1/users').then(({ data }) => data && setPeople(data.items));
  }, []);
  const [groups, setGroups] = useState<Schemas['Group'][]>([]);
  useEffect(() => {
    void api.GET('/api/v1/admin/groups').then(({ data }) => data && setGroups(data.items));
  }, []);

  // Who is on which ticket (viewers, lock holders), for the list's badges; asked
  // again, at most every half second, when the feed says it changed.
  const [activity, setActivity] = useState<Map<number, Schemas['Activity']>>(new Map());
  const activityTimer = useRef<number | undefined>(undefined);
  const refreshActivity = useCallback(() => {
    if (activityTimer.current !== undefined) return;
    activityTimer.current = window.setTimeout(async () => {
      activityTimer.current = undefined;
      const { data } = await api.GET('/api/v1/tickets/activity');
      if (data) setActivity(new Map(data.items.map((a) => [a.ticket_id, a])));
    }, 500);
  }, []);
  useEffect(() => {
    refreshActivity();
    return () => window.clearTimeout(activityTimer.current);
  }, [refreshActivity]);
  const [loaded, setLoaded] = useState(false);
  const loading = useRef(false);
  const ticketView = useRef<TicketViewHandle>(null);
  const staff = me.user.role !== 'customer';

  const query = useCallback(
    (extra: Record<string, string> = {}) => ({
      ...view.query,
      ...filterQuery(filters),
      ...(search.trim() ? { q: search.trim() } : {}),
      sort,
      limit: PAGE,
      ...extra,
    }),
    [view, search, sort, filters],
  );

  // The first page's ETag: a refresh (a resync, or polling while the event stream is
  // down) sends it and gets a 304 when nothing in the page changed.
  const firstPageTag = useRef<{ key: string; etag: string } | null>(null);

  // The first page of the view; with `merge`, rows already shown are updated in place.
  const loadFirst = useCallback(
    async (merge: boolean) => {
      const q = query();
      const key = JSON.stringify(q);
      const known = merge && firstPageTag.current?.key === key ? firstPageTag.current.etag : null;
      const { data, response } = await api.GET('/api/v1/tickets', {
        params: { query: q },
        headers: known ? { 'If-None-Match': known } : {},
      });
      if (response.status === 304 || !data) return;
      setLoaded(true);
      const etag = response.headers.get('ETag');
      firstPageTag.current = etag ? { key, etag } : null;
      setTickets((old) => {
        if (!merge) return data.items;
        // The first page as it is now on top; everything else already loaded stays
        // where it was, so a live refresh never takes rows from under the reader.
        const fresh = new Set(data.items.map((t) => t.id));
        return [...data.items, ...old.filter((t) => !fresh.has(t.id))];
      });
      if (!merge) setCursor(data.next_cursor ?? null);
    },
    [query],
  );

  useEffect(() => {
    void loadFirst(false);
  }, [loadFirst]);

  const loadMore = useCallback(async () => {
    if (!cursor || loading.current) return;
    loading.current = true;
    const { data } = await api.GET('/api/v1/tickets', { params: { query: query({ cursor }) } });
    loading.current = false;
    if (!data) return;
    setTickets((old) => {
      const seen = new Set(old.map((t) => t.id));
      return [...old, ...data.items.filter((t) => !seen.has(t.id))];
    });
    setCursor(data.next_cursor ?? null);
  }, [cursor, query]);

  const onEntry = useCallback(
    async (e: FeedEntry) => {
      if (e.ticket_id === selected) setChanged({ id: e.ticket_id, actor_id: e.actor_id ?? null, actor_kind: e.actor_kind, at: Date.now() });
      if (e.kind === 'created') {
        await loadFirst(true);
        setAnnouncement('A new ticket arrived.');
        return;
      }
      const { data } = await api.GET('/api/v1/tickets/{id}', { params: { path: { id: e.ticket_id } } });
      if (data) setTickets((old) => old.map((t) => (t.id === data.id ? { ...t, ...data } : t)));
    },
    [selected, loadFirst],
  );
  useLiveFeed(
    (e) => {
      refreshCounts();
      setLastChange(Date.now());
      void onEntry(e);
    },
    () => {
      refreshCounts();
      refreshActivity();
      void loadFirst(true);
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

  // Read through refs, so a key pressed just after the list arrives sees it (the key
  // handler is not re-registered on every change).
  const ticketsNow = useRef(tickets);
  ticketsNow.current = tickets;
  const selectedNow = useRef(selected);
  selectedNow.current = selected;
  const move = useCallback(
    (step: number) => {
      const list = ticketsNow.current;
      if (list.length === 0) return;
      const at = list.findIndex((t) => t.id === selectedNow.current);
      const next = Math.min(list.length - 1, Math.max(0, at < 0 ? 0 : at + step));
      open(list[next].id);
    },
    [open],
  );

  // Single keys, no Ctrl+Alt or AltGr combinations: those type characters on many keyboards.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement;
      const typing = ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
      if (e.key === 'Escape') setHelp(false);
      // Ctrl+K (or Cmd+K) opens the palette from anywhere, even while typing.
      if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        setPalette(true);
        return;
      }
      if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === 'j') move(1);
      else if (e.key === 'k') move(-1);
      else if (e.key === 'r' && selected) ticketView.current?.focusComposer('public');
      else if (e.key === 'n' && selected) ticketView.current?.focusComposer('internal');
      else if (e.key === 'a' && selected) ticketView.current?.acceptTriage();
      else if (e.key === 'c' && selected) ticketView.current?.correctTriage();
      else if (e.key === 'i' && selected) ticketView.current?.insertDraft();
      else if (e.key === 'o' && selected) ticketView.current?.focusRequesterTickets();
      else if (e.key === '?') setHelp(true);
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [move, selected]);

  if (!staff) {
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
      <nav className="rail" aria-label="Views">
        <p className="brand">ATUM Desk</p>
        <ul>
          {VIEWS.map((v) => (
            <li key={v.id}>
              <button type="button" aria-current={v.id === view.id ? 'page' : undefined} onClick={() => setView(v)}>
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
        <button
          type="button"
          className="new-ticket"
          aria-current={pane === 'new' ? 'page' : undefined}
          onClick={() => setPane('new')}
        >
          New ticket
        </button>
        <button type="button" className="inbox" aria-current={pane === 'inbox' ? 'page' : undefined} onClick={() => setPane('inbox')}>
          <span>Notifications</span>
          {inbox && inbox.unread > 0 && (
            <span className="count" data-testid="unread-notifications">
              {inbox.unread}
              <span className="sr-only"> unread</span>
            </span>
          )}
        </button>
        <button type="button" aria-current={pane === 'dashboard' ? 'page' : undefined} onClick={() => setPane('dashboard')}>
          Dashboard
        </button>
        <button type="button" aria-current={pane === 'kb' ? 'page' : undefined} onClick={() => setPane('kb')}>
          Knowledge base
        </button>
        {me.user.role === 'admin' && (
          <button type="button" aria-current={pane === 'admin' ? 'page' : undefined} onClick={() => setPane('admin')}>
            Administration
          </button>
        )}
        <p className="who">{me.user.display_name}</p>
        <button type="button" aria-current={pane === 'account' ? 'page' : undefined} onClick={() => setPane('account')}>
          Your account
        </button>
        <button type="button" className="shortcuts" onClick={() => setHelp(true)}>
          Keyboard shortcuts (?)
        </button>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </nav>
      {pane === 'dashboard' && (
        <main className="dashboard-pane">
          <Loading what="dashboard">
            <Dashboard changedAt={lastChange} />
          </Loading>
        </main>
      )}
      {pane === 'inbox' && (
        <main className="inbox-pane">
          <Notifications inbox={inbox} onChanged={() => void loadInbox()} onOpenTicket={open} />
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
      <main className="list-pane" hidden={pane === 'dashboard' || pane === 'kb' || pane === 'admin' || pane === 'inbox'}>
        <h1>{view.label}</h1>
        <form role="search" onSubmit={(e) => e.preventDefault()}>
          <label htmlFor="search">Search tickets</label>
          <input id="search" type="search" value={search} onChange={(e) => setSearch(e.target.value)} />
          <label htmlFor="sort">Sort</label>
          <select id="sort" value={sort} onChange={(e) => setSort(e.target.value)}>
            <option value="-created_at">Newest first</option>
            <option value="-updated_at">Recently updated</option>
            <option value="sla_due">Next SLA breach first</option>
          </select>
          <details className="filters">
            <summary>{filtering ? `Filters (${filtering})` : 'Filters'}</summary>
            <label htmlFor="filter-priority">Filter by priority</label>
            <select id="filter-priority" value={filters.priority} onChange={(e) => filter({ priority: e.target.value })}>
              <option value="">Any</option>
              {['urgent', 'high', 'normal', 'low'].map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
            <label htmlFor="filter-group">Filter by group</label>
            <select id="filter-group" value={filters.groupId} onChange={(e) => filter({ groupId: e.target.value })}>
              <option value="">Any</option>
              {groups.map((g) => (
                <option key={g.id} value={g.id}>
                  {g.name}
                </option>
              ))}
            </select>
            <label htmlFor="filter-tag">Filter by tag</label>
            <input id="filter-tag" value={filters.tag} onChange={(e) => filter({ tag: e.target.value })} />
            <button type="button" onClick={() => setFilters(NO_FILTERS)} disabled={!filtering}>
              Clear filters
            </button>
          </details>
        </form>
        <p className="sr-only" aria-live="polite">
          {announcement}
        </p>
        {loaded && tickets.length === 0 ? (
          <p className="empty" role="status">
            {search.trim() || filtering ? 'No ticket in this view matches the search and filters.' : 'No tickets in this view.'}
          </p>
        ) : (
          <TicketList
            tickets={tickets}
            activity={activity}
            selectedId={selected}
            onSelect={open}
            onNearEnd={() => void loadMore()}
            label={view.label}
          />
        )}
      </main>
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
      {help && (
        <div className="dialog-backdrop">
          <div role="dialog" aria-modal="true" aria-labelledby="help-title" className="dialog">
            <h2 id="help-title">Keyboard shortcuts</h2>
            <dl>
              <dt>j / k</dt>
              <dd>Next / previous ticket</dd>
              <dt>r</dt>
              <dd>Reply to the customer</dd>
              <dt>n</dt>
              <dd>Internal note</dd>
              <dt>a</dt>
              <dd>Accept the AI's triage</dd>
              <dt>c</dt>
              <dd>Correct the AI's triage</dd>
              <dt>i</dt>
              <dd>Insert the AI's draft into the reply</dd>
              <dt>o</dt>
              <dd>The requester's other tickets</dd>
              <dt>Ctrl+Enter</dt>
              <dd>Send</dd>
              <dt>Ctrl+Shift+Enter</dt>
              <dd>Send and open the next ticket</dd>
              <dt>Ctrl+K</dt>
              <dd>Command palette: go to a view, the dashboard, a new ticket…</dd>
              <dt>?</dt>
              <dd>This list</dd>
            </dl>
            <button type="button" autoFocus onClick={() => setHelp(false)}>
              Close
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
