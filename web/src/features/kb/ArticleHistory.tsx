// An article's versions, and what changed in each against the one before.
import { useState } from 'react';
import { Pending } from '../../components/Failed';
import { $api } from '../../lib/query';

export function ArticleHistory({ id, name, onBack }: { id: number; name: (id: number) => string; onBack: () => void }) {
  const article = $api.useQuery('get', '/api/v1/kb/articles/{id}', { params: { path: { id } } });
  const versions = article.data?.versions ?? [];
  const [shown, setShown] = useState<number | null>(null);
  const comparable = shown !== null && shown >= 2;
  const diffQuery = $api.useQuery(
    'get',
    '/api/v1/kb/articles/{id}/diff',
    { params: { path: { id }, query: { from: (shown ?? 2) - 1, to: shown ?? 2 } } },
    { enabled: comparable },
  );
  const diff = comparable ? (diffQuery.data ?? null) : null;

  return (
    <section className="kb-article" aria-labelledby="history-title">
      <h2 id="history-title">Versions</h2>
      <button type="button" onClick={onBack}>
        ← Back to the article
      </button>
      <Pending query={article} what="versions" />
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
      {comparable && <Pending query={diffQuery} what="changes" />}
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
                <ins key={i}>
                  + {l.text}
                  {'\n'}
                </ins>
              ) : l.op === 'delete' ? (
                <del key={i}>
                  - {l.text}
                  {'\n'}
                </del>
              ) : (
                <span key={i}>
                  {'  '}
                  {l.text}
                  {'\n'}
                </span>
              ),
            )}
          </pre>
        </div>
      )}
    </section>
  );
}
