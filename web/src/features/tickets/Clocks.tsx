// A ticket's SLA clocks, counting down.
import { useEffect, useState } from 'react';
import type { Schemas } from '../../lib/api';
import { countdown } from '../../lib/tickets';

const NAMES: Record<string, string> = {
  first_response: 'First response',
  next_response: 'Next response',
  resolution: 'Resolution',
};

/** The current time, renewed every `ms` while mounted. */
function useNow(ms: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), ms);
    return () => window.clearInterval(timer);
  }, [ms]);
  return now;
}

/**
 * A ticket's SLA clocks as live countdowns to their deadlines. The deadline is the
 * server's (business hours already counted in), so counting down to it in wall time
 * is exact; a paused clock shows the business time it still has and does not tick.
 */
export function Clocks({ clocks }: { clocks: Schemas['ClockView'][] }) {
  const now = useNow(1_000);
  return (
    <ul className="clocks" aria-label="SLA clocks">
      {clocks.map((c) => (
        <li key={c.clock} className={`clock ${c.state}${late(c, now) ? ' breached' : ''}`} data-testid={`clock-${c.clock}`}>
          <strong>{NAMES[c.clock] ?? c.clock}</strong> <span className="state">{describe(c, now)}</span>
          {c.due_at && c.state === 'running' && (
            <>
              {' '}
              <time dateTime={c.due_at} className="due">
                (due {new Date(c.due_at).toLocaleString([], { weekday: 'short', hour: '2-digit', minute: '2-digit' })})
              </time>
            </>
          )}
        </li>
      ))}
    </ul>
  );
}

/** Breached, or running past its deadline (before the SLA worker has recorded it). */
function late(c: Schemas['ClockView'], now: number): boolean {
  return c.breached || (c.state === 'running' && Boolean(c.due_at) && Date.parse(c.due_at ?? '') < now);
}

function describe(c: Schemas['ClockView'], now: number): string {
  const late = c.breached ? ', late' : '';
  switch (c.state) {
    case 'met':
      return `met${c.met_at ? ` ${new Date(c.met_at).toLocaleString([], { hour: '2-digit', minute: '2-digit' })}` : ''}${late}`;
    case 'paused':
      return `paused, ${c.remaining_minutes >= 0 ? `${minutes(c.remaining_minutes)} left` : `${minutes(-c.remaining_minutes)} over`}`;
    case 'stopped':
      return 'stopped';
    default:
      return c.due_at ? countdown(c.due_at, now) : '';
  }
}

/** Business minutes, as "2h 05m" or "45m". */
function minutes(m: number): string {
  return m >= 60 ? `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m` : `${m}m`;
}
