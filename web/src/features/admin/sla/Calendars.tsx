// Business calendars: a time zone, open hours per weekday and holidays, each shown as its week.
import { type FormEvent, useState } from 'react';
import { type Failure, FieldError, failure, invalid, Outcome, SaveOrCancel } from '../../../components/form';
import type { Schemas } from '../../../lib/api';
import { $api, attempt } from '../../../lib/query';
import { type Day, DAY_NAMES, DAYS, formatRanges, minutes, parseRanges, weeklyMinutes } from '../hours';
import { type Calendar, duration, hoursOf } from './shared';

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

export function Calendars({ calendars, onSaved }: { calendars: Calendar[] | null; onSaved: () => Promise<unknown> }) {
  const [form, setForm] = useState<CalendarForm | null>(null);
  const [f, setF] = useState<Failure | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const create = $api.useMutation('post', '/api/v1/admin/sla/calendars');
  const update = $api.useMutation('put', '/api/v1/admin/sla/calendars/{id}');

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
    const { data, problem } = await attempt(
      form.id === null ? create.mutateAsync({ body }) : update.mutateAsync({ params: { path: { id: form.id } }, body }),
    );
    if (!data) {
      setF(failure(problem));
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
