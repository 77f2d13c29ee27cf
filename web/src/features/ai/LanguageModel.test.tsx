import { cleanup, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Schemas } from '../../lib/api';
import { LanguageModel } from './LanguageModel';
import { renderWithQueries } from '../../lib/testing';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const json = (b: unknown, status = 200) => new Response(JSON.stringify(b), { status, headers: { 'Content-Type': 'application/json' } });

const stored: Schemas['EndpointView'] = {
  provider: 'openai',
  base_url: 'http://127.0.0.1:8000',
  model: 'qwen',
  api_key_set: true,
  timeout_ms: 20_000,
  retries: 1,
  features: ['reply'],
};

/** A fake API: the request log is empty, and a settings change answers `answer`. */
function server(answer: () => Response) {
  const calls: { method: string; url: string; body: unknown }[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      const body = request.method === 'GET' ? null : await request.json().catch(() => null);
      calls.push({ method: request.method, url: request.url, body });
      if (request.url.includes('/ai/llm/requests')) return json([]);
      if (request.url.includes('/ai/llm/test')) {
        return json({ status: 'timeout', error: 'timed out reading response', attempts: 2, duration_ms: 2004, request_id: 3 });
      }
      return answer();
    }),
  );
  return calls;
}

describe('LanguageModel', () => {
  it('keeps a stored key unless one is typed or its removal is asked for', async () => {
    const calls = server(() => json({ customers_set_priority: false, ai: { suggest_threshold: 0.5, apply_threshold: 0.9, escalation: [], llm: stored } }));
    renderWithQueries(<LanguageModel endpoint={stored} />);
    expect(screen.getByLabelText(/API key \(one is stored/)).toHaveProperty('value', '');
    await userEvent.click(screen.getByRole('button', { name: 'Save language model' }));
    const patch = calls.find((c) => c.method === 'PATCH');
    expect(patch?.body).toEqual({
      ai: { llm: { provider: 'openai', base_url: 'http://127.0.0.1:8000', model: 'qwen', timeout_ms: 20000, retries: 1, features: ['reply'] } },
    });
    expect(await screen.findByText('Language model saved.')).toBeTruthy();

    await userEvent.click(screen.getByLabelText(/Remove the stored key/));
    await userEvent.click(screen.getByRole('button', { name: 'Save language model' }));
    expect((calls.filter((c) => c.method === 'PATCH')[1].body as { ai: { llm: { api_key: unknown } } }).ai.llm.api_key).toBeNull();
  });

  it('shows each field the server refused beside it, and how a connection test went', async () => {
    server(() => json({ error: { code: 'validation_failed', message: 'invalid', fields: { 'ai.llm.base_url': 'must name a host' } } }, 422));
    renderWithQueries(<LanguageModel endpoint={stored} />);
    await userEvent.click(screen.getByRole('button', { name: 'Save language model' }));
    expect((await screen.findByText('must name a host')).id).toBe('llm-base_url-error');
    expect(screen.getByLabelText('Address').getAttribute('aria-describedby')).toBe('llm-base_url-error');
    await userEvent.click(screen.getByRole('button', { name: 'Test the connection' }));
    expect((await screen.findByTestId('llm-test')).textContent).toBe('Timed out: timed out reading response (2 attempts)');
  });
});
