// A customer's sign-up in the help center, confirmed by a mailed link.
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { $api, attempt } from '../../lib/query';
import { explain } from '../account';
import { Link } from './Link';
import { helpPath } from './route';

type Field = 'display_name' | 'email' | 'password' | 'again';

/**
 * A customer makes an account, where the organisation allows it. The answer is the
 * same whether or not the address had one (the API mails its owner either way), so
 * the page says to look in the mailbox; the account works once the link is opened.
 */
export function SignUp({ org, open }: { org: string; open: boolean }) {
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});
  const [error, setError] = useState<string | null>(null);
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [closed, setClosed] = useState(false);
  const [busy, setBusy] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [sentTo]);
  const signup = $api.useMutation('post', '/api/v1/portal/{org}/signup');

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const value = (k: Field) => String(form.get(k) ?? '');
    setError(null);
    if (value('password') !== value('again')) {
      setErrors({ again: 'The two passwords differ.' });
      return;
    }
    setErrors({});
    setBusy(true);
    const body = { display_name: value('display_name').trim(), email: value('email').trim(), password: value('password') };
    const { problem: p } = await attempt(signup.mutateAsync({ params: { path: { org } }, body }));
    setBusy(false);
    if (!p) {
      setSentTo(body.email);
      return;
    }
    if (p.status === 404) setClosed(true);
    else if (p.fields) setErrors(p.fields as Partial<Record<Field, string>>);
    else setError(explain(p));
  };

  if (sentTo) {
    return (
      <main className="signin">
        <h1 ref={heading} tabIndex={-1}>
          Check your mailbox
        </h1>
        <p role="status">
          We sent a message to {sentTo}. Open the link in it to confirm your address; then you can sign in. The link works for 48 hours.
        </p>
      </main>
    );
  }
  if (closed || !open) {
    return (
      <main className="signin">
        <h1 ref={heading} tabIndex={-1}>
          Sign-up is closed
        </h1>
        <p role="alert">This help center does not take new accounts. Ask your support team to create one for you.</p>
      </main>
    );
  }
  const field = (name: Field, label: string, input: React.InputHTMLAttributes<HTMLInputElement>) => (
    <>
      <label htmlFor={`signup-${name}`}>{label}</label>
      <input
        id={`signup-${name}`}
        name={name}
        required
        {...input}
        {...(errors[name] ? { 'aria-invalid': true, 'aria-describedby': `signup-${name}-error` } : {})}
      />
      {errors[name] && (
        <p id={`signup-${name}-error`} className="field-error">
          {errors[name]}
        </p>
      )}
    </>
  );
  return (
    <main className="signin">
      <h1 ref={heading} tabIndex={-1}>
        Create your account
      </h1>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <form onSubmit={(e) => void submit(e)} aria-label="Sign up" noValidate>
        {field('display_name', 'Your name', { autoComplete: 'name', maxLength: 200 })}
        {field('email', 'E-mail', { type: 'email', autoComplete: 'email', maxLength: 254 })}
        {field('password', 'Password (at least 12 characters)', { type: 'password', autoComplete: 'new-password', minLength: 12 })}
        {field('again', 'The same password again', { type: 'password', autoComplete: 'new-password' })}
        <button type="submit" disabled={busy}>
          Sign up
        </button>
      </form>
      <p>
        Already have an account? <Link href={helpPath(org, { kind: 'sign-in' })}>Sign in</Link>
      </p>
    </main>
  );
}
