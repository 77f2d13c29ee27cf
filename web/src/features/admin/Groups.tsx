// Agent groups: create, rename, choose members.
import { type FormEvent, useState } from 'react';
import { Pending } from '../../components/Failed';
import { type Failure, FieldError, failure, invalid, Outcome, SaveOrCancel } from '../../components/form';
import type { Schemas, User } from '../../lib/api';
import { usePeople } from '../../lib/directory';
import { $api, attempt } from '../../lib/query';

type Group = Schemas['Group'];

interface Editing {
  /** null: a new group. */
  id: number | null;
  name: string;
  members: Set<number>;
}

/**
 * Agent groups, for admins: the teams tickets are routed to. Create one, rename it,
 * choose its members among the agents and admins.
 */
export function Groups() {
  const list = $api.useQuery('get', '/api/v1/admin/groups');
  const groups: Group[] | null = list.data?.items ?? null;
  const staff: User[] = usePeople().filter((p) => p.role !== 'customer' && p.is_active);
  const create = $api.useMutation('post', '/api/v1/admin/groups');
  const update = $api.useMutation('put', '/api/v1/admin/groups/{id}');
  const [editing, setEditing] = useState<Editing | null>(null);
  const [f, setF] = useState<Failure | null>(null);
  const [saved, setSaved] = useState<string | null>(null);


  const name = (id: number) => staff.find((p) => p.id === id)?.display_name ?? `#${id}`;

  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!editing) return;
    setF(null);
    setSaved(null);
    const body = { name: editing.name, member_ids: [...editing.members] };
    const { data, problem } = await attempt(
      editing.id === null ? create.mutateAsync({ body }) : update.mutateAsync({ params: { path: { id: editing.id } }, body }),
    );
    if (!data) {
      setF(failure(problem));
      return;
    }
    setSaved(`Group ${data.name} saved with ${data.member_ids.length} ${data.member_ids.length === 1 ? 'member' : 'members'}.`);
    setEditing(null);
    await list.refetch();
  };

  const toggle = (id: number, on: boolean) =>
    setEditing((old) => {
      if (!old) return old;
      const members = new Set(old.members);
      if (on) members.add(id);
      else members.delete(id);
      return { ...old, members };
    });

  return (
    <section aria-labelledby="groups-title" className="admin-section">
      <h2 id="groups-title">Groups</h2>
      {groups === null ? (
        <Pending query={list} what="groups" />
      ) : groups.length === 0 ? (
        <p>No groups yet.</p>
      ) : (
        <ul className="admin-list">
          {groups.map((g) => (
            <li key={g.id} data-testid={`group-${g.name}`}>
              <strong>{g.name}</strong>: {g.member_ids.length === 0 ? 'no members' : g.member_ids.map(name).join(', ')}{' '}
              <button
                type="button"
                aria-label={`Edit ${g.name}`}
                onClick={() => setEditing({ id: g.id, name: g.name, members: new Set(g.member_ids) })}
              >
                Edit
              </button>
            </li>
          ))}
        </ul>
      )}
      {!editing && (
        <button type="button" onClick={() => setEditing({ id: null, name: '', members: new Set() })}>
          New group
        </button>
      )}
      {editing && (
        <form onSubmit={(e) => void save(e)} aria-label={editing.id === null ? 'New group' : `Edit group`} className="admin-form" noValidate>
          <label htmlFor="group-name">Name</label>
          <input
            id="group-name"
            value={editing.name}
            onChange={(e) => setEditing({ ...editing, name: e.target.value })}
            {...invalid(f, 'name', 'group-name')}
          />
          <FieldError f={f} field="name" id="group-name" />
          <fieldset {...invalid(f, 'member_ids', 'group-members')}>
            <legend>Members</legend>
            {staff.map((p) => (
              <label key={p.id} className="check">
                <input type="checkbox" checked={editing.members.has(p.id)} onChange={(e) => toggle(p.id, e.target.checked)} />{' '}
                {p.display_name} ({p.role})
              </label>
            ))}
          </fieldset>
          <FieldError f={f} field="member_ids" id="group-members" />
          <SaveOrCancel save="Save group" onCancel={() => (setEditing(null), setF(null))} />
        </form>
      )}
      <Outcome f={f} saved={saved} />
    </section>
  );
}
