import { useCallback, useEffect, useState } from 'react';
import { api, type Me } from './api';
import { SignIn } from './SignIn';
import { Workspace } from './Workspace';

/** Who is signed in decides the screen: the sign-in form, or the workspace. */
export function App() {
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
  if (me === null || me.mfa_enrollment_required) {
    return <SignIn onSignedIn={refresh} enrolmentRequired={Boolean(me?.mfa_enrollment_required)} />;
  }
  const signOut = async () => {
    await api.POST('/api/v1/auth/logout');
    setMe(null);
  };
  return <Workspace me={me} onSignOut={signOut} />;
}
