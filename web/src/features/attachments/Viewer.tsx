// Pictures full size in a modal dialog: arrow keys or buttons move between them,
// Escape or Close ends it and focus returns to the thumbnail.
import { useEffect, useRef, useState } from 'react';
import type { Attachment } from '../../lib/upload';

interface Props {
  pictures: Attachment[];
  start: number;
  onClose: () => void;
}

export function Viewer({ pictures, start, onClose }: Props) {
  const [at, setAt] = useState(start);
  const dialog = useRef<HTMLDialogElement>(null);
  const close = useRef<HTMLButtonElement>(null);
  // Modal, so the page behind is inert and Escape closes it; Close takes the focus
  // (the browser gives it back to the thumbnail when the dialog closes).
  useEffect(() => {
    const d = dialog.current;
    if (d && !d.open) d.showModal?.();
    close.current?.focus();
    return () => d?.close?.();
  }, []);
  const picture = pictures[at];
  const move = (by: number) => setAt((i) => (i + by + pictures.length) % pictures.length);
  return (
    <dialog
      ref={dialog}
      className="viewer"
      aria-label={`${picture.name}, picture ${at + 1} of ${pictures.length}`}
      onClose={onClose}
      onKeyDown={(e) => {
        if (e.key === 'ArrowRight') move(1);
        else if (e.key === 'ArrowLeft') move(-1);
      }}
    >
      <img src={picture.url} alt={picture.name} />
      <p className="caption">
        {picture.name} ({at + 1} of {pictures.length})
      </p>
      <div className="actions">
        {pictures.length > 1 && (
          <>
            <button type="button" onClick={() => move(-1)}>
              Previous (←)
            </button>
            <button type="button" onClick={() => move(1)}>
              Next (→)
            </button>
          </>
        )}
        <a href={picture.url} download={picture.name}>
          Download
        </a>
        <button type="button" ref={close} onClick={() => dialog.current?.close()}>
          Close (Esc)
        </button>
      </div>
    </dialog>
  );
}
