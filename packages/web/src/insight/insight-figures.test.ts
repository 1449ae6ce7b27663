import { CATALOGUES } from '@reservkort/domain';
import { describe, expect, it } from 'vitest';
import type { InsightAnswer } from '../api/views.js';
import {
  agentKey,
  codeTitle,
  figuresOf,
  formatCount,
  formatDay,
  formatDuration,
  formatHour,
  formatRate,
  pickWhat,
} from './insight-figures.js';

const ANSWER: InsightAnswer = {
  filters: { from: '2026-11-05', to: '2026-12-05', branch: null, station: null, code: null },
  branches: [{ id: 'region', name: 'Region Exempel' }],
  stations: [{ id: 'st-1', name: 'Mottagningen' }],
  perDay: [
    { day: '2026-12-01', started: 1200, completed: 900, failed: 300 },
    { day: '2026-12-02', started: 4, completed: 4, failed: 0 },
  ],
  byCode: [
    { code: 'CARD_REMOVED_DURING_DOWNLOAD', flows: 2 },
    { code: 'ACK_TIMEOUT', flows: 5 },
  ],
  byStep: [{ step: 6, flows: 3 }],
  byStation: [{ stationId: 'st-1', stationName: 'Mottagningen', flows: 10, failed: 2, rate: 0.2 }],
  byAgent: [{ version: '1.4.0', packaging: 'msi', flows: 10, failed: 2, rate: 0.2 }],
  ackTimeout: { reachedStep7: 9, ackTimeouts: 1, rate: 1 / 9 },
  caseResolution: { resolved: 4, medianMs: 3_600_000, p90Ms: 7_200_000 },
  busiestHours: [
    { hour: 9, started: 5 },
    { hour: 14, started: 0 },
  ],
};

describe('numbers, dates and durations per language', () => {
  it('writes counts, shares, days and hours as sv-SE and en-GB do', () => {
    expect(formatCount(1200, 'sv')).toBe('1\u00a0200');
    expect(formatCount(1200, 'en')).toBe('1,200');
    expect(formatRate(0.111, 'sv')).toBe('11,1\u00a0%');
    expect(formatRate(0.111, 'en')).toBe('11.1%');
    expect(formatDay('2026-12-01', 'sv')).toBe('2026-12-01');
    expect(formatDay('2026-12-01', 'en')).toBe('01/12/2026');
    expect(formatHour(9, 'sv')).toBe('kl. 09–10');
    expect(formatHour(23, 'en')).toBe('23–00');
  });

  it('says a duration in minutes, hours or days', () => {
    expect(formatDuration(null, 'sv')).toBe('–');
    expect(formatDuration(25 * 60_000, 'sv')).toBe('25 min');
    expect(formatDuration(20_000, 'en')).toBe('under 1 min');
    expect(formatDuration(90 * 60_000, 'sv')).toBe('1,5 tim');
    expect(formatDuration(90 * 60_000, 'en')).toBe('1.5 h');
    expect(formatDuration(3 * 86_400_000, 'en')).toBe('3 days');
  });

  it('names codes by the catalogue, unknown ones as they came', () => {
    expect(codeTitle('ACK_TIMEOUT', 'sv')).not.toBe('ACK_TIMEOUT');
    expect(codeTitle('NOT_A_CODE', 'en')).toBe('NOT_A_CODE');
  });
});

describe('the figures of an answer', () => {
  const figures = figuresOf(ANSWER, 'en');
  const figure = (name: string) => {
    const found = figures.find((f) => f.figure === name);
    if (!found) throw new Error(name);
    return found;
  };

  it('has every figure in the page order, tables and charts with the same numbers', () => {
    expect(figures.map((f) => f.figure)).toEqual([
      'perDay',
      'byCode',
      'byStep',
      'byStation',
      'byAgent',
      'ackTimeout',
      'caseResolution',
      'busiestHours',
    ]);
    const perDay = figure('perDay');
    expect(perDay.table.rows.map((r) => [...r.heads, ...r.cells.map((c) => c.text)])).toEqual([
      ['01/12/2026', '1,200', '900', '300'],
      ['02/12/2026', '4', '4', '0'],
    ]);
    expect(perDay.chart.series.map((s) => s.values)).toEqual([
      [1200, 4],
      [900, 4],
      [300, 0],
    ]);
    expect(perDay.summary).toBe('In the period: started 1,204, completed 904, failed 300.');
  });

  it('links a number to the flows behind it; a zero and a share link nowhere', () => {
    const [day1, day2] = figure('perDay').table.rows;
    expect(day1?.cells[2]?.pick).toEqual({
      kind: 'flows',
      figure: 'perDay',
      key: '2026-12-01',
      outcome: 'failed',
    });
    expect(day2?.cells[2]?.pick).toBeNull();
    const agent = figure('byAgent').table.rows[0];
    expect(agent?.cells.map((c) => c.pick)).toEqual([
      {
        kind: 'flows',
        figure: 'byAgent',
        key: agentKey(ANSWER.byAgent[0] ?? { version: '', packaging: '' }),
        outcome: 'started',
      },
      { kind: 'flows', figure: 'byAgent', key: '1.4.0/msi', outcome: 'failed' },
      null,
    ]);
    expect(figure('caseResolution').table.rows[0]?.cells[0]?.pick).toEqual({ kind: 'cases' });
  });

  it('sums up each figure in one sentence with its largest number', () => {
    expect(figure('byCode').summary).toBe(
      `Most frequent: ${codeTitle('ACK_TIMEOUT', 'en')} (ACK_TIMEOUT), 5 flows.`,
    );
    expect(figure('byStation').summary).toBe('The highest failure rate was at Mottagningen: 20%.');
    expect(figure('ackTimeout').summary).toBe(
      'Reached step 7: 9; the acknowledgement time ran out in 1 (11.1%).',
    );
    expect(figure('caseResolution').summary).toBe(
      'Cases resolved: 4; the median was 1 h and the 90th percentile 2 h.',
    );
    expect(figure('busiestHours').summary).toBe('Most flows started 09–10: 5 flows.');
    expect(figure('byStep').summary).toBe(
      `Most flows failed at step 6 – ${CATALOGUES.en.steps[6]}: 3 flows.`,
    );
    expect(figuresOf({ ...ANSWER, byCode: [{ code: 'ACK_TIMEOUT', flows: 1 }] }, 'sv')[1]?.summary).toBe(
      `Vanligast: ${codeTitle('ACK_TIMEOUT', 'sv')} (ACK_TIMEOUT), 1 flöde.`,
    );
  });

  it('says an agent the flow did not record in the language', () => {
    const unknown = figuresOf(
      {
        ...ANSWER,
        byAgent: [{ version: 'unknown', packaging: 'unknown', flows: 3, failed: 2, rate: 0.667 }],
      },
      'sv',
    );
    const agent = unknown.find((f) => f.figure === 'byAgent');
    expect(agent?.table.rows[0]?.heads).toEqual(['okänd', 'okänd']);
    expect(agent?.table.rows[0]?.cells[1]?.pick).toEqual({
      kind: 'flows',
      figure: 'byAgent',
      key: 'unknown/unknown',
      outcome: 'failed',
    });
  });

  it('says so when a figure has nothing, instead of drawing empty axes', () => {
    const empty = figuresOf(
      {
        ...ANSWER,
        perDay: [],
        byCode: [],
        byStep: [],
        byStation: [],
        byAgent: [],
        ackTimeout: { reachedStep7: 0, ackTimeouts: 0, rate: 0 },
        caseResolution: { resolved: 0, medianMs: null, p90Ms: null },
        busiestHours: [],
      },
      'sv',
    );
    expect(empty.every((f) => f.empty)).toBe(true);
    expect(empty.find((f) => f.figure === 'byCode')?.summary).toBe('Inga felkoder under perioden.');
  });

  it('names a pick in the flow list heading', () => {
    expect(
      pickWhat(ANSWER, { kind: 'flows', figure: 'byStation', key: 'st-1', outcome: 'failed' }, 'sv'),
    ).toBe('Mottagningen, misslyckade');
    expect(
      pickWhat(ANSWER, { kind: 'flows', figure: 'byAgent', key: '1.4.0/msi', outcome: 'started' }, 'en'),
    ).toBe('1.4.0 (msi), started');
  });
});
