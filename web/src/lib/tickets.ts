// What every screen says about a ticket's fields: its priorities and its deadlines.

/** A ticket's priorities, lowest first. */
export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;

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
