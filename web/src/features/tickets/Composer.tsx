// The reply and note box: a draft kept per ticket and kind in this browser, the lock
// taken before sending (and taken over on request), Ctrl+Enter to send.
import { type FormEvent, forwardRef, type KeyboardEvent, useEffect, useImperativeHandle, useRef, useState } from 'react';
import { $api, attempt } from '../../lib/query';
import { dropAndPaste, Picker, useUploads } from '../attachments';

export type Visibility = 'public' | 'internal';

export interface ComposerHandle {
  focus: (v: Visibility) => void;
  /** Into the reply box: replacing nothing the agent wrote, added after it. */
  insert: (text: string) => void;
}

interface Props {
  ticketId: number;
  /** Each keystroke (for the "typing" presence). */
  onTyped: () => void;
  /** A message went out; `next`: open the next ticket. */
  onSent: (next: boolean) => void;
}

const draftKey = (id: number, v: Visibility) => `atum:draft:${id}:${v}`;
const stored = (id: number, v: Visibility) => localStorage.getItem(draftKey(id, v)) ?? '';

export const Composer = forwardRef<ComposerHandle, Props>(function Composer({ ticketId: id, onTyped, onSent }, ref) {
  const [visibility, setVisibility] = useState<Visibility>('public');
  const [draft, setDraft] = useState(() => stored(id, 'public'));
  const [error, setError] = useState<string | null>(null);
  const [lockedBy, setLockedBy] = useState<string | null>(null);
  const composer = useRef<HTMLTextAreaElement>(null);
  const lock = $api.useMutation('post', '/api/v1/tickets/{id}/lock');
  const unlock = $api.useMutation('delete', '/api/v1/tickets/{id}/lock');
  const comment = $api.useMutation('post', '/api/v1/tickets/{id}/comments');
  const uploads = useUploads();
  const { clear } = uploads;

  // Another ticket: its own draft, from the reply.
  useEffect(() => {
    setVisibility('public');
    setDraft(stored(id, 'public'));
    setError(null);
    setLockedBy(null);
    clear();
  }, [id, clear]);

  const switchTo = (v: Visibility) => {
    setVisibility(v);
    setDraft(stored(id, v));
  };

  const type = (text: string, v = visibility) => {
    onTyped();
    setDraft(text);
    if (text) localStorage.setItem(draftKey(id, v), text);
    else localStorage.removeItem(draftKey(id, v));
  };

  useImperativeHandle(ref, () => ({
    focus: (v) => {
      switchTo(v);
      composer.current?.focus();
    },
    insert: (text) => {
      switchTo('public');
      const current = stored(id, 'public');
      type(current.trim() ? `${current.trimEnd()}\n\n${text}` : text, 'public');
      composer.current?.focus();
    },
  }));

  const takeLock = async (takeover: boolean) => {
    const { data, problem } = await attempt(lock.mutateAsync({ params: { path: { id } }, body: takeover ? { takeover: true } : null }));
    if (data) {
      setLockedBy(null);
      return true;
    }
    if (problem.status === 423) {
      setLockedBy((problem.detail as { holder?: { name?: string } } | undefined)?.holder?.name ?? 'another agent');
      setError('Someone else is working on this ticket. Your text is kept: take the ticket over to send it.');
    } else setError(problem.message);
    return false;
  };

  const send = async (next: boolean) => {
    if (!draft.trim()) return;
    if (uploads.busy) {
      setError('Wait until the files have uploaded, or remove them.');
      return;
    }
    setError(null);
    if (!(await takeLock(false))) return;
    const body = { body: draft, visibility, attachment_ids: uploads.ids };
    const { problem } = await attempt(comment.mutateAsync({ params: { path: { id } }, body }));
    if (problem) {
      setError(problem.message);
      return;
    }
    localStorage.removeItem(draftKey(id, visibility));
    setDraft('');
    clear();
    // The lock lapses on its own if this does not arrive.
    await attempt(unlock.mutateAsync({ params: { path: { id } } }));
    onSent(next);
  };

  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      void send(e.shiftKey);
    }
  };

  return (
    <form
      className={`composer ${visibility}`}
      aria-label="Reply or note"
      {...dropAndPaste(uploads)}
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
      <textarea id="composer" ref={composer} value={draft} onChange={(e) => type(e.target.value)} onKeyDown={onKey} rows={5} />
      <Picker uploads={uploads} />
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
  );
});
