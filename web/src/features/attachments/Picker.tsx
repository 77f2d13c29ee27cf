// Files for a message: picked, dropped or pasted; each with its progress, a way to
// remove it, and the reason when it was refused.
import { type ClipboardEvent, type DragEvent, useId } from 'react';
import { size } from '../../lib/upload';
import type { Uploads } from './useUploads';

/** Handlers for the message's form and text box: files dropped on it or pasted into it are attached. */
export function dropAndPaste(uploads: Uploads) {
  return {
    onDragOver: (e: DragEvent) => {
      if (e.dataTransfer.types.includes('Files')) e.preventDefault();
    },
    onDrop: (e: DragEvent) => {
      if (e.dataTransfer.files.length === 0) return;
      e.preventDefault();
      uploads.add(e.dataTransfer.files);
    },
    onPaste: (e: ClipboardEvent) => {
      // A screenshot pastes as a file; text pastes as text.
      if (e.clipboardData.files.length === 0) return;
      e.preventDefault();
      uploads.add(e.clipboardData.files);
    },
  };
}

export function Picker({ uploads, label = 'Attach files' }: { uploads: Uploads; label?: string }) {
  const id = useId();
  return (
    <div className="attach">
      <input
        id={id}
        type="file"
        multiple
        className="sr-only"
        onChange={(e) => {
          if (e.target.files) uploads.add(e.target.files);
          e.target.value = '';
        }}
      />
      <label htmlFor={id} className="button">
        {label}
      </label>
      <span className="hint">or drop or paste them here</span>
      {uploads.items.length > 0 && (
        <ul className="uploads" aria-label="Files to send">
          {uploads.items.map((i) => (
            <li key={i.key} className={i.error ? 'refused' : undefined} data-testid="upload">
              <span className="name">{i.name}</span> <span className="size">{size(i.size)}</span>
              {!i.attachment && !i.error && <progress max={1} value={i.progress} aria-label={`Uploading ${i.name}`} />}
              {i.attachment && <span className="done">attached</span>}
              {i.error && (
                <span className="error" role="alert">
                  {i.name} was not attached: {i.error}
                </span>
              )}
              <button type="button" onClick={() => uploads.remove(i.key)} aria-label={`Remove ${i.name}`}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
