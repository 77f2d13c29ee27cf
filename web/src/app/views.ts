// The workspace's standard views, as queries on GET /api/v1/tickets.
export interface View {
  /** Also the view's key in GET /api/v1/tickets/counts. */
  id: 'mine' | 'unassigned' | 'open' | 'pending' | 'breached' | 'at_risk';
  label: string;
  query: Record<string, string>;
}

const OPEN = 'new,open,pending,on_hold';

/** A ticket's priorities, lowest first. */
export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;

export const VIEWS: View[] = [
  { id: 'mine', label: 'My open tickets', query: { status: OPEN, assignee_id: 'me' } },
  { id: 'unassigned', label: 'Unassigned', query: { status: OPEN, assignee_id: 'none' } },
  { id: 'open', label: 'All open', query: { status: OPEN } },
  { id: 'pending', label: 'Pending', query: { status: 'pending' } },
  { id: 'breached', label: 'SLA breached', query: { status: OPEN, sla: 'breached' } },
  { id: 'at_risk', label: 'SLA at risk', query: { status: OPEN, sla: 'at_risk' } },
];

/** Minutes until (or, negative, since) a deadline, as a short label. */
export function dueLabel(minutes: number | null | undefined): string {
  if (minutes === null || minutes === undefined) return '';
  const abs = Math.abs(minutes);
  const text = abs >= 1440 ? `${Math.round(abs / 1440)}d` : abs >= 60 ? `${Math.round(abs / 60)}h` : `${abs}m`;
  return minutes < 0 ? `${text} overdue` : `due in ${text}`;
}

/**
 * The time left until `dueAt` at `now` (ms), as a ticking countdown: days and hours
 * far out, minutes and seconds in the last hour; "overdue" once it has passed.
 */
export function countdown(dueAt: string, now: number): string {
  const ms = Date.parse(dueAt) - now;
  const s = Math.floor(Math.abs(ms) / 1000);
  const [d, h, m, sec] = [Math.floor(s / 86_400), Math.floor((s % 86_400) / 3600), Math.floor((s % 3600) / 60), s % 60];
  const text = d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${String(m).padStart(2, '0')}m` : `${m}m ${String(sec).padStart(2, '0')}s`;
  return ms < 0 ? `${text} overdue` : `${text} left`;
}

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
