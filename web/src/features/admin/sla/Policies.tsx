// SLA policies in the order they are matched: which tickets, which calendar, the
// targets, the statuses that pause the clocks, and whom a breach escalates to.
import { type FormEvent, useState } from 'react';
import { type Failure, FieldError, failure, invalid, Outcome, SaveOrCancel } from '../../../components/form';
import type { Schemas, User } from '../../../lib/api';
import { $api, attempt } from '../../../lib/query';
import { PRIORITIES } from '../../../lib/tickets';
import { type Calendar, duration, PAUSABLE, type Policy, type Priority, type Status, STATUS_NAMES } from './shared';

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

export function Policies({
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
  onSaved: () => Promise<unknown>;
}) {
  const [form, setForm] = useState<PolicyForm | null>(null);
  const [f, setF] = useState<Failure | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const create = $api.useMutation('post', '/api/v1/admin/sla/policies');
  const update = $api.useMutation('put', '/api/v1/admin/sla/policies/{id}');
  const del = $api.useMutation('delete', '/api/v1/admin/sla/policies/{id}');
  const staff = people.filter((p) => p.role !== 'customer' && p.is_active);
  const calendarName = (id: number | null | undefined) => (id ? (calendars.find((c) => c.id === id)?.name ?? `#${id}`) : null);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!form) return;
    setF(null);
    setSaved(null);
    const body = policyBody(form);
    const { data, problem } = await attempt(
      form.id === null ? create.mutateAsync({ body }) : update.mutateAsync({ params: { path: { id: form.id } }, body }),
    );
    if (!data) {
      setF(failure(problem));
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
      const { problem } = await attempt(update.mutateAsync({ params: { path: { id: q.id } }, body: { ...asInput(q), position: i } }));
      if (problem) {
        setF(failure(problem));
        break;
      }
    }
    setSaved(`${p.name} is now number ${index + by + 1} in the match order.`);
    await onSaved();
  };

  const remove = async (p: Policy) => {
    setF(null);
    const { problem } = await attempt(del.mutateAsync({ params: { path: { id: p.id } } }));
    if (problem) {
      setF(failure(problem));
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
