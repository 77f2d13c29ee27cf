// The AI's triage of a ticket (category, priority, tone, language), to accept or correct.
import { type FormEvent, forwardRef, useEffect, useImperativeHandle, useRef, useState } from 'react';
import type { Schemas } from '../../lib/api';
import { $api, attempt } from '../../lib/query';

type Field = Schemas["TriageField"];
type Verdict = Schemas['Verdict'];

export interface TriageHandle {
  /** Accepts every answer shown that nobody has answered yet (the `a` key). */
  accept: () => void;
  /** Opens the correction of the first answer shown (the `c` key). */
  correct: () => void;
}

interface Props {
  ticketId: number;
  /** The ticket's AI view (`useTicketAi`: looked for again until triage has run). */
  ai: Schemas['TicketAi'] | null;
  /** Feedback came back with the AI view after it. */
  onAi: (ai: Schemas['TicketAi']) => void;
  priorities: readonly string[];
  /** Feedback changed the ticket: reload it. */
  onTicketChanged: () => void;
  onOpenTicket: (id: number) => void;
}

const FIELDS: Field[] = ['category', 'priority'];
const LABELS: Record<Field, string> = { category: 'Category', priority: 'Priority' };
const VERDICTS: Record<string, string> = { accepted: 'accepted', corrected: 'corrected', rejected: 'rejected' };
/** ISO 639-3 codes of the languages customers write in most; others show as the code. */
const LANGUAGES: Record<string, string> = {
  eng: 'English',
  deu: 'German',
  fra: 'French',
  spa: 'Spanish',
  ita: 'Italian',
  por: 'Portuguese',
  nld: 'Dutch',
  pol: 'Polish',
  swe: 'Swedish',
  dan: 'Danish',
  fin: 'Finnish',
  tur: 'Turkish',
  rus: 'Russian',
  jpn: 'Japanese',
  cmn: 'Chinese',
};
// A model is never certain: 0.996 shows as 99%, not 100%.
const percent = (p: number) => `${Math.min(99, Math.round(p * 100))}%`;

/**
 * What the AI made of the ticket: category and priority with how sure it is, the
 * labelled tickets most like it (its reasons), the customer's tone and language. An
 * agent accepts, corrects or rejects each answer; each is their change to the ticket.
 */
export const Triage = forwardRef<TriageHandle, Props>(function Triage(
  { ticketId, ai, onAi, priorities, onTicketChanged, onOpenTicket },
  ref,
) {
  const [error, setError] = useState<string | null>(null);
  const [correcting, setCorrecting] = useState<Field | null>(null);
  const [value, setValue] = useState('');
  const correction = useRef<HTMLInputElement & HTMLSelectElement>(null);
  const feedback = $api.useMutation('post', '/api/v1/tickets/{id}/ai/feedback');

  useEffect(() => {
    setCorrecting(null);
    setError(null);
  }, [ticketId]);

  useEffect(() => {
    if (correcting) correction.current?.focus();
  }, [correcting]);

  const send = async (field: Field, verdict: Verdict, corrected?: string) => {
    setError(null);
    const { data, problem } = await attempt(
      feedback.mutateAsync({ params: { path: { id: ticketId } }, body: { field, verdict, value: corrected ?? null } }),
    );
    if (!data) {
      setError(problem.message);
      return;
    }
    onAi(data);
    setCorrecting(null);
    onTicketChanged();
  };

  const shown = FIELDS.filter((f) => ai?.triage?.[f]);
  const open = shown.filter((f) => !ai?.triage?.[f]?.verdict);
  useImperativeHandle(ref, () => ({
    accept: () => {
      void (async () => {
        for (const f of open) await send(f, 'accepted');
      })();
    },
    correct: () => {
      if (shown.length === 0) return;
      setValue('');
      setCorrecting(shown[0]);
    },
  }));

  const submitCorrection = (e: FormEvent) => {
    e.preventDefault();
    if (correcting && value.trim()) void send(correcting, 'corrected', value.trim());
  };

  const triage = ai?.triage;
  return (
    <section className="triage" aria-labelledby="triage-title">
      <h3 id="triage-title">Triage</h3>
      {ai === null ? (
        <p role="status">Loading…</p>
      ) : !triage ? (
        <p role="status">Not triaged yet: the AI reads a new ticket within seconds of its arrival.</p>
      ) : (
        <>
          <dl>
            {shown.map((field) => {
              const a = triage[field] as Schemas['FieldAnswer'];
              return (
                <div key={field} className="triage-field" data-testid={`triage-${field}`}>
                  <dt>{LABELS[field]}</dt>
                  <dd>
                    <strong>{a.value}</strong> <span className="confidence">{percent(a.confidence)} sure</span>
                    {' · '}
                    <span>{a.applied ? 'set by the AI' : 'suggested'}</span>
                    {a.verdict && <span className="verdict"> · you {VERDICTS[a.verdict] ?? a.verdict} it</span>}
                    {a.neighbours.length > 0 && (
                      <span className="reasons">
                        {' · like '}
                        {a.neighbours.map((n, i) => (
                          <span key={n.ticket_id}>
                            {i > 0 && ', '}
                            <button
                              type="button"
                              className="link"
                              onClick={() => onOpenTicket(n.ticket_id)}
                              aria-label={`Open a similar ticket (${n.value}, ${percent(n.similarity)} alike)`}
                            >
                              {n.value} ({percent(n.similarity)})
                            </button>
                          </span>
                        ))}
                      </span>
                    )}
                    {!a.verdict && correcting !== field && (
                      <span className="triage-actions">
                        <button type="button" onClick={() => void send(field, 'accepted')}>
                          Accept
                        </button>
                        <button
                          type="button"
                          onClick={() => {
                            setValue('');
                            setCorrecting(field);
                          }}
                        >
                          Correct…
                        </button>
                        <button type="button" onClick={() => void send(field, 'rejected')}>
                          Reject
                        </button>
                      </span>
                    )}
                    {correcting === field && (
                      <form className="triage-correct" onSubmit={submitCorrection}>
                        <label htmlFor={`correct-${field}`}>Right {field}</label>
                        {field === 'priority' ? (
                          <select id={`correct-${field}`} ref={correction} value={value} onChange={(e) => setValue(e.target.value)}>
                            <option value="">Choose…</option>
                            {priorities.map((p) => (
                              <option key={p} value={p}>
                                {p}
                              </option>
                            ))}
                          </select>
                        ) : (
                          <input id={`correct-${field}`} ref={correction} value={value} onChange={(e) => setValue(e.target.value)} />
                        )}
                        <button type="submit" disabled={!value.trim()}>
                          Save
                        </button>
                        <button type="button" onClick={() => setCorrecting(null)}>
                          Cancel
                        </button>
                      </form>
                    )}
                  </dd>
                </div>
              );
            })}
            <div className="triage-field">
              <dt>Tone</dt>
              <dd data-testid="triage-tone">
                {triage.sentiment.label} ({triage.sentiment.score.toFixed(2)})
              </dd>
            </div>
            {triage.language && (
              <div className="triage-field">
                <dt>Language</dt>
                <dd>{LANGUAGES[triage.language.code] ?? triage.language.code}</dd>
              </div>
            )}
          </dl>
          {shown.length === 0 && (
            <p>No category or priority yet: the organisation's model is still learning, or is not sure enough to say.</p>
          )}
          {error && (
            <p className="error" role="alert">
              {error}
            </p>
          )}
        </>
      )}
    </section>
  );
});
