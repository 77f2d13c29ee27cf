// The AI's draft reply beside a ticket, each sentence with its source.
import { forwardRef, useImperativeHandle, useState } from 'react';
import { ArticleHtml } from '../../components/ArticleHtml';
import type { Schemas } from '../../lib/api';
import { $api, attempt } from '../../lib/query';
import { byteSlice } from '../../lib/text';

type Draft = Schemas['DraftView'];

export interface DraftHandle {
  /** Inserts the draft into the reply box (the `i` key). */
  insert: () => void;
}

interface Props {
  ticketId: number;
  draft: Draft | null | undefined;
  onDecided: (draft: Draft) => void;
  /** Puts the text into the reply box and focuses it. */
  onInsert: (text: string) => void;
  onOpenTicket: (id: number) => void;
}

/** A piece of the draft: its own words, or a quote (or a worded sentence) with its sources' numbers. */
interface Piece {
  text: string;
  sources?: number[];
}

/**
 * The draft cut at its citations, and its sources numbered in order of first use. A
 * sentence a model worded may cite several sources: their citations share a span.
 */
function pieces(d: Draft): { pieces: Piece[]; sources: Schemas['CitationView'][] } {
  const sources: Schemas['CitationView'][] = [];
  const out: Piece[] = [];
  let at = 0;
  const sorted = [...d.citations].sort((a, b) => a.start - b.start || a.end - b.end);
  for (const c of sorted) {
    let n = sources.findIndex((s) => s.chunk_id === c.chunk_id);
    if (n < 0) n = sources.push(c) - 1;
    const last = out[out.length - 1];
    if (last?.sources && c.start < at) {
      if (!last.sources.includes(n + 1)) last.sources.push(n + 1);
      continue;
    }
    if (c.start > at) out.push({ text: byteSlice(d.body, at, c.start) });
    out.push({ text: byteSlice(d.body, c.start, c.end), sources: [n + 1] });
    at = c.end;
  }
  const rest = byteSlice(d.body, at, new TextEncoder().encode(d.body).length);
  if (rest) out.push({ text: rest });
  return { pieces: out, sources };
}

const STATUS: Record<string, string> = {
  inserted: 'You inserted this draft.',
  rejected: 'You rejected this draft.',
  sent: 'This draft was sent.',
};

/**
 * The AI's draft reply: sentences quoted from public articles and solved tickets,
 * each marked with its source, which opens. The agent inserts it into the reply box
 * (to edit, then send) or rejects it.
 */
export const DraftReply = forwardRef<DraftHandle, Props>(function DraftReply(
  { ticketId, draft, onDecided, onInsert, onOpenTicket },
  ref,
) {
  const [error, setError] = useState<string | null>(null);
  const [article, setArticle] = useState<number | null>(null);
  const decision = $api.useMutation('post', '/api/v1/tickets/{id}/ai/drafts/{draft_id}');

  const decide = async (verdict: Schemas['DraftVerdict'], d: Draft) => {
    setError(null);
    const { data, problem } = await attempt(
      decision.mutateAsync({ params: { path: { id: ticketId, draft_id: d.id } }, body: { verdict } }),
    );
    if (!data) {
      setError(problem.message);
      return false;
    }
    onDecided(data);
    return true;
  };

  const insert = async () => {
    if (!draft || !draft.body || draft.status === 'sent') return;
    if (await decide('inserted', draft)) onInsert(draft.body);
  };

  useImperativeHandle(ref, () => ({ insert: () => void insert() }));

  const openSource = (c: Schemas['CitationView']) => {
    if (c.source === 'ticket') onOpenTicket(c.source_id);
    else setArticle((open) => (open === c.source_id ? null : c.source_id));
  };

  if (draft === undefined || draft === null) {
    return (
      <section className="draft" aria-labelledby="draft-title">
        <h3 id="draft-title">Draft reply</h3>
        <p role="status">{draft === null ? 'No draft yet: the AI writes one within seconds of a customer’s message.' : 'Loading…'}</p>
      </section>
    );
  }
  if (draft.status === 'empty' || !draft.body) {
    return (
      <section className="draft" aria-labelledby="draft-title">
        <h3 id="draft-title">Draft reply</h3>
        <p role="status">No draft: nothing in the public articles or solved tickets answers this closely enough.</p>
      </section>
    );
  }
  const { pieces: parts, sources } = pieces(draft);
  return (
    <section className="draft" aria-labelledby="draft-title">
      <h3 id="draft-title">Draft reply</h3>
      <p className="meta">
        {draft.worded_by ? `Worded by ${draft.worded_by} from` : 'Quoted from'} {sources.length}{' '}
        {sources.length === 1 ? 'source' : 'sources'} · {Math.round(Math.max(0, draft.confidence) * 100)}% alike to the question
      </p>
      {draft.wording === 'asked' && draft.status === 'pending' && (
        <p className="meta" role="status">
          The language model is wording this draft; its wording replaces it here when every sentence checks out.
        </p>
      )}
      {draft.wording === 'refused' && (
        <p className="meta">The language model’s wording did not check out against the sources; these are the quotes.</p>
      )}
      <div className="draft-body" data-testid="draft-body">
        {parts.map((p, i) =>
          p.sources === undefined ? (
            <span key={i}>{p.text}</span>
          ) : (
            <span key={i} className="quote">
              {p.text}
              {p.sources.map((n) => (
                <sup key={n}>
                  <a href={`#draft-source-${n}`} aria-label={`source ${n}`}>
                    [{n}]
                  </a>
                </sup>
              ))}
            </span>
          ),
        )}
      </div>
      <ol className="draft-sources" aria-label="Sources of the draft">
        {sources.map((c, i) => (
          <li key={c.chunk_id} id={`draft-source-${i + 1}`}>
            <button type="button" className="link" onClick={() => openSource(c)}>
              {c.source === 'ticket' ? 'Solved ticket: ' : ''}
              {c.title}
            </button>
            {!c.current && <span className="stale"> (changed since it was quoted)</span>}
            {article === c.source_id && <ArticleHtml id={c.source_id} />}
          </li>
        ))}
      </ol>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {STATUS[draft.status] && <p role="status">{STATUS[draft.status]}</p>}
      {draft.status !== 'sent' && (
        <div className="actions">
          <button type="button" onClick={() => void insert()}>
            Insert into the reply (i)
          </button>
          {draft.status !== 'rejected' && (
            <button type="button" onClick={() => void decide('rejected', draft)}>
              Reject
            </button>
          )}
        </div>
      )}
    </section>
  );
});
