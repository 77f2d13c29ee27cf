import { cleanup, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Triage } from './Triage';
import { useTicketAi } from './ticketAi';
import { renderWithQueries } from '../../lib/testing';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const answer = (value: string, extra: Record<string, unknown> = {}) => ({
  value,
  confidence: 0.93,
  tier: 'apply',
  applied: true,
  model_id: 7,
  verdict: null,
  alternatives: [{ value: 'billing', confidence: 0.04 }],
  neighbours: [{ ticket_id: 41, value, similarity: 0.88 }],
  ...extra,
});

const view = (category: Record<string, unknown>) => ({
  triage: {
    category,
    priority: null,
    sentiment: { score: -0.62, label: 'negative' },
    language: { code: 'deu', confidence: 0.9 },
    updated_at: '2026-12-01T08:00:00Z',
  },
});

/** The panel as the ticket view has it: fed by the ticket's AI view. */
function Harness(props: { priorities: string[]; onTicketChanged: () => void; onOpenTicket: (id: number) => void }) {
  const [ai, setAi] = useTicketAi(5, 0);
  return <Triage ticketId={5} ai={ai} onAi={setAi} {...props} />;
}

const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });

describe('Triage', () => {
  it('shows how sure the AI is, why, and the tone and language of the customer', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json(view(answer('access')))));
    const opened: number[] = [];
    renderWithQueries(<Harness priorities={['low', 'normal']} onTicketChanged={() => {}} onOpenTicket={(id) => opened.push(id)} />);
    const category = await screen.findByTestId('triage-category');
    expect(category.textContent).toContain('access');
    expect(category.textContent).toContain('93% sure');
    expect(category.textContent).toContain('set by the AI');
    expect(screen.getByTestId('triage-tone').textContent).toContain('negative');
    expect(screen.getByText('German')).toBeTruthy();
    await userEvent.click(screen.getByRole('button', { name: 'Open a similar ticket (access, 88% alike)' }));
    expect(opened).toEqual([41]);
  });

  it('sends a correction with the right value and shows the verdict it gets back', async () => {
    const fetch = vi.fn(async (request: Request) =>
      request.method === 'POST' ? json(view(answer('access', { verdict: 'corrected' }))) : json(view(answer('access'))),
    );
    vi.stubGlobal('fetch', fetch);
    let changed = 0;
    renderWithQueries(<Harness priorities={[]} onTicketChanged={() => changed++} onOpenTicket={() => {}} />);
    await userEvent.click(await screen.findByRole('button', { name: 'Correct…' }));
    const input = screen.getByLabelText('Right category');
    expect(document.activeElement).toBe(input);
    await userEvent.type(input, 'shipping');
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect((await screen.findByTestId('triage-category')).textContent).toContain('you corrected it');
    const post = fetch.mock.calls.map((c) => c[0] as Request).find((r) => r.method === 'POST') as Request;
    expect(post.url).toMatch(/\/api\/v1\/tickets\/5\/ai\/feedback$/);
    expect(await post.json()).toEqual({ field: 'category', verdict: 'corrected', value: 'shipping' });
    expect(changed).toBe(1);
  });
});
