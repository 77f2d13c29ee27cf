import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { api, type Schemas, type User } from '../api';
import { type Failure, FieldError, Outcome, SaveOrCancel, failure, invalid } from './form';
import { DAYS, DAY_NAMES, type Day, type Ranges, formatRanges, minutes, parseRanges, weeklyMinutes } from './hours';
import { PRIORITIES } from '../views';

type Calendar = Schemas['CalendarRecord'];
type Policy = Schemas['PolicyRecord'];
type Priority = Schemas['Priority'];
type Status = Schemas['Status'];

const PAUSABLE: Status[] = ['new', 'open', 'pending', 'on_hold'];
const STATUS_NAMES: Record<string, string> = { new: 'New', open: 'Open', pending: 'Pending', on_hold: 'On hold' };
const CLOCK_NAMES: Record<string, string> = {
  first_response: 'First response',
  next_response: 'Next response',
  resolution: 'Resolution',
};

const hoursOf = (c: Calendar) => c.hours as Partial<Record<Day, Ranges>>;
const duration = (m: number) => (m % 60 === 0 ? `${m / 60} h` : m > 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m} min`);

/**
 * Service levels, for admins: business calendars (time zone, open hours per weekday,
 * holidays, and a week view of them), the policies in the order they are matched, and
 * what a new ticket's due times would be under them, computed by the desk's own clocks.
 */
export function Sla({ people }: { people: User[] }) {
  const [calendars, setCalendars] = useState<Calendar[] | null>(null);
  const [policies, setPolicies] = useState<Policy[] | null>(null);
  const [groups, setGroups] = useState<Schemas['Group'][]>([]);
  const load = useCallback(async () => {
    const [c, p, g] = await Promise.all([
      api.GET('/api/v1/admin/sla/calendars'),
      api.GET('/api/v1/admin/sla/policies'),
      api.GET('/api/v1/admin/groups'),
    ]);
    if (c.data) setCalendars(c.data.items);
    if (p.data) setPolicies(p.data.items);
    if (g.data) setGroups(g.data.items);
  }, []);
  useEffect(() => void load(), [load]);

  return (
    <section aria-labelledby="sla-title" className="admin-section sla">
      <h2 id="sla-title">Service levels</h2>
      <Calendars calendars={calendars} onSaved={load} />
      <Policies policies={policies} calendars={calendars ?? []} groups={groups} people={people} onSaved={load} />
      <Preview key={JSON.stringify(policies)} />
    </section>
  );
}

/** A calendar's week: one row a day, its open ranges as bars over the 24 hours, and in words. */
export function WeekView({ calendar }: { calendar: Calendar }) {
  const hours = hoursOf(calendar);
  return (
    <table className="week" aria-label={`Open hours of ${calendar.name}`}>
      <tbody>
        {DAYS.map((day) => {
          const ranges = hours[day] ?? [];
          return (
            <tr key={day}>
              <th scope="row">{DAY_NAMES[day].slice(0, 3)}</th>
              <td className="day-bar" aria-hidden="true">
                {ranges.map(([a, b], i) => {
                  const [x, y] = [minutes(a), minutes(b)];
                  if (x === null || y === null) return null;
                  return <span key={i} className="open" style={{ left: `${(x / 1440) * 100}%`, width: `${((y - x) / 1440) * 100}%` }} />;
                })}
              </td>
              <td className="day-words">{ranges.length ? formatRanges(ranges).replaceAll('-', '–') : 'Closed'}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

interface CalendarForm {
  id: number | null;
  name: string;
  timezone: string;
  hours: Record<Day, string>;
  holidays: string;
}

const blankCalendar = (): CalendarForm => ({
  id: null,
  name: '',
  timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC',
  hours: { mon: '09:00-17:00', tue: '09:00-17:00', wed: '09:00-17:00', thu: '09:00-17:00', fri: '09:00-17:00', sat: '', sun: '' },
  holidays: '',
});

const calendarForm = (c: Calendar): CalendarForm => ({
  id: c.id,
  name: c.name,
  timezone: c.timezone,
  hours: Object.fromEntries(DAYS.map((d) => [d, formatRanges(hoursOf(c)[d])])) as Record<Day, string>,
  holidays: c.holidays.join('\n'),
});

const ZONES: string[] = (() => {
  try {
    return (Intl as unknown as { supportedValuesOf(k: string): string[] }).supportedValuesOf('timeZone');
  } catch {
    return ['UTC'];
  }
})();

function Calendars({ calendars, onSaved }: { calendars: Calendar[] | null; onSaved: () => Promise<void> }) {
  const [form, setForm] = useState<CalendarForm | null>(null);
  const [f, setF] = useState<Failure | null>(null);
  const [saved, setSaved] = useState<string | null>(null);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!form) return;
    setF(null);
    setSaved(null);
    const body: Schemas['CalendarInput'] = {
      name: form.name,
      timezone: form.timezone,
      hours: Object.fromEntries(DAYS.map((d) => [d, parseRanges(form.hours[d])])),
      holidays: form.holidays
        .split(/[\s,]+/)
        .map((h) => h.trim())
        .filter(Boolean),
    };
    const { data, error, response } =
      form.id === null
        ? await api.POST('/api/v1/admin/sla/calendars', { body })
        : await api.PUT('/api/v1/admin/sla/calendars/{id}', { params: { path: { id: form.id } }, body });
    if (!data) {
      setF(failure(error, response));
      return;
    }
    setSaved(`Calendar ${data.name} saved: ${duration(weeklyMinutes(hoursOf(data)))} open a week. Open tickets are being recomputed.`);
    setForm(null);
    await onSaved();
  };

  return (
    <div className="calendars">
      <h3 id="calendars-title">Business calendars</h3>
      {calendars === null ? (
        <p role="status">Loading…</p>
      ) : calendars.length === 0 ? (
        <p>No calendars yet: targets are counted around the clock.</p>
      ) : (
        <ul className="admin-list">
          {calendars.map((c) => (
            <li key={c.id} data-testid={`calendar-${c.name}`}>
              <strong>{c.name}</strong> ({c.timezone}, {duration(weeklyMinutes(hoursOf(c)))} open a week
              {c.holidays.length ? `, ${c.holidays.length} ${c.holidays.length === 1 ? 'holiday' : 'holidays'}` : ''}){' '}
              <button type="button" aria-label={`Edit calendar ${c.name}`} onClick={() => (setForm(calendarForm(c)), setF(null))}>
                Edit
              </button>
              <WeekView calendar={c} />
            </li>
          ))}
        </ul>
      )}
      {!form && (
        <button type="button" onClick={() => (setForm(blankCalendar()), setF(null))}>
          New calendar
        </button>
      )}
      {form && (
        <form onSubmit={(e) => void save(e)} aria-label={form.id === null ? 'New calendar' : 'Edit calendar'} className="admin-form" noValidate>
          <label htmlFor="cal-name">Name</label>
          <input id="cal-name" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} {...invalid(f, 'name', 'cal-name')} />
          <FieldError f={f} field="name" id="cal-name" />
          <label htmlFor="cal-tz">Time zone</label>
          <input
            id="cal-tz"
            list="time-zones"
            value={form.timezone}
            onChange={(e) => setForm({ ...form, timezone: e.target.value })}
            {...invalid(f, 'timezone', 'cal-tz')}
          />
          <datalist id="time-zones">
            {ZONES.map((z) => (
              <option key={z} value={z} />
            ))}
          </datalist>
          <FieldError f={f} field="timezone" id="cal-tz" />
          <fieldset>
            <legend>Open hours (ranges like 09:00-12:00, 13:00-17:00; empty: closed)</legend>
            {DAYS.map((d) => (
              <div key={d} className="day-hours">
                <label htmlFor={`cal-${d}`}>{DAY_NAMES[d]}</label>
                <input
                  id={`cal-${d}`}
                  value={form.hours[d]}
                  onChange={(e) => setForm({ ...form, hours: { ...form.hours, [d]: e.target.value } })}
                  {...invalid(f, `hours.${d}`, `cal-${d}`)}
                />
                <FieldError f={f} field={`hours.${d}`} id={`cal-${d}`} />
              </div>
            ))}
          </fieldset>
          <label htmlFor="cal-holidays">Holidays (one date a line, like 2026-12-25)</label>
          <textarea
            id="cal-holidays"
            rows={3}
            value={form.holidays}
            onChange={(e) => setForm({ ...form, holidays: e.target.value })}
            {...invalid(f, 'holidays', 'cal-holidays')}
          />
          <FieldError f={f} field="holidays" id="cal-holidays" />
          <SaveOrCancel save="Save calendar" onCancel={() => (setForm(null), setF(null))} />
        </form>
      )}
      <Outcome f={f} saved={saved} />
    </div>
  );
}

interface PolicyForm {
  id: number | null;
  position: number;
  name: string;
  priorities: Priority[];
  categories: string;
  calendarId: string;
  first: string;
  next: string;
  resolution: string;
  pause: Status[];
  warn: string;
  escalateGroup: string;
  escalateAssignee: string;
  escalatePriority: string;
  notify: boolean;
}

const policyForm = (p: Policy | null, position: number): PolicyForm => ({
  id: p?.id ?? null,
  position: p?.position ?? position,
  name: p?.name ?? '',
  priorities: p?.priorities ?? [],
  categories: (p?.categories ?? []).join(', '),
  calendarId: p?.calendar_id ? String(p.calendar_id) : '',
  first: p?.first_response_minutes ? String(p.first_response_minutes) : '',
  next: p?.next_response_minutes ? String(p.next_response_minutes) : '',
  resolution: p?.resolution_minutes ? String(p.resolution_minutes) : '',
  pause: p?.pause_statuses ?? ['pending', 'on_hold'],
  warn: String(p?.warn_before_minutes ?? 30),
  escalateGroup: p?.escalate_group_id ? String(p.escalate_group_id) : '',
  escalateAssignee: p?.escalate_assignee_id ? String(p.escalate_assignee_id) : '',
  escalatePriority: p?.escalate_priority ?? '',
  notify: p?.escalate_notify ?? true,
});

/** A typed number stays as typed (the API names what is wrong with it); empty is none. */
const num = (s: string): number | null => (s.trim() === '' ? null : Number(s));

function policyBody(f: PolicyForm): Schemas['PolicyInput'] {
  return {
    name: f.name,
    position: f.position,
    priorities: f.priorities,
    categories: f.categories
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean),
    calendar_id: num(f.calendarId),
    first_response_minutes: num(f.first),
    next_response_minutes: num(f.next),
    resolution_minutes: num(f.resolution),
    pause_statuses: f.pause,
    warn_before_minutes: num(f.warn) ?? 0,
    escalate_group_id: num(f.escalateGroup),
    escalate_assignee_id: num(f.escalateAssignee),
    escalate_priority: (f.escalatePriority || null) as Priority | null,
    escalate_notify: f.notify,
  };
}

const asInput = (p: Policy): Schemas['PolicyInput'] => policyBody(policyForm(p, p.position ?? 0));

function Policies({
  policies,
  calendars,
  groups,
  people,
  onSaved,
}: {
  policies: Policy[] | null;
  calendars: Calendar[];
  groups: Schemas['Group'][];
  people: User[];
  onSaved: () => Promise<void>;
}) {
  const [form, setForm] = useState<PolicyForm | null>(null);
  const [f, setF] = useState<Failure | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const staff = people.filter((p) => p.role !== 'customer' && p.is_active);
  const calendarName = (id: number | null | undefined) => (id ? (calendars.find((c) => c.id === id)?.name ?? `#${id}`) : null);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!form) return;
    setF(null);
    setSaved(null);
    const body = policyBody(form);
    const { data, error, response } =
      form.id === null
        ? await api.POST('/api/v1/admin/sla/policies', { body })
        : await api.PUT('/api/v1/admin/sla/policies/{id}', { params: { path: { id: form.id } }, body });
    if (!data) {
      setF(failure(error, response));
      return;
    }
    setSaved(`Policy ${data.name} saved. Open tickets are being recomputed.`);
    setForm(null);
    await onSaved();
  };

  /** Swaps a policy with its neighbour in the match order (positions are rewritten 0, 1, 2, …). */
  const move = async (index: number, by: -1 | 1) => {
    if (!policies) return;
    const order = [...policies];
    const [p] = order.splice(index, 1);
    order.splice(index + by, 0, p);
    setF(null);
    for (const [i, q] of order.entries()) {
      if (q.position === i) continue;
      const { error, response } = await api.PUT('/api/v1/admin/sla/policies/{id}', {
        params: { path: { id: q.id } },
        body: { ...asInput(q), position: i },
      });
      if (!response.ok) {
        setF(failure(error, response));
        break;
      }
    }
    setSaved(`${p.name} is now number ${index + by + 1} in the match order.`);
    await onSaved();
  };

  const remove = async (p: Policy) => {
    setF(null);
    const { error, response } = await api.DELETE('/api/v1/admin/sla/policies/{id}', { params: { path: { id: p.id } } });
    if (response.status !== 204) {
      setF(failure(error, response));
      return;
    }
    setSaved(`Policy ${p.name} deleted: its tickets fall to the next policy that matches.`);
    await onSaved();
  };

  const toggle = <T,>(list: T[], item: T, on: boolean) => (on ? [...list, item] : list.filter((x) => x !== item));
  const targets = (p: Policy) =>
    [
      p.first_response_minutes && `first response ${duration(p.first_response_minutes)}`,
      p.next_response_minutes && `next response ${duration(p.next_response_minutes)}`,
      p.resolution_minutes && `resolution ${duration(p.resolution_minutes)}`,
    ]
      .filter(Boolean)
      .join(', ');

  return (
    <div className="policies">
      <h3 id="policies-title">Policies, in the order they are matched</h3>
      {policies === null ? (
        <p role="status">Loading…</p>
      ) : policies.length === 0 ? (
        <p>No policies yet: no clock runs on any ticket.</p>
      ) : (
        <ol className="admin-list">
          {policies.map((p, i) => (
            <li key={p.id} data-testid={`policy-${p.name}`}>
              <strong>{p.name}</strong>: {p.priorities?.length ? p.priorities.join(', ') : 'any priority'},{' '}
              {p.categories?.length ? `category ${p.categories.join(' or ')}` : 'any category'} → {targets(p)}
              {calendarName(p.calendar_id) ? ` in ${calendarName(p.calendar_id)}'s hours` : ', around the clock'}.{' '}
              <span className="actions">
                <button type="button" aria-label={`Edit policy ${p.name}`} onClick={() => (setForm(policyForm(p, i)), setF(null))}>
                  Edit
                </button>
                <button type="button" aria-label={`Move ${p.name} up`} disabled={i === 0} onClick={() => void move(i, -1)}>
                  Up
                </button>
                <button type="button" aria-label={`Move ${p.name} down`} disabled={i === policies.length - 1} onClick={() => void move(i, 1)}>
                  Down
                </button>
                <button type="button" aria-label={`Delete policy ${p.name}`} onClick={() => void remove(p)}>
                  Delete
                </button>
              </span>
            </li>
          ))}
        </ol>
      )}
      {!form && (
        <button type="button" onClick={() => (setForm(policyForm(null, policies?.length ?? 0)), setF(null))}>
          New policy
        </button>
      )}
      {form && (
        <form onSubmit={(e) => void save(e)} aria-label={form.id === null ? 'New policy' : 'Edit policy'} className="admin-form" noValidate>
          <label htmlFor="pol-name">Name</label>
          <input id="pol-name" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} {...invalid(f, 'name', 'pol-name')} />
          <FieldError f={f} field="name" id="pol-name" />
          <fieldset>
            <legend>Applies to priorities (none ticked: any)</legend>
            {PRIORITIES.map((p) => (
              <label key={p} className="check">
                <input
                  type="checkbox"
                  checked={form.priorities.includes(p)}
                  onChange={(e) => setForm({ ...form, priorities: toggle(form.priorities, p, e.target.checked) })}
                />{' '}
                {p}
              </label>
            ))}
          </fieldset>
          <label htmlFor="pol-categories">Categories (comma-separated; empty: any)</label>
          <input
            id="pol-categories"
            value={form.categories}
            onChange={(e) => setForm({ ...form, categories: e.target.value })}
            {...invalid(f, 'categories', 'pol-categories')}
          />
          <FieldError f={f} field="categories" id="pol-categories" />
          <label htmlFor="pol-calendar">Counted in</label>
          <select id="pol-calendar" value={form.calendarId} onChange={(e) => setForm({ ...form, calendarId: e.target.value })} {...invalid(f, 'calendar_id', 'pol-calendar')}>
            <option value="">Around the clock</option>
            {calendars.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}'s open hours
              </option>
            ))}
          </select>
          <FieldError f={f} field="calendar_id" id="pol-calendar" />
          {(
            [
              ['first', 'first_response_minutes', 'First response target (minutes)'],
              ['next', 'next_response_minutes', 'Next response target (minutes)'],
              ['resolution', 'resolution_minutes', 'Resolution target (minutes)'],
              ['warn', 'warn_before_minutes', 'Warn this many minutes before a deadline'],
            ] as const
          ).map(([key, field, label]) => (
            <div key={key} className="target">
              <label htmlFor={`pol-${key}`}>{label}</label>
              <input
                id={`pol-${key}`}
                type="number"
                min={0}
                value={form[key]}
                onChange={(e) => setForm({ ...form, [key]: e.target.value })}
                {...invalid(f, field, `pol-${key}`)}
              />
              <FieldError f={f} field={field} id={`pol-${key}`} />
            </div>
          ))}
          <fieldset {...invalid(f, 'pause_statuses', 'pol-pause')}>
            <legend>Clocks pause while the ticket is</legend>
            {PAUSABLE.map((s) => (
              <label key={s} className="check">
                <input type="checkbox" checked={form.pause.includes(s)} onChange={(e) => setForm({ ...form, pause: toggle(form.pause, s, e.target.checked) })} />{' '}
                {STATUS_NAMES[s]}
              </label>
            ))}
          </fieldset>
          <FieldError f={f} field="pause_statuses" id="pol-pause" />
          <fieldset>
            <legend>On a breach</legend>
            <label htmlFor="pol-esc-group">Move the ticket to group</label>
            <select id="pol-esc-group" value={form.escalateGroup} onChange={(e) => setForm({ ...form, escalateGroup: e.target.value })} {...invalid(f, 'escalate_group_id', 'pol-esc-group')}>
              <option value="">Leave it where it is</option>
              {groups.map((g) => (
                <option key={g.id} value={g.id}>
                  {g.name}
                </option>
              ))}
            </select>
            <FieldError f={f} field="escalate_group_id" id="pol-esc-group" />
            <label htmlFor="pol-esc-assignee">Assign it to</label>
            <select
              id="pol-esc-assignee"
              value={form.escalateAssignee}
              onChange={(e) => setForm({ ...form, escalateAssignee: e.target.value })}
              {...invalid(f, 'escalate_assignee_id', 'pol-esc-assignee')}
            >
              <option value="">Nobody new</option>
              {staff.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.display_name}
                </option>
              ))}
            </select>
            <FieldError f={f} field="escalate_assignee_id" id="pol-esc-assignee" />
            <label htmlFor="pol-esc-priority">Raise its priority to</label>
            <select id="pol-esc-priority" value={form.escalatePriority} onChange={(e) => setForm({ ...form, escalatePriority: e.target.value })}>
              <option value="">Keep it</option>
              {PRIORITIES.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
            <label className="check">
              <input type="checkbox" checked={form.notify} onChange={(e) => setForm({ ...form, notify: e.target.checked })} /> Notify the assignee (or the
              group)
            </label>
          </fieldset>
          <SaveOrCancel save="Save policy" onCancel={() => (setForm(null), setF(null))} />
        </form>
      )}
      <Outcome f={f} saved={saved} />
    </div>
  );
}

function Preview() {
  const [priority, setPriority] = useState<Priority>('normal');
  const [category, setCategory] = useState('');
  const [at, setAt] = useState('');
  const [result, setResult] = useState<Schemas['Preview'] | null>(null);
  const [f, setF] = useState<Failure | null>(null);

  const ask = async (e: FormEvent) => {
    e.preventDefault();
    setF(null);
    const { data, error, response } = await api.POST('/api/v1/admin/sla/preview', {
      body: { priority, category: category.trim() || null, created_at: at ? new Date(at).toISOString() : null },
    });
    if (data) setResult(data);
    else setF(failure(error, response));
  };

  return (
    <div className="preview">
      <h3 id="preview-title">What would a new ticket's due times be?</h3>
      <form className="inline-form" aria-labelledby="preview-title" onSubmit={(e) => void ask(e)} noValidate>
        <label htmlFor="prev-priority">Priority</label>
        <select id="prev-priority" value={priority} onChange={(e) => setPriority(e.target.value as Priority)}>
          {PRIORITIES.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
        <label htmlFor="prev-category">Category</label>
        <input id="prev-category" value={category} onChange={(e) => setCategory(e.target.value)} {...invalid(f, 'category', 'prev-category')} />
        <label htmlFor="prev-at">Created at (empty: now)</label>
        <input id="prev-at" type="datetime-local" value={at} onChange={(e) => setAt(e.target.value)} />
        <button type="submit">Show due times</button>
      </form>
      <FieldError f={f} field="category" id="prev-category" />
      <Outcome f={f} saved={null} />
      <div aria-live="polite" data-testid="sla-preview">
        {result &&
          (result.policy ? (
            <>
              <p>
                Policy <strong>{result.policy.name}</strong> would apply to a ticket created {new Date(result.created_at).toLocaleString()}:
              </p>
              <ul>
                {result.clocks.map((c) => (
                  <li key={c.clock}>
                    {CLOCK_NAMES[c.clock] ?? c.clock}: {duration(c.target_minutes)}
                    {c.business_hours ? ' of open hours' : ''} —{' '}
                    {c.due_at ? `due ${new Date(c.due_at).toLocaleString()}` : "starts with the customer's next message after the first reply"}
                  </li>
                ))}
              </ul>
            </>
          ) : (
            <p>No policy matches: no clock would run on such a ticket.</p>
          ))}
      </div>
    </div>
  );
}
