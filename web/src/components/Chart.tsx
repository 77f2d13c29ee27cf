// A time-series chart (uPlot), hidden from screen readers, which hear its latest figures instead.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Line {
  label: string;
  values: (number | null)[];
  color: string;
}

interface Props {
  title: string;
  /** Seconds since the epoch, one per point. */
  times: number[];
  /** The time axis, in seconds since the epoch: the dashboard's range, whatever the points. */
  span: [number, number];
  lines: Line[];
}

/** A small time-series chart (uPlot, canvas), with its latest values as text for screen readers. */
export function Chart({ title, times, span, lines }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    if (!box.current) return;
    const data = [times, ...lines.map((l) => l.values)] as uPlot.AlignedData;
    if (plot.current && plot.current.series.length === lines.length + 1) {
      plot.current.setData(data);
      plot.current.setScale('x', { min: span[0], max: span[1] });
      return;
    }
    plot.current?.destroy();
    plot.current = new uPlot(
      {
        width: Math.max(280, box.current.clientWidth),
        height: 180,
        legend: { show: true },
        scales: { x: { time: true, range: () => span } },
        series: [{}, ...lines.map((l) => ({ label: l.label, stroke: l.color, width: 2, spanGaps: true }))],
        axes: [{ stroke: '#4a5663' }, { stroke: '#4a5663' }],
      },
      data,
      box.current,
    );
  }, [times, lines, span]);

  useEffect(() => () => plot.current?.destroy(), []);

  const latest = lines.map((l) => `${l.label} ${l.values.at(-1) ?? 'no data'}`).join(', ');
  const empty = lines.every((l) => l.values.every((v) => v === null || v === undefined));
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      {empty && <p className="no-data">No data in this range yet.</p>}
      <div ref={box} aria-hidden="true" />
      <p className="sr-only">Latest: {latest}.</p>
    </figure>
  );
}
