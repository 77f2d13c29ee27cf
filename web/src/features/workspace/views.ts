// The workspace's standard views, as queries on GET /api/v1/tickets.
export interface View {
  /** Also the view's key in GET /api/v1/tickets/counts. */
  id: 'mine' | 'unassigned' | 'open' | 'pending' | 'breached' | 'at_risk';
  label: string;
  query: Record<string, string>;
}

const OPEN = 'new,open,pending,on_hold';

export const VIEWS: View[] = [
  { id: 'mine', label: 'My open tickets', query: { status: OPEN, assignee_id: 'me' } },
  { id: 'unassigned', label: 'Unassigned', query: { status: OPEN, assignee_id: 'none' } },
  { id: 'open', label: 'All open', query: { status: OPEN } },
  { id: 'pending', label: 'Pending', query: { status: 'pending' } },
  { id: 'breached', label: 'SLA breached', query: { status: OPEN, sla: 'breached' } },
  { id: 'at_risk', label: 'SLA at risk', query: { status: OPEN, sla: 'at_risk' } },
];

/** The filters over a view: empty strings are "any". */
export interface Filters {
  priority: string;
  groupId: string;
  tag: string;
}

export const NO_FILTERS: Filters = { priority: '', groupId: '', tag: '' };

/** The filters as GET /api/v1/tickets parameters. */
export function filterQuery(f: Filters): Record<string, string> {
  const q: Record<string, string> = {};
  if (f.priority) q.priority = f.priority;
  if (f.groupId) q.group_id = f.groupId;
  if (f.tag.trim()) q.tag = f.tag.trim().toLowerCase();
  return q;
}
