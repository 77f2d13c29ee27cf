// The live dashboard: backlog, flow, response times, SLA and the queue, by range.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { Schemas } from '../../lib/api';
import { useEtagQuery } from '../../lib/query';
import { Chart } from '../../components/Chart';
import { Failed } from '../../components/Failed';

type Range = '1h' | '24h' | '7d' | '30d';
const RANGES: Range[] = ['1h', '24h', '7d', '30d'];
const SPAN_SECONDS: Record<Range, number> = { '1h': 3_600, '24h': 86_400, '7d': 604_800, '30d': 2_592_000 };
/** The dashboard asks again this often; unchanged figures cost a 304. */
const REFRESH_MS = 5_000;

const minutes = (m: number | null | undefined) => (m === null || m === undefined ? '—' : `${Math.round(m)} min`);

/** Live figures for managers: backlog, flow, response times, SLA, queue depth. */
export default function Dashboard({ changedAt }: { changedAt: number }) {
  const [range, setRange] = useState<Range>('24h');
  const dashboard = useEtagQuery<Schemas['Dashboard']>('/api/v1/dashboard', { range }, {
    refetchInterval: REFRESH_MS,
  });
  const board = dashboard.data ?? null;
  const heading = useRef<HTMLHeadingElement>(null);
  const { refetch } = dashboard;

  // A change streamed in: ask now rather than at the next tick.
  useEffect(() => {
    if (changedAt) void refetch();
  }, [changedAt, refetch]);

  useEffect(() => heading.current?.focus(), []);

  const series = useMemo(() => {
    const points = board?.series ?? [];
    const end = board ? Date.parse(board.generated_at) / 1000 : Date.now() / 1000;
    return {
      span: [end - SPAN_SECONDS[range], end] as [number, number],
      times: points.map((p) => Date.parse(p.period_end) / 1000),
      backlog: points.map((p) => p.open_total),
      created: points.map((p) => p.created),
      solved: points.map((p) => p.solved),
      firstResponse: points.map((p) => p.first_response_p50_minutes ?? null),
      resolution: points.map((p) => p.resolution_p50_minutes ?? null),
      breached: points.map((p) => p.sla_breached_open),
      atRisk: points.map((p) => p.sla_at_risk),
    };
  }, [board, range]);

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
      {dashboard.isError && <Failed error={dashboard.error} what="dashboard's figures" retry={() => void refetch()} />}
      {live && (
        <dl className="tiles" aria-live="polite">
          {tiles(live, range, queued).map(({ label, value, note, id }) => (
            <div key={label}>
              <dt>{label}</dt>
              <dd data-testid={id}>
                {value}
                {note && <span className="tile-note">{note}</span>}
              </dd>
            </div>
          ))}
        </dl>
      )}
      {board && (
        <div className="charts">
          <Chart span={series.span} title="Backlog (open tickets)" times={series.times} lines={[{ label: 'Open', values: series.backlog, color: '#0b5cad' }]} />
          <Chart
            span={series.span}
            title="Created and solved"
            times={series.times}
            lines={[
              { label: 'Created', values: series.created, color: '#0b5cad' },
              { label: 'Solved', values: series.solved, color: '#2b7a3d' },
            ]}
          />
          <Chart
            span={series.span}
            title="Response times, median minutes"
            times={series.times}
            lines={[
              { label: 'First response', values: series.firstResponse, color: '#8a4b00' },
              { label: 'Resolution', values: series.resolution, color: '#5b3a8c' },
            ]}
          />
          <Chart
            span={series.span}
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

interface Tile {
  label: string;
  value: string | number;
  /** Below the figure, smaller: what it is made of. */
  note?: string;
  id?: string;
}

function tiles(live: Schemas['Figures'], range: string, queued: number): Tile[] {
  const [deflected, deflectedOf] = share(live.deflected ?? 0, live.deflection_sessions ?? 0);
  const [accepted, acceptedOf] = drafts(live);
  return [
    { label: 'Open', value: live.open_total, id: 'tile-open' },
    { label: `Created (${range})`, value: live.created, id: 'tile-created' },
    { label: `Solved (${range})`, value: live.solved },
    { label: 'First response, median', value: minutes(live.first_response_minutes.p50) },
    { label: 'Resolution, median', value: minutes(live.resolution_minutes.p50) },
    { label: 'SLA breached (open)', value: live.sla_breached_open },
    { label: 'SLA at risk', value: live.sla_at_risk },
    { label: 'Jobs waiting or running', value: queued },
    { label: `Requests deflected (${range})`, value: deflected, note: deflectedOf, id: 'tile-deflected' },
    { label: `Drafts accepted (${range})`, value: accepted, note: acceptedOf, id: 'tile-drafts' },
  ];
}

/** A share as the tile's figure ("30%") and its note ("3 of 10"); "—" before there is any. */
function share(part: number, whole: number): [string, string] {
  if (whole === 0) return ['—', 'none yet'];
  return [`${Math.round((part / whole) * 100)}%`, `${part} of ${whole}`];
}

/** How agents used the AI's draft replies: inserted of those decided, and how much the sent ones were edited. */
function drafts(f: Schemas['Figures']): [string, string] {
  const inserted = f.drafts_inserted ?? 0;
  const [value, note] = share(inserted, inserted + (f.drafts_rejected ?? 0));
  const edited = f.draft_edit_distance == null ? '' : ` · ${Math.round(f.draft_edit_distance * 100)}% edited when sent`;
  return [value, `${note}${edited}`];
}
