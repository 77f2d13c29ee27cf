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

/** Minutes until (or, negative, since) a deadline, as a short label. */
export function dueLabel(minutes: number | null | undefined): string {
  if (minutes === null || minutes === undefined) return '';
  const abs = Math.abs(minutes);
  const text = abs >= 1440 ? `${Math.round(abs / 1440)}d` : abs >= 60 ? `${Math.round(abs / 60)}h` : `${abs}m`;
  return minutes < 0 ? `${text} overdue` : `due in ${text}`;
}
