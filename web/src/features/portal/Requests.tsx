// "My requests": the customer's requests, kept current by the event stream.
import { useEffect } from 'react';
import type { Me, Ticket } from '../../lib/api';
import { $api, asProblem } from '../../lib/query';
import { useLiveFeed } from '../../lib/live';
import { Link } from './Link';
import { helpPath } from './route';
import { customerStatus } from './status';

const DONE: Ticket['status'][] = ['solved', 'closed'];

/** "My requests": the caller's requests, the latest changed first, kept current by the event stream. */
export default function Requests({ org, me }: { org: string; me: Me }) {
  // Staff reading their own help centre see the requests they made, not the desk's.
  const mine = me.user.role === 'customer' ? {} : { requester_id: String(me.user.id) };
  const list = $api.useQuery('get', '/api/v1/tickets', { params: { query: { sort: '-updated_at', limit: '100', ...mine } } });
  const items = list.data?.items ?? null;
  const failed = list.isError
    ? asProblem(list.error).status === 401
      ? 'Your session has ended. Sign in again.'
      : `The list did not load: ${asProblem(list.error).message}`
    : null;
  useEffect(() => {
    document.title = 'My requests · Help center';
  }, []);
  const { refetch } = list;
  useLiveFeed(
    () => void refetch(),
    () => void refetch(),
  );

  return (
    <main>
      <h1>My requests</h1>
      <p>
        <Link href={helpPath(org, { kind: 'new-request' })} className="button">
          New request
        </Link>
      </p>
      {failed && (
        <p className="error" role="alert">
          {failed}
        </p>
      )}
      {items && items.length === 0 && <p>You have no requests yet.</p>}
      {items && items.length > 0 && (
        <>
          <Group org={org} title="Open" items={items.filter((t) => !DONE.includes(t.status))} none="Nothing open right now." />
          <Group org={org} title="Solved and closed" items={items.filter((t) => DONE.includes(t.status))} none="None yet." />
        </>
      )}
    </main>
  );
}

function Group({ org, title, items, none }: { org: string; title: string; items: Ticket[]; none: string }) {
  const id = `requests-${title.toLowerCase().replace(/\W+/g, '-')}`;
  return (
    <section aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {items.length === 0 ? (
        <p>{none}</p>
      ) : (
        <ul className="requests">
          {items.map((t) => (
            <li key={t.id}>
              <Link href={helpPath(org, { kind: 'request', id: t.id })}>{t.subject}</Link>
              <p className="meta">
                <span className={`status status-${t.status}`}>{customerStatus(t.status)}</span> · #{t.number} · updated{' '}
                <time dateTime={t.updated_at}>{new Date(t.updated_at).toLocaleString()}</time>
              </p>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
