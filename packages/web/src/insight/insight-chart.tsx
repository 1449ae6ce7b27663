// One figure drawn with uPlot. Loaded on its own (React.lazy): the portal's first load carries no
// chart code. Categories sit at x = 0…n-1 with their labels on the axis; a click on a bar or point
// hands its pick to the page, which lists the flows behind it.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Language } from '@reservkort/domain';
import { type FigureChart, formatCount, formatRate } from './insight-figures.js';
import type { InsightPick } from './insight-query.js';

/** Blue, green, red: the started/completed/failed series, each 3:1 or more against white. */
export const SERIES_COLOURS = ['#1f5fa8', '#2e7d32', '#b3261e'] as const;
const HEIGHT = 240;
const FONT = '12px system-ui, sans-serif';

interface InsightChartProps {
  readonly chart: FigureChart;
  readonly language: Language;
  readonly onPick: (pick: InsightPick) => void;
}

const InsightChart = ({ chart, language, onPick }: InsightChartProps) => {
  const host = useRef<HTMLDivElement>(null);
  // The latest handler without redrawing the chart when only the handler changed.
  const pickRef = useRef(onPick);
  pickRef.current = onPick;

  useEffect(() => {
    const element = host.current;
    if (element === null) return;
    const labels = chart.labels;
    const count = labels.length;
    const bars = chart.kind === 'bars';
    const longest = labels.reduce((max, label) => Math.max(max, label.length), 0);
    // Long category names (error codes) are turned so they do not run into each other.
    const turned = bars && longest * 7 > (element.clientWidth || 600) / Math.max(count, 1);
    const yValue = (v: number): string => {
      if (chart.unit === 'rate') return formatRate(v, language);
      if (chart.unit === 'hours') return `${formatCount(Math.round(v * 10) / 10, language)} h`;
      return formatCount(v, language);
    };
    const barPaths = bars ? uPlot.paths.bars?.({ size: [0.6, 64] }) : undefined;
    const max = Math.max(0, ...chart.series.flatMap((s) => s.values));
    const options: uPlot.Options = {
      width: element.clientWidth || 600,
      height: HEIGHT + (turned ? Math.min(160, longest * 5) : 0),
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { size: 10 } },
      scales: {
        x: { time: false, range: [-0.5, count - 0.5] },
        y: {
          range: (): uPlot.Range.MinMax =>
            chart.unit === 'rate'
              ? [0, Math.max(0.1, Math.min(1, max * 1.15))]
              : [0, Math.max(1, max * 1.15)],
        },
      },
      axes: [
        {
          font: FONT,
          stroke: '#1d1d1d',
          grid: { show: false },
          // Every category of a bar chart; of a long series of days, as many as fit without overlapping.
          splits: (u) => {
            const every = bars
              ? 1
              : Math.max(1, Math.ceil((count * 90) / Math.max(u.bbox.width / devicePixelRatio, 1)));
            return labels.map((_, i) => i).filter((i) => (count - 1 - i) % every === 0);
          },
          values: (_u, splits) => splits.map((i) => labels[i] ?? ''),
          ...(turned ? { rotate: -40, size: Math.min(160, longest * 5) + 20 } : {}),
        },
        {
          font: FONT,
          stroke: '#1d1d1d',
          size: 60,
          // Counts of flows have no fractions.
          ...(chart.unit === 'count'
            ? { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] }
            : {}),
          values: (_u, splits) => splits.map(yValue),
        },
      ],
      series: [
        {},
        ...chart.series.map((s, i): uPlot.Series => {
          const colour = SERIES_COLOURS[i % SERIES_COLOURS.length] ?? '#1f5fa8';
          return bars
            ? {
                label: s.label,
                stroke: colour,
                fill: colour,
                width: 0,
                points: { show: false },
                ...(barPaths ? { paths: barPaths } : {}),
              }
            : { label: s.label, stroke: colour, width: 2, points: { show: true, size: 7, fill: colour } };
        }),
      ],
      hooks: {
        ready: [
          (u) => {
            u.over.style.cursor = 'pointer';
            u.over.addEventListener('click', () => {
              const idx = u.cursor.idx;
              if (idx === null || idx === undefined) return;
              // Several series (lines): the one nearest the pointer.
              let nearest = 0;
              let distance = Number.POSITIVE_INFINITY;
              chart.series.forEach((s, i) => {
                const y = u.valToPos(s.values[idx] ?? 0, 'y');
                const d = Math.abs(y - (u.cursor.top ?? 0));
                if (d < distance) {
                  distance = d;
                  nearest = i;
                }
              });
              const pick = chart.series[nearest]?.picks[idx];
              if (pick) pickRef.current(pick);
            });
          },
        ],
      },
    };
    const data: uPlot.AlignedData = [labels.map((_, i) => i), ...chart.series.map((s) => [...s.values])];
    const plot = new uPlot(options, data, element);
    const resized = new ResizeObserver(() => {
      if (element.clientWidth > 0 && element.clientWidth !== plot.width)
        plot.setSize({ width: element.clientWidth, height: plot.height });
    });
    resized.observe(element);
    return () => {
      resized.disconnect();
      plot.destroy();
    };
  }, [chart, language]);

  return (
    <>
      <div ref={host} className="insight-plot" />
      {chart.series.length > 1 ? (
        <ul className="insight-legend">
          {chart.series.map((s, i) => (
            <li key={s.label}>
              <span className={`swatch series-${i % SERIES_COLOURS.length}`} />
              {s.label}
            </li>
          ))}
        </ul>
      ) : null}
    </>
  );
};

export default InsightChart;
