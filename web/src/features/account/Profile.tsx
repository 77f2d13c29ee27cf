// The signed-in person's own account: two-factor enrolment, password and sessions.
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { Pending } from '../../components/Failed';
import type { Schemas } from '../../lib/api';
import { $api, attempt } from '../../lib/query';

/** Two-factor enrolment: the QR code and secret, a code to confirm, then the recovery codes once. */
export function TotpEnrolment({ onDone }: { onDone?: () => void }) {
  const mfa = $api.useQuery('get', '/api/v1/auth/mfa');
  const status = mfa.data ?? null;
  const enrol = $api.useMutation('post', '/api/v1/auth/mfa/totp');
  const confirmCode = $api.useMutation('post', '/api/v1/auth/mfa/totp/confirm');
  const [enrolment, setEnrolment] = useState<Schemas['Enrolment'] | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const begin = async () => {
    setError(null);
    const { data, problem } = await attempt(enrol.mutateAsync({}));
    if (data) setEnrolment(data);
    else setError(problem.message);
  };

  const confirm = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const code = String(new FormData(e.currentTarget).get('totp-code')).trim();
    const { data, problem } = await attempt(confirmCode.mutateAsync({ body: { code } }));
    if (data) {
      setCodes(data.recovery_codes);
      setEnrolment(null);
      await mfa.refetch();
    } else {
      setError(problem.fields?.code ?? problem.message);
    }
  };

  if (codes) {
    return (
      <div className="recovery">
        <p role="status">Two-factor authentication is on. Keep these recovery codes somewhere safe: each works once, and they are shown only now.</p>
        <ul aria-label="Recovery codes" className="codes">
          {codes.map((c) => (
            <li key={c}>
              <code>{c}</code>
            </li>
          ))}
        </ul>
        {onDone && (
          <button type="button" onClick={onDone}>
            I have saved them — continue
          </button>
        )}
      </div>
    );
  }
  return (
    <div>
      <Pending query={mfa} what="two-factor status" />
      <p>
        {status?.enabled
          ? `Two-factor authentication is on (${status.recovery_codes_left} recovery codes left).`
          : 'Two-factor authentication is off.'}
      </p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {!status?.enabled && !enrolment && (
        <button type="button" onClick={() => void begin()}>
          Set up an authenticator app
        </button>
      )}
      {enrolment && (
        <form onSubmit={confirm} aria-label="Confirm the authenticator" className="enrol-form">
          <img
            className="qr"
            src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(enrolment.qr_svg)}`}
            alt="QR code to scan with your authenticator app"
            width={180}
            height={180}
          />
          <p>
            Or type this secret: <code data-testid="totp-secret">{enrolment.secret}</code>
          </p>
          <label htmlFor="totp-code">The 6-digit code your app now shows</label>
          <input id="totp-code" name="totp-code" inputMode="numeric" autoComplete="one-time-code" required maxLength={6} />
          <button type="submit">Turn on two-factor authentication</button>
        </form>
      )}
    </div>
  );
}

/** The signed-in person's account: two-factor, password, sessions. */
export function Profile() {
  const sessionsQuery = $api.useQuery('get', '/api/v1/auth/sessions');
  const sessions = sessionsQuery.data?.items ?? [];
  const change = $api.useMutation('post', '/api/v1/auth/password');
  const end = $api.useMutation('delete', '/api/v1/auth/sessions/{id}');
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  const loadSessions = () => sessionsQuery.refetch();
  useEffect(() => heading.current?.focus(), []);

  const changePassword = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const data = new FormData(form);
    setMessage(null);
    setError(null);
    const { data: done, problem: p } = await attempt(
      change.mutateAsync({ body: { current_password: String(data.get('current')), new_password: String(data.get('new')) } }),
    );
    if (done) {
      form.reset();
      setMessage(`Password changed; ${done.revoked} other session(s) signed out.`);
      await loadSessions();
    } else {
      setError(Object.values(p.fields ?? {})[0] ?? p.message);
    }
  };

  const revoke = async (id: number) => {
    const { problem } = await attempt(end.mutateAsync({ params: { path: { id } } }));
    setError(problem ? problem.message : null);
    await loadSessions();
  };

  return (
    <section className="ticket-view" aria-labelledby="profile-title">
      <h2 id="profile-title" ref={heading} tabIndex={-1}>
        Your account
      </h2>
      <h3>Two-factor authentication</h3>
      <TotpEnrolment />
      <h3>Password</h3>
      {message && <p role="status">{message}</p>}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <form onSubmit={changePassword} aria-label="Change password" className="new-ticket-form">
        <label htmlFor="current">Current password</label>
        <input id="current" name="current" type="password" autoComplete="current-password" required />
        <label htmlFor="new">New password (at least 12 characters)</label>
        <input id="new" name="new" type="password" autoComplete="new-password" required minLength={12} />
        <div className="actions">
          <button type="submit">Change password</button>
        </div>
      </form>
      <h3>Sessions</h3>
      <Pending query={sessionsQuery} what="sessions" />
      <table className="sessions">
        <caption className="sr-only">Your signed-in sessions</caption>
        <thead>
          <tr>
            <th scope="col">Started</th>
            <th scope="col">Last seen</th>
            <th scope="col">Address</th>
            <th scope="col">
              <span className="sr-only">Action</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {sessions.map((s) => (
            <tr key={s.id} data-testid="session">
              <td>{new Date(s.created_at).toLocaleString()}</td>
              <td>{new Date(s.last_seen_at).toLocaleString()}</td>
              <td>{s.ip ?? '—'}</td>
              <td>
                {s.current ? (
                  'This session'
                ) : (
                  <button type="button" onClick={() => void revoke(s.id)}>
                    Sign out this session
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
