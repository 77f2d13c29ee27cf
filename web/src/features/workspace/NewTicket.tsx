// A new ticket filed by an agent (for a phone call, say).
import { type FormEvent, useEffect, useRef, useState } from 'react';
import type { Schemas } from '../../lib/api';
import { $api, attempt } from '../../lib/query';
import { PRIORITIES } from '../../lib/tickets';

interface Props {
  /** Whom a ticket can be filed for (a caller, say). */
  customers: Schemas['User'][];
  onCreated: (id: number) => void;
  onCancel: () => void;
}


/** A new ticket, filed by an agent (for a phone call, say). */
export function NewTicket({ customers, onCreated, onCancel }: Props) {
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const create = $api.useMutation('post', '/api/v1/tickets');

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const requester = String(form.get('requester') ?? '');
    const { data, problem: p } = await attempt(
      create.mutateAsync({
      body: {
        subject: String(form.get('subject')),
        description: String(form.get('description')),
        priority: String(form.get('priority')) as (typeof PRIORITIES)[number],
        ...(requester ? { requester_id: Number(requester) } : {}),
      },
      }),
    );
    if (data) {
      onCreated(data.id);
      return;
    }
    setErrors(p.fields ?? {});
    setError(p.fields ? 'Some fields need a change.' : p.message);
  };

  return (
    <section className="ticket-view" aria-labelledby="new-ticket-title">
      <h2 id="new-ticket-title" ref={heading} tabIndex={-1}>
        New ticket
      </h2>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <form onSubmit={submit} className="new-ticket-form">
        <label htmlFor="requester">For</label>
        <select id="requester" name="requester" defaultValue="" aria-describedby={errors.requester_id ? 'requester-error' : undefined}>
          <option value="">Myself (no customer)</option>
          {customers.map((c) => (
            <option key={c.id} value={c.id}>
              {c.display_name} — {c.email}
            </option>
          ))}
        </select>
        {errors.requester_id && <p id="requester-error" className="error">{errors.requester_id}</p>}
        <label htmlFor="subject">Subject</label>
        <input id="subject" name="subject" required maxLength={300} aria-describedby={errors.subject ? 'subject-error' : undefined} />
        {errors.subject && <p id="subject-error" className="error">{errors.subject}</p>}
        <label htmlFor="description">Description</label>
        <textarea id="description" name="description" rows={6} maxLength={100000} />
        <label htmlFor="priority">Priority</label>
        <select id="priority" name="priority" defaultValue="normal">
          {PRIORITIES.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
        <div className="actions">
          <button type="submit">Create ticket</button>
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}
