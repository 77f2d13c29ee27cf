// The list pane: the view's title, search, sort and filters over the live ticket list.
import type { Schemas } from '../../lib/api';
import { useGroups } from '../../lib/directory';
import { TicketList } from './TicketList';
import type { TicketList as List } from './useTicketList';
import { filterQuery, type Filters, NO_FILTERS, type View } from './views';

export interface Search {
  text: string;
  sort: string;
  filters: Filters;
}

interface Props {
  view: View;
  search: Search;
  onSearch: (change: Partial<Search>) => void;
  list: List;
  activity: Map<number, Schemas['Activity']>;
  selectedId: number | null;
  onSelect: (id: number) => void;
  /** Said to screen readers: a new ticket arrived, say. */
  announcement: string;
  hidden: boolean;
}

export function ListPane({ view, search, onSearch, list, activity, selectedId, onSelect, announcement, hidden }: Props) {
  const groups = useGroups();
  const { filters } = search;
  const filtering = Object.keys(filterQuery(filters)).length;
  const filter = (f: Partial<Filters>) => onSearch({ filters: { ...filters, ...f } });
  return (
    <main className="list-pane" hidden={hidden}>
      <h1>{view.label}</h1>
      <form role="search" onSubmit={(e) => e.preventDefault()}>
        <label htmlFor="search">Search tickets</label>
        <input id="search" type="search" value={search.text} onChange={(e) => onSearch({ text: e.target.value })} />
        <label htmlFor="sort">Sort</label>
        <select id="sort" value={search.sort} onChange={(e) => onSearch({ sort: e.target.value })}>
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
          <button type="button" onClick={() => onSearch({ filters: NO_FILTERS })} disabled={!filtering}>
            Clear filters
          </button>
        </details>
      </form>
      <p className="sr-only" aria-live="polite">
        {announcement}
      </p>
      {list.error && (
        <div className="error" role="alert">
          <p>The list did not load: {list.error}</p>
          <button type="button" onClick={() => void list.refresh()}>
            Try again
          </button>
        </div>
      )}
      {list.loaded && list.tickets.length === 0 ? (
        <p className="empty" role="status">
          {search.text.trim() || filtering ? 'No ticket in this view matches the search and filters.' : 'No tickets in this view.'}
        </p>
      ) : (
        <TicketList
          tickets={list.tickets}
          activity={activity}
          selectedId={selectedId}
          onSelect={onSelect}
          onNearEnd={() => void list.loadMore()}
          label={view.label}
        />
      )}
    </main>
  );
}
