// One article as readers see it, with its status, and publishing or archiving it.
import { useState } from 'react';
import { Pending } from '../../components/Failed';
import { $api, attempt } from '../../lib/query';

interface Props {
  id: number;
  name: (id: number) => string;
  onEdit: () => void;
  onHistory: () => void;
  onChanged: () => void;
}

export function Reader({ id, name, onEdit, onHistory, onChanged }: Props) {
  const query = $api.useQuery('get', '/api/v1/kb/articles/{id}', { params: { path: { id } } });
  const [error, setError] = useState<string | null>(null);
  const publish = $api.useMutation('post', '/api/v1/kb/articles/{id}/publish');
  const archive = $api.useMutation('post', '/api/v1/kb/articles/{id}/archive');
  const article = query.data;
  if (!article) {
    return (
      <section className="kb-article" aria-busy={query.isPending}>
        <Pending query={query} what="article" />
      </section>
    );
  }

  const act = async (to: 'publish' | 'archive') => {
    const init = { params: { path: { id }, header: { 'If-Match': `"${article.version}"` } } };
    const { problem } = await attempt((to === 'publish' ? publish : archive).mutateAsync(init));
    if (problem) setError(problem.code === 'version_mismatch' ? 'Someone changed this article meanwhile; it has been reloaded.' : problem.message);
    else setError(null);
    await query.refetch();
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
