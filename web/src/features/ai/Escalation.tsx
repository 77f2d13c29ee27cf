// Escalation rules on the customer's tone: when to raise a ticket's priority or hand it to a group.
import { type FormEvent, useEffect, useState } from 'react';
import type { Schemas } from '../../lib/api';
import { useGroups } from '../../lib/directory';
import { attempt } from '../../lib/query';
import { useSaveSettings } from '../../lib/settings';

type Rule = Schemas['EscalationRule'];
type Action = Schemas['EscalationAction'];

/** A rule as typed: numbers stay text until saved, so a half-typed "-0." is kept. */
interface Draft {
  key: number;
  name: string;
  threshold: string;
  consecutive: string;
  action: Action;
  group: string;
}

const ACTIONS: Record<Action, string> = {
  raise_priority: 'Raise the priority one step',
  move_to_group: 'Move to a group',
  notify: 'Notify (the assignee, else the group, else the admins)',
};

let nextKey = 1;
const draft = (r?: Rule): Draft => ({
  key: nextKey++,
  name: r?.name ?? '',
  threshold: String(r?.threshold ?? -0.5),
  consecutive: String(r?.consecutive ?? 2),
  action: r?.action ?? 'raise_priority',
  group: r?.group_id ? String(r.group_id) : '',
});

/**
 * The organisation's escalation rules, for admins: when the customer's last messages
 * are all negative enough, the AI raises the priority, moves the ticket or tells
 * someone — once per rule until a person acts on the ticket.
 */
export function Escalation({ rules }: { rules: Rule[] | null }) {
  const [drafts, setDrafts] = useState<Draft[] | null>(null);
  const groups = useGroups();
  const saveSettings = useSaveSettings();
  const [fields, setFields] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (rules && drafts === null) setDrafts(rules.map((r) => draft(r)));
  }, [rules, drafts]);

  const edit = (key: number, change: Partial<Draft>) =>
    setDrafts((ds) => (ds ?? []).map((d) => (d.key === key ? { ...d, ...change } : d)));

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setSaved(null);
    setError(null);
    setFields({});
    const escalation: Rule[] = (drafts ?? []).map((d) => ({
      name: d.name,
      threshold: Number(d.threshold),
      consecutive: Number(d.consecutive),
      action: d.action,
      group_id: d.group && d.action !== 'raise_priority' ? Number(d.group) : null,
    }));
    const { data, problem: p } = await attempt(saveSettings.mutateAsync({ body: { ai: { escalation } } }));
    if (data) {
      setDrafts(data.ai.escalation.map((r) => draft(r)));
      setSaved('Rules saved.');
      return;
    }
    setFields(p.fields ?? {});
    setError(p.fields ? 'Some rules need fixing.' : p.message);
  };

  const fieldError = (i: number, name: string) => {
    const message = fields[`ai.escalation[${i}].${name}`];
    return message ? (
      <p id={`rule-${i}-${name}-error`} className="field-error">
        {message}
      </p>
    ) : null;
  };
  const described = (i: number, name: string) =>
    fields[`ai.escalation[${i}].${name}`]
      ? { 'aria-invalid': true, 'aria-describedby': `rule-${i}-${name}-error` }
      : {};

  return (
    <form onSubmit={(e) => void save(e)} aria-label="Escalation rules" noValidate className="escalation">
      <h3>Escalation on the customer's tone</h3>
      <p>
        Each customer message gets a tone from −1 (most negative) to 1. When the customer's last messages all score at or
        below a rule's threshold, the AI acts on the ticket and says so in its history; each rule acts once until an agent or
        admin does something on the ticket.
      </p>
      {drafts === null ? (
        <p role="status">Loading…</p>
      ) : (
        <>
          {drafts.length === 0 && <p>No rules.</p>}
          <ol className="rules">
            {drafts.map((d, i) => (
              <li key={d.key} data-testid="escalation-rule">
                <fieldset>
                  <legend>Rule {i + 1}</legend>
                  <label htmlFor={`rule-${i}-name`}>Name</label>
                  <input id={`rule-${i}-name`} value={d.name} onChange={(e) => edit(d.key, { name: e.target.value })} {...described(i, 'name')} />
                  {fieldError(i, 'name')}
                  <label htmlFor={`rule-${i}-threshold`}>Negative at or below (−1 to 0)</label>
                  <input
                    id={`rule-${i}-threshold`}
                    type="number"
                    min={-1}
                    max={0}
                    step={0.05}
                    value={d.threshold}
                    onChange={(e) => edit(d.key, { threshold: e.target.value })}
                    {...described(i, 'threshold')}
                  />
                  {fieldError(i, 'threshold')}
                  <label htmlFor={`rule-${i}-consecutive`}>Negative messages in a row (1 to 10)</label>
                  <input
                    id={`rule-${i}-consecutive`}
                    type="number"
                    min={1}
                    max={10}
                    value={d.consecutive}
                    onChange={(e) => edit(d.key, { consecutive: e.target.value })}
                    {...described(i, 'consecutive')}
                  />
                  {fieldError(i, 'consecutive')}
                  <label htmlFor={`rule-${i}-action`}>Then</label>
                  <select id={`rule-${i}-action`} value={d.action} onChange={(e) => edit(d.key, { action: e.target.value as Action })}>
                    {Object.entries(ACTIONS).map(([value, label]) => (
                      <option key={value} value={value}>
                        {label}
                      </option>
                    ))}
                  </select>
                  {d.action !== 'raise_priority' && (
                    <>
                      <label htmlFor={`rule-${i}-group`}>{d.action === 'move_to_group' ? 'Group' : 'Group to notify (optional)'}</label>
                      <select id={`rule-${i}-group`} value={d.group} onChange={(e) => edit(d.key, { group: e.target.value })} {...described(i, 'group_id')}>
                        <option value="">{d.action === 'move_to_group' ? 'Choose…' : 'The ticket’s group'}</option>
                        {groups.map((g) => (
                          <option key={g.id} value={g.id}>
                            {g.name}
                          </option>
                        ))}
                      </select>
                      {fieldError(i, 'group_id')}
                    </>
                  )}
                  <button type="button" onClick={() => setDrafts((ds) => (ds ?? []).filter((x) => x.key !== d.key))}>
                    Remove rule {i + 1}
                  </button>
                </fieldset>
              </li>
            ))}
          </ol>
          {fields['ai.escalation'] && <p className="field-error">{fields['ai.escalation']}</p>}
          <div className="actions">
            <button type="button" onClick={() => setDrafts((ds) => [...(ds ?? []), draft()])}>
              Add a rule
            </button>
            <button type="submit">Save rules</button>
          </div>
        </>
      )}
      {saved && <p role="status">{saved}</p>}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
