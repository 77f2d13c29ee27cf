import { useCallback, useEffect, useRef, useState } from 'react';
import { api, type Schemas } from '../api';
import { type Failure, Outcome, failure } from './form';

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
  const [jobs, setJobs] = useState<Job[] | null>(null);
  const [counts, setCounts] = useState<Schemas['StateCounts'] | null>(null);
  const [more, setMore] = useState(false);
  const [open, setOpen] = useState<Schemas['JobDetail'] | null>(null);
  const [f, setF] = useState<Failure | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const detail = useRef<HTMLHeadingElement>(null);

  const fetchPage = useCallback(
    async (before?: number) => {
      const query: Record<string, string | number> = { limit: PAGE };
      if (state) query.state = state;
      if (kind.trim()) query.kind = kind.trim();
      if (queue.trim()) query.queue = queue.trim();
      if (before) query.before = before;
      const { data, error, response } = await api.GET('/api/v1/admin/jobs', { params: { query } });
      if (!data) {
        setF(failure(error, response));
        return null;
      }
      setCounts(data.counts);
      setMore(data.items.length === PAGE);
      return data.items;
    },
    [state, kind, queue],
  );
  const reload = useCallback(async () => {
    const items = await fetchPage();
    if (items) setJobs(items);
  }, [fetchPage]);
  useEffect(() => void reload(), [reload]);

  const show = async (id: number) => {
    const { data, error, response } = await api.GET('/api/v1/admin/jobs/{id}', { params: { path: { id } } });
    if (!data) {
      setF(failure(error, response));
      return;
    }
    setOpen(data);
    window.setTimeout(() => detail.current?.focus(), 0);
  };

  const act = async (job: Job, action: 'retry' | 'cancel') => {
    setF(null);
    setDone(null);
    const path = action === 'retry' ? '/api/v1/admin/jobs/{id}/retry' : '/api/v1/admin/jobs/{id}/cancel';
    const { data, error, response } = await api.POST(path, { params: { path: { id: job.id } } });
    if (!data) {
      setF(failure(error, response));
      return;
    }
    setDone(
      action === 'retry'
        ? `Job ${job.id} is waiting to run again.`
        : data.state === 'cancelled'
          ? `Job ${job.id} was cancelled.`
          : `Job ${job.id} was asked to stop.`,
    );
    await reload();
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
        <p role="status">Loading…</p>
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
          onClick={() => void fetchPage(jobs[jobs.length - 1].id).then((items) => items && setJobs([...jobs, ...items]))}
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
