import { useCallback, useEffect, useRef, useState } from 'react';
import { api, problem, type Schemas } from './api';

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
  const [items, setItems] = useState<Summary[]>([]);
  const [hits, setHits] = useState<Schemas['Hit'][]>([]);
  const [mode, setMode] = useState<Mode>({ kind: 'none' });
  const [reloadAt, setReloadAt] = useState(0);
  const heading = useRef<HTMLHeadingElement>(null);

  // Browsing lists articles by status; a search asks the retrieval index (published
  // articles and solved tickets, by words, typos and meaning).
  const searching = q.trim() !== '';
  useEffect(() => {
    let live = true;
    if (searching) {
      const timer = setTimeout(() => {
        void api.GET('/api/v1/kb/search', { params: { query: { q: q.trim().slice(0, 1000), limit: '20' } } }).then(({ data }) => {
          if (data && live) setHits(data.items);
        });
      }, 150);
      return () => {
        live = false;
        clearTimeout(timer);
      };
    }
    const query: Record<string, string> = {};
    if (status) query.status = status;
    void api.GET('/api/v1/kb/articles', { params: { query } }).then(({ data }) => {
      if (data && live) setItems(data.items);
    });
    return () => {
      live = false;
    };
  }, [q, searching, status, reloadAt]);
  useEffect(() => heading.current?.focus(), []);

  const name = (id: number) => people.find((u) => u.id === id)?.display_name ?? `user #${id}`;
  const saved = (a: Article) => {
    setReloadAt(Date.now());
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
        {searching ? (
          hits.length === 0 ? (
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
        ) : items.length === 0 ? (
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
          onChanged={() => setReloadAt(Date.now())}
        />
      )}
      {mode.kind === 'edit' && (
        <Editor key={mode.id ?? 'new'} id={mode.id} onSaved={saved} onCancel={() => setMode(mode.id ? { kind: 'read', id: mode.id } : { kind: 'none' })} />
      )}
      {mode.kind === 'history' && <History id={mode.id} name={name} onBack={() => setMode({ kind: 'read', id: mode.id })} />}
    </div>
  );
}

function Reader(props: { id: number; name: (id: number) => string; onEdit: () => void; onHistory: () => void; onChanged: () => void }) {
  const { id, name, onEdit, onHistory, onChanged } = props;
  const [article, setArticle] = useState<Schemas['ArticleDetail'] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(async () => {
    const { data } = await api.GET('/api/v1/kb/articles/{id}', { params: { path: { id } } });
    if (data) setArticle(data);
  }, [id]);
  useEffect(() => {
    void load();
  }, [load]);
  if (!article) return <section className="kb-article" aria-busy="true" />;

  const act = async (to: 'publish' | 'archive') => {
    const path = to === 'publish' ? '/api/v1/kb/articles/{id}/publish' : '/api/v1/kb/articles/{id}/archive';
    const { error: err, response } = await api.POST(path, {
      params: { path: { id }, header: { 'If-Match': `"${article.version}"` } },
    });
    if (err) setError(problem(err, response).code === 'version_mismatch' ? 'Someone changed this article meanwhile; it has been reloaded.' : problem(err, response).message);
    else setError(null);
    await load();
    onChanged();
  };

  return (
    <article className="kb-article" aria-labelledby="article-title">
      <h2 id="article-title">{article.title}</h2>
      <p className="meta">
        <span className={`badge kb-${article.status}`}>{article.status}</span> <span className="badge">{article.visibility}</span> · version{' '}
        {article.version} by {name(article.author_id)}, {new Date(article.updated_at).toLocaleString()}
        {article.tags.length > 0 && ` · ${article.tags.join(', ')}`}
      </p>
      <div className="actions">
        <button type="button" onClick={onEdit}>
          Edit
        </button>
        {article.status !== 'published' && (
          <button type="button" className="primary" onClick={() => void act('publish')}>
            Publish
          </button>
        )}
        {article.status === 'published' && (
          <button type="button" onClick={() => void act('archive')}>
            Archive
          </button>
        )}
        <button type="button" onClick={onHistory}>
          History ({article.versions.length})
        </button>
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="markdown" data-testid="article-body" dangerouslySetInnerHTML={{ __html: article.body_html }} />
    </article>
  );
}

function Editor({ id, onSaved, onCancel }: { id: number | null; onSaved: (a: Article) => void; onCancel: () => void }) {
  const [version, setVersion] = useState<number | null>(null);
  const [title, setTitle] = useState('');
  const [body, setBody] = useState('');
  const [visibility, setVisibility] = useState<'internal' | 'public'>('internal');
  const [tags, setTags] = useState('');
  const [preview, setPreview] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [fields, setFields] = useState<Record<string, string>>({});
  const titleInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    titleInput.current?.focus();
    if (id === null) return;
    void api.GET('/api/v1/kb/articles/{id}', { params: { path: { id } } }).then(({ data }) => {
      if (!data) return;
      setVersion(data.version);
      setTitle(data.title);
      setBody(data.body);
      setVisibility(data.visibility);
      setTags(data.tags.join(', '));
    });
  }, [id]);

  // The preview is the server's rendering, so it is exactly what readers will see.
  useEffect(() => {
    const timer = window.setTimeout(async () => {
      const { data } = await api.POST('/api/v1/kb/render', { body: { body } });
      if (data) setPreview(data.html);
    }, 300);
    return () => window.clearTimeout(timer);
  }, [body]);

  const save = async (publish: boolean) => {
    const tagList = tags.split(',').map((t) => t.trim()).filter(Boolean);
    const result =
      id === null
        ? await api.POST('/api/v1/kb/articles', { body: { title, body, visibility, tags: tagList, publish } })
        : await api.PATCH('/api/v1/kb/articles/{id}', {
            params: { path: { id }, header: { 'If-Match': `"${version}"` } },
            body: { title, body, visibility, tags: tagList },
          });
    if (result.data) {
      onSaved(result.data);
      return;
    }
    const p = problem(result.error, result.response);
    setFields(p.fields ?? {});
    setError(
      p.code === 'version_mismatch'
        ? 'Someone else saved this article meanwhile. Your text is still here: copy it, reopen the article and apply it again.'
        : p.message,
    );
  };

  return (
    <form
      className="kb-editor"
      aria-label={id === null ? 'New article' : 'Edit article'}
      onSubmit={(e) => {
        e.preventDefault();
        void save(false);
      }}
    >
      <h2>{id === null ? 'New article' : 'Edit article'}</h2>
      <label htmlFor="kb-edit-title">Title</label>
      <input id="kb-edit-title" ref={titleInput} value={title} onChange={(e) => setTitle(e.target.value)} aria-invalid={Boolean(fields.title)} aria-describedby={fields.title ? 'kb-title-error' : undefined} />
      {fields.title && <p id="kb-title-error" className="error">{fields.title}</p>}
      <div className="kb-edit-row">
        <label>
          Visible to
          <select value={visibility} onChange={(e) => setVisibility(e.target.value as 'internal' | 'public')}>
            <option value="internal">Staff only</option>
            <option value="public">Customers and the public</option>
          </select>
        </label>
        <label>
          Tags
          <input value={tags} onChange={(e) => setTags(e.target.value)} />
        </label>
      </div>
      <div className="kb-edit-panes">
        <div>
          <label htmlFor="kb-edit-body">Body (Markdown)</label>
          <textarea id="kb-edit-body" value={body} onChange={(e) => setBody(e.target.value)} rows={16} />
        </div>
        <section aria-label="Preview" className="markdown preview" data-testid="preview" dangerouslySetInnerHTML={{ __html: preview }} />
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="actions">
        <button type="submit">{id === null ? 'Save draft' : 'Save'}</button>
        {id === null && (
          <button type="button" className="primary" onClick={() => void save(true)}>
            Publish
          </button>
        )}
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function History({ id, name, onBack }: { id: number; name: (id: number) => string; onBack: () => void }) {
  const [versions, setVersions] = useState<Schemas['VersionSummary'][]>([]);
  const [shown, setShown] = useState<number | null>(null);
  const [diff, setDiff] = useState<Schemas['Diff'] | null>(null);
  useEffect(() => {
    void api.GET('/api/v1/kb/articles/{id}', { params: { path: { id } } }).then(({ data }) => data && setVersions(data.versions));
  }, [id]);
  useEffect(() => {
    if (shown === null || shown < 2) {
      setDiff(null);
      return;
    }
    void api
      .GET('/api/v1/kb/articles/{id}/diff', { params: { path: { id }, query: { from: shown - 1, to: shown } } })
      .then(({ data }) => data && setDiff(data));
  }, [id, shown]);

  return (
    <section className="kb-article" aria-labelledby="history-title">
      <h2 id="history-title">Versions</h2>
      <button type="button" onClick={onBack}>
        ← Back to the article
      </button>
      <ol className="kb-versions" aria-label="Versions">
        {versions.map((v) => (
          <li key={v.version}>
            <button type="button" aria-pressed={shown === v.version} onClick={() => setShown(v.version)}>
              Version {v.version}: {v.status}, by {name(v.author_id)}, {new Date(v.created_at).toLocaleString()}
            </button>
          </li>
        ))}
      </ol>
      {shown === 1 && <p role="status">The first version: nothing before it to compare with.</p>}
      {diff && (
        <div className="diff" aria-label={`Changes in version ${diff.to}`} role="region" data-testid="diff">
          {diff.title && (
            <p>
              Title: <del>{diff.title[0]}</del> → <ins>{diff.title[1]}</ins>
            </p>
          )}
          <p>
            {diff.inserted} line(s) added, {diff.deleted} removed
          </p>
          <pre>
            {diff.lines.map((l, i) =>
              l.op === 'insert' ? (
                <ins key={i}>+ {l.text}{'\n'}</ins>
              ) : l.op === 'delete' ? (
                <del key={i}>- {l.text}{'\n'}</del>
              ) : (
                <span key={i}>  {l.text}{'\n'}</span>
              ),
            )}
          </pre>
        </div>
      )}
    </section>
  );
}
