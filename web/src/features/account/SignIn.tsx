// The sign-in form: password, then a second factor when the account has one.
import { type FormEvent, type ReactNode, useEffect, useRef, useState } from 'react';
import { ForgotPassword } from './AccountLinks';
import { $api, attempt } from '../../lib/query';
import { explain } from './explain';

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
  const login = $api.useMutation('post', '/api/v1/auth/login');
  const mfa = $api.useMutation('post', '/api/v1/auth/mfa/verify');
  const resendMail = $api.useMutation('post', '/api/v1/auth/verify-email/resend');

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
    const { data, problem: p } = await attempt(
      login.mutateAsync({ body: { email, password: String(form.get('password')), ...(org ? { org } : {}) } }),
    );
    setBusy(false);
    if (p || !data) {
      const failed = p ?? { status: 0, code: 'unknown', message: 'The server sent no answer.' };
      if (failed.fields?.org) setNeedsOrg(true);
      if (failed.code === 'email_not_verified') setUnverified({ email, org });
      setError(explain(failed));
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
    const { problem: p } = await attempt(mfa.mutateAsync({ body: { challenge: challenge ?? '', code } }));
    setBusy(false);
    if (p) {
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
    const { problem: p } = await attempt(resendMail.mutateAsync({ body: { email, ...(org ? { org } : {}) } }));
    if (!p) setResent(true);
    else setError(explain(p));
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
