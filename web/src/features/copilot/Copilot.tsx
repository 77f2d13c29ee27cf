// The caged copilot's panel: a question about the ticket, a cited answer or a refusal, its trace and replay.
import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import { ArticleHtml } from '../../components/ArticleHtml';
import type { Schemas } from '../../lib/api';
import { $api, attempt } from '../../lib/query';
import { byteSlice } from '../../lib/text';

type Run = Schemas['CopilotRun'];
type Citation = Schemas['CopilotCitation'];

const ASK: string[] = ['How do I resolve this?', 'Has this customer had this before?', 'When does this breach?'];

const PROVENANCE: Record<Schemas['Provenance'], string> = {
  kb: 'Article',
  solved_ticket: 'Solved ticket',
  system: 'The desk',
  customer: 'Customer',
};

/** The answer cut at its citations, the sources numbered in order of first use. */
function pieces(run: Run): { parts: { text: string; source?: number }[]; sources: Citation[] } {
  const answer = run.answer ?? '';
  const sources: Citation[] = [];
  const parts: { text: string; source?: number }[] = [];
  let at = 0;
  for (const c of [...run.citations].sort((a, b) => a.start - b.start)) {
    if (c.start > at) parts.push({ text: byteSlice(answer, at, c.start) });
    let n = sources.findIndex((s) => s.source_id === c.source_id);
    if (n < 0) n = sources.push(c) - 1;
    parts.push({ text: byteSlice(answer, c.start, c.end), source: n + 1 });
    at = c.end;
  }
  return { parts, sources };
}

interface Props {
  ticketId: number;
  onOpenTicket: (id: number) => void;
}

/**
 * The caged copilot in the ticket view: the agent asks, and gets an answer whose every
 * sentence is quoted from a source the run's tools returned — or a refusal that says
 * why. The plan and tool trace are one click away, and a run can be replayed.
 */
export function Copilot({ ticketId, onOpenTicket }: Props) {
  const [question, setQuestion] = useState('');
  const [run, setRun] = useState<Run | null>(null);
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [trace, setTrace] = useState<Run | null>(null);
  const [replay, setReplay] = useState<Schemas['CopilotReplay'] | null>(null);
  const [article, setArticle] = useState<number | null>(null);
  const client = useQueryClient();
  const start = $api.useMutation('post', '/api/v1/copilot/runs');
  const replayRun = $api.useMutation('post', '/api/v1/copilot/runs/{id}/replay');

  useEffect(() => {
    setRun(null);
    setTrace(null);
    setReplay(null);
    setError(null);
  }, [ticketId]);

  const ask = async (q: string) => {
    setAsking(true);
    setError(null);
    setTrace(null);
    setReplay(null);
    const { data, problem } = await attempt(start.mutateAsync({ body: { ticket_id: ticketId, question: q } }));
    setAsking(false);
    if (data) setRun(data);
    else setError(problem.fields?.question ?? problem.message);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void ask(question);
  };

  const showTrace = async () => {
    if (!run) return;
    if (trace) {
      setTrace(null);
      return;
    }
    const { data, problem } = await attempt(client.fetchQuery($api.queryOptions('get', '/api/v1/copilot/runs/{id}', { params: { path: { id: run.id } } })));
    if (data) setTrace(data);
    else setError(`The trace did not load: ${problem.message}`);
  };
  const doReplay = async (rerunLlm = false) => {
    if (!run) return;
    const { data, problem } = await attempt(
      replayRun.mutateAsync({ params: { path: { id: run.id }, query: rerunLlm ? { rerun_llm: true } : {} } }),
    );
    if (data) setReplay(data);
    else setError(problem.message);
  };
  const open = (c: Citation) => {
    if (c.source === 'ticket') onOpenTicket(c.id);
    else if (c.source === 'article') setArticle((shown) => (shown === c.id ? null : c.id));
  };

  const view = run ? pieces(run) : null;
  return (
    <section className="copilot" aria-labelledby="copilot-title">
      <h3 id="copilot-title">Copilot</h3>
      <form onSubmit={submit} aria-label="Ask the copilot">
        <label htmlFor="copilot-question">Ask about this ticket</label>
        <input id="copilot-question" value={question} maxLength={1000} onChange={(e) => setQuestion(e.target.value)} />
        <div className="actions">
          <button type="submit" disabled={asking}>
            {asking ? 'Asking…' : 'Ask'}
          </button>
          {ASK.map((q) => (
            <button key={q} type="button" className="chip" disabled={asking} onClick={() => void ask(q)}>
              {q}
            </button>
          ))}
        </div>
      </form>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {run && view && (
        <div className="copilot-run" data-testid="copilot-run" aria-live="polite">
          <p className="meta">
            “{run.question}” —{' '}
            {run.status === 'answered'
              ? run.mode === 'llm'
                ? `answered, worded by ${String((run.model as { model?: string } | null)?.model ?? 'the language model')}, every sentence backed by its source`
                : 'answered, every sentence quoted from its source'
              : run.status === 'refused'
                ? 'refused'
                : 'failed'}
          </p>
          {run.status === 'answered' ? (
            <div className="copilot-answer" data-testid="copilot-answer">
              {view.parts.map((p, i) =>
                p.source === undefined ? (
                  <span key={i}>{p.text}</span>
                ) : (
                  <span key={i} className="quote">
                    {p.text}
                    <sup>
                      <a href={`#copilot-source-${p.source}`} aria-label={`source ${p.source}`}>
                        [{p.source}]
                      </a>
                    </sup>
                  </span>
                ),
              )}
            </div>
          ) : null}
          {run.refusal && <p data-testid="copilot-refusal">{run.refusal}</p>}
          {view.sources.length > 0 && (
            <ol className="copilot-sources" aria-label="Sources of the answer">
              {view.sources.map((c, i) => (
                <li key={c.source_id} id={`copilot-source-${i + 1}`}>
                  {PROVENANCE[c.provenance]}:{' '}
                  {c.source === 'article' || c.source === 'ticket' ? (
                    <button type="button" className="link" onClick={() => open(c)}>
                      {c.title}
                    </button>
                  ) : (
                    c.title
                  )}
                  {article === c.id && c.source === 'article' && <ArticleHtml id={c.id} />}
                </li>
              ))}
            </ol>
          )}
          <div className="actions">
            <button type="button" aria-expanded={trace !== null} onClick={() => void showTrace()}>
              {trace ? 'Hide the trace' : 'Show the plan and tool trace'}
            </button>
            <button type="button" onClick={() => void doReplay()}>
              Replay
            </button>
            {run.mode === 'llm' && (
              <button type="button" onClick={() => void doReplay(true)}>
                Replay, asking the model again
              </button>
            )}
          </div>
          {trace && <Trace run={trace} />}
          {replay && (
            <div className="copilot-replay" data-testid="copilot-replay" role="status">
              <p>
                Still supported: <strong>{replay.still_supported ? 'yes' : 'no'}</strong>, because {replay.because}.
              </p>
              {replay.rerun && (
                <p>
                  Asked again, the model{' '}
                  {replay.rerun.refusal
                    ? `was refused: ${replay.rerun.refusal}.`
                    : replay.rerun.same_answer
                      ? 'gave the same answer.'
                      : `gave another answer that passes the gate: “${replay.rerun.answer ?? ''}”`}
                </p>
              )}
              <ul>
                {replay.steps.map((s) => (
                  <li key={s.seq}>
                    {s.name}: {s.same ? 'the same result' : 'a different result'}
                    {s.sources_added.length > 0 && `; new sources ${s.sources_added.join(', ')}`}
                    {s.sources_removed.length > 0 && `; gone ${s.sources_removed.join(', ')}`}
                    {s.sources_changed.length > 0 && `; changed ${s.sources_changed.join(', ')}`}
                    {s.error && `; ${s.error}`}
                  </li>
                ))}
              </ul>
            </div>
          )}
        </div>
      )}
    </section>
  );
}

function Trace({ run }: { run: Run }) {
  return (
    // Wide on a phone: it scrolls sideways, so it takes the keyboard's focus to scroll.
    <div className="copilot-trace" role="region" aria-label="The run's steps, scrollable" tabIndex={0}>
      <table aria-label="The run's steps">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Step</th>
            <th scope="col">Arguments</th>
            <th scope="col">Sources</th>
            <th scope="col">Time</th>
          </tr>
        </thead>
        <tbody>
          {run.steps.map((s) => (
            <tr key={s.seq}>
              <td>{s.seq}</td>
              <td>
                {s.kind}: {s.name}
                {s.error && <span className="error"> — {s.error}</span>}
              </td>
              <td>
                <code>{JSON.stringify(s.arguments)}</code>
              </td>
              <td>{s.sources.map((r) => `${r.source_id} (${PROVENANCE[r.provenance]})`).join(', ') || '—'}</td>
              <td>{s.duration_ms} ms</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
