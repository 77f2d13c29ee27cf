// One person's signed-in sessions, for an admin to end one or all.
import { useEffect, useRef, useState } from 'react';
import { Pending } from '../../components/Failed';
import { type Failure, failure, Outcome } from '../../components/form';
import type { Schemas, User } from '../../lib/api';
import { $api, attempt } from '../../lib/query';

type Session = Schemas['SessionInfo'];

/** A browser's name from its user agent, enough to tell a person's devices apart. */
export function device(agent: string | null | undefined): string {
  if (!agent) return 'Unknown device';
  const browser = /Edg\//.test(agent)
    ? 'Edge'
    : /Firefox\//.test(agent)
      ? 'Firefox'
      : /Chrom(e|ium)\//.test(agent)
        ? 'Chrome'
        : /Safari\//.test(agent)
          ? 'Safari'
          : null;
  const system = /Android/.test(agent)
    ? 'Android'
    : /iPhone|iPad/.test(agent)
      ? 'iOS'
      : /Windows/.test(agent)
        ? 'Windows'
        : /Mac OS X/.test(agent)
          ? 'macOS'
          : /Linux/.test(agent)
            ? 'Linux'
            : null;
  if (browser && system) return `${browser} on ${system}`;
  return browser ?? system ?? agent.slice(0, 60);
}

/**
 * Where a person is signed in, for an admin: each live session with its device,
 * address and last use, to sign out one (a lost laptop) or all of them.
 */
export function Sessions({ user, onClose }: { user: User; onClose: () => void }) {
  const sessions = $api.useQuery('get', '/api/v1/users/{id}/sessions', { params: { path: { id: user.id } } });
  const items: Session[] | null = sessions.data?.items ?? null;
  const [f, setF] = useState<Failure | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const endOne = $api.useMutation('delete', '/api/v1/users/{id}/sessions/{session_id}');
  const endEvery = $api.useMutation('post', '/api/v1/users/{id}/sessions/revoke');
  const load = () => sessions.refetch();
  useEffect(() => {
    setDone(null);
    setF(null);
    heading.current?.focus();
  }, [user.id]);

  const end = async (s: Session) => {
    setF(null);
    const { problem } = await attempt(endOne.mutateAsync({ params: { path: { id: user.id, session_id: s.id } } }));
    if (problem) setF(failure(problem));
    else setDone(`${device(s.user_agent)} was signed out.`);
    await load();
  };
  const endAll = async () => {
    setF(null);
    const { data, problem } = await attempt(endEvery.mutateAsync({ params: { path: { id: user.id } } }));
    if (!data) setF(failure(problem));
    else setDone(`${user.display_name} was signed out everywhere (${data.revoked} session${data.revoked === 1 ? '' : 's'}).`);
    await load();
  };

  return (
    <section aria-labelledby="sessions-title" className="admin-subsection">
      <h3 id="sessions-title" ref={heading} tabIndex={-1}>
        Where {user.display_name} is signed in
      </h3>
      <Outcome f={f} saved={done} />
      {items === null ? (
        <Pending query={sessions} what="sessions" />
      ) : items.length === 0 ? (
        <p>Not signed in anywhere.</p>
      ) : (
        <div className="scroll" role="region" aria-label="Sessions, scrollable" tabIndex={0}>
          <table>
            <thead>
              <tr>
                <th scope="col">Device</th>
                <th scope="col">Address</th>
                <th scope="col">Signed in</th>
                <th scope="col">Last used</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {items.map((s) => (
                <tr key={s.id}>
                  <th scope="row" title={s.user_agent ?? undefined}>
                    {device(s.user_agent)}
                    {s.current && ' (this session)'}
                  </th>
                  <td>{s.ip ?? 'Unknown'}</td>
                  <td>{new Date(s.created_at).toLocaleString()}</td>
                  <td>{new Date(s.last_seen_at).toLocaleString()}</td>
                  <td>
                    <button type="button" aria-label={`Sign out session ${s.id} (${device(s.user_agent)})`} onClick={() => void end(s)}>
                      Sign out
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="actions">
        {items !== null && items.length > 0 && (
          <button type="button" onClick={() => void endAll()}>
            Sign {user.display_name} out everywhere
          </button>
        )}
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
    </section>
  );
}
