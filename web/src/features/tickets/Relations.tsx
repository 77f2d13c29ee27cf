// A ticket's links to others, merging it into its original, and the catalog request behind it.
import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import { Failed } from '../../components/Failed';
import type { Schemas } from '../../lib/api';
import { $api, asProblem, attempt } from '../../lib/query';

const KINDS = ['related_to', 'parent_of', 'child_of', 'duplicate_of', 'blocks', 'blocked_by'] as const;
const label = (kind: string) => kind.replaceAll('_', ' ');
const NO_LINKS: Schemas['Link'][] = [];

interface Props {
  id: number;
  /** After a merge the ticket changed: reload it. */
  onChanged: () => void;
}

/** The ticket's links to others, merging it into its original, and the catalog request behind it. */
export function Relations({ id, onChanged }: Props) {
  const [error, setError] = useState<string | null>(null);
  const [unfolded, setUnfolded] = useState(false);
  const init = { params: { path: { id } } };
  const linksQuery = $api.useQuery('get', '/api/v1/tickets/{id}/links', init);
  const links = linksQuery.data?.items ?? NO_LINKS;
  // A ticket filed without the catalog has no request: a 404, not a failure.
  const requestQuery = $api.useQuery('get', '/api/v1/tickets/{id}/request', init);
  const request = requestQuery.data ?? null;
  const requestFailed = requestQuery.isError && asProblem(requestQuery.error).status !== 404;
  const client = useQueryClient();
  const addLink = $api.useMutation('post', '/api/v1/tickets/{id}/links');
  const removeLink = $api.useMutation('delete', '/api/v1/tickets/{id}/links/{link_id}');
  const mergeInto = $api.useMutation('post', '/api/v1/tickets/{id}/merge');
  const { refetch } = linksQuery;

  // Another ticket starts folded, with nothing to say; one with links unfolds.
  useEffect(() => {
    setError(null);
    setUnfolded(false);
  }, [id]);
  const linked = links.length > 0;
  useEffect(() => {
    if (linked) setUnfolded(true);
  }, [linked]);

  /** `#42` or `42` → that ticket's id in the organisation, or an error to show. */
  const byNumber = async (raw: string): Promise<number | string> => {
    const number = raw.trim().replace(/^#/, '');
    if (!/^\d{1,9}$/.test(number)) return 'Enter a ticket number, like #42.';
    const { data, problem } = await attempt(client.fetchQuery($api.queryOptions('get', '/api/v1/tickets', { params: { query: { number } } })));
    if (problem) return problem.message;
    return data.items[0]?.id ?? `There is no ticket #${number}.`;
  };

  const link = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const data = new FormData(form);
    const other = await byNumber(String(data.get('link-number')));
    if (typeof other === 'string') return setError(other);
    const kind = String(data.get('link-kind'));
    const { problem } = await attempt(addLink.mutateAsync({ params: { path: { id } }, body: { kind, ticket_id: other } }));
    if (problem) return setError(problem.message);
    setError(null);
    form.reset();
    await refetch();
  };

  const unlink = async (linkId: number) => {
    const { problem } = await attempt(removeLink.mutateAsync({ params: { path: { id, link_id: linkId } } }));
    setError(problem ? problem.message : null);
    await refetch();
  };

  const merge = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const into = await byNumber(String(new FormData(e.currentTarget).get('merge-number')));
    if (typeof into === 'string') return setError(into);
    const { problem } = await attempt(mergeInto.mutateAsync({ params: { path: { id } }, body: { into_id: into } }));
    if (problem) return setError(problem.message);
    setError(null);
    onChanged();
    await refetch();
  };

  return (
    <section className="relations" aria-label="Request, links and merge">
      {requestFailed && <Failed error={requestQuery.error} what="catalog request" retry={() => void requestQuery.refetch()} />}
      {linksQuery.isError && <Failed error={linksQuery.error} what="links" retry={() => void refetch()} />}
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
