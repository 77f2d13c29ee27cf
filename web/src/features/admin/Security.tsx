// Security for admins: sign-in rules, the IP allowlist and the audit log.
import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Pending } from '../../components/Failed';
import { type Failure, FieldError, failure, invalid, Outcome } from '../../components/form';
import type { Schemas, User } from '../../lib/api';
import { $api, attempt, usePages } from '../../lib/query';
import { covers } from './cidr';

type AuditEntry = Schemas['AuditEntry'];

/** The audit log's events, in words. */
export const EVENTS: Record<string, string> = {
  'login.success': 'Signed in',
  'login.failure': 'Failed sign-in',
  'account.locked': 'Account locked',
  'account.unlocked': 'Account unlocked',
  'mfa.enrolled': 'Two-factor enrolled',
  'mfa.disabled': 'Two-factor removed',
  'mfa.failure': 'Wrong two-factor code',
  'mfa.recovery_code_used': 'Recovery code used',
  'ip_allowlist.changed': 'IP allowlist changed',
  'ip_allowlist.blocked': 'Blocked by the IP allowlist',
  'user.role_changed': 'Role changed',
  'user.deactivated': 'Deactivated',
  'password.changed': 'Password changed',
  'password.reset': 'Password reset',
  'password.reset_requested': 'Password reset asked for',
  'email.verified': 'E-mail verified',
  'session.revoked': 'Session signed out',
  'security.settings_changed': 'Security settings changed',
  'org.settings_changed': 'Organisation settings changed',
  'user.signed_up': 'Signed up',
  'user.invited': 'Invited',
  'user.signup_expired': 'Unverified sign-up removed',
};

interface Row {
  cidr: string;
  note: string;
}

/**
 * The organisation's security, for admins: who must use two-factor, whether customers
 * may sign up, the IP allowlist (warned before, and refused by the API, when it would
 * shut the admin out) and the audit log.
 */
export function Security({ people }: { people: User[] }) {
  return (
    <section aria-labelledby="security-title" className="admin-section">
      <h2 id="security-title">Security</h2>
      <Settings />
      <Allowlist />
      <AuditLog people={people} />
    </section>
  );
}

function Settings() {
  const stored = $api.useQuery('get', '/api/v1/admin/security/settings');
  // What is being changed; until then, what is stored.
  const [edited, setS] = useState<Schemas['SecuritySettings'] | null>(null);
  const s = edited ?? stored.data ?? null;
  const [f, setF] = useState<Failure | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const client = useQueryClient();
  const put = $api.useMutation('put', '/api/v1/admin/security/settings', {
    onSuccess: (data) => client.setQueryData($api.queryOptions('get', '/api/v1/admin/security/settings').queryKey, data),
  });

  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!s) return;
    setF(null);
    setSaved(null);
    const { data, problem } = await attempt(put.mutateAsync({ body: s }));
    if (data) {
      setS(null);
      setSaved('Security settings saved.');
    } else setF(failure(problem));
  };

  if (!s) return <Pending query={stored} what="sign-in rules" />;
  return (
    <form onSubmit={(e) => void save(e)} aria-labelledby="sign-in-rules" className="admin-form" noValidate>
      <h3 id="sign-in-rules">Sign-in rules</h3>
      <label className="check">
        <input type="checkbox" checked={s.require_mfa} onChange={(e) => setS({ ...s, require_mfa: e.target.checked })} /> Agents
        and admins must use two-factor authentication
      </label>
      <label className="check">
        <input type="checkbox" checked={s.portal_signup} onChange={(e) => setS({ ...s, portal_signup: e.target.checked })} />{' '}
        Customers may sign up in the help centre (with a verified e-mail address)
      </label>
      <div className="actions">
        <button type="submit">Save sign-in rules</button>
      </div>
      <Outcome f={f} saved={saved} />
    </form>
  );
}

function Allowlist() {
  const stored = $api.useQuery('get', '/api/v1/admin/security/ip-allowlist');
  // What is being changed; until then, what is stored.
  const [edited, setRows] = useState<Row[] | null>(null);
  const rows: Row[] | null = edited ?? stored.data?.entries.map((e) => ({ cidr: e.cidr, note: e.note })) ?? null;
  // The address the API sees for this session: what the list must keep.
  const mine = $api.useQuery('get', '/api/v1/auth/sessions').data?.items.find((x) => x.current)?.ip ?? null;
  const [f, setF] = useState<Failure | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const client = useQueryClient();
  const put = $api.useMutation('put', '/api/v1/admin/security/ip-allowlist', {
    onSuccess: (data) => client.setQueryData($api.queryOptions('get', '/api/v1/admin/security/ip-allowlist').queryKey, data),
  });

  const set = (i: number, change: Partial<Row>) => setRows(rows && rows.map((r, j) => (j === i ? { ...r, ...change } : r)));
  const filled = (rows ?? []).filter((r) => r.cidr.trim());
  const shutsMeOut = mine !== null && filled.length > 0 && !filled.some((r) => covers(r.cidr, mine));

  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!rows) return;
    setF(null);
    setSaved(null);
    const { data, problem } = await attempt(put.mutateAsync({ body: { entries: rows.map((r) => ({ cidr: r.cidr, note: r.note })) } }));
    if (!data) {
      setF(failure(problem));
      return;
    }
    setRows(null);
    setSaved(data.entries.length === 0 ? 'The allowlist is empty: every address may sign in.' : 'IP allowlist saved.');
  };

  return (
    <form onSubmit={(e) => void save(e)} aria-labelledby="allowlist-title" className="admin-form" noValidate>
      <h3 id="allowlist-title">IP allowlist</h3>
      <p>
        When the list has entries, agents and admins can use the desk only from these addresses or networks. Customers are not
        affected. {mine && <>The desk sees you at <strong data-testid="my-ip">{mine}</strong>.</>}
      </p>
      {rows === null ? (
        <Pending query={stored} what="allowlist" />
      ) : (
        <>
          {rows.length === 0 && <p>Empty: every address is allowed.</p>}
          <ol className="allowlist">
            {rows.map((r, i) => (
              <li key={i}>
                <label htmlFor={`cidr-${i}`}>Address or network {i + 1}</label>
                <input
                  id={`cidr-${i}`}
                  value={r.cidr}
                  placeholder="203.0.113.0/24"
                  onChange={(e) => set(i, { cidr: e.target.value })}
                  {...invalid(f, `entries[${i}].cidr`, `cidr-${i}`)}
                />
                <label htmlFor={`note-${i}`}>Note {i + 1}</label>
                <input
                  id={`note-${i}`}
                  value={r.note}
                  onChange={(e) => set(i, { note: e.target.value })}
                  {...invalid(f, `entries[${i}].note`, `note-${i}`)}
                />
                <button type="button" onClick={() => setRows(rows.filter((_, j) => j !== i))}>
                  Remove entry {i + 1}
                </button>
                <FieldError f={f} field={`entries[${i}].cidr`} id={`cidr-${i}`} />
                <FieldError f={f} field={`entries[${i}].note`} id={`note-${i}`} />
              </li>
            ))}
          </ol>
          <button type="button" onClick={() => setRows([...rows, { cidr: '', note: '' }])}>
            Add an entry
          </button>
          {shutsMeOut && (
            <p className="warning" role="alert">
              This list does not include your address ({mine}): saving it would lock you out, so the desk will refuse it. Add your
              address or network first.
            </p>
          )}
          <div className="actions">
            <button type="submit">Save IP allowlist</button>
          </div>
        </>
      )}
      <Outcome f={f} saved={saved} />
    </form>
  );
}

interface Filter {
  event: string;
  userId: string;
  since: string;
  until: string;
}
const NO_FILTER: Filter = { event: '', userId: '', since: '', until: '' };
const PAGE = 50;

function AuditLog({ people }: { people: User[] }) {
  const [filter, setFilter] = useState<Filter>(NO_FILTER);
  const query: Record<string, string | number> = { limit: PAGE };
  if (filter.event) query.event = filter.event;
  if (filter.userId) query.user_id = Number(filter.userId);
  if (filter.since) query.since = new Date(filter.since).toISOString();
  if (filter.until) query.until = new Date(filter.until).toISOString();
  // Newest first, a page at a time: the next page is the entries before the last one shown.
  const pages = usePages<Schemas['AuditPage']>('/api/v1/admin/security/audit', { params: { query } }, 'before_id', (last) =>
    last.items.length === PAGE ? last.items[last.items.length - 1].id : undefined,
  );
  const entries: AuditEntry[] | null = pages.data ? pages.data.pages.flatMap((p) => p.items) : null;
  const more = pages.hasNextPage;
  const f: Failure | null = pages.isError ? failure(pages.error) : null;

  const who = (id: number | null | undefined) => (id ? (people.find((p) => p.id === id)?.display_name ?? `#${id}`) : '');

  return (
    <div className="audit">
      <h3 id="audit-title">Audit log</h3>
      <form className="inline-form" aria-label="Filter the audit log" onSubmit={(e) => e.preventDefault()}>
        <label htmlFor="audit-event">Event</label>
        <select id="audit-event" value={filter.event} onChange={(e) => setFilter({ ...filter, event: e.target.value })}>
          <option value="">Any</option>
          {Object.entries(EVENTS).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
        <label htmlFor="audit-user">Person</label>
        <select id="audit-user" value={filter.userId} onChange={(e) => setFilter({ ...filter, userId: e.target.value })}>
          <option value="">Anyone</option>
          {people.map((p) => (
            <option key={p.id} value={p.id}>
              {p.display_name}
            </option>
          ))}
        </select>
        <label htmlFor="audit-since">From</label>
        <input id="audit-since" type="datetime-local" value={filter.since} onChange={(e) => setFilter({ ...filter, since: e.target.value })} />
        <label htmlFor="audit-until">Until</label>
        <input id="audit-until" type="datetime-local" value={filter.until} onChange={(e) => setFilter({ ...filter, until: e.target.value })} />
        <button type="button" onClick={() => setFilter(NO_FILTER)}>
          Clear filters
        </button>
      </form>
      <Outcome f={f} saved={null} />
      {entries === null ? (
        <Pending query={pages} what="audit log" />
      ) : entries.length === 0 ? (
        <p>No entries match.</p>
      ) : (
        <div className="scroll" role="region" aria-label="Audit log, scrollable" tabIndex={0}>
          <table className="admin-table" aria-labelledby="audit-title">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Event</th>
                <th scope="col">By</th>
                <th scope="col">Person concerned</th>
                <th scope="col">Address</th>
                <th scope="col">Detail</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr key={e.id} data-testid="audit-entry">
                  <td>{new Date(e.created_at).toLocaleString()}</td>
                  <td>{EVENTS[e.event] ?? e.event}</td>
                  <td>{e.actor_kind === 'user' ? who(e.actor_id) : e.actor_kind}</td>
                  <td>{who(e.target_user_id)}</td>
                  <td>{e.ip ?? ''}</td>
                  <td>
                    <code>{e.detail && Object.keys(e.detail as object).length ? JSON.stringify(e.detail) : ''}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {entries && more && (
        <button
          type="button"
          onClick={() => void pages.fetchNextPage()}
        >
          Older entries
        </button>
      )}
    </div>
  );
}
