// The article editor: Markdown with the server's own preview, saved as a draft,
// published, or (for an article that exists) saved as a new version.
import { useEffect, useRef, useState } from 'react';
import { Failed } from '../../components/Failed';
import type { Schemas } from '../../lib/api';
import { useDebounced } from '../../lib/debounce';
import { $api, asProblem, attempt } from '../../lib/query';
import { dropAndPaste, Picker, useUploads } from '../attachments';

type Article = Schemas['Article'];

export function Editor({ id, onSaved, onCancel }: { id: number | null; onSaved: (a: Article) => void; onCancel: () => void }) {
  const [version, setVersion] = useState<number | null>(null);
  const [title, setTitle] = useState('');
  const [body, setBody] = useState('');
  const [visibility, setVisibility] = useState<'internal' | 'public'>('internal');
  const [tags, setTags] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [fields, setFields] = useState<Record<string, string>>({});
  const titleInput = useRef<HTMLInputElement>(null);
  const bodyInput = useRef<HTMLTextAreaElement>(null);
  const uploads = useUploads();
  // Each uploaded file goes into the body once, where the cursor was: a picture as an
  // image, anything else as a link.
  const inserted = useRef(new Set<number>());
  useEffect(() => {
    for (const { attachment: a } of uploads.items) {
      if (!a || inserted.current.has(a.id)) continue;
      inserted.current.add(a.id);
      const reference = a.inline && a.content_type.startsWith('image/') ? `![${a.name}](${a.url})` : `[${a.name}](${a.url})`;
      setBody((current) => {
        const at = bodyInput.current?.selectionStart ?? current.length;
        const before = current.slice(0, at);
        const gap = before && !before.endsWith('\n') ? '\n' : '';
        return `${before}${gap}${reference}\n${current.slice(at)}`;
      });
    }
  }, [uploads.items]);

  const stored = $api.useQuery('get', '/api/v1/kb/articles/{id}', { params: { path: { id: id ?? 0 } } }, { enabled: id !== null });
  const create = $api.useMutation('post', '/api/v1/kb/articles');
  const update = $api.useMutation('patch', '/api/v1/kb/articles/{id}');

  useEffect(() => titleInput.current?.focus(), []);
  // The stored article fills the form once, when it arrives; later answers (a refetch)
  // do not replace what is being typed.
  const filled = useRef(false);
  useEffect(() => {
    const data = stored.data;
    if (!data || filled.current) return;
    filled.current = true;
    setVersion(data.version);
    setTitle(data.title);
    setBody(data.body);
    setVisibility(data.visibility);
    setTags(data.tags.join(', '));
  }, [stored.data]);

  // The preview is the server's rendering, so it is exactly what readers will see.
  const settled = useDebounced(body, 300);
  const rendered = $api.useQuery('post', '/api/v1/kb/render', { body: { body: settled } });
  const preview = rendered.data?.html ?? '';

  const save = async (publish: boolean) => {
    if (uploads.busy) {
      setError('Wait until the files have uploaded, or remove them.');
      return;
    }
    const tagList = tags
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    const { data, problem: p } = await attempt(
      id === null
        ? create.mutateAsync({ body: { title, body, visibility, tags: tagList, publish, attachment_ids: uploads.ids } })
        : update.mutateAsync({
            params: { path: { id }, header: { 'If-Match': `"${version}"` } },
            body: { title, body, visibility, tags: tagList, attachment_ids: uploads.ids },
          }),
    );
    if (data) {
      onSaved(data);
      return;
    }
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
      {stored.isError && <Failed error={stored.error} what="article" retry={() => void stored.refetch()} />}
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
          <textarea id="kb-edit-body" ref={bodyInput} value={body} onChange={(e) => setBody(e.target.value)} rows={16} {...dropAndPaste(uploads)} />
          <Picker uploads={uploads} label="Insert pictures or files" />
        </div>
        <section aria-label="Preview" className="markdown preview" data-testid="preview">
          {rendered.isError ? (
            <p role="alert">The preview is not available: {asProblem(rendered.error).message}</p>
          ) : (
            <div dangerouslySetInnerHTML={{ __html: preview }} />
          )}
        </section>
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
