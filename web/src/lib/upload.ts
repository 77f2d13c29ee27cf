// Sends one file to POST /api/v1/attachments with progress: the one API call made
// with XMLHttpRequest, because fetch reports no upload progress. Same origin, the
// session cookie, and the API's error shape, like every other call.
import type { Problem, Schemas } from './api';

export type Attachment = Schemas['Attachment'];

export interface Upload {
  done: Promise<Attachment>;
  abort: () => void;
}

/** Starts uploading `file`; `onProgress` gets the fraction sent (0 to 1). Rejects with a `Problem`. */
export function upload(file: File, onProgress: (sent: number) => void): Upload {
  const xhr = new XMLHttpRequest();
  const done = new Promise<Attachment>((resolve, reject) => {
    const fail = (status: number, code: string, message: string) => reject({ status, code, message } satisfies Problem);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onerror = () => fail(0, 'network', 'The upload stopped: the connection was lost. Try again.');
    xhr.onabort = () => fail(0, 'aborted', 'Removed.');
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // Not JSON: a proxy's own page, say.
      }
      if (xhr.status === 201) return resolve(body as Attachment);
      const error = (body as { error?: { code?: string; message?: string; fields?: Record<string, string> } } | null)?.error;
      const field = error?.fields && Object.values(error.fields)[0];
      fail(xhr.status, error?.code ?? 'unknown', field ?? error?.message ?? `The server answered ${xhr.status}.`);
    };
  });
  xhr.open('POST', `/api/v1/attachments?name=${encodeURIComponent(file.name || 'pasted image.png')}`);
  xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
  xhr.send(file);
  return { done, abort: () => xhr.abort() };
}

/** A size as people read it: 25 MB, 1.5 GB (powers of 1000, like file managers). */
export function size(bytes: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u += 1;
  }
  if (u === 0) return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
  return `${v < 10 && v % 1 >= 0.05 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}
