// A ticket's conversation: the description, the newest messages, earlier ones on demand.
import type { Schemas } from '../../lib/api';
import { earlier, earlierLabel, type Thread } from '../../lib/thread';
import { Files } from '../attachments';
import { nameOf } from './names';

interface Props {
  description: string;
  /** The files on the description. */
  files: Schemas['Attachment'][];
  thread: Thread | null;
  error: string | null;
  busy: boolean;
  hidden: boolean;
  people: Schemas['User'][];
  onShowEarlier: () => void;
}

export function Conversation({ description, files, thread, error, busy, hidden, people, onShowEarlier }: Props) {
  return (
    <>
      {error && (
        <p className="error" role="alert">
          The conversation could not be loaded: {error}
        </p>
      )}
      <ol className="conversation" aria-label="Conversation" hidden={hidden} aria-busy={thread === null}>
        <li className="comment description">
          <p>{description}</p>
          <Files files={files} />
        </li>
        {thread && earlier(thread) > 0 && (
          <li className="earlier">
            <button type="button" onClick={onShowEarlier} aria-disabled={busy} data-testid="show-earlier">
              {earlierLabel(thread)}
            </button>
          </li>
        )}
        {(thread?.items ?? []).map((c) => (
          <li key={c.id} className={`comment ${c.visibility}`} data-testid="comment">
            <p className="meta">
              {c.visibility === 'internal' ? 'Internal note' : 'Reply'} by {nameOf(people, c.author_id)} · {new Date(c.created_at).toLocaleString()}
            </p>
            <p>{c.body}</p>
            <Files files={c.attachments} />
          </li>
        ))}
      </ol>
    </>
  );
}
