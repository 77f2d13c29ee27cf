import { type FormEvent, type KeyboardEvent, forwardRef, useCallback, useEffect, useImperativeHandle, useRef, useState } from 'react';
import { api, type Me, problem, type Schemas, type TicketView as View } from './api';
import { Clocks } from './Clocks';
import { Copilot } from './Copilot';
import { Relations } from './Relations';
import { Requester, type RequesterHandle } from './Requester';
import { Suggested } from './Suggested';
import { Triage, type TriageHandle } from './Triage';
import { DraftReply, type DraftHandle } from './Draft';
import { useTicketAi } from './ticketAi';
import { earlier, earlierLabel, useThread } from './thread';
import { PRIORITIES } from './views';

export interface TicketViewHandle {
  focusComposer: (visibility: 'public' | 'internal') => void;
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

/** How often the open view says it is still here (the server's lease is 15 s). */
const HEARTBEAT_MS = 5_000;
/** Typing within this long counts as typing. */
const TYPING_MS = 4_000;

type Visibility = 'public' | 'internal';
const draftKey = (id: number, v: Visibility) => `atum:draft:${id}:${v}`;
const STATUSES = ['new', 'open', 'pending', 'on_hold', 'solved', 'closed'] as const;
/** From this width the pane shows two columns (the container rule in styles/app.css). */
const WIDE_PANE_PX = 52 * 16;

/** One ticket: the conversation, the reply and note box, its fields, SLA clocks and lock. */
export const TicketView = forwardRef<TicketViewHandle, Props>(function TicketView(
  { id, me, changedBy, presenceAt, people, groups, onBack, onOpenTicket, onSentAndNext },
  ref,
) {
  const [ticket, setTicket] = useState<View | null>(null);
  const conversation = useThread(id);
  const [announced, setAnnounced] = useState('');
  const [sla, setSla] = useState<Schemas['TicketSla'] | null>(null);
  const [visibility, setVisibility] = useState<Visibility>('public');
  const [draft, setDraft] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [lockedBy, setLockedBy] = useState<string | null>(null);
  const [updatedBy, setUpdatedBy] = useState<string | null>(null);
  const [tab, setTab] = useState<'conversation' | 'history'>('conversation');
  const [history, setHistory] = useState<{ items: Schemas['Event'][]; older: string | null }>({ items: [], older: null });
  const [tags, setTags] = useState('');
  const [category, setCategory] = useState('');
  // Being edited: a live reload must not replace what the agent is typing.
  const tagsEdited = useRef(false);
  const categoryEdited = useRef(false);
  const triage = useRef<TriageHandle>(null);
  const draftReply = useRef<DraftHandle>(null);
  const requester = useRef<RequesterHandle>(null);
  const [ai, setAi, refreshAi] = useTicketAi(id, changedBy?.at ?? 0);
  const composer = useRef<HTMLTextAreaElement>(null);
  const [viewers, setViewers] = useState<Schemas['Viewer'][]>([]);
  const lastTyped = useRef(0);
  const beat = useRef<() => void>(() => {});

  // Presence: here while the ticket is open, renewed by a heartbeat, gone on close.
  useEffect(() => {
    let open = true;
    let sentTyping = false;
    const send = async () => {
      const typing = Date.now() - lastTyped.current < TYPING_MS;
      sentTyping = typing;
      const { data } = await api.PUT('/api/v1/tickets/{id}/presence', { params: { path: { id } }, body: { typing } });
      if (data && open) setViewers(data.items);
    };
    beat.current = () => {
      if (!sentTyping) void send();
    };
    void send();
    const timer = window.setInterval(() => void send(), HEARTBEAT_MS);
    const leave = () => {
      void fetch(`/api/v1/tickets/${id}/presence`, { method: 'DELETE', keepalive: true, credentials: 'same-origin' });
    };
    window.addEventListener('pagehide', leave);
    return () => {
      open = false;
      window.clearInterval(timer);
      window.removeEventListener('pagehide', leave);
      leave();
    };
  }, [id]);

  useEffect(() => {
    if (presenceAt === null) return;
    void api.GET('/api/v1/tickets/{id}/presence', { params: { path: { id } } }).then(({ data }) => {
      if (data) setViewers(data.items);
    });
  }, [presenceAt, id]);
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

  // The ticket shown now: answers that arrive for one the agent has moved on from
  // (j, "send and next", the back button) are dropped.
  const showing = useRef(id);
  showing.current = id;

  const { refresh: refreshThread } = conversation;
  const load = useCallback(async () => {
    const [t, , s] = await Promise.all([
      api.GET('/api/v1/tickets/{id}', { params: { path: { id } } }),
      refreshThread(),
      api.GET('/api/v1/tickets/{id}/sla', { params: { path: { id } } }),
    ]);
    if (showing.current !== id) return;
    if (t.data) {
      setTicket(t.data);
      if (!tagsEdited.current) setTags(t.data.tags.join(', '));
      if (!categoryEdited.current) setCategory(t.data.category ?? '');
    }
    if (s.data) setSla(s.data);
  }, [id, refreshThread]);

  useEffect(() => {
    setTicket(null);
    setAnnounced('');
    setHistory({ items: [], older: null });
    setTab('conversation');
    setError(null);
    setLockedBy(null);
    setUpdatedBy(null);
    setDraft(localStorage.getItem(draftKey(id, 'public')) ?? '');
    setVisibility('public');
    void load();
  }, [id, load]);

  // Focus moves to the ticket once it is shown (not again on a live reload).
  const shown = ticket?.id;
  useEffect(() => {
    if (shown !== undefined) heading.current?.focus();
  }, [shown]);

  // Someone else changed this ticket: reload it and say so.
  useEffect(() => {
    // One's own changes are shown already.
    if (!changedBy || changedBy.actor_id === me.user.id) return;
    void load();
    setUpdatedBy(changedBy.actor_id === null ? actorName(changedBy.actor_kind) : nameOf(people, changedBy.actor_id));
  }, [changedBy, load, me.user.id, people]);

  useImperativeHandle(ref, () => ({
    focusComposer: (v: Visibility) => {
      switchTo(v);
      composer.current?.focus();
    },
    acceptTriage: () => triage.current?.accept(),
    correctTriage: () => triage.current?.correct(),
    insertDraft: () => draftReply.current?.insert(),
    focusRequesterTickets: () => requester.current?.focusTickets(),
  }));

  /** Into the reply box: replacing nothing the agent wrote, added after it. */
  const insertIntoReply = (text: string) => {
    switchTo('public');
    const current = localStorage.getItem(draftKey(id, 'public')) ?? '';
    type(current.trim() ? `${current.trimEnd()}\n\n${text}` : text);
    composer.current?.focus();
  };

  const switchTo = (v: Visibility) => {
    setVisibility(v);
    setDraft(localStorage.getItem(draftKey(id, v)) ?? '');
  };

  const type = (text: string) => {
    lastTyped.current = Date.now();
    beat.current();
    setDraft(text);
    if (text) localStorage.setItem(draftKey(id, visibility), text);
    else localStorage.removeItem(draftKey(id, visibility));
  };

  const takeLock = async (takeover: boolean) => {
    const { data, error: err, response } = await api.POST('/api/v1/tickets/{id}/lock', {
      params: { path: { id } },
      body: takeover ? { takeover: true } : null,
    });
    if (data) {
      setLockedBy(null);
      return true;
    }
    if (response.status === 423) {
      const body = err as { error?: { detail?: { holder?: { name?: string } } } } | undefined;
      setLockedBy(body?.error?.detail?.holder?.name ?? 'another agent');
      setError(`Someone else is working on this ticket. Your text is kept: take the ticket over to send it.`);
    }
    return false;
  };

  const send = async (next: boolean) => {
    if (!draft.trim()) return;
    setError(null);
    if (!(await takeLock(false))) return;
    const { error: err, response } = await api.POST('/api/v1/tickets/{id}/comments', {
      params: { path: { id } },
      body: { body: draft, visibility },
    });
    if (err) {
      setError(problem(err, response).message);
      return;
    }
    localStorage.removeItem(draftKey(id, visibility));
    setDraft('');
    await api.DELETE('/api/v1/tickets/{id}/lock', { params: { path: { id } } });
    await load();
    refreshAi();
    if (next) onSentAndNext();
  };

  /** The history, newest first: the first page, or (`more`) the page after those shown. */
  const showHistory = async (more: boolean) => {
    setTab('history');
    const cursor = more ? (history.older ?? undefined) : undefined;
    const { data, error: err, response } = await api.GET('/api/v1/tickets/{id}/history', {
      params: { path: { id }, query: { order: 'newest', cursor } },
    });
    if (showing.current !== id) return;
    if (!data) {
      setError(problem(err, response).message);
      return;
    }
    setHistory((h) => ({ items: more ? [...h.items, ...data.items] : data.items, older: data.next_cursor ?? null }));
  };

  const showEarlier = async () => {
    const n = await conversation.showEarlier();
    if (n > 0) setAnnounced(`${n} earlier ${n === 1 ? 'message' : 'messages'} shown.`);
  };

  const name = (userId: number | null | undefined) => nameOf(people, userId);
  const staff = people.filter((u) => u.role !== 'customer' && u.is_active);

  // Changes go out one after another, each with the version the previous one
  // returned: a tag edit right after an assignment is not refused as stale.
  const latest = useRef<View | null>(null);
  latest.current = ticket;
  const queue = useRef<Promise<void>>(Promise.resolve());
  const change = (body: Schemas['TicketChange']) => {
    queue.current = queue.current.then(() => apply(body));
    return queue.current;
  };
  const apply = async (body: Schemas['TicketChange']) => {
    const current = latest.current;
    if (!current) return;
    const { data, error: err, response } = await api.PATCH('/api/v1/tickets/{id}', {
      params: { path: { id }, header: { 'If-Match': `"${current.version}"` } },
      body,
    });
    if (data) {
      latest.current = { ...current, ...data };
      setTicket(latest.current);
      // Status and priority move the SLA clocks (a pause, another policy).
      const sla = await api.GET('/api/v1/tickets/{id}/sla', { params: { path: { id } } });
      if (sla.data && showing.current === id) setSla(sla.data);
    } else {
      const p = problem(err, response);
      setError(p.code === 'version_mismatch' ? 'Someone changed this ticket meanwhile; it has been reloaded.' : p.message);
      await load();
    }
  };

  const onComposerKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      void send(e.shiftKey);
    }
  };

  if (!ticket) {
    return (
      <section className="ticket-view" aria-busy="true">
        <p role="status">Loading ticket…</p>
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
            Requested by {name(ticket.requester_id)} · {new Date(ticket.created_at).toLocaleString()}
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
        </header>
        <div className="ticket-context">
          <Requester ref={requester} ticketId={ticket.id} changedAt={changedBy?.at ?? 0} onOpenTicket={onOpenTicket} wide={wide} />
          <div className="fields">
            <label>
              Status
              <select value={ticket.status} onChange={(e) => void change({ status: e.target.value as Schemas['Status'] })}>
                {STATUSES.map((s) => (
                  <option key={s} value={s}>
                    {s.replace('_', ' ')}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Priority
              <select value={ticket.priority} onChange={(e) => void change({ priority: e.target.value as Schemas['Priority'] })}>
                {PRIORITIES.map((p) => (
                  <option key={p} value={p}>
                    {p}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Assignee
              <select
                value={ticket.assignee_id ?? ''}
                onChange={(e) => void change({ assignee_id: e.target.value ? Number(e.target.value) : null })}
              >
                <option value="">Unassigned</option>
                {staff.map((u) => (
                  <option key={u.id} value={u.id}>
                    {u.display_name}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Group
              <select
                value={ticket.group_id ?? ''}
                onChange={(e) => void change({ group_id: e.target.value ? Number(e.target.value) : null })}
              >
                <option value="">No group</option>
                {groups.map((g) => (
                  <option key={g.id} value={g.id}>
                    {g.name}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Category
              <input
                value={category}
                onChange={(e) => {
                  categoryEdited.current = true;
                  setCategory(e.target.value);
                }}
                onBlur={() => {
                  categoryEdited.current = false;
                  const next = category.trim() || null;
                  if (next !== (ticket.category ?? null)) void change({ category: next });
                }}
              />
            </label>
            <label>
              Tags
              <input
                value={tags}
                onChange={(e) => {
                  tagsEdited.current = true;
                  setTags(e.target.value);
                }}
                onBlur={() => {
                  tagsEdited.current = false;
                  const next = tags.split(',').map((t) => t.trim()).filter(Boolean);
                  if (next.join(',') !== ticket.tags.join(',')) void change({ tags: next });
                }}
              />
            </label>
            <ul className="presence" aria-label="Also on this ticket" aria-live="polite">
              {viewers
                .filter((v) => !v.me)
                .map((v) => (
                  <li key={v.user_id} data-testid="viewer" title={`${v.display_name} is ${v.typing ? 'typing' : 'viewing'}`}>
                    <span className={`avatar${v.typing ? ' typing' : ''}`} aria-hidden="true">
                      {v.display_name.slice(0, 1).toUpperCase()}
                    </span>
                    <span className="sr-only">
                      {v.display_name} is {v.typing ? 'typing' : 'viewing'}
                    </span>
                    {v.typing && <span className="typing-label">{v.display_name} is typing…</span>}
                  </li>
                ))}
            </ul>
            {ticket.lock && !ticket.lock.mine && (
              <p className="lock" data-testid="lock-holder">
                {ticket.lock.holder_name} is working on this ticket
              </p>
            )}
          </div>
          {sla && sla.clocks.length > 0 && <Clocks clocks={sla.clocks} />}
        </div>
        <div className="ticket-main">
          <div role="tablist" aria-label="Ticket" className="tabs">
            <button type="button" role="tab" aria-selected={tab === 'conversation'} onClick={() => setTab('conversation')}>
              Conversation
            </button>
            <button type="button" role="tab" aria-selected={tab === 'history'} onClick={() => void showHistory(false)}>
              History
            </button>
          </div>
          {tab === 'history' && (
            <ol className="history" aria-label="History, newest first">
              {history.items.map((h) => (
                <li key={h.id} data-testid="history-event">
                  <span className="when">{new Date(h.created_at).toLocaleString()}</span>{' '}
                  <strong>{h.event_type.replaceAll('_', ' ')}</strong>
                  {h.event_type === 'updated' && h.after ? ` (${changedFields(h.after)})` : ''} by{' '}
                  {h.actor_kind === 'user' ? name(h.actor_id) : actorName(h.actor_kind)}
                </li>
              ))}
              {history.older && (
                <li>
                  <button type="button" onClick={() => void showHistory(true)}>
                    Show older events
                  </button>
                </li>
              )}
            </ol>
          )}
          <p className="sr-only" role="status">
            {announced}
          </p>
          {conversation.error && (
            <p className="error" role="alert">
              The conversation could not be loaded: {conversation.error}
            </p>
          )}
          <ol className="conversation" aria-label="Conversation" hidden={tab !== 'conversation'} aria-busy={conversation.thread === null}>
            <li className="comment description">
              <p>{ticket.description}</p>
            </li>
            {conversation.thread && earlier(conversation.thread) > 0 && (
              <li className="earlier">
                <button type="button" onClick={() => void showEarlier()} aria-disabled={conversation.busy} data-testid="show-earlier">
                  {earlierLabel(conversation.thread)}
                </button>
              </li>
            )}
            {(conversation.thread?.items ?? []).map((c) => (
              <li key={c.id} className={`comment ${c.visibility}`} data-testid="comment">
                <p className="meta">
                  {c.visibility === 'internal' ? 'Internal note' : 'Reply'} by {name(c.author_id)} ·{' '}
                  {new Date(c.created_at).toLocaleString()}
                </p>
                <p>{c.body}</p>
              </li>
            ))}
          </ol>
          <form
            className={`composer ${visibility}`}
            aria-label="Reply or note"
            onSubmit={(e: FormEvent) => {
              e.preventDefault();
              void send(false);
            }}
          >
            <div role="tablist" aria-label="Kind of message">
              <button type="button" role="tab" aria-selected={visibility === 'public'} onClick={() => switchTo('public')}>
                Reply (r)
              </button>
              <button type="button" role="tab" aria-selected={visibility === 'internal'} onClick={() => switchTo('internal')}>
                Internal note (n)
              </button>
            </div>
            <label htmlFor="composer">{visibility === 'public' ? 'Reply to the customer' : 'Internal note, for staff only'}</label>
            <textarea id="composer" ref={composer} value={draft} onChange={(e) => type(e.target.value)} onKeyDown={onComposerKey} rows={5} />
            {error && (
              <p className="error" role="alert">
                {error}
              </p>
            )}
            {lockedBy && (
              <button type="button" onClick={() => void takeLock(true).then((ok) => ok && setError(null))}>
                Take over from {lockedBy}
              </button>
            )}
            <div className="actions">
              <button type="submit">Send (Ctrl+Enter)</button>
              <button type="button" onClick={() => void send(true)}>
                Send and next (Ctrl+Shift+Enter)
              </button>
            </div>
          </form>
        </div>
        {/* Beside the conversation, or after it on a narrow screen: aids to the reply,
            not in the way of reading. */}
        <div className="ticket-aids">
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

/** A person's name, or their id while the list of people has not arrived. */
function nameOf(people: Schemas['User'][], userId: number | null | undefined): string {
  if (!userId) return 'nobody';
  return people.find((u) => u.id === userId)?.display_name ?? `user #${userId}`;
}

/** Which part of the system acted: "the AI", "the SLA worker", "the operator"… */
function actorName(kind: string): string {
  if (kind === 'ai') return 'the AI';
  if (kind === 'sla_worker') return 'the SLA worker';
  return `the ${kind.replaceAll('_', ' ')}`;
}

/** "status, assignee" from an update's `after`. */
function changedFields(after: unknown): string {
  return Object.keys(after as Record<string, unknown>)
    .map((k) => k.replace(/_id$/, '').replaceAll('_', ' '))
    .join(', ');
}
