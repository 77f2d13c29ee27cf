import { useEffect, useRef, useState } from 'react';
import { api, type Schemas } from '../app/api';
import { parseHelpPath } from './route';

/**
 * An organisation's public help center: search its published public articles and
 * read one. No sign-in; everything comes from the portal's public routes.
 */
export function Help() {
  const [route, setRoute] = useState(() => parseHelpPath(window.location.pathname));
  useEffect(() => {
    const onPop = () => setRoute(parseHelpPath(window.location.pathname));
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  if (!route) {
    return (
      <main className="help">
        <h1>Help center</h1>
        <p>This address names no help center. Ask your support team for the link to theirs.</p>
      </main>
    );
  }
  const go = (articleId: number | null) => {
    window.history.pushState(null, '', articleId ? `/help/${route.org}/articles/${articleId}` : `/help/${route.org}/`);
    setRoute({ ...route, articleId });
  };
  return (
    <div className="help">
      <header>
        <a href={`/help/${route.org}/`} onClick={(e) => { e.preventDefault(); go(null); }} className="brand">
          Help center
        </a>
      </header>
      {route.articleId === null ? <Search org={route.org} onOpen={go} /> : <Article org={route.org} id={route.articleId} onBack={() => go(null)} />}
    </div>
  );
}

function Search({ org, onOpen }: { org: string; onOpen: (id: number) => void }) {
  const [q, setQ] = useState('');
  const [hits, setHits] = useState<Schemas['PublicHit'][] | null>(null);
  const [missing, setMissing] = useState(false);
  useEffect(() => {
    let live = true;
    const timer = window.setTimeout(async () => {
      const { data, response } = await api.GET('/api/v1/portal/{org}/kb/search', {
        params: { path: { org }, query: q.trim() ? { q: q.trim() } : {} },
      });
      if (!live) return;
      setMissing(response.status === 404);
      if (data) setHits(data.items);
    }, 200);
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [org, q]);
  if (missing) {
    return (
      <main>
        <h1>No such help center</h1>
        <p>Check the address, or ask your support team for the link.</p>
      </main>
    );
  }
  return (
    <main>
      <h1>How can we help?</h1>
      <form role="search" onSubmit={(e) => e.preventDefault()}>
        <label htmlFor="help-search">Search the help articles</label>
        <input id="help-search" type="search" value={q} onChange={(e) => setQ(e.target.value)} autoFocus />
      </form>
      <p className="sr-only" aria-live="polite">
        {hits ? `${hits.length} article${hits.length === 1 ? '' : 's'}` : ''}
      </p>
      {hits && hits.length === 0 && <p>No article matches. Try other words, or contact support.</p>}
      <ul className="hits">
        {hits?.map((h) => (
          <li key={h.id}>
            <a
              href={`/help/${org}/articles/${h.id}`}
              onClick={(e) => {
                e.preventDefault();
                onOpen(h.id);
              }}
            >
              {h.title}
            </a>
            {h.snippet && <p className="snippet" dangerouslySetInnerHTML={{ __html: h.snippet }} />}
          </li>
        ))}
      </ul>
    </main>
  );
}

function Article({ org, id, onBack }: { org: string; id: number; onBack: () => void }) {
  const [article, setArticle] = useState<Schemas['PublicArticle'] | null>(null);
  const [missing, setMissing] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    void api.GET('/api/v1/portal/{org}/kb/articles/{id}', { params: { path: { org, id } } }).then(({ data, response }) => {
      setMissing(response.status === 404);
      if (data) {
        setArticle(data);
        document.title = `${data.title} · Help center`;
      }
    });
  }, [org, id]);
  useEffect(() => heading.current?.focus(), [article]);
  return (
    <main>
      <a
        href={`/help/${org}/`}
        onClick={(e) => {
          e.preventDefault();
          onBack();
        }}
      >
        ← All articles
      </a>
      {missing && (
        <>
          <h1>This article is not available</h1>
          <p>It may have been withdrawn. Search for another one.</p>
        </>
      )}
      {article && (
        <article aria-labelledby="help-article-title">
          <h1 id="help-article-title" ref={heading} tabIndex={-1}>
            {article.title}
          </h1>
          <p className="meta">Updated {new Date(article.updated_at).toLocaleDateString()}</p>
          <div className="markdown" dangerouslySetInnerHTML={{ __html: article.body_html }} />
        </article>
      )}
    </main>
  );
}
