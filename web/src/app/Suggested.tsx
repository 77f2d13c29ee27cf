import { useEffect, useState } from 'react';
import { api, type Schemas } from './api';

type Hit = Schemas['Hit'];

interface Props {
  ticketId: number;
  /** What the customer asked: the search is made of its words. */
  subject: string;
  description: string;
  onOpenTicket: (id: number) => void;
}

/** Characters of the ticket sent as the question (the API takes at most 1,000). */
const QUESTION = 1000;

/**
 * Articles for this ticket: the knowledge base and solved tickets searched with the
 * ticket's own words (the server keeps the words that tell passages apart) and, with
 * the model, its meaning. An article opens in place; a solved ticket opens as a ticket.
 */
export function Suggested({ ticketId, subject, description, onOpenTicket }: Props) {
  const [hits, setHits] = useState<Hit[] | null>(null);
  useEffect(() => {
    let live = true;
    const q = `${subject}\n${description}`.slice(0, QUESTION);
    void api.GET('/api/v1/kb/search', { params: { query: { q, limit: '6' } } }).then(({ data }) => {
      if (!live) return;
      const others = (data?.items ?? []).filter((h) => !(h.source === 'ticket' && h.id === ticketId));
      setHits(others.slice(0, 5));
    });
    return () => {
      live = false;
    };
  }, [ticketId, subject, description]);

  return (
    <section className="suggested" aria-labelledby="suggested-title">
      <h3 id="suggested-title">Articles for this ticket</h3>
      {hits === null ? (
        <p role="status">Looking…</p>
      ) : hits.length === 0 ? (
        <p role="status">Nothing in the knowledge base or solved tickets matches yet.</p>
      ) : (
        <ul aria-label="Articles for this ticket">
          {hits.map((h) =>
            h.source === 'article' ? <ArticleHit key={`a${h.chunk_id}`} hit={h} /> : (
              <li key={`t${h.chunk_id}`}>
                <button type="button" className="link" onClick={() => onOpenTicket(h.id)}>
                  Solved ticket: {h.title}
                </button>
                <span className="snippet" dangerouslySetInnerHTML={{ __html: h.snippet }} />
              </li>
            ),
          )}
        </ul>
      )}
    </section>
  );
}

function ArticleHit({ hit }: { hit: Hit }) {
  const [html, setHtml] = useState<string | null>(null);
  const [open, setOpen] = useState(false);
  return (
    <li>
      <details
        onToggle={(e) => {
          const isOpen = (e.currentTarget as HTMLDetailsElement).open;
          setOpen(isOpen);
          if (isOpen && html === null) {
            void api
              .GET('/api/v1/kb/articles/{id}', { params: { path: { id: hit.id } } })
              .then(({ data }) => setHtml(data?.body_html ?? '<p>This article is no longer available.</p>'));
          }
        }}
      >
        <summary>{hit.title}</summary>
        {html === null ? <p role="status">Loading the article…</p> : <div className="markdown" dangerouslySetInnerHTML={{ __html: html }} />}
      </details>
      {!open && <span className="snippet" dangerouslySetInnerHTML={{ __html: hit.snippet }} />}
    </li>
  );
}
