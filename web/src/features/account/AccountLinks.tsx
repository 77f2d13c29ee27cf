// The pages of the mailed links (choosing a new password, confirming an address) and asking for a reset link.
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { $api, attempt } from '../../lib/query';
import { explain } from './explain';

/** The one-time token of a mailed link (`?token=…`). */
const tokenOf = (search: string) => new URLSearchParams(search).get('token')?.trim() ?? '';

function Page({ title, children }: { title: string; children: React.ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <main className="signin">
      <h1 ref={heading} tabIndex={-1}>
        {title}
      </h1>
      {children}
    </main>
  );
}

/**
 * `/reset-password?token=…`, the link of a reset (or an invitation's) e-mail: choose a
 * password. Every session of the account ends; the person signs in with it after.
 */
export function ResetPassword({ search = window.location.search, signInHref = '/app/' }: { search?: string; signInHref?: string }) {
  const token = tokenOf(search);
  const [error, setError] = useState<string | null>(null);
  const [fieldError, setFieldError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);
  const confirm = $api.useMutation('post', '/api/v1/auth/password-reset/confirm');

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const password = String(form.get('password'));
    setError(null);
    setFieldError(null);
    if (password !== String(form.get('again'))) {
      setFieldError('The two passwords differ.');
      return;
    }
    setBusy(true);
    const { problem: p } = await attempt(confirm.mutateAsync({ body: { token, password } }));
    setBusy(false);
    if (!p) {
      setDone(true);
      return;
    }
    if (p.fields?.password) setFieldError(p.fields.password);
    else if (p.code === 'invalid_token' || p.fields?.token) setError('This link has expired or was already used. Ask for a new one from the sign-in page.');
    else setError(explain(p));
  };

  if (done) {
    return (
      <Page title="Your password is set">
        <p role="status">Sign in with your new password. Every other session of your account was signed out.</p>
        <p>
          <a href={signInHref}>Sign in</a>
        </p>
      </Page>
    );
  }
  return (
    <Page title="Choose a password">
      {!token && <p className="error">This page needs the link from the e-mail, with its token.</p>}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <form onSubmit={(e) => void submit(e)} aria-label="Choose a password" noValidate>
        <label htmlFor="new-password">New password (at least 12 characters)</label>
        <input
          id="new-password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          minLength={12}
          {...(fieldError ? { 'aria-invalid': true, 'aria-describedby': 'new-password-error' } : {})}
        />
        <label htmlFor="again-password">The same password again</label>
        <input id="again-password" name="again" type="password" autoComplete="new-password" required />
        {fieldError && (
          <p id="new-password-error" className="field-error">
            {fieldError}
          </p>
        )}
        <button type="submit" disabled={busy || !token}>
          Set password
        </button>
      </form>
    </Page>
  );
}

/** `/verify-email?token=…`: confirms the address on opening, then says what next. */
export function VerifyEmail({ search = window.location.search, signInHref = '/app/' }: { search?: string; signInHref?: string }) {
  const token = tokenOf(search);
  const [state, setState] = useState<'checking' | 'ok' | 'failed'>('checking');
  const [message, setMessage] = useState('');
  const asked = useRef(false);
  const verify = $api.useMutation('post', '/api/v1/auth/verify-email');
  const { mutateAsync } = verify;
  useEffect(() => {
    // Once: a second POST of a used token would report it as expired.
    if (asked.current) return;
    asked.current = true;
    void attempt(mutateAsync({ body: { token } })).then(({ problem }) => {
      if (!problem) setState('ok');
      else {
        setState('failed');
        setMessage(problem.message);
      }
    });
  }, [token, mutateAsync]);
  return (
    <Page title="Confirm your e-mail address">
      <div aria-live="polite">
        {state === 'checking' && <p role="status">Checking the link…</p>}
        {state === 'ok' && (
          <>
            <p role="status">Your e-mail address is confirmed. You can sign in now.</p>
            <p>
              <a href={signInHref}>Sign in</a>
            </p>
          </>
        )}
        {state === 'failed' && (
          <p className="error" role="alert">
            This link did not work ({message}). It may have expired or been used already; sign in to have a new one sent.
          </p>
        )}
      </div>
    </Page>
  );
}

/** "Forgot your password?": asks for the reset e-mail. The answer is the same whether or not the address has an account. */
export function ForgotPassword({ onBack, org: fixedOrg }: { onBack: () => void; org?: string }) {
  const [sent, setSent] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reset = $api.useMutation('post', '/api/v1/auth/password-reset');
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const email = String(form.get('email')).trim();
    const org = fixedOrg ?? String(form.get('org') ?? '').trim();
    setError(null);
    const { problem: p } = await attempt(reset.mutateAsync({ body: { email, ...(org ? { org } : {}) } }));
    if (!p) setSent(email);
    else setError(explain(p));
  };
  return (
    <>
      {sent ? (
        <p role="status">If {sent} has an account, an e-mail with a link to choose a new password is on its way. The link works for an hour.</p>
      ) : (
        <form onSubmit={(e) => void submit(e)} aria-label="Reset your password">
          <p>We send a link to choose a new password.</p>
          <label htmlFor="forgot-email">E-mail</label>
          <input id="forgot-email" name="email" type="email" autoComplete="username" required />
          {!fixedOrg && (
            <>
              <label htmlFor="forgot-org">Organisation (its short name; only if this server hosts several)</label>
              <input id="forgot-org" name="org" autoComplete="organization" pattern="[a-z0-9-]+" />
            </>
          )}
          <button type="submit">Send the link</button>
        </form>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <button type="button" className="link" onClick={onBack}>
        Back to sign-in
      </button>
    </>
  );
}
