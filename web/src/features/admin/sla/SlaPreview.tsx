// What a new ticket's due times would be under the policies, by the desk's own clocks.
import { type FormEvent, useState } from 'react';
import { type Failure, FieldError, failure, invalid, Outcome } from '../../../components/form';
import type { Schemas } from '../../../lib/api';
import { $api, attempt } from '../../../lib/query';
import { PRIORITIES } from '../../../lib/tickets';
import { CLOCK_NAMES, duration, type Priority } from './shared';

export function SlaPreview() {
  const [priority, setPriority] = useState<Priority>('normal');
  const [category, setCategory] = useState('');
  const [at, setAt] = useState('');
  const [result, setResult] = useState<Schemas['Preview'] | null>(null);
  const [f, setF] = useState<Failure | null>(null);
  const preview = $api.useMutation('post', '/api/v1/admin/sla/preview');

  const ask = async (e: FormEvent) => {
    e.preventDefault();
    setF(null);
    const { data, problem } = await attempt(
      preview.mutateAsync({ body: { priority, category: category.trim() || null, created_at: at ? new Date(at).toISOString() : null } }),
    );
    if (data) setResult(data);
    else setF(failure(problem));
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
