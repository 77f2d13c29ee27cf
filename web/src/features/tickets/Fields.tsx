// A ticket's fields (status, priority, assignee, group, category, tags), who else is on
// it and who holds its lock.
import { useEffect, useRef, useState } from 'react';
import type { Schemas, TicketView } from '../../lib/api';
import { PRIORITIES } from '../../lib/tickets';

const STATUSES = ['new', 'open', 'pending', 'on_hold', 'solved', 'closed'] as const;

interface Props {
  ticket: TicketView;
  people: Schemas['User'][];
  groups: Schemas['Group'][];
  viewers: Schemas['Viewer'][];
  change: (body: Schemas['TicketChange']) => Promise<void>;
}

export function Fields({ ticket, people, groups, viewers, change }: Props) {
  const staff = people.filter((u) => u.role !== 'customer' && u.is_active);
  const [tags, setTags] = useState(ticket.tags.join(', '));
  const [category, setCategory] = useState(ticket.category ?? '');
  // Being edited: a live reload must not replace what the agent is typing.
  const tagsEdited = useRef(false);
  const categoryEdited = useRef(false);
  const savedTags = ticket.tags.join(', ');
  const savedCategory = ticket.category ?? '';
  useEffect(() => {
    if (!tagsEdited.current) setTags(savedTags);
  }, [savedTags]);
  useEffect(() => {
    if (!categoryEdited.current) setCategory(savedCategory);
  }, [savedCategory]);

  return (
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
        <select value={ticket.assignee_id ?? ''} onChange={(e) => void change({ assignee_id: e.target.value ? Number(e.target.value) : null })}>
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
        <select value={ticket.group_id ?? ''} onChange={(e) => void change({ group_id: e.target.value ? Number(e.target.value) : null })}>
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
            const next = tags
              .split(',')
              .map((t) => t.trim())
              .filter(Boolean);
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
  );
}
