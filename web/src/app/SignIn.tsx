import { type FormEvent, type ReactNode, useEffect, useRef, useState } from 'react';
import { ForgotPassword } from './AccountLinks';
import { api, problem, type Problem } from './api';

interface Props {
  onSignedIn: () => void | Promise<void>;
  /** The organisation signed in to, when the page's address names it (the help centre). */
  org?: string;
  title?: string;
  /** Where "Forgot your password?" leads; without it the form asks for the link itself. */
  onForgot?: () => void;
  /** Shown under the form (the help centre's "No account? Sign up"). */
  footer?: ReactNode;
}

/** What to tell the person, for each way a sign-in can be refused. */
export function explain(p: Problem): string {
  switch (p.code) {
    case 'rate_limited':
      return `Too many attempts. Wait ${p.retryAfter ?? 60} seconds, then try again.`;
    case 'ip_not_allowed':
      return 'Your organisation only allows sign-in from its own networks, and this address is not one of them. Connect through your office network or VPN, or ask an administrator.';
    case 'email_not_verified':
      return 'Confirm your e-mail address first: follow the link we sent you.';
    case 'invalid_code':
      return 'That code did not work. Enter the current 6-digit code from your app, or an unused recovery code.';
    case 'invalid_credentials':
    case 'unauthenticated':
      return 'Wrong e-mail or password. After several wrong attempts the account is locked for a while; an administrator can unlock it.';
    case 'validation_failed':
      return p.fields?.org ? 'Name your organisation: this server hosts several.' : p.message;
    default:
      return p.message;
  }
}

export function SignIn({ onSignedIn, org: fixedOrg, title = 'Sign in to ATUM Desk', onForgot, footer }: Props) {
  const [challenge, setChallenge] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Set when the account's address is not confirmed yet: who may ask for the link again.
  const [unverified, setUnverified] = useState<{ email: string; org: string } | null>(null);
  const [resent, setResent] = useState(false);
  const [busy, setBusy] = useState(false);
  const [needsOrg, setNeedsOrg] = useState(false);
  const [forgot, setForgot] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  const codeInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    (challenge ? codeInput.current : heading.current)?.focus();
  }, [challenge, forgot]);

  const signIn = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const org = fixedOrg ?? String(form.get('org') ?? '').trim();
    const email = String(form.get('email'));
    setBusy(true);
    setError(null);
    setUnverified(null);
    setResent(false);
    const { data, error: err, response } = await api.POST('/api/v1/auth/login', {
      body: { email, password: String(form.get('password')), ...(org ? { org } : {}) },
    });
    setBusy(false);
    if (err || !data) {
      const p = problem(err, response);
      if (p.fields?.org) setNeedsOrg(true);
      if (p.code === 'email_not_verified') setUnverified({ email, org });
      setError(explain(p));
      return;
    }
    if (data.mfa_required && data.challenge) {
      setChallenge(data.challenge);
      return;
    }
    await onSignedIn();
  };

  const verify = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const code = String(new FormData(e.currentTarget).get('code')).trim();
    setBusy(true);
    setError(null);
    const { error: err, response } = await api.POST('/api/v1/auth/mfa/verify', {
      body: { challenge: challenge ?? '', code },
    });
    setBusy(false);
    if (err) {
      const p = problem(err, response);
      if (p.code === 'unauthenticated' || p.message.includes('challenge')) {
        setChallenge(null);
      }
      setError(explain({ ...p, code: p.status === 401 ? 'invalid_code' : p.code }));
      return;
    }
    await onSignedIn();
  };

  const resend = async () => {
    if (!unverified) return;
    const { email, org } = unverified;
    const { error: err, response } = await api.POST('/api/v1/auth/verify-email/resend', { body: { email, ...(org ? { org } : {}) } });
    if (response.ok) setResent(true);
    else setError(explain(problem(err, response)));
  };

  if (forgot) {
    return (
      <main className="signin">
        <h1 ref={heading} tabIndex={-1}>
          Reset your password
        </h1>
        <ForgotPassword onBack={() => setForgot(false)} />
      </main>
    );
  }
  return (
    <main className="signin">
      <h1 ref={heading} tabIndex={-1}>
        {title}
      </h1>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {unverified &&
        (resent ? (
          <p role="status">A new link is on its way to {unverified.email}. It works for 48 hours.</p>
        ) : (
          <button type="button" className="link" onClick={() => void resend()}>
            Send the confirmation link again
          </button>
        ))}
      {challenge ? (
        <form onSubmit={verify} aria-label="Second factor">
          <label htmlFor="code">Code from your authenticator app, or a recovery code</label>
          <input
            ref={codeInput}
            id="code"
            name="code"
            autoComplete="one-time-code"
            inputMode="text"
            required
            maxLength={32}
          />
          <button type="submit" disabled={busy}>
            Verify
          </button>
        </form>
      ) : (
        <form onSubmit={signIn} aria-label="Sign in">
          {needsOrg && !fixedOrg && (
            <>
              <label htmlFor="org">Organisation (its short name)</label>
              <input id="org" name="org" autoComplete="organization" required pattern="[a-z0-9-]+" />
            </>
          )}
          <label htmlFor="email">E-mail</label>
          <input id="email" name="email" type="email" autoComplete="username" required />
          <label htmlFor="password">Password</label>
          <input id="password" name="password" type="password" autoComplete="current-password" required />
          <button type="submit" disabled={busy}>
            Sign in
          </button>
          <button type="button" className="link" onClick={() => (onForgot ? onForgot() : setForgot(true))}>
            Forgot your password?
          </button>
        </form>
      )}
      {footer}
    </main>
  );
}
