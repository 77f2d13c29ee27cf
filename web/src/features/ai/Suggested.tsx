// Knowledge-base articles and solved tickets that may answer the open ticket.
import { useState } from 'react';
import type { Schemas } from '../../lib/api';
import { ArticleHtml } from '../../components/ArticleHtml';
import { $api } from '../../lib/query';

type Hit = Schemas['Hit'];

interface Props {
  ticketId: number;
  /** What the customer asked: the search is made of its words. */
  subject: string;
  description: string;
  /** The articles the AI found for the ticket (`KB_SUGGEST`), once it has. */
  stored: Schemas['KbSuggestions'] | null | undefined;
  /** The help centre's address for this organisation: `/help/{slug}/`. */
  helpBase: string;
  onOpenTicket: (id: number) => void;
  /** Puts a link to a public article into the reply box. */
  onInsertLink: (text: string) => void;
}

/** Characters of the ticket sent as the question (the API takes at most 1,000). */
const QUESTION = 1000;

/**
 * Articles for this ticket: those the AI found for it (stored with the ticket, found
 * again when the customer writes), or, until it has (or when it found none), the
 * knowledge base and solved tickets searched now with the ticket's own words. An
 * article opens in place and a public one's link goes into the reply; a solved
 * ticket opens as a ticket.
 */
export function Suggested({ ticketId, subject, description, stored, helpBase, onOpenTicket, onInsertLink }: Props) {
  // Stored suggestions that found nothing are no answer: the knowledge base may have
  // grown since, so the search runs now instead.
  const hasStored = stored !== null && stored !== undefined && stored.articles.length > 0;
  const found: Hit[] | null = hasStored
    ? stored.articles.map((a) => ({
        source: 'article',
        id: a.article_id,
        chunk_id: a.chunk_id,
        title: a.title,
        snippet: a.snippet,
        visibility: a.visibility,
        score: a.score,
        retrievers: a.retrievers,
      }))
    : null;
  const q = `${subject}\n${description}`.slice(0, QUESTION);
  const search = $api.useQuery('get', '/api/v1/kb/search', { params: { query: { q, limit: '6' } } }, { enabled: !hasStored });
  const searched = search.data ? search.data.items.filter((h) => !(h.source === 'ticket' && h.id === ticketId)).slice(0, 5) : null;
  const hits = found ?? searched;

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
            h.source === 'article' ? (
              <ArticleHit
                key={`a${h.chunk_id}`}
                hit={h}
                onInsertLink={
                  h.visibility === 'public'
                    ? () => onInsertLink(`${h.title}: ${window.location.origin}${helpBase}articles/${h.id}`)
                    : undefined
                }
              />
            ) : (
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

function ArticleHit({ hit, onInsertLink }: { hit: Hit; onInsertLink?: () => void }) {
  const [open, setOpen] = useState(false);
  // Asked for when first unfolded.
  const [asked, setAsked] = useState(false);
  return (
    <li>
      <details
        onToggle={(e) => {
          const isOpen = (e.currentTarget as HTMLDetailsElement).open;
          setOpen(isOpen);
          if (isOpen) setAsked(true);
        }}
      >
        <summary>{hit.title}</summary>
        {asked ? <ArticleHtml id={hit.id} /> : <p role="status">Loading the article…</p>}
      </details>
      {!open && <span className="snippet" dangerouslySetInnerHTML={{ __html: hit.snippet }} />}
      {onInsertLink ? (
        <button type="button" className="link" onClick={onInsertLink} aria-label={`Insert a link to ${hit.title} into the reply`}>
          Insert link
        </button>
      ) : (
        <span className="internal-mark"> · internal</span>
      )}
    </li>
  );
}
