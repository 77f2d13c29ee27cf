import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import { api, problem, type Schemas } from './api';

const KINDS = ['related_to', 'parent_of', 'child_of', 'duplicate_of', 'blocks', 'blocked_by'] as const;
const label = (kind: string) => kind.replaceAll('_', ' ');

/** `#42` or `42` → that ticket's id in the organisation, or an error to show. */
async function byNumber(raw: string): Promise<number | string> {
  const number = raw.trim().replace(/^#/, '');
  if (!/^\d{1,9}$/.test(number)) return 'Enter a ticket number, like #42.';
  const { data } = await api.GET('/api/v1/tickets', { params: { query: { number } } });
  return data?.items[0]?.id ?? `There is no ticket #${number}.`;
}

interface Props {
  id: number;
  /** After a merge the ticket changed: reload it. */
  onChanged: () => void;
}

/** The ticket's links to others, merging it into its original, and the catalog request behind it. */
export function Relations({ id, onChanged }: Props) {
  const [links, setLinks] = useState<Schemas['Link'][]>([]);
  const [request, setRequest] = useState<Schemas['Request'] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [unfolded, setUnfolded] = useState(false);

  const showing = useRef(id);
  showing.current = id;
  const load = useCallback(async () => {
    const [l, r] = await Promise.all([
      api.GET('/api/v1/tickets/{id}/links', { params: { path: { id } } }),
      api.GET('/api/v1/tickets/{id}/request', { params: { path: { id } } }),
    ]);
    // An answer for a ticket the agent has already left is dropped.
    if (showing.current !== id) return;
    if (l.data) {
      setLinks(l.data.items);
      if (l.data.items.length > 0) setUnfolded(true);
    }
    setRequest(r.data ?? null);
  }, [id]);
  useEffect(() => {
    setError(null);
    void load();
  }, [load]);

  const link = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const data = new FormData(form);
    const other = await byNumber(String(data.get('link-number')));
    if (typeof other === 'string') return setError(other);
    const kind = String(data.get('link-kind'));
    const { error: err, response } = await api.POST('/api/v1/tickets/{id}/links', {
      params: { path: { id } },
      body: { kind, ticket_id: other },
    });
    if (err) return setError(problem(err, response).message);
    setError(null);
    form.reset();
    await load();
  };

  const unlink = async (linkId: number) => {
    await api.DELETE('/api/v1/tickets/{id}/links/{link_id}', { params: { path: { id, link_id: linkId } } });
    await load();
  };

  const merge = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const into = await byNumber(String(new FormData(e.currentTarget).get('merge-number')));
    if (typeof into === 'string') return setError(into);
    const { error: err, response } = await api.POST('/api/v1/tickets/{id}/merge', {
      params: { path: { id } },
      body: { into_id: into },
    });
    if (err) return setError(problem(err, response).message);
    setError(null);
    onChanged();
    await load();
  };

  return (
    <section className="relations" aria-label="Request, links and merge">
      {request && (
        <>
          <h3>Request: {request.item_name}</h3>
          <dl className="answers">
            {request.fields.map((f) => (
              <div key={f.key}>
                <dt>{f.label}</dt>
                <dd>{formatAnswer((request.answers as Record<string, unknown>)[f.key])}</dd>
              </div>
            ))}
          </dl>
        </>
      )}
      {/* Links and merging are occasional: folded away unless the ticket has links. */}
      <details open={unfolded} onToggle={(e) => setUnfolded(e.currentTarget.open)}>
        <summary>Links and merge{links.length > 0 ? ` (${links.length})` : ''}</summary>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <ul className="links">
          {links.map((l) => (
            <li key={l.id} data-testid="link">
              {label(l.kind)} <a href={`/app/tickets/${l.ticket.id}`}>#{l.ticket.number} {l.ticket.subject}</a> ({l.ticket.status})
              <button type="button" onClick={() => void unlink(l.id)} aria-label={`Remove the link to #${l.ticket.number}`}>
                Remove
              </button>
            </li>
          ))}
        </ul>
        <form onSubmit={link} className="inline-form" aria-label="Link a ticket">
          <label htmlFor="link-kind">This ticket is</label>
          <select id="link-kind" name="link-kind" defaultValue="related_to">
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {label(k)}
              </option>
            ))}
          </select>
          <label htmlFor="link-number">ticket number</label>
          <input id="link-number" name="link-number" placeholder="#42" required size={8} />
          <button type="submit">Link</button>
        </form>
        <form onSubmit={merge} className="inline-form" aria-label="Merge">
          <label htmlFor="merge-number">Merge this duplicate into ticket number</label>
          <input id="merge-number" name="merge-number" placeholder="#42" required size={8} />
          <button type="submit">Merge</button>
        </form>
      </details>
    </section>
  );
}

function formatAnswer(value: unknown): string {
  if (value === undefined || value === null || value === '') return '—';
  if (Array.isArray(value)) return value.join(', ');
  if (typeof value === 'boolean') return value ? 'Yes' : 'No';
  return String(value);
}
