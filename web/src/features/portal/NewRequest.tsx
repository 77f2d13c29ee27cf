// A new request: in the customer's words or on a catalog form, with articles suggested as they type.
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { Failed } from '../../components/Failed';
import type { Schemas } from '../../lib/api';
import { useDebounced } from '../../lib/debounce';
import { $api, attempt } from '../../lib/query';
import { dropAndPaste, Picker, useUploads } from '../attachments';
import { type Answers, RequestFields, toSubmission } from '../catalog';
import { ArticleBody, useArticle } from './Articles';
import { useDeflection } from './deflection';
import { Link } from './Link';
import { go, helpPath } from './route';

type Item = Schemas['Item'];
type Suggestion = Schemas['Suggestion'];
const NONE: Suggestion[] = [];

/** What the customer wrote so far, as a question for the suggestions (the API takes up to 1,000 characters). */
function questionOf(texts: string[]): string {
  return texts.join(' ').replace(/\s+/g, ' ').trim().slice(0, 1000);
}

/**
 * A new request: described in the customer's words, or on one of the catalog's
 * forms. While they write, articles that may answer it are suggested; what they do
 * with them is recorded (see `useDeflection`).
 */
export default function NewRequest({ org }: { org: string }) {
  const catalog = $api.useQuery('get', '/api/v1/catalog');
  const items: Item[] = catalog.data?.items ?? [];
  const fileItem = $api.useMutation('post', '/api/v1/catalog/{id}/requests');
  const fileTicket = $api.useMutation('post', '/api/v1/tickets');
  const [choice, setChoice] = useState<number | 'free'>('free');
  const [subject, setSubject] = useState('');
  const [description, setDescription] = useState('');
  const [answers, setAnswers] = useState<Answers>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [reading, setReading] = useState<number | null>(null);
  const [helped, setHelped] = useState(false);
  const deflection = useDeflection(org);
  const uploads = useUploads();
  const form = useRef<HTMLFormElement>(null);

  useEffect(() => {
    document.title = 'New request · Help center';
  }, []);
  const item = choice === 'free' ? null : (items.find((i) => i.id === choice) ?? null);

  const question = questionOf(
    item ? item.fields.filter((f) => f.type === 'text' || f.type === 'long_text').map((f) => String(answers[f.key] ?? '')) : [subject, description],
  );
  // Articles that may answer it, asked for once the typing pauses.
  const asked = useDebounced(question, 350);
  const worthAsking = asked.replace(/[^\p{L}\p{N}]/gu, '').length >= 3 && question.replace(/[^\p{L}\p{N}]/gu, '').length >= 3;
  const suggest = $api.useQuery('get', '/api/v1/portal/{org}/kb/suggest', { params: { path: { org }, query: { q: asked } } }, { enabled: worthAsking });
  const suggestions: Suggestion[] = worthAsking ? (suggest.data?.items ?? NONE) : NONE;
  const { shown } = deflection;
  useEffect(() => {
    if (suggestions.length > 0) shown();
  }, [suggestions, shown]);

  // The first field the API refused gets the focus, once it is marked.
  useEffect(() => {
    if (Object.keys(errors).length > 0) form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [errors]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (uploads.busy) {
      setError('Wait until your files have uploaded, or remove them.');
      return;
    }
    setError(null);
    setErrors({});
    setBusy(true);
    const attachment_ids = uploads.ids;
    const { data, problem: p } = await attempt<{ id: number }>(
      item
        ? fileItem.mutateAsync({
            params: { path: { id: item.id } },
            body: { answers: toSubmission(item.fields, answers) as Schemas['Submission']['answers'], attachment_ids },
          })
        : fileTicket.mutateAsync({ body: { subject, description, attachment_ids } }),
    );
    setBusy(false);
    if (data) {
      deflection.submitted();
      go(helpPath(org, { kind: 'request', id: data.id }));
      return;
    }
    if (p.fields && Object.keys(p.fields).length > 0) {
      setErrors(p.fields);
      setError('Some answers need another look: see the notes beside them.');
    } else setError(p.status === 401 ? 'Your session has ended. Sign in again; what you wrote is still here.' : p.message);
  };

  if (helped) {
    return (
      <main>
        <h1>Glad that helped</h1>
        <p role="status">Your request was not sent. If the problem comes back, you can always write to us.</p>
        <p>
          <Link href={helpPath(org, { kind: 'home' })}>Back to the help articles</Link>
        </p>
      </main>
    );
  }
  const fieldError = (key: string) =>
    errors[key] ? (
      <p id={`request-${key}-error`} className="field-error">
        {errors[key]}
      </p>
    ) : null;
  const invalid = (key: string) => (errors[key] ? { 'aria-invalid': true, 'aria-describedby': `request-${key}-error` } : {});

  return (
    <main className="new-request">
      <h1>New request</h1>
      {catalog.isError && <Failed error={catalog.error} what="request forms" retry={() => void catalog.refetch()} />}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <form ref={form} onSubmit={(e) => void submit(e)} aria-label="New request" noValidate {...dropAndPaste(uploads)}>
        {items.length > 0 && (
          <fieldset className="kinds">
            <legend>What do you need?</legend>
            <label className="check">
              <input type="radio" name="kind" checked={choice === 'free'} onChange={() => setChoice('free')} /> Something else: describe it in your words
            </label>
            {items.map((i) => (
              <label key={i.id} className="check">
                <input
                  type="radio"
                  name="kind"
                  checked={choice === i.id}
                  onChange={() => {
                    setChoice(i.id);
                    setAnswers({});
                    setErrors({});
                  }}
                />{' '}
                {i.name}
                {i.description && <span className="kind-help"> — {i.description}</span>}
              </label>
            ))}
          </fieldset>
        )}
        {item ? (
          <RequestFields fields={item.fields} answers={answers} onChange={setAnswers} errors={errors} idPrefix="request" />
        ) : (
          <>
            <label htmlFor="request-subject">Subject</label>
            <input id="request-subject" value={subject} onChange={(e) => setSubject(e.target.value)} maxLength={300} required {...invalid('subject')} />
            {fieldError('subject')}
            <label htmlFor="request-description">Describe what happened</label>
            <textarea
              id="request-description"
              rows={6}
              value={description}
              onChange={(e) => setDescription(e.target.value)}
              maxLength={100000}
              {...invalid('description')}
            />
            {fieldError('description')}
          </>
        )}
        <Picker uploads={uploads} label="Attach files (screenshots, logs)" />
        {suggestions.length > 0 && (
          <section className="suggestions" aria-labelledby="suggested-heading">
            <h2 id="suggested-heading">These articles may answer your question</h2>
            <ul>
              {suggestions.map((s) => (
                <li key={s.id}>
                  <button
                    type="button"
                    className="link"
                    aria-expanded={reading === s.id}
                    onClick={() => {
                      setReading(reading === s.id ? null : s.id);
                      if (reading !== s.id) deflection.opened(s.id);
                    }}
                  >
                    {s.title}
                  </button>
                  {reading !== s.id && <p className="snippet" dangerouslySetInnerHTML={{ __html: s.snippet }} />}
                  {reading === s.id && (
                    <Suggested
                      org={org}
                      id={s.id}
                      onHelped={async () => {
                        await deflection.helpful(s.id);
                        setHelped(true);
                      }}
                      onBack={() => setReading(null)}
                    />
                  )}
                </li>
              ))}
            </ul>
          </section>
        )}
        <button type="submit" disabled={busy}>
          Send request
        </button>
      </form>
    </main>
  );
}

/** A suggested article, read without leaving the form. */
function Suggested({ org, id, onHelped, onBack }: { org: string; id: number; onHelped: () => void; onBack: () => void }) {
  const { article, missing } = useArticle(org, id);
  if (missing) return <p>This article is no longer available.</p>;
  if (!article) return <p role="status">Loading the article…</p>;
  return (
    <div className="suggested-article">
      <ArticleBody article={article} level={2} />
      <div className="actions">
        <button type="button" onClick={onHelped}>
          This answered my question
        </button>
        <button type="button" className="secondary" onClick={onBack}>
          Back to my request
        </button>
      </div>
    </div>
  );
}
