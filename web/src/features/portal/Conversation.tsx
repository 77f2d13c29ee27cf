// One request as its customer sees it: the public conversation, a reply, marking it solved.
import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import { Pending } from '../../components/Failed';
import type { Me, TicketView } from '../../lib/api';
import { $api, asProblem, attempt } from '../../lib/query';
import { earlier, earlierLabel, useThread } from '../../lib/thread';
import { useLiveFeed } from '../../lib/live';
import { dropAndPaste, Files, Picker, useUploads } from '../attachments';
import { Link } from './Link';
import { helpPath } from './route';
import { customerStatus } from './status';

/**
 * One request as its customer sees it: what they wrote, the public replies, a box to
 * answer, and a way to say it is solved. A reply from support arrives by itself (the
 * event stream) and is announced.
 */
export default function Conversation({ org, id, me }: { org: string; id: number; me: Me }) {
  const init = { params: { path: { id } } };
  const query = $api.useQuery('get', '/api/v1/tickets/{id}', init);
  const ticket: TicketView | null = query.data ?? null;
  const conversation = useThread(id);
  const missing = query.isError && [403, 404].includes(asProblem(query.error).status);
  const client = useQueryClient();
  const comment = $api.useMutation('post', '/api/v1/tickets/{id}/comments');
  // The answer is the ticket alone: what the view holds besides (its files) stays.
  const solveIt = $api.useMutation('post', '/api/v1/tickets/{id}/solve', {
    onSuccess: (data) =>
      client.setQueryData<TicketView>($api.queryOptions('get', '/api/v1/tickets/{id}', init).queryKey, (view) => view && { ...view, ...data }),
  });
  const [announcement, setAnnouncement] = useState('');
  const [draft, setDraft] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const uploads = useUploads();
  const heading = useRef<HTMLHeadingElement>(null);

  const { refresh } = conversation;
  const { refetch } = query;
  const load = useCallback(async () => {
    const [, added] = await Promise.all([refetch(), refresh()]);
    if (added.some((x) => x.author_id !== me.user.id)) setAnnouncement('Support replied.');
  }, [me.user.id, refresh, refetch]);
  useEffect(() => {
    void load();
  }, [load]);
  const showEarlier = async () => {
    const n = await conversation.showEarlier();
    if (n > 0) setAnnouncement(`${n} earlier ${n === 1 ? 'message' : 'messages'} shown.`);
  };
  useEffect(() => {
    if (ticket) document.title = `${ticket.subject} · Help center`;
  }, [ticket]);
  useEffect(() => heading.current?.focus(), [ticket?.id]);
  useLiveFeed(
    (e) => {
      if (e.ticket_id === id) void load();
    },
    () => void load(),
  );

  const reply = async (e: FormEvent) => {
    e.preventDefault();
    if (uploads.busy) {
      setError('Wait until your files have uploaded, or remove them.');
      return;
    }
    setError(null);
    setBusy(true);
    const body = { body: draft, attachment_ids: uploads.ids };
    const { data, problem: p } = await attempt(comment.mutateAsync({ params: { path: { id } }, body }));
    setBusy(false);
    if (!data) {
      setError(p.fields?.body ?? p.message);
      return;
    }
    setDraft('');
    uploads.clear();
    setAnnouncement('Your reply was sent.');
    await load();
  };

  const solve = async () => {
    setError(null);
    const { data, problem } = await attempt(solveIt.mutateAsync({ params: { path: { id } } }));
    if (!data) {
      setError(problem.message);
      return;
    }
    setAnnouncement('Your request is marked solved.');
  };

  if (missing) {
    return (
      <main>
        <h1>This request is not available</h1>
        <p>
          It is not one of yours, or the address is wrong. <Link href={helpPath(org, { kind: 'requests' })}>Your requests</Link>
        </p>
      </main>
    );
  }
  if (!ticket) return <Pending query={query} what="request" />;
  const closed = ticket.status === 'closed';
  const solved = ticket.status === 'solved';
  return (
    <main className="conversation">
      <Link href={helpPath(org, { kind: 'requests' })}>← My requests</Link>
      <h1 ref={heading} tabIndex={-1}>
        {ticket.subject}
      </h1>
      <p className="meta">
        <span className={`status status-${ticket.status}`}>{customerStatus(ticket.status)}</span> · #{ticket.number} · opened{' '}
        <time dateTime={ticket.created_at}>{new Date(ticket.created_at).toLocaleString()}</time>
      </p>
      <p className="sr-only" aria-live="polite" data-testid="announcement">
        {announcement}
      </p>
      <ol className="messages" aria-label="Conversation">
        {(ticket.description.trim() || ticket.attachments.length > 0) && (
          <li className="message mine">
            <p className="author">
              You · <time dateTime={ticket.created_at}>{new Date(ticket.created_at).toLocaleString()}</time>
            </p>
            <p className="body">{ticket.description}</p>
            <Files files={ticket.attachments} />
          </li>
        )}
        {conversation.thread && earlier(conversation.thread) > 0 && (
          <li className="earlier">
            <button type="button" className="secondary" onClick={() => void showEarlier()} aria-disabled={conversation.busy}>
              {earlierLabel(conversation.thread)}
            </button>
          </li>
        )}
        {(conversation.thread?.items ?? []).map((c) => {
          const mine = c.author_id === me.user.id;
          return (
            <li key={c.id} className={`message${mine ? ' mine' : ''}`}>
              <p className="author">
                {mine ? 'You' : `${c.author_name}, support`} · <time dateTime={c.created_at}>{new Date(c.created_at).toLocaleString()}</time>
              </p>
              <p className="body">{c.body}</p>
              <Files files={c.attachments} />
            </li>
          );
        })}
      </ol>
      {(error ?? conversation.error) && (
        <p className="error" role="alert">
          {error ?? `The conversation could not be loaded: ${conversation.error}`}
        </p>
      )}
      {closed ? (
        <p>
          This request is closed. If you need more help, <Link href={helpPath(org, { kind: 'new-request' })}>send a new request</Link>.
        </p>
      ) : (
        <form onSubmit={(e) => void reply(e)} aria-label="Reply" {...dropAndPaste(uploads)}>
          <label htmlFor="reply">{solved ? 'Not solved after all? Reply and we reopen it' : 'Your reply'}</label>
          <textarea id="reply" rows={5} maxLength={100000} value={draft} onChange={(e) => setDraft(e.target.value)} required />
          <Picker uploads={uploads} />
          <div className="actions">
            <button type="submit" disabled={busy || !draft.trim()}>
              Send reply
            </button>
            {!solved && (
              <button type="button" className="secondary" onClick={() => void solve()}>
                My problem is solved: close this request
              </button>
            )}
          </div>
        </form>
      )}
    </main>
  );
}
