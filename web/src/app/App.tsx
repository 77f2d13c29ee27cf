import { useCallback, useEffect, useState } from 'react';
import { ResetPassword, VerifyEmail } from './AccountLinks';
import { api, type Me } from './api';
import { TotpEnrolment } from './Profile';
import { SignIn } from './SignIn';
import { Workspace } from './Workspace';

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
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const refresh = useCallback(async () => {
    const { data } = await api.GET('/api/v1/me');
    setMe(data ?? null);
  }, []);
  useEffect(() => {
    void refresh();
  }, [refresh]);

  if (me === undefined) {
    return <p className="loading" role="status">Loading…</p>;
  }
  if (me === null) {
    return <SignIn onSignedIn={refresh} />;
  }
  const signOut = async () => {
    await api.POST('/api/v1/auth/logout');
    setMe(null);
  };
  if (me.mfa_enrollment_required) {
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
  return <Workspace me={me} onSignOut={signOut} />;
}
