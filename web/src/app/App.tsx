// The agent app's entry: the mailed links' pages, or who is signed in decides the screen.
import { useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { Failed } from '../components/Failed';
import { ResetPassword, SignIn, TotpEnrolment, VerifyEmail } from '../features/account';
import { Workspace } from '../features/workspace';
import { $api, asProblem } from '../lib/query';

/**
 * The pages of the mailed links need no session; otherwise who is signed in decides
 * the screen: the sign-in form, or the workspace.
 */
export function App() {
  const path = window.location.pathname;
  if (path === '/reset-password') return <ResetPassword />;
  if (path === '/verify-email') return <VerifyEmail />;
  return <Desk />;
}

function Desk() {
  const me = $api.useQuery('get', '/api/v1/me', undefined, { retry: false, staleTime: Infinity });
  const client = useQueryClient();
  const { refetch } = me;
  const refresh = useCallback(async () => {
    await refetch();
  }, [refetch]);
  const logout = $api.useMutation('post', '/api/v1/auth/logout');

  if (me.isPending) {
    return (
      <p className="loading" role="status">
        Loading…
      </p>
    );
  }
  if (me.isError && asProblem(me.error).status !== 401) {
    return (
      <main className="signin">
        <Failed error={me.error} what="desk" retry={() => void refetch()} />
      </main>
    );
  }
  if (!me.data) {
    return <SignIn onSignedIn={refresh} />;
  }
  const signOut = async () => {
    // Whether or not the sign-out went through, who is signed in is asked again below:
    // a session that survived shows as the workspace, not as a false sign-in form.
    await logout.mutateAsync({}).catch(() => undefined);
    // Nothing the last person could read stays in memory for the next: every answer
    // goes, and who is signed in is asked again (and is nobody).
    await client.resetQueries();
  };
  if (me.data.mfa_enrollment_required) {
    return (
      <main className="signin">
        <h1>Set up two-factor authentication</h1>
        <p>Your organisation requires a second factor for agents and admins. Scan the code with an authenticator app to continue.</p>
        <TotpEnrolment onDone={refresh} />
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </main>
    );
  }
  return <Workspace me={me.data} onSignOut={signOut} />;
}
