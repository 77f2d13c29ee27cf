// The help center's articles: the front page's search and one article.
import { useEffect, useRef, useState } from 'react';
import { Failed } from '../../components/Failed';
import type { Schemas } from '../../lib/api';
import { useDebounced } from '../../lib/debounce';
import { $api, asProblem } from '../../lib/query';
import { Link } from './Link';
import { helpPath } from './route';

/** The help centre's front page: the articles that helped most, and a search of the public articles. */
export function Search({ org }: { org: string }) {
  const [q, setQ] = useState('');
  const term = useDebounced(q.trim(), 200);
  const search = $api.useQuery('get', '/api/v1/portal/{org}/kb/search', { params: { path: { org }, query: term ? { q: term } : {} } });
  // The hits shown, with the query they answer (empty: the front page's popular
  // articles); they stay until the next answer arrives, so the list does not flash.
  const [shown, setShown] = useState<{ term: string; items: Schemas['PublicHit'][] } | null>(null);
  useEffect(() => {
    if (search.data) setShown({ term, items: search.data.items });
  }, [search.data, term]);
  const hits = shown?.items ?? null;
  const searched = (shown?.term ?? '') !== '';
  const missing = search.isError && asProblem(search.error).status === 404;
  useEffect(() => {
    document.title = 'Help center';
  }, []);
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
      {search.isError && <Failed error={search.error} what="articles" retry={() => void search.refetch()} />}
      <p className="sr-only" aria-live="polite">
        {hits && searched ? `${hits.length} article${hits.length === 1 ? '' : 's'}` : ''}
      </p>
      {/* Before a question: the articles that helped customers most (the API's order). */}
      {hits && !searched && hits.length > 0 && <h2>Popular articles</h2>}
      {hits && searched && hits.length === 0 && (
        <p>
          No article matches. Try other words, or <Link href={helpPath(org, { kind: 'new-request' })}>ask us</Link>.
        </p>
      )}
      <ul className="hits" aria-label={searched ? 'Search results' : 'Popular articles'}>
        {hits?.map((h) => (
          <li key={h.id}>
            <Link href={helpPath(org, { kind: 'article', id: h.id })}>{h.title}</Link>
            {h.snippet && <p className="snippet" dangerouslySetInnerHTML={{ __html: h.snippet }} />}
          </li>
        ))}
      </ul>
      <p className="ask">
        Did not find your answer? <Link href={helpPath(org, { kind: 'new-request' })}>Send us a request</Link>.
      </p>
    </main>
  );
}

/** One public article, fetched by id; `missing` when it is not (or no longer) public. */
export function useArticle(org: string, id: number) {
  const query = $api.useQuery('get', '/api/v1/portal/{org}/kb/articles/{id}', { params: { path: { org, id } } });
  const missing = query.isError && asProblem(query.error).status === 404;
  return { article: query.data ?? null, missing, failed: query.isError && !missing ? query : null };
}

/**
 * An article's title and body. The body is the API's sanitised rendering of the
 * article's Markdown: it is shown as HTML as the agents' knowledge base shows it.
 */
export function ArticleBody({ article, level = 1 }: { article: Schemas['PublicArticle']; level?: 1 | 2 }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [article.id]);
  const Heading = level === 1 ? 'h1' : 'h2';
  return (
    <article aria-labelledby={`article-${article.id}-title`}>
      <Heading id={`article-${article.id}-title`} ref={heading} tabIndex={-1}>
        {article.title}
      </Heading>
      <p className="meta">Updated {new Date(article.updated_at).toLocaleDateString()}</p>
      <div className="markdown" dangerouslySetInnerHTML={{ __html: article.body_html }} />
    </article>
  );
}

export function Article({ org, id }: { org: string; id: number }) {
  const { article, missing, failed } = useArticle(org, id);
  useEffect(() => {
    if (article) document.title = `${article.title} · Help center`;
  }, [article]);
  return (
    <main>
      <Link href={helpPath(org, { kind: 'home' })}>← All articles</Link>
      {missing && (
        <>
          <h1>This article is not available</h1>
          <p>It may have been withdrawn. Search for another one.</p>
        </>
      )}
      {failed && <Failed error={failed.error} what="article" retry={() => void failed.refetch()} />}
      {article && <ArticleBody article={article} />}
      {article && (
        <p className="ask">
          Still stuck? <Link href={helpPath(org, { kind: 'new-request' })}>Send us a request</Link>.
        </p>
      )}
    </main>
  );
}
