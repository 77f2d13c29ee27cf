// The files a message carries: pictures as thumbnails that open in the viewer, other
// files with their name, type and size, to download.
import { useState } from 'react';
import { type Attachment, size } from '../../lib/upload';
import { Viewer } from './Viewer';

const isPicture = (a: Attachment) => a.inline && a.content_type.startsWith('image/');

export function Files({ files }: { files: Attachment[] }) {
  const [open, setOpen] = useState<number | null>(null);
  if (files.length === 0) return null;
  const pictures = files.filter(isPicture);
  const others = files.filter((a) => !isPicture(a));
  return (
    <>
      <ul className="files" aria-label="Attached files">
        {pictures.map((a, i) => (
          <li key={a.id} className="picture">
            <button type="button" onClick={() => setOpen(i)} aria-label={`View ${a.name}`}>
              <img src={a.url} alt={a.name} loading="lazy" />
            </button>
          </li>
        ))}
        {others.map((a) => (
          <li key={a.id} className="file">
            <a href={a.url} download={a.name}>
              {a.name}
            </a>{' '}
            <span className="meta">
              {a.content_type} · {size(a.size)}
            </span>
          </li>
        ))}
      </ul>
      {open !== null && <Viewer pictures={pictures} start={open} onClose={() => setOpen(null)} />}
    </>
  );
}
