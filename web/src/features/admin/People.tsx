// People in the organisation: add, invite, change roles, deactivate, unlock, see their sessions.
import { type FormEvent, useMemo, useState } from 'react';
import { Pending } from '../../components/Failed';
import { type Failure, FieldError, failure, invalid, Outcome } from '../../components/form';
import type { Me, Schemas, User } from '../../lib/api';
import { $api, attempt } from '../../lib/query';
import { Sessions } from './Sessions';

type Role = Schemas['Role'];
const ROLES: Record<Role, string> = { admin: 'Admin', agent: 'Agent', customer: 'Customer' };

/** What a person's account is now, in words. */
export function standing(u: User, now = Date.now()): string {
  if (!u.is_active) return 'Deactivated';
  if (u.locked_until && Date.parse(u.locked_until) > now) {
    return `Locked until ${new Date(u.locked_until).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`;
  }
  return u.invited ? 'Invited' : 'Active';
}

interface NewPerson {
  email: string;
  name: string;
  role: Role;
  password: string;
}
const EMPTY: NewPerson = { email: '', name: '', role: 'agent', password: '' };

/**
 * The organisation's people, for admins: who they are, their role, whether they can
 * sign in; add (or invite) someone, change a role, deactivate, reactivate, unlock.
 */
export function People({ me }: { me: Me }) {
  const list = $api.useQuery('get', '/api/v1/users');
  const people: User[] | null = list.data?.items ?? null;
  const create = $api.useMutation('post', '/api/v1/users');
  const update = $api.useMutation('patch', '/api/v1/users/{id}');
  const invite = $api.useMutation('post', '/api/v1/users/{id}/invite');
  const unlockUser = $api.useMutation('post', '/api/v1/users/{id}/unlock');
  const [role, setRole] = useState<'' | Role>('');
  const [q, setQ] = useState('');
  const [draft, setDraft] = useState<NewPerson>(EMPTY);
  const [addFailure, setAddFailure] = useState<Failure | null>(null);
  const [added, setAdded] = useState<string | null>(null);
  const [rowFailure, setRowFailure] = useState<Failure | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [sessionsOf, setSessionsOf] = useState<User | null>(null);

  // Everyone's list (the rail's assignee lists too) is asked again after a change.
  const load = () => list.refetch();

  const shown = useMemo(() => {
    const needle = q.trim().toLowerCase();
    return (people ?? []).filter(
      (u) =>
        (!role || u.role === role) &&
        (!needle || u.display_name.toLowerCase().includes(needle) || u.email.toLowerCase().includes(needle)),
    );
  }, [people, role, q]);

  const add = async (e: FormEvent) => {
    e.preventDefault();
    setAdded(null);
    setAddFailure(null);
    const body: Schemas['NewUser'] = { email: draft.email, display_name: draft.name, role: draft.role };
    if (draft.password) body.password = draft.password;
    const { data, problem } = await attempt(create.mutateAsync({ body }));
    if (!data) {
      // The form keeps what was typed: only the API's verdict is added beside it.
      setAddFailure(failure(problem));
      return;
    }
    setAdded(
      data.invited
        ? `${data.display_name} was invited: an e-mail with a link to choose a password (good for a week) is on its way.`
        : `${data.display_name} was added.`,
    );
    setDraft(EMPTY);
    await load();
  };

  const change = async (u: User, body: Schemas['UserChange'], said: string) => {
    setDone(null);
    setRowFailure(null);
    const { data, problem } = await attempt(update.mutateAsync({ params: { path: { id: u.id } }, body }));
    if (!data) {
      setRowFailure(failure(problem));
      return;
    }
    setDone(said);
    await load();
  };

  const reinvite = async (u: User) => {
    setDone(null);
    setRowFailure(null);
    const { problem } = await attempt(invite.mutateAsync({ params: { path: { id: u.id } } }));
    if (problem) setRowFailure(failure(problem));
    else setDone(`A new invitation is on its way to ${u.email}; the older link no longer works.`);
  };

  const unlock = async (u: User) => {
    setDone(null);
    setRowFailure(null);
    const { problem } = await attempt(unlockUser.mutateAsync({ params: { path: { id: u.id } } }));
    if (problem) {
      setRowFailure(failure(problem));
      return;
    }
    setDone(`${u.display_name} can sign in again.`);
    await load();
  };

  return (
    <section aria-labelledby="people-title" className="admin-section">
      <h2 id="people-title">People</h2>
      <form className="inline-form" role="search" aria-label="Find people" onSubmit={(e) => e.preventDefault()}>
        <label htmlFor="people-q">Name or e-mail</label>
        <input id="people-q" type="search" value={q} onChange={(e) => setQ(e.target.value)} />
        <label htmlFor="people-role">Role</label>
        <select id="people-role" value={role} onChange={(e) => setRole(e.target.value as '' | Role)}>
          <option value="">Any</option>
          {Object.entries(ROLES).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </form>
      <Outcome f={rowFailure} saved={done} />
      {people === null ? (
        <Pending query={list} what="people" />
      ) : (
        <div className="scroll" role="region" aria-label="People, scrollable" tabIndex={0}>
          <table className="admin-table">
            <caption className="sr-only">People of the organisation</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">E-mail</th>
                <th scope="col">Role</th>
                <th scope="col">Account</th>
                <th scope="col">Last sign-in</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((u) => {
                const self = u.id === me.user.id;
                const state = standing(u);
                return (
                  <tr key={u.id} data-testid={`person-${u.email}`}>
                    <th scope="row">
                      {u.display_name}
                      {self && ' (you)'}
                    </th>
                    <td>{u.email}</td>
                    <td>
                      <select
                        aria-label={`Role of ${u.display_name}`}
                        value={u.role}
                        disabled={self}
                        onChange={(e) =>
                          void change(u, { role: e.target.value as Role }, `${u.display_name} is now ${ROLES[e.target.value as Role].toLowerCase()}.`)
                        }
                      >
                        {Object.entries(ROLES).map(([value, label]) => (
                          <option key={value} value={value}>
                            {label}
                          </option>
                        ))}
                      </select>
                    </td>
                    <td>{state}</td>
                    <td>{u.last_login_at ? new Date(u.last_login_at).toLocaleString() : 'Never'}</td>
                    <td>
                      <div className="actions">
                      {state.startsWith('Locked') && (
                        <button type="button" aria-label={`Unlock ${u.display_name}`} onClick={() => void unlock(u)}>
                          Unlock
                        </button>
                      )}
                      {u.is_active && u.invited && (
                        <button type="button" aria-label={`Invite ${u.display_name} again`} onClick={() => void reinvite(u)}>
                          Invite again
                        </button>
                      )}
                      {u.is_active && (
                        <button type="button" aria-label={`Sessions of ${u.display_name}`} aria-expanded={sessionsOf?.id === u.id} onClick={() => setSessionsOf(u)}>
                          Sessions
                        </button>
                      )}
                      {!self &&
                        (u.is_active ? (
                          <button
                            type="button"
                            aria-label={`Deactivate ${u.display_name}`}
                            onClick={() => void change(u, { is_active: false }, `${u.display_name} was deactivated and signed out everywhere.`)}
                          >
                            Deactivate
                          </button>
                        ) : (
                          <button
                            type="button"
                            aria-label={`Reactivate ${u.display_name}`}
                            onClick={() => void change(u, { is_active: true }, `${u.display_name} was reactivated.`)}
                          >
                            Reactivate
                          </button>
                        ))}
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {shown.length === 0 && <p>No one matches.</p>}
        </div>
      )}
      {sessionsOf && <Sessions key={sessionsOf.id} user={sessionsOf} onClose={() => setSessionsOf(null)} />}

      <h3 id="add-person-title">Add a person</h3>
      <form onSubmit={(e) => void add(e)} aria-labelledby="add-person-title" className="admin-form" noValidate>
        <label htmlFor="new-email">E-mail</label>
        <input
          id="new-email"
          type="email"
          autoComplete="off"
          value={draft.email}
          onChange={(e) => setDraft({ ...draft, email: e.target.value })}
          {...invalid(addFailure, 'email', 'new-email')}
        />
        <FieldError f={addFailure} field="email" id="new-email" />
        <label htmlFor="new-name">Name</label>
        <input
          id="new-name"
          value={draft.name}
          onChange={(e) => setDraft({ ...draft, name: e.target.value })}
          {...invalid(addFailure, 'display_name', 'new-name')}
        />
        <FieldError f={addFailure} field="display_name" id="new-name" />
        <label htmlFor="new-role">Role</label>
        <select id="new-role" value={draft.role} onChange={(e) => setDraft({ ...draft, role: e.target.value as Role })}>
          {Object.entries(ROLES).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
        <label htmlFor="new-password">Password (leave empty to invite: they get an e-mail to set one)</label>
        <input
          id="new-password"
          type="password"
          autoComplete="new-password"
          value={draft.password}
          onChange={(e) => setDraft({ ...draft, password: e.target.value })}
          {...invalid(addFailure, 'password', 'new-password')}
        />
        <FieldError f={addFailure} field="password" id="new-password" />
        <div className="actions">
          <button type="submit">{draft.password ? 'Add person' : 'Invite person'}</button>
        </div>
        <Outcome f={addFailure} saved={added} />
      </form>
    </section>
  );
}
