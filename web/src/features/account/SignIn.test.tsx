import { cleanup, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { explain } from './explain';
import { SignIn } from './SignIn';
import { renderWithQueries } from '../../lib/testing';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('explain', () => {
  it('tells a throttled person when to try again', () => {
    expect(explain({ status: 429, code: 'rate_limited', message: 'x', retryAfter: 42 })).toContain('Wait 42 seconds');
  });

  it('tells a person outside the allowlist what to do instead', () => {
    expect(explain({ status: 403, code: 'ip_not_allowed', message: 'x' })).toContain('office network or VPN');
  });

  it('does not say whether an account exists or is locked', () => {
    const text = explain({ status: 401, code: 'invalid_credentials', message: 'x' });
    expect(text).toContain('Wrong e-mail or password');
  });
});

describe('SignIn', () => {
  it('asks for the code after a password, with the code field focused', async () => {
    const fetch = vi.fn(async () =>
      new Response(JSON.stringify({ mfa_required: true, challenge: 'c-1' }), {
        status: 200,
        headers: { 'Content-Type': 'application/json' },
      }),
    );
    vi.stubGlobal('fetch', fetch);
    renderWithQueries(<SignIn onSignedIn={() => {}} />);
    await userEvent.type(screen.getByLabelText('E-mail'), 'ada@example.test');
    await userEvent.type(screen.getByLabelText('Password'), 'a long password');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    const code = await screen.findByLabelText(/Code from your authenticator app/);
    expect(document.activeElement).toBe(code);
    const request = fetch.mock.calls[0] as unknown as [Request];
    expect(request[0].url).toMatch(/\/api\/v1\/auth\/login$/);
    expect(await request[0].json()).toEqual({ email: 'ada@example.test', password: 'a long password' });
  });

  it('shows the refusal and asks for the organisation when the server hosts several', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () =>
        new Response(
          JSON.stringify({ error: { code: 'validation_failed', message: 'invalid', fields: { org: 'name it' } } }),
          { status: 422, headers: { 'Content-Type': 'application/json' } },
        ),
      ),
    );
    renderWithQueries(<SignIn onSignedIn={() => {}} />);
    await userEvent.type(screen.getByLabelText('E-mail'), 'ada@example.test');
    await userEvent.type(screen.getByLabelText('Password'), 'a long password');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect((await screen.findByRole('alert')).textContent).toContain('Name your organisation');
    expect(screen.getByLabelText(/Organisation/)).toBeTruthy();
  });
});
