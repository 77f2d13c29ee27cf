// A knowledge-base article's body, opened beside what cites it (a suggestion, a draft, an answer).
import { $api, asProblem } from '../lib/query';

/** The article's rendered body; loading, gone, or failed, it says so. */
export function ArticleHtml({ id }: { id: number }) {
  const article = $api.useQuery('get', '/api/v1/kb/articles/{id}', { params: { path: { id } } });
  if (article.isError) {
    const p = asProblem(article.error);
    return <p role="alert">{p.status === 404 ? 'This article is no longer available.' : `The article did not load: ${p.message}`}</p>;
  }
  if (!article.data) return <p role="status">Loading the article…</p>;
  return <div className="markdown" dangerouslySetInnerHTML={{ __html: article.data.body_html }} />;
}
