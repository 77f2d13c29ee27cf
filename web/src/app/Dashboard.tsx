import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api, type Schemas } from './api';
import { Chart } from './Chart';

type Range = '1h' | '24h' | '7d' | '30d';
const RANGES: Range[] = ['1h', '24h', '7d', '30d'];
/** The dashboard asks again this often; unchanged figures cost a 304. */
const REFRESH_MS = 5_000;

const minutes = (m: number | null | undefined) => (m === null || m === undefined ? '—' : `${Math.round(m)} min`);

/** Live figures for managers: backlog, flow, response times, SLA, queue depth. */
export default function Dashboard({ changedAt }: { changedAt: number }) {
  const [range, setRange] = useState<Range>('24h');
  const [board, setBoard] = useState<Schemas['Dashboard'] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const etag = useRef<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  const load = useCallback(async () => {
    const { data, response } = await api.GET('/api/v1/dashboard', {
      params: { query: { range } },
      headers: etag.current ? { 'If-None-Match': etag.current } : {},
    });
    if (response.status === 304) return;
    if (data) {
      etag.current = response.headers.get('ETag');
      setBoard(data);
      setError(null);
    } else {
      setError(`The dashboard is unavailable (${response.status}).`);
    }
  }, [range]);

  useEffect(() => {
    etag.current = null;
    void load();
    const timer = window.setInterval(() => {
      if (!document.hidden) void load();
    }, REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [load]);

  // A change streamed in: ask now rather than at the next tick.
  useEffect(() => {
    if (changedAt) void load();
  }, [changedAt, load]);

  useEffect(() => heading.current?.focus(), []);

  const series = useMemo(() => {
    const points = board?.series ?? [];
    return {
      times: points.map((p) => Date.parse(p.period_end) / 1000),
      backlog: points.map((p) => p.open_total),
      created: points.map((p) => p.created),
      solved: points.map((p) => p.solved),
      firstResponse: points.map((p) => p.first_response_p50_minutes ?? null),
      resolution: points.map((p) => p.resolution_p50_minutes ?? null),
      breached: points.map((p) => p.sla_breached_open),
      atRisk: points.map((p) => p.sla_at_risk),
    };
  }, [board]);

  const live = board?.live;
  const queued = live ? Object.entries(live.jobs_by_state).filter(([s]) => s === 'queued' || s === 'running').reduce((n, [, v]) => n + v, 0) : 0;
  return (
    <section className="dashboard" aria-labelledby="dashboard-title">
      <h1 id="dashboard-title" ref={heading} tabIndex={-1}>
        Dashboard
      </h1>
      <label htmlFor="range">Range</label>
      <select id="range" value={range} onChange={(e) => setRange(e.target.value as Range)}>
        {RANGES.map((r) => (
          <option key={r} value={r}>
            {r}
          </option>
        ))}
      </select>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {live && (
        <dl className="tiles" aria-live="polite">
          <div>
            <dt>Open</dt>
            <dd data-testid="tile-open">{live.open_total}</dd>
          </div>
          <div>
            <dt>Created ({range})</dt>
            <dd data-testid="tile-created">{live.created}</dd>
          </div>
          <div>
            <dt>Solved ({range})</dt>
            <dd>{live.solved}</dd>
          </div>
          <div>
            <dt>First response, median</dt>
            <dd>{minutes(live.first_response_minutes.p50)}</dd>
          </div>
          <div>
            <dt>Resolution, median</dt>
            <dd>{minutes(live.resolution_minutes.p50)}</dd>
          </div>
          <div>
            <dt>SLA breached (open)</dt>
            <dd>{live.sla_breached_open}</dd>
          </div>
          <div>
            <dt>SLA at risk</dt>
            <dd>{live.sla_at_risk}</dd>
          </div>
          <div>
            <dt>Jobs waiting or running</dt>
            <dd>{queued}</dd>
          </div>
        </dl>
      )}
      {board && (
        <div className="charts">
          <Chart title="Backlog (open tickets)" times={series.times} lines={[{ label: 'Open', values: series.backlog, color: '#0b5cad' }]} />
          <Chart
            title="Created and solved"
            times={series.times}
            lines={[
              { label: 'Created', values: series.created, color: '#0b5cad' },
              { label: 'Solved', values: series.solved, color: '#2b7a3d' },
            ]}
          />
          <Chart
            title="Response times, median minutes"
            times={series.times}
            lines={[
              { label: 'First response', values: series.firstResponse, color: '#8a4b00' },
              { label: 'Resolution', values: series.resolution, color: '#5b3a8c' },
            ]}
          />
          <Chart
            title="SLA"
            times={series.times}
            lines={[
              { label: 'Breached (open)', values: series.breached, color: '#a4161a' },
              { label: 'At risk', values: series.atRisk, color: '#8a4b00' },
            ]}
          />
        </div>
      )}
    </section>
  );
}
