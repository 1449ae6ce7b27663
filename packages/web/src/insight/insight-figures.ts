// The insight answer turned into what the page shows of each figure: a chart's series, a table's
// rows and a summary sentence, with every number formatted for the language and every number that
// stands for flows carrying the pick that lists them. Pure, so the tables and the charts agree.
import { CATALOGUES, type ErrorCode, isErrorCode, type Language, type Step } from '@reservkort/domain';
import type { InsightAnswer } from '../api/views.js';
import { formatCalendarDate } from '../format.js';
import { type Figure, INSIGHT_TEXTS, type InsightTexts } from '../i18n/insight-texts.js';
import { fill } from '../i18n/ui-texts.js';
import type { InsightPick, Outcome } from './insight-query.js';

const locale = (language: Language) => (language === 'sv' ? 'sv-SE' : 'en-GB');

export const formatCount = (n: number, language: Language): string =>
  new Intl.NumberFormat(locale(language)).format(n);

/** A share as a percentage with at most one decimal: 0.111 → "11,1 %" / "11.1%"; none → "–". */
export const formatRate = (rate: number | null, language: Language): string =>
  rate === null
    ? '–'
    : new Intl.NumberFormat(locale(language), { style: 'percent', maximumFractionDigits: 1 }).format(rate);

/** A duration in the largest unit that keeps it readable: minutes, hours (one decimal), days. */
export const formatDuration = (ms: number | null, language: Language): string => {
  if (ms === null) return '–';
  const texts = INSIGHT_TEXTS[language];
  const number = (n: number) =>
    new Intl.NumberFormat(locale(language), { maximumFractionDigits: 1 }).format(n);
  const minutes = ms / 60_000;
  if (minutes < 1) return texts.underMinute;
  if (minutes < 60) return fill(texts.minutes, { n: number(Math.round(minutes)) });
  const hours = minutes / 60;
  if (hours < 48) return fill(texts.hours, { n: number(Math.round(hours * 10) / 10) });
  return fill(texts.days, { n: number(Math.round((hours / 24) * 10) / 10) });
};

/** A day of the answer (`2026-12-01`) as the language writes a date. */
export const formatDay = (day: string, language: Language): string => {
  const [year, month, date] = day.split('-').map(Number);
  if (!year || !month || !date) return day;
  return formatCalendarDate({ year, month, day: date }, language);
};

/** An hour of the day as a range: 9 → "kl. 09–10" / "09–10". */
export const formatHour = (hour: number, language: Language): string => {
  const two = (n: number) => String(n % 24).padStart(2, '0');
  return fill(INSIGHT_TEXTS[language].hourRange, { from: two(hour), to: two(hour + 1) });
};

/** A code's title from the catalogue; a code it does not know, as it came. */
export const codeTitle = (code: string, language: Language): string =>
  isErrorCode(code) ? CATALOGUES[language].codes[code as ErrorCode].title : code;

const stepName = (step: number, language: Language): string =>
  step >= 0 && step <= 7 ? CATALOGUES[language].steps[step as Step] : '';

/** The key the flow list takes for an agent's row: version and packaging. */
export const agentKey = (row: { readonly version: string; readonly packaging: string }): string =>
  `${row.version}/${row.packaging}`;

/** A table cell: its text, and the flows behind it when it counts flows. */
export interface FigureCell {
  readonly text: string;
  readonly pick: InsightPick | null;
  /** What a link to the flows says to a screen reader. */
  readonly what: string;
  /** Numbers line up on the right. */
  readonly numeric: boolean;
}

export interface FigureRow {
  /** The row's header cell(s). */
  readonly heads: readonly string[];
  readonly cells: readonly FigureCell[];
}

export interface FigureTable {
  readonly headColumns: readonly string[];
  readonly columns: readonly string[];
  readonly rows: readonly FigureRow[];
}

export interface ChartSeries {
  readonly label: string;
  readonly values: readonly number[];
  /** The pick behind each point. */
  readonly picks: readonly (InsightPick | null)[];
}

export interface FigureChart {
  readonly kind: 'lines' | 'bars';
  /** Rates are drawn as percentages, durations as hours. */
  readonly unit: 'count' | 'rate' | 'hours';
  readonly labels: readonly string[];
  readonly series: readonly ChartSeries[];
}

export interface FigureShown {
  readonly figure: Figure;
  readonly title: string;
  readonly summary: string;
  /** Nothing to draw: the figure says so instead of showing empty axes. */
  readonly empty: boolean;
  readonly table: FigureTable;
  readonly chart: FigureChart;
}

const flows = (figure: Exclude<Figure, 'caseResolution'>, key: string, outcome: Outcome): InsightPick => ({
  kind: 'flows',
  figure,
  key,
  outcome,
});

const maxBy = <T>(rows: readonly T[], value: (row: T) => number): T | undefined =>
  rows.reduce<T | undefined>(
    (best, row) => (best === undefined || value(row) > value(best) ? row : best),
    undefined,
  );

/** Every figure of an answer, in the page's order. */
export const figuresOf = (answer: InsightAnswer, language: Language): FigureShown[] => {
  const t: InsightTexts = INSIGHT_TEXTS[language];
  const c = t.columns;
  const n = (value: number) => formatCount(value, language);
  const rate = (value: number | null) => formatRate(value, language);
  const cell = (text: string, pick: InsightPick | null, what: string, numeric = true): FigureCell => ({
    text,
    pick,
    what,
    numeric,
  });
  const flowCount = (value: number) =>
    fill(
      new Intl.PluralRules(locale(language)).select(value) === 'one' ? t.flowCount.one : t.flowCount.other,
      {
        n: n(value),
      },
    );
  const stationName = (id: string) => answer.stations.find((s) => s.id === id)?.name ?? id;

  const perDayTotals = answer.perDay.reduce(
    (sum, d) => ({
      started: sum.started + d.started,
      completed: sum.completed + d.completed,
      failed: sum.failed + d.failed,
    }),
    { started: 0, completed: 0, failed: 0 },
  );
  const outcomes = ['started', 'completed', 'failed'] as const;
  const perDay: FigureShown = {
    figure: 'perDay',
    title: t.figures.perDay.title,
    summary: fill(t.figures.perDay.summary, {
      started: n(perDayTotals.started),
      completed: n(perDayTotals.completed),
      failed: n(perDayTotals.failed),
    }),
    empty: perDayTotals.started === 0,
    table: {
      headColumns: [c.day],
      columns: [c.started, c.completed, c.failed],
      rows: answer.perDay.map((d) => ({
        heads: [formatDay(d.day, language)],
        cells: outcomes.map((o) =>
          cell(
            n(d[o]),
            d[o] > 0 ? flows('perDay', d.day, o) : null,
            `${formatDay(d.day, language)}, ${t.outcome[o]}`,
          ),
        ),
      })),
    },
    chart: {
      kind: 'lines',
      unit: 'count',
      labels: answer.perDay.map((d) => formatDay(d.day, language)),
      series: outcomes.map((o) => ({
        label: c[o],
        values: answer.perDay.map((d) => d[o]),
        picks: answer.perDay.map((d) => flows('perDay', d.day, o)),
      })),
    },
  };

  const topCode = maxBy(answer.byCode, (r) => r.flows);
  const byCode: FigureShown = {
    figure: 'byCode',
    title: t.figures.byCode.title,
    summary: topCode
      ? fill(t.figures.byCode.summary, {
          top: `${codeTitle(topCode.code, language)} (${topCode.code})`,
          flows: flowCount(topCode.flows),
        })
      : t.figures.byCode.empty,
    empty: answer.byCode.length === 0,
    table: {
      headColumns: [c.code],
      columns: [c.title, c.flows],
      rows: answer.byCode.map((r) => ({
        heads: [r.code],
        cells: [
          cell(codeTitle(r.code, language), null, '', false),
          cell(n(r.flows), flows('byCode', r.code, 'failed'), r.code),
        ],
      })),
    },
    chart: {
      kind: 'bars',
      unit: 'count',
      labels: answer.byCode.map((r) => r.code),
      series: [
        {
          label: c.flows,
          values: answer.byCode.map((r) => r.flows),
          picks: answer.byCode.map((r) => flows('byCode', r.code, 'failed')),
        },
      ],
    },
  };

  const topStep = maxBy(answer.byStep, (r) => r.flows);
  const stepLabel = (step: number) => [String(step), stepName(step, language)].filter(Boolean).join(' – ');
  const byStep: FigureShown = {
    figure: 'byStep',
    title: t.figures.byStep.title,
    summary: topStep
      ? fill(t.figures.byStep.summary, { top: stepLabel(topStep.step), flows: flowCount(topStep.flows) })
      : t.figures.byStep.empty,
    empty: answer.byStep.length === 0,
    table: {
      headColumns: [c.step],
      columns: [c.flows],
      rows: answer.byStep.map((r) => ({
        heads: [stepLabel(r.step)],
        cells: [cell(n(r.flows), flows('byStep', String(r.step), 'failed'), `${c.step} ${r.step}`)],
      })),
    },
    chart: {
      kind: 'bars',
      unit: 'count',
      labels: answer.byStep.map((r) => String(r.step)),
      series: [
        {
          label: c.flows,
          values: answer.byStep.map((r) => r.flows),
          picks: answer.byStep.map((r) => flows('byStep', String(r.step), 'failed')),
        },
      ],
    },
  };

  const topStation = maxBy(answer.byStation, (r) => r.rate ?? -1);
  const byStation: FigureShown = {
    figure: 'byStation',
    title: t.figures.byStation.title,
    summary: topStation
      ? fill(t.figures.byStation.summary, {
          top: topStation.stationName || stationName(topStation.stationId),
          rate: rate(topStation.rate),
        })
      : t.figures.byStation.empty,
    empty: answer.byStation.length === 0,
    table: {
      headColumns: [c.station],
      columns: [c.flows, c.failed, c.rate],
      rows: answer.byStation.map((r) => {
        const name = r.stationName || stationName(r.stationId);
        return {
          heads: [name],
          cells: [
            cell(n(r.flows), flows('byStation', r.stationId, 'started'), `${name}, ${t.outcome.started}`),
            cell(
              n(r.failed),
              r.failed > 0 ? flows('byStation', r.stationId, 'failed') : null,
              `${name}, ${t.outcome.failed}`,
            ),
            cell(rate(r.rate), null, ''),
          ],
        };
      }),
    },
    chart: {
      kind: 'bars',
      unit: 'rate',
      labels: answer.byStation.map((r) => r.stationName || stationName(r.stationId)),
      series: [
        {
          label: c.rate,
          values: answer.byStation.map((r) => r.rate ?? 0),
          picks: answer.byStation.map((r) => flows('byStation', r.stationId, 'failed')),
        },
      ],
    },
  };

  const topAgent = maxBy(answer.byAgent, (r) => r.rate ?? -1);
  // The server names a part the flow did not record 'unknown'; the page says it in the language.
  const agentPart = (part: string) => (part === 'unknown' ? t.unknownAgent : part);
  const agentName = (r: { readonly version: string; readonly packaging: string }) =>
    `${agentPart(r.version)} (${agentPart(r.packaging)})`;
  const byAgent: FigureShown = {
    figure: 'byAgent',
    title: t.figures.byAgent.title,
    summary: topAgent
      ? fill(t.figures.byAgent.summary, { top: agentName(topAgent), rate: rate(topAgent.rate) })
      : t.figures.byAgent.empty,
    empty: answer.byAgent.length === 0,
    table: {
      headColumns: [c.version, c.packaging],
      columns: [c.flows, c.failed, c.rate],
      rows: answer.byAgent.map((r) => ({
        heads: [agentPart(r.version), agentPart(r.packaging)],
        cells: [
          cell(n(r.flows), flows('byAgent', agentKey(r), 'started'), `${agentName(r)}, ${t.outcome.started}`),
          cell(
            n(r.failed),
            r.failed > 0 ? flows('byAgent', agentKey(r), 'failed') : null,
            `${agentName(r)}, ${t.outcome.failed}`,
          ),
          cell(rate(r.rate), null, ''),
        ],
      })),
    },
    chart: {
      kind: 'bars',
      unit: 'rate',
      labels: answer.byAgent.map(agentName),
      series: [
        {
          label: c.rate,
          values: answer.byAgent.map((r) => r.rate ?? 0),
          picks: answer.byAgent.map((r) => flows('byAgent', agentKey(r), 'failed')),
        },
      ],
    },
  };

  const ack = answer.ackTimeout;
  const ackTimeout: FigureShown = {
    figure: 'ackTimeout',
    title: t.figures.ackTimeout.title,
    summary:
      ack.reachedStep7 > 0
        ? fill(t.figures.ackTimeout.summary, {
            reached: n(ack.reachedStep7),
            timeouts: n(ack.ackTimeouts),
            rate: rate(ack.rate),
          })
        : t.figures.ackTimeout.empty,
    empty: ack.reachedStep7 === 0,
    table: {
      headColumns: [],
      columns: [c.reachedStep7, c.ackTimeouts, c.ackRate],
      rows: [
        {
          heads: [],
          cells: [
            cell(n(ack.reachedStep7), flows('ackTimeout', '', 'started'), c.reachedStep7),
            cell(
              n(ack.ackTimeouts),
              ack.ackTimeouts > 0 ? flows('ackTimeout', '', 'failed') : null,
              c.ackTimeouts,
            ),
            cell(rate(ack.rate), null, ''),
          ],
        },
      ],
    },
    chart: {
      kind: 'bars',
      unit: 'count',
      labels: [c.reachedStep7, c.ackTimeouts],
      series: [
        {
          label: c.flows,
          values: [ack.reachedStep7, ack.ackTimeouts],
          picks: [flows('ackTimeout', '', 'started'), flows('ackTimeout', '', 'failed')],
        },
      ],
    },
  };

  const cases = answer.caseResolution;
  const casesPick: InsightPick = { kind: 'cases' };
  const caseResolution: FigureShown = {
    figure: 'caseResolution',
    title: t.figures.caseResolution.title,
    summary:
      cases.resolved > 0
        ? fill(t.figures.caseResolution.summary, {
            resolved: n(cases.resolved),
            median: formatDuration(cases.medianMs, language),
            p90: formatDuration(cases.p90Ms, language),
          })
        : t.figures.caseResolution.empty,
    empty: cases.resolved === 0,
    table: {
      headColumns: [],
      columns: [c.resolved, c.median, c.p90],
      rows: [
        {
          heads: [],
          cells: [
            cell(n(cases.resolved), cases.resolved > 0 ? casesPick : null, c.resolved),
            cell(formatDuration(cases.medianMs, language), null, ''),
            cell(formatDuration(cases.p90Ms, language), null, ''),
          ],
        },
      ],
    },
    chart: {
      kind: 'bars',
      unit: 'hours',
      labels: [c.median, c.p90],
      series: [
        {
          label: c.median,
          // Whole minutes, as the table says them: under a minute draws nothing.
          values: [cases.medianMs, cases.p90Ms].map((ms) => Math.round((ms ?? 0) / 60_000) / 60),
          picks: [casesPick, casesPick],
        },
      ],
    },
  };

  const topHour = maxBy(answer.busiestHours, (r) => r.started);
  const busiestHours: FigureShown = {
    figure: 'busiestHours',
    title: t.figures.busiestHours.title,
    summary:
      topHour && topHour.started > 0
        ? fill(t.figures.busiestHours.summary, {
            top: formatHour(topHour.hour, language),
            started: flowCount(topHour.started),
          })
        : t.figures.busiestHours.empty,
    empty: !answer.busiestHours.some((r) => r.started > 0),
    table: {
      headColumns: [c.hour],
      columns: [c.started],
      rows: answer.busiestHours.map((r) => ({
        heads: [formatHour(r.hour, language)],
        cells: [
          cell(
            n(r.started),
            r.started > 0 ? flows('busiestHours', String(r.hour), 'started') : null,
            formatHour(r.hour, language),
          ),
        ],
      })),
    },
    chart: {
      kind: 'bars',
      unit: 'count',
      labels: answer.busiestHours.map((r) => String(r.hour).padStart(2, '0')),
      series: [
        {
          label: c.started,
          values: answer.busiestHours.map((r) => r.started),
          picks: answer.busiestHours.map((r) => flows('busiestHours', String(r.hour), 'started')),
        },
      ],
    },
  };

  return [perDay, byCode, byStep, byStation, byAgent, ackTimeout, caseResolution, busiestHours];
};

/** The words a flow list's heading uses for its pick: "CARD_REMOVED_DURING_DOWNLOAD, misslyckade". */
export const pickWhat = (answer: InsightAnswer, pick: InsightPick, language: Language): string => {
  const t = INSIGHT_TEXTS[language];
  if (pick.kind === 'cases') return t.figures.caseResolution.title;
  const outcome = t.outcome[pick.outcome];
  switch (pick.figure) {
    case 'perDay':
      return `${formatDay(pick.key, language)}, ${outcome}`;
    case 'byCode':
      return `${pick.key} (${codeTitle(pick.key, language)}), ${outcome}`;
    case 'byStep':
      return `${t.columns.step} ${pick.key}, ${outcome}`;
    case 'byStation':
      return `${answer.stations.find((s) => s.id === pick.key)?.name ?? pick.key}, ${outcome}`;
    case 'byAgent': {
      const slash = pick.key.lastIndexOf('/');
      if (slash < 0) return `${pick.key}, ${outcome}`;
      const part = (text: string) => (text === 'unknown' ? t.unknownAgent : text);
      return `${part(pick.key.slice(0, slash))} (${part(pick.key.slice(slash + 1))}), ${outcome}`;
    }
    case 'ackTimeout':
      return pick.outcome === 'failed' ? t.columns.ackTimeouts : t.columns.reachedStep7;
    case 'busiestHours':
      return `${formatHour(Number(pick.key), language)}, ${outcome}`;
  }
};
