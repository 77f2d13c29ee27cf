// The files being attached to one message: each uploads as soon as it is added, shows
// its progress, may be removed, and says why when it is refused.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Problem } from '../../lib/api';
import { type Attachment, upload } from '../../lib/upload';

export interface Item {
  key: number;
  name: string;
  size: number;
  /** 0 to 1 while uploading. */
  progress: number;
  attachment?: Attachment;
  error?: string;
}

export interface Uploads {
  items: Item[];
  add: (files: Iterable<File>) => void;
  remove: (key: number) => void;
  /** The ids to send with the message (those uploaded). */
  ids: number[];
  /** Still uploading: the message waits. */
  busy: boolean;
  /** The message went out: start again empty. */
  clear: () => void;
}

let next = 1;

export function useUploads(): Uploads {
  const [items, setItems] = useState<Item[]>([]);
  const aborts = useRef(new Map<number, () => void>());
  const patch = (key: number, change: Partial<Item>) => setItems((all) => all.map((i) => (i.key === key ? { ...i, ...change } : i)));

  const add = useCallback((files: Iterable<File>) => {
    for (const file of files) {
      const key = next++;
      const name = file.name || 'pasted image.png';
      setItems((all) => [...all, { key, name, size: file.size, progress: 0 }]);
      const u = upload(file, (progress) => patch(key, { progress }));
      aborts.current.set(key, u.abort);
      void u.done
        .then(
          (attachment) => patch(key, { attachment, progress: 1 }),
          (p: Problem) => {
            if (p.code !== 'aborted') patch(key, { error: p.message });
          },
        )
        .finally(() => aborts.current.delete(key));
    }
  }, []);

  const remove = useCallback((key: number) => {
    aborts.current.get(key)?.();
    setItems((all) => all.filter((i) => i.key !== key));
  }, []);

  const clear = useCallback(() => setItems([]), []);
  // Leaving the message stops what is still on its way.
  useEffect(() => {
    const pending = aborts.current;
    return () => pending.forEach((abort) => abort());
  }, []);

  return {
    items,
    add,
    remove,
    clear,
    ids: items.flatMap((i) => (i.attachment ? [i.attachment.id] : [])),
    busy: items.some((i) => !i.attachment && !i.error),
  };
}
