// The help center's frame: the route, who is signed in here, the header and the page.
import { useQueryClient } from '@tanstack/react-query';
import { lazy, useCallback, useEffect, useState } from 'react';
import { ForgotPassword, ResetPassword, VerifyEmail } from '../account';
import type { Me, Schemas } from '../../lib/api';
import { $api, asProblem, attempt } from '../../lib/query';
import { Failed } from '../../components/Failed';
import { Loading } from '../../components/Loading';
import { SignIn } from '../account';
import { Article, Search } from './Articles';
import { Link } from './Link';
import { go, helpPath, type HelpPage, parseHelpPath } from './route';
import { SignUp } from './SignUp';

// What only a signed-in customer uses loads when they first need it.
const Requests = lazy(() => import('./Requests'));
const Conversation = lazy(() => import('./Conversation'));
const NewRequest = lazy(() => import('./NewRequest'));

/**
 * An organisation's help centre: its public articles for anyone, and for its
 * customers their account (sign up, sign in, a forgotten password) and their
 * requests. Everything goes through the public API, as any client would.
 */
export function Help() {
  const [route, setRoute] = useState(() => parseHelpPath(window.location.pathname));
  // undefined: not known yet; null: nobody is signed in (here).
  const session = $api.useQuery('get', '/api/v1/me', undefined, { retry: false, staleTime: Infinity });
  const me: Me | null | undefined = session.data ?? (session.isError ? null : undefined);
  const client = useQueryClient();
  const logout = $api.useMutation('post', '/api/v1/auth/logout');
  // Each move is a fresh page, even to the address already shown ("New request" again).
  const [visit, setVisit] = useState(0);
  const { refetch } = session;
  const refresh = useCallback(async () => {
    await refetch();
  }, [refetch]);
  const org = route?.org;
  // Whose help center this is; null when the address names no organisation.
  const portal = $api.useQuery('get', '/api/v1/portal/{org}', { params: { path: { org: org ?? '' } } }, { enabled: Boolean(org) });
  const info: Schemas['PortalInfo'] | null | undefined =
    portal.data ?? (portal.isError && asProblem(portal.error).status === 404 ? null : undefined);
  useEffect(() => {
    const onPop = () => {
      setRoute(parseHelpPath(window.location.pathname));
      setVisit((v) => v + 1);
    };
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  if (!route) {
    return (
      <div className="portal">
        <main>
          <h1>Help center</h1>
          <p>This address names no help center. Ask your support team for the link to theirs.</p>
        </main>
      </div>
    );
  }
  const { page } = route;
  if (info === null) {
    return (
      <div className="portal">
        <main>
          <h1>No such help center</h1>
          <p>Check the address, or ask your support team for the link.</p>
        </main>
      </div>
    );
  }
  const path = (p: HelpPage) => helpPath(route.org, p);
  const signup = info?.signup ?? false;
  // A session of another organisation is no session here: its requests are elsewhere.
  const here = me && me.org_slug === org ? me : me === undefined ? undefined : null;
  const signOut = async () => {
    await attempt(logout.mutateAsync({}));
    // Nothing the last person could read stays in memory for the next.
    await client.resetQueries();
    go(path({ kind: 'home' }));
  };

  return (
    <div className="portal">
      <header>
        <Link href={path({ kind: 'home' })} className="brand">
          {info ? `${info.name} help center` : 'Help center'}
        </Link>
        <nav aria-label="Help center">
          <ul>
            <li>
              <Link href={path({ kind: 'home' })} current={page.kind === 'home' || page.kind === 'article'}>
                Articles
              </Link>
            </li>
            <li>
              <Link href={path({ kind: 'requests' })} current={page.kind === 'requests' || page.kind === 'request'}>
                My requests
              </Link>
            </li>
            <li>
              <Link href={path({ kind: 'new-request' })} current={page.kind === 'new-request'}>
                New request
              </Link>
            </li>
          </ul>
        </nav>
        <div className="who">
          {here ? (
            <>
              <span>{here.user.display_name}</span>
              <button type="button" className="link" onClick={() => void signOut()}>
                Sign out
              </button>
            </>
          ) : here === null ? (
            <>
              <Link href={path({ kind: 'sign-in' })}>Sign in</Link>
              {signup && <Link href={path({ kind: 'sign-up' })}>Sign up</Link>}
            </>
          ) : null}
        </div>
      </header>
      {portal.isError && info === undefined && <Failed error={portal.error} what="help center" retry={() => void portal.refetch()} />}
      <Page key={visit} org={route.org} page={page} me={here} signup={info ? info.signup : undefined} onSignedIn={refresh} />
    </div>
  );
}

interface PageProps {
  org: string;
  page: HelpPage;
  me: Me | null | undefined;
  /** The organisation takes sign-ups here (undefined until known). */
  signup: boolean | undefined;
  onSignedIn: () => Promise<void>;
}

function Page({ org, page, me, signup, onSignedIn }: PageProps) {
  const path = (p: HelpPage) => helpPath(org, p);
  switch (page.kind) {
    case 'home':
      return <Search org={org} />;
    case 'article':
      return <Article org={org} id={page.id} />;
    case 'sign-up':
      return signup === undefined ? <p role="status">Loading…</p> : <SignUp org={org} open={signup} />;
    case 'reset-password':
      return <ResetPassword signInHref={path({ kind: 'sign-in' })} />;
    case 'verify-email':
      return <VerifyEmail signInHref={path({ kind: 'sign-in' })} />;
    case 'forgot-password':
      return (
        <main className="signin">
          <h1>Reset your password</h1>
          <ForgotPassword org={org} onBack={() => go(path({ kind: 'sign-in' }))} />
        </main>
      );
    case 'sign-in':
      if (me) {
        return (
          <main>
            <h1>You are signed in</h1>
            <p>
              As {me.user.email}. <Link href={path({ kind: 'requests' })}>See your requests</Link>.
            </p>
          </main>
        );
      }
      return (
        <CustomerSignIn
          org={org}
          signup={signup ?? false}
          onSignedIn={async () => {
            await onSignedIn();
            go(path({ kind: 'requests' }));
          }}
        />
      );
    default:
      break;
  }
  // The rest is a signed-in customer's.
  if (me === undefined) return <p role="status">Loading…</p>;
  if (me === null) {
    const why = page.kind === 'new-request' ? 'Sign in to ask for help' : 'Sign in to see your requests';
    return <CustomerSignIn org={org} title={why} signup={signup ?? false} onSignedIn={onSignedIn} />;
  }
  return (
    <Loading what="page">
      {page.kind === 'requests' && <Requests org={org} me={me} />}
      {page.kind === 'new-request' && <NewRequest org={org} />}
      {page.kind === 'request' && <Conversation org={org} id={page.id} me={me} />}
    </Loading>
  );
}

function CustomerSignIn({ org, title = 'Sign in', signup, onSignedIn }: { org: string; title?: string; signup: boolean; onSignedIn: () => Promise<void> }) {
  return (
    <SignIn
      org={org}
      title={title}
      onSignedIn={onSignedIn}
      onForgot={() => go(helpPath(org, { kind: 'forgot-password' }))}
      footer={
        signup ? (
          <p>
            No account yet? <Link href={helpPath(org, { kind: 'sign-up' })}>Sign up</Link>
          </p>
        ) : (
          <p>No account yet? Ask the support team to make you one.</p>
        )
      }
    />
  );
}
