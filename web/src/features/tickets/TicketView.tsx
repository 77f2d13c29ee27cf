// One ticket open in the workspace: its head, fields and clocks, the conversation and
// history, the reply box, and the AI's aids beside them.
import { forwardRef, useCallback, useEffect, useImperativeHandle, useRef, useState } from 'react';
import { Failed } from '../../components/Failed';
import type { Me, Schemas } from '../../lib/api';
import { useThread } from '../../lib/thread';
import { PRIORITIES } from '../../lib/tickets';
import { DraftReply, type DraftHandle, Suggested, Triage, type TriageHandle, useTicketAi } from '../ai';
import { Copilot } from '../copilot';
import { Clocks } from './Clocks';
import { Composer, type ComposerHandle, type Visibility } from './Composer';
import { Conversation } from './Conversation';
import { Fields } from './Fields';
import { History } from './History';
import { actorName, nameOf } from './names';
import { Relations } from './Relations';
import { Requester, type RequesterHandle } from './Requester';
import { usePresence } from './usePresence';
import { useTicket } from './useTicket';

export interface TicketViewHandle {
  focusComposer: (visibility: Visibility) => void;
  acceptTriage: () => void;
  correctTriage: () => void;
  insertDraft: () => void;
  focusRequesterTickets: () => void;
}

interface Props {
  id: number;
  me: Me;
  /** Bumped by the workspace when the feed says this ticket changed. */
  changedBy: { actor_id: number | null; actor_kind: string; at: number } | null;
  /** Bumped when the feed says who has this ticket open changed. */
  presenceAt: number | null;
  /** Everyone in the organisation: names, and the agents and admins to assign. */
  people: Schemas['User'][];
  /** The organisation's agent groups, to route the ticket to. */
  groups: Schemas['Group'][];
  /** Back to the list (on a phone, where the ticket replaces it). */
  onBack: () => void;
  /** Opens another ticket (a solved one the knowledge search found). */
  onOpenTicket: (id: number) => void;
  onSentAndNext: () => void;
}

/** From this width the pane shows two columns (the container rule in styles/app.css). */
const WIDE_PANE_PX = 52 * 16;

export const TicketView = forwardRef<TicketViewHandle, Props>(function TicketView(
  { id, me, changedBy, presenceAt, people, groups, onBack, onOpenTicket, onSentAndNext },
  ref,
) {
  const { ticket: query, sla, reload, change, error } = useTicket(id);
  const ticket = query.data ?? null;
  const conversation = useThread(id);
  const [announced, setAnnounced] = useState('');
  const [updatedBy, setUpdatedBy] = useState<string | null>(null);
  const [tab, setTab] = useState<'conversation' | 'history'>('conversation');
  const triage = useRef<TriageHandle>(null);
  const draftReply = useRef<DraftHandle>(null);
  const requester = useRef<RequesterHandle>(null);
  const composer = useRef<ComposerHandle>(null);
  const [ai, setAi, refreshAi, aiQuery] = useTicketAi(id, changedBy?.at ?? 0);
  const { viewers, typed } = usePresence(id, presenceAt);
  const heading = useRef<HTMLHeadingElement>(null);
  // Whether the pane is wide enough for two columns, watched as it is resized.
  const [wide, setWide] = useState(false);
  const watch = useRef<ResizeObserver | null>(null);
  const pane = useCallback((el: HTMLElement | null) => {
    watch.current?.disconnect();
    if (!el || typeof ResizeObserver !== 'function') return;
    watch.current = new ResizeObserver(([entry]) => setWide(entry.contentRect.width >= WIDE_PANE_PX));
    watch.current.observe(el);
  }, []);

  const { refresh: refreshThread } = conversation;
  const load = useCallback(async () => {
    await Promise.all([reload(), refreshThread()]);
  }, [reload, refreshThread]);

  // Another ticket: its conversation from the newest messages, nothing said yet.
  useEffect(() => {
    setAnnounced('');
    setTab('conversation');
    setUpdatedBy(null);
    void refreshThread();
  }, [id, refreshThread]);

  // Focus moves to the ticket once it is shown (not again on a live reload).
  const shown = ticket?.id;
  useEffect(() => {
    if (shown !== undefined) heading.current?.focus();
  }, [shown]);

  // Someone else changed this ticket: reload it and say so. One's own changes are shown already.
  useEffect(() => {
    if (!changedBy || changedBy.actor_id === me.user.id) return;
    void load();
    setUpdatedBy(changedBy.actor_id === null ? actorName(changedBy.actor_kind) : nameOf(people, changedBy.actor_id));
  }, [changedBy, load, me.user.id, people]);

  useImperativeHandle(ref, () => ({
    focusComposer: (v: Visibility) => composer.current?.focus(v),
    acceptTriage: () => triage.current?.accept(),
    correctTriage: () => triage.current?.correct(),
    insertDraft: () => draftReply.current?.insert(),
    focusRequesterTickets: () => requester.current?.focusTickets(),
  }));
  const insertIntoReply = (text: string) => composer.current?.insert(text);

  const showEarlier = async () => {
    const n = await conversation.showEarlier();
    if (n > 0) setAnnounced(`${n} earlier ${n === 1 ? 'message' : 'messages'} shown.`);
  };

  if (!ticket) {
    return (
      <section className="ticket-view" aria-busy={!query.isError}>
        {query.isError ? <Failed error={query.error} what="ticket" retry={() => void query.refetch()} /> : <p role="status">Loading ticket…</p>}
      </section>
    );
  }
  return (
    <section className="ticket-view" aria-labelledby="ticket-title" ref={pane}>
      {/* One column on a phone or a narrow pane; on a wide one the requester, the
          fields and the AI's aids sit beside the conversation (styles/app.css). */}
      <div className="ticket-layout">
        <header className="ticket-head">
          <button type="button" className="back" onClick={onBack}>
            ← Back to the list
          </button>
          <h2 id="ticket-title" ref={heading} tabIndex={-1}>
            #{ticket.number} {ticket.subject}
          </h2>
          <p className="meta">
            Requested by {nameOf(people, ticket.requester_id)} · {new Date(ticket.created_at).toLocaleString()}
            {ticket.channel ? ` · via ${ticket.channel}` : ''}
          </p>
          {updatedBy && (
            <p className="banner" role="status">
              This ticket was just updated by {updatedBy}.{' '}
              <button type="button" onClick={() => setUpdatedBy(null)}>
                Dismiss
              </button>
            </p>
          )}
          {error && (
            <p className="error" role="alert">
              {error}
            </p>
          )}
        </header>
        <div className="ticket-context">
          <Requester ref={requester} ticketId={ticket.id} changedAt={changedBy?.at ?? 0} onOpenTicket={onOpenTicket} wide={wide} />
          <Fields key={ticket.id} ticket={ticket} people={people} groups={groups} viewers={viewers} change={change} />
          {sla && sla.clocks.length > 0 && <Clocks clocks={sla.clocks} />}
        </div>
        <div className="ticket-main">
          <div role="tablist" aria-label="Ticket" className="tabs">
            <button type="button" role="tab" aria-selected={tab === 'conversation'} onClick={() => setTab('conversation')}>
              Conversation
            </button>
            <button type="button" role="tab" aria-selected={tab === 'history'} onClick={() => setTab('history')}>
              History
            </button>
          </div>
          {tab === 'history' && <History id={id} people={people} />}
          <p className="sr-only" role="status">
            {announced}
          </p>
          <Conversation
            description={ticket.description}
            files={ticket.attachments ?? []}
            thread={conversation.thread}
            error={conversation.error}
            busy={conversation.busy}
            hidden={tab !== 'conversation'}
            people={people}
            onShowEarlier={() => void showEarlier()}
          />
          <Composer
            ref={composer}
            ticketId={id}
            onTyped={typed}
            onSent={(next) => {
              void load();
              refreshAi();
              if (next) onSentAndNext();
            }}
          />
        </div>
        {/* Beside the conversation, or after it on a narrow screen: aids to the reply,
            not in the way of reading. */}
        <div className="ticket-aids">
          {aiQuery.isError && <Failed error={aiQuery.error} what="AI's view of this ticket" retry={refreshAi} />}
          <Triage
            ref={triage}
            ticketId={ticket.id}
            ai={ai}
            onAi={setAi}
            priorities={PRIORITIES}
            onTicketChanged={() => void load()}
            onOpenTicket={onOpenTicket}
          />
          <Relations id={id} onChanged={() => void load()} />
          <DraftReply
            ref={draftReply}
            ticketId={ticket.id}
            draft={ai === null ? undefined : ai.draft}
            onDecided={(d) => setAi((prev) => (prev ? { ...prev, draft: d } : prev))}
            onInsert={insertIntoReply}
            onOpenTicket={onOpenTicket}
          />
          <Copilot ticketId={ticket.id} onOpenTicket={onOpenTicket} />
          <Suggested
            ticketId={ticket.id}
            subject={ticket.subject}
            description={ticket.description}
            stored={ai?.kb}
            helpBase={`/help/${me.org_slug}/`}
            onOpenTicket={onOpenTicket}
            onInsertLink={insertIntoReply}
          />
        </div>
      </div>
    </section>
  );
});
