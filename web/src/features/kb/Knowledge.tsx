// The knowledge base for staff: articles by search and status, and the pane for the one chosen.
import { useEffect, useRef, useState } from 'react';
import { Pending } from '../../components/Failed';
import type { Schemas } from '../../lib/api';
import { useDebounced } from '../../lib/debounce';
import { $api, useInvalidate } from '../../lib/query';
import { ArticleHistory } from './ArticleHistory';
import { Editor } from './Editor';
import { Reader } from './Reader';

type Article = Schemas['Article'];
type Summary = Schemas['ArticleSummary'];
type Mode = { kind: 'none' } | { kind: 'read'; id: number } | { kind: 'edit'; id: number | null } | { kind: 'history'; id: number };

interface Props {
  /** Everyone in the organisation, for authors' names. */
  people: Schemas['User'][];
  /** Opens a ticket (a solved one the search found). */
  onOpenTicket: (id: number) => void;
}

const STATUSES = [
  { value: '', label: 'Drafts and published' },
  { value: 'draft', label: 'Drafts' },
  { value: 'published', label: 'Published' },
  { value: 'archived', label: 'Archived' },
];

/**
 * The knowledge base for staff: articles by search and status, one article rendered
 * as readers see it, an editor with the server's own preview, and the history of
 * versions with what changed in each. Loaded only when opened.
 */
export default function Knowledge({ people, onOpenTicket }: Props) {
  const [q, setQ] = useState('');
  const [status, setStatus] = useState('');
  const [mode, setMode] = useState<Mode>({ kind: 'none' });
  const heading = useRef<HTMLHeadingElement>(null);

  // Browsing lists articles by status; a search asks the retrieval index (published
  // articles and solved tickets, by words, typos and meaning) once typing pauses.
  const searching = q.trim() !== '';
  const term = useDebounced(q.trim().slice(0, 1000), 150);
  const search = $api.useQuery('get', '/api/v1/kb/search', { params: { query: { q: term, limit: '20' } } }, { enabled: searching && term !== '' });
  const hits = search.data?.items ?? [];
  const list = $api.useQuery('get', '/api/v1/kb/articles', { params: { query: status ? { status } : {} } }, { enabled: !searching });
  const items: Summary[] = list.data?.items ?? [];
  useEffect(() => heading.current?.focus(), []);

  // A saved or published article changes the lists and the search.
  const invalidate = useInvalidate();
  const changed = () => {
    void invalidate('/api/v1/kb/articles');
    void invalidate('/api/v1/kb/articles/{id}');
    void invalidate('/api/v1/kb/search');
  };
  const name = (id: number) => people.find((u) => u.id === id)?.display_name ?? `user #${id}`;
  const saved = (a: Article) => {
    changed();
    setMode({ kind: 'read', id: a.id });
  };

  return (
    <div className="kb">
      <section className="kb-list" aria-labelledby="kb-title">
        <h1 id="kb-title" ref={heading} tabIndex={-1}>
          Knowledge base
        </h1>
        <form role="search" onSubmit={(e) => e.preventDefault()}>
          <label htmlFor="kb-search">Search articles and solved tickets</label>
          <input id="kb-search" type="search" value={q} onChange={(e) => setQ(e.target.value)} />
          <label htmlFor="kb-status">Show</label>
          <select id="kb-status" value={status} disabled={searching} onChange={(e) => setStatus(e.target.value)}>
            {STATUSES.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </form>
        <button type="button" className="primary" onClick={() => setMode({ kind: 'edit', id: null })}>
          New article
        </button>
        <Pending query={searching ? search : list} what={searching ? 'search' : 'articles'} />
        {searching ? (
          search.isPending ? null : hits.length === 0 ? (
            <p role="status">Nothing published matches.</p>
          ) : (
            <ul className="kb-items" aria-label="Search results">
              {hits.map((h) => (
                <li key={h.chunk_id}>
                  <button
                    type="button"
                    aria-current={h.source === 'article' && 'id' in mode && mode.id === h.id ? 'true' : undefined}
                    onClick={() => (h.source === 'article' ? setMode({ kind: 'read', id: h.id }) : onOpenTicket(h.id))}
                  >
                    <strong>{h.title}</strong>
                    <span className="badge">{h.source === 'article' ? 'article' : 'solved ticket'}</span>
                    <span className="badge" title="Found by">
                      {h.retrievers.map((r) => r.replace('_', ' ')).join(' + ')}
                    </span>
                    <span className="snippet" dangerouslySetInnerHTML={{ __html: h.snippet }} />
                  </button>
                </li>
              ))}
            </ul>
          )
        ) : list.isPending ? null : items.length === 0 ? (
          <p role="status">No articles yet.</p>
        ) : (
          <ul className="kb-items" aria-label="Articles">
            {items.map((a) => (
              <li key={a.id}>
                <button
                  type="button"
                  aria-current={'id' in mode && mode.id === a.id ? 'true' : undefined}
                  onClick={() => setMode({ kind: 'read', id: a.id })}
                >
                  <strong>{a.title}</strong>
                  <span className={`badge kb-${a.status}`}>{a.status}</span>
                  <span className="badge">{a.visibility}</span>
                  {a.snippet && <span className="snippet" dangerouslySetInnerHTML={{ __html: a.snippet }} />}
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>
      {mode.kind === 'read' && (
        <Reader
          id={mode.id}
          name={name}
          onEdit={() => setMode({ kind: 'edit', id: mode.id })}
          onHistory={() => setMode({ kind: 'history', id: mode.id })}
          onChanged={changed}
        />
      )}
      {mode.kind === 'edit' && (
        <Editor key={mode.id ?? 'new'} id={mode.id} onSaved={saved} onCancel={() => setMode(mode.id ? { kind: 'read', id: mode.id } : { kind: 'none' })} />
      )}
      {mode.kind === 'history' && <ArticleHistory id={mode.id} name={name} onBack={() => setMode({ kind: 'read', id: mode.id })} />}
    </div>
  );
}

