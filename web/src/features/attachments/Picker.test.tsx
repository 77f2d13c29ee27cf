import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { size } from '../../lib/upload';
import { Picker } from './Picker';
import { useUploads } from './useUploads';

/** Stands in for the browser's XMLHttpRequest: each `send` waits for the test to answer it. */
class FakeXhr {
  static sent: FakeXhr[] = [];
  upload: { onprogress: ((e: { lengthComputable: boolean; loaded: number; total: number }) => void) | null } = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  status = 0;
  responseText = '';
  url = '';
  headers: Record<string, string> = {};
  aborted = false;
  open(_method: string, url: string) {
    this.url = url;
  }
  setRequestHeader(name: string, value: string) {
    this.headers[name] = value;
  }
  send() {
    FakeXhr.sent.push(this);
  }
  abort() {
    this.aborted = true;
    this.onabort?.();
  }
  answer(status: number, body: unknown) {
    this.status = status;
    this.responseText = JSON.stringify(body);
    this.onload?.();
  }
}

let ids: number[] = [];
function Harness() {
  const uploads = useUploads();
  ids = uploads.ids;
  return <Picker uploads={uploads} />;
}

const pick = (...files: File[]) => fireEvent.change(screen.getByLabelText('Attach files'), { target: { files } });

describe('Picker', () => {
  afterEach(() => {
    cleanup();
    vi.unstubAllGlobals();
    FakeXhr.sent = [];
  });

  it('uploads each file with its progress, and offers the uploaded ones for sending', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    render(<Harness />);
    pick(new File(['x'.repeat(2000)], 'crash log.txt', { type: 'text/plain' }));
    const [xhr] = FakeXhr.sent;
    expect(xhr.url).toBe('/api/v1/attachments?name=crash%20log.txt');
    expect(xhr.headers['Content-Type']).toBe('text/plain');
    act(() => xhr.upload.onprogress?.({ lengthComputable: true, loaded: 500, total: 2000 }));
    expect((screen.getByLabelText('Uploading crash log.txt') as HTMLProgressElement).value).toBe(0.25);
    await act(async () => xhr.answer(201, { id: 41, name: 'crash log.txt' }));
    expect(screen.getByText('attached')).toBeTruthy();
    expect(ids).toEqual([41]);
  });

  it('says why a file was refused beside it, and removing one stops its upload', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    render(<Harness />);
    pick(new File(['PK'], 'holiday.png', { type: 'image/png' }), new File(['y'], 'big.bin'));
    const [zip, big] = FakeXhr.sent;
    await act(async () =>
      zip.answer(415, { error: { code: 'file_type_not_allowed', message: 'holiday.png is application/zip by its content' } }),
    );
    expect(screen.getByRole('alert').textContent).toBe('holiday.png was not attached: holiday.png is application/zip by its content');
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Remove big.bin' })));
    expect(big.aborted).toBe(true);
    expect(screen.queryByText('big.bin')).toBeNull();
    expect(ids).toEqual([]);
  });
});

describe('size', () => {
  it('reads as people write sizes', () => {
    expect(size(1)).toBe('1 byte');
    expect(size(999)).toBe('999 bytes');
    expect(size(25_000_000)).toBe('25 MB');
    expect(size(1_500_000_000)).toBe('1.5 GB');
  });
});
