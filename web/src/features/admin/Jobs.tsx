// The job queue for admins: jobs by state, kind and queue, a job's attempts, retry and cancel.
import { useQueryClient } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { Pending } from '../../components/Failed';
import { type Failure, Outcome, failure } from '../../components/form';
import type { Schemas } from '../../lib/api';
import { $api, attempt, usePages } from '../../lib/query';

type Job = Schemas['JobRecord'];
type State = Schemas['JobState'];

/** The states, in words, in the order a job goes through them. */
const STATES: Record<State, string> = {
  available: 'Waiting',
  running: 'Running',
  succeeded: 'Succeeded',
  discarded: 'Failed',
  cancelled: 'Cancelled',
};
const PAGE = 50;

const when = (t: string | null | undefined) => (t ? new Date(t).toLocaleString() : '');
const lastError = (j: Job) => {
  const e = j.errors[j.errors.length - 1] as { error?: string } | undefined;
  return e?.error ?? '';
};

/**
 * The organisation's background jobs, for admins: how many wait, run, succeeded,
 * failed or were cancelled; each job's payload (as the API shows it: a mail carrying a
 * one-time link never shows its body), its errors and events; retry a failed or
 * cancelled job, cancel a waiting or running one.
 */
export function Jobs() {
  const [state, setState] = useState<State | ''>('');
  const [kind, setKind] = useState('');
  const [queue, setQueue] = useState('');
  const [open, setOpen] = useState<Schemas['JobDetail'] | null>(null);
  const [f, setF] = useState<Failure | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const detail = useRef<HTMLHeadingElement>(null);

  const client = useQueryClient();
  const query: Record<string, string | number> = { limit: PAGE };
  if (state) query.state = state;
  if (kind.trim()) query.kind = kind.trim();
  if (queue.trim()) query.queue = queue.trim();
  // Newest first, a page at a time: the next page is the jobs before the last one shown.
  const pages = usePages<Schemas['JobList']>('/api/v1/admin/jobs', { params: { query } }, 'before', (last) =>
    last.items.length === PAGE ? last.items[last.items.length - 1].id : undefined,
  );
  const jobs: Job[] | null = pages.data ? pages.data.pages.flatMap((p) => p.items) : null;
  const counts = pages.data?.pages[0]?.counts ?? null;
  const more = pages.hasNextPage;
  const retry = $api.useMutation('post', '/api/v1/admin/jobs/{id}/retry');
  const cancel = $api.useMutation('post', '/api/v1/admin/jobs/{id}/cancel');

  const show = async (id: number) => {
    const { data, problem } = await attempt(client.fetchQuery($api.queryOptions('get', '/api/v1/admin/jobs/{id}', { params: { path: { id } } }, { staleTime: 0 })));
    if (!data) {
      setF(failure(problem));
      return;
    }
    setOpen(data);
    window.setTimeout(() => detail.current?.focus(), 0);
  };

  const act = async (job: Job, action: 'retry' | 'cancel') => {
    setF(null);
    setDone(null);
    const { data, problem } = await attempt((action === 'retry' ? retry : cancel).mutateAsync({ params: { path: { id: job.id } } }));
    if (!data) {
      setF(failure(problem));
      return;
    }
    setDone(
      action === 'retry'
        ? `Job ${job.id} is waiting to run again.`
        : data.state === 'cancelled'
          ? `Job ${job.id} was cancelled.`
          : `Job ${job.id} was asked to stop.`,
    );
    await pages.refetch();
    await show(job.id);
  };

  return (
    <section aria-labelledby="jobs-title" className="admin-section jobs">
      <h2 id="jobs-title">Jobs</h2>
      <p>Mail, AI and housekeeping run as jobs on the job worker. A job that failed every attempt can be run again.</p>
      <div className="job-states" role="group" aria-label="Show jobs by state">
        <button type="button" aria-pressed={state === ''} onClick={() => setState('')}>
          All
        </button>
        {Object.entries(STATES).map(([value, label]) => (
          <button key={value} type="button" aria-pressed={state === value} onClick={() => setState(value as State)}>
            {label} <span className="count">{counts ? counts[value as State] : '…'}</span>
          </button>
        ))}
      </div>
      <form className="inline-form" aria-label="Filter the jobs" onSubmit={(e) => e.preventDefault()}>
        <label htmlFor="job-kind">Kind</label>
        <input id="job-kind" value={kind} placeholder="SEND_EMAIL" onChange={(e) => setKind(e.target.value)} />
        <label htmlFor="job-queue">Queue</label>
        <input id="job-queue" value={queue} placeholder="default" onChange={(e) => setQueue(e.target.value)} />
      </form>
      <Outcome f={f} saved={done} />
      {jobs === null ? (
        <Pending query={pages} what="jobs" />
      ) : jobs.length === 0 ? (
        <p>No jobs match.</p>
      ) : (
        <div className="scroll" role="region" aria-label="Jobs, scrollable" tabIndex={0}>
          <table className="admin-table">
            <caption className="sr-only">Jobs, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">Kind</th>
                <th scope="col">Queue</th>
                <th scope="col">State</th>
                <th scope="col">Attempts</th>
                <th scope="col">Created</th>
                <th scope="col">Last error</th>
              </tr>
            </thead>
            <tbody>
              {jobs.map((j) => (
                <tr key={j.id} data-testid={`job-${j.id}`}>
                  <th scope="row">
                    <button type="button" className="link" aria-label={`Job ${j.id}, ${j.kind}: details`} onClick={() => void show(j.id)}>
                      #{j.id}
                    </button>
                  </th>
                  <td>{j.kind}</td>
                  <td>{j.queue}</td>
                  <td>{STATES[j.state as State] ?? j.state}</td>
                  <td>
                    {j.attempt} of {j.max_attempts}
                  </td>
                  <td>{when(j.created_at)}</td>
                  <td className="why">{lastError(j)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {jobs && more && (
        <button
          type="button"
          onClick={() => void pages.fetchNextPage()}
        >
          Older jobs
        </button>
      )}
      {open && <JobDetail detail={open} heading={detail} onAct={(a) => void act(open.job, a)} onClose={() => setOpen(null)} />}
    </section>
  );
}

function JobDetail({
  detail,
  heading,
  onAct,
  onClose,
}: {
  detail: Schemas['JobDetail'];
  heading: React.RefObject<HTMLHeadingElement | null>;
  onAct: (a: 'retry' | 'cancel') => void;
  onClose: () => void;
}) {
  const j = detail.job;
  return (
    <article className="job-detail" aria-labelledby="job-detail-title">
      <h3 id="job-detail-title" ref={heading} tabIndex={-1}>
        Job #{j.id}: {j.kind}
      </h3>
      <dl>
        <dt>State</dt>
        <dd data-testid="job-state">
          {STATES[j.state as State] ?? j.state}
          {j.cancel_requested && j.state === 'running' ? ' (asked to stop)' : ''}
        </dd>
        <dt>Queue, priority</dt>
        <dd>
          {j.queue}, {j.priority}
        </dd>
        <dt>Attempts</dt>
        <dd>
          {j.attempt} of {j.max_attempts}
        </dd>
        <dt>Runs at</dt>
        <dd>{when(j.run_at)}</dd>
        <dt>Started, finished</dt>
        <dd>
          {when(j.started_at) || '—'}, {when(j.finished_at) || '—'}
        </dd>
        {j.locked_by && (
          <>
            <dt>Worker</dt>
            <dd>{j.locked_by}</dd>
          </>
        )}
      </dl>
      <div className="actions">
        {(j.state === 'discarded' || j.state === 'cancelled') && (
          <button type="button" onClick={() => onAct('retry')}>
            Run job {j.id} again
          </button>
        )}
        {(j.state === 'available' || j.state === 'running') && !j.cancel_requested && (
          <button type="button" onClick={() => onAct('cancel')}>
            Cancel job {j.id}
          </button>
        )}
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      <h4>Payload</h4>
      <pre data-testid="job-payload">{JSON.stringify(j.payload, null, 2)}</pre>
      {j.errors.length > 0 && (
        <>
          <h4>Errors</h4>
          <ol>
            {(j.errors as { attempt?: number; at?: string; error?: string }[]).map((e, i) => (
              <li key={i}>
                Attempt {e.attempt ?? '?'}, {when(e.at)}: <code>{e.error ?? JSON.stringify(e)}</code>
              </li>
            ))}
          </ol>
        </>
      )}
      <h4 id="job-events-title">Events</h4>
      <div className="scroll" role="region" aria-label="The job's events, scrollable" tabIndex={0}>
        <table className="admin-table" aria-labelledby="job-events-title">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Event</th>
              <th scope="col">Attempt</th>
              <th scope="col">Worker</th>
              <th scope="col">Time</th>
              <th scope="col">Error</th>
            </tr>
          </thead>
          <tbody>
            {detail.events.map((e, i) => (
              <tr key={i}>
                <td>{when(e.created_at)}</td>
                <td>{e.event}</td>
                <td>{e.attempt ?? ''}</td>
                <td>{e.worker_id ?? ''}</td>
                <td>{e.duration_ms === null || e.duration_ms === undefined ? '' : `${e.duration_ms} ms`}</td>
                <td>{e.error ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </article>
  );
}
