import {
  addDays,
  type CalendarDate,
  compareDates,
  DAY,
  dateOf,
  formatDate,
  grantsIn,
  isErrorCode,
  offsetSegments,
  parseDate,
  SWEDISH_TIME_ZONE,
  startOfDay,
} from '@reservkort/domain';
import {
  type Database,
  getAdmin,
  getStation,
  hasStaffRole,
  INSIGHT_FIGURES,
  INSIGHT_OUTCOMES,
  type InsightFigure,
  type InsightFilter,
  type InsightFlow,
  type InsightOutcome,
  type InsightSelection,
  insightCounts,
  insightFlows,
  listStations,
  type ResolvedCase,
  resolvedCases,
  UNKNOWN_AGENT_PART,
} from '@reservkort/store';
import { stringify } from 'csv-stringify/sync';
import type { Kysely } from 'kysely';
import type { CurrentSession } from '../auth/session.js';
import { ApiError } from '../http/api-error.js';
import type { DirectoryCache } from '../issuance/directory.js';

/** The filters as the query string gives them; all optional. */
export interface InsightQuery {
  readonly from?: string;
  readonly to?: string;
  readonly branch?: string;
  readonly station?: string;
  readonly code?: string;
}

export interface InsightFlowsQuery extends InsightQuery {
  readonly figure: string;
  readonly key?: string;
  readonly outcome?: string;
}

/** The default period: the last 30 days up to today (31 calendar days, both ends included). */
export const DEFAULT_PERIOD_DAYS = 30;
/** The longest period one answer covers (a leap year and a day to spare). */
export const MAX_PERIOD_DAYS = 366;
/** The most flows one list of a figure holds; `truncated` says when more matched. */
export const MAX_LISTED_FLOWS = 500;

/** A share with three decimals; null when there is nothing to divide by. */
const rate = (part: number, whole: number): number | null =>
  whole === 0 ? null : Math.round((part / whole) * 1000) / 1000;

/** The nearest-rank percentile of sorted values: the smallest value with at least p of them at or below it. */
export const percentile = (sorted: readonly number[], p: number): number | null => {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[rank - 1] ?? null;
};

const invalid = (field: string, reason: string): ApiError =>
  new ApiError('INSIGHT_FILTER_INVALID', { field, reason });

/** Days since 1970-01-01 of a calendar date: the day number the figures query groups by. */
const epochDay = (date: CalendarDate): number => Date.UTC(date.year, date.month - 1, date.day) / DAY;

/** Whose flows a viewer sees: every flow (the service desk), or those of some branches. */
interface Scope {
  readonly all: boolean;
  readonly branchIds: ReadonlySet<string>;
}

/** The resolved filters, as the answer repeats them. */
export interface InsightFilters {
  readonly from: string;
  readonly to: string;
  readonly branch: string | null;
  readonly station: string | null;
  readonly code: string | null;
}

export interface InsightFigures {
  readonly filters: InsightFilters;
  readonly branches: { id: string; name: string }[];
  readonly stations: { id: string; name: string }[];
  readonly perDay: { day: string; started: number; completed: number; failed: number }[];
  readonly byCode: { code: string; flows: number }[];
  readonly byStep: { step: number; flows: number }[];
  readonly byStation: {
    stationId: string;
    stationName: string;
    flows: number;
    failed: number;
    rate: number | null;
  }[];
  readonly byAgent: {
    version: string;
    packaging: string;
    flows: number;
    failed: number;
    rate: number | null;
  }[];
  readonly ackTimeout: { reachedStep7: number; ackTimeouts: number; rate: number | null };
  readonly caseResolution: { resolved: number; medianMs: number | null; p90Ms: number | null };
  readonly busiestHours: { hour: number; started: number }[];
}

interface Resolved {
  readonly filter: InsightFilter;
  readonly filters: InsightFilters;
  readonly days: readonly CalendarDate[];
  readonly scope: Scope;
}

/**
 * "Insikter": figures over the issuance flows and support cases a viewer may see. Administrators
 * see the flows and cases of the branches (and their sub-branches) where they hold a role; the
 * service desk sees all. Only counts, ids, times, steps, codes and stations leave here: never a
 * person's name, personnummer or HSA-id, so a protected identity cannot show.
 */
export class InsightService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly directory: DirectoryCache,
    private readonly now: () => number,
    private readonly timeZone: string = SWEDISH_TIME_ZONE,
  ) {}

  /** The service desk sees everything; an administrator the branches of their roles; anyone else nothing. */
  private async scopeOf(session: CurrentSession): Promise<Scope> {
    if (await hasStaffRole(this.db, session.hsaId, 'service-desk'))
      return { all: true, branchIds: new Set() };
    // As the admin portal: a LoA2 login manages nothing.
    if (session.assuranceLevel !== 'LoA3') throw new ApiError('LOA2_LOGIN');
    const admin = await getAdmin(this.db, session.hsaId);
    if (admin === null) throw new ApiError('ACCESS_DENIED', { reason: 'not an administrator' });
    const tree = await this.directory.organisation(this.now());
    const visible = new Set<string>();
    for (const id of tree.branches.keys()) if (grantsIn(tree, admin, id).size > 0) visible.add(id);
    return { all: false, branchIds: visible };
  }

  private async resolve(session: CurrentSession, query: InsightQuery): Promise<Resolved> {
    const scope = await this.scopeOf(session);
    const today = dateOf(this.now(), this.timeZone);
    const dateParam = (field: 'from' | 'to', fallback: CalendarDate): CalendarDate => {
      const text = query[field];
      if (text === undefined || text === '') return fallback;
      const parsed = parseDate(text);
      if (!parsed.ok || text.trim() !== text) throw invalid(field, 'date');
      return parsed.value;
    };
    const to = dateParam('to', today);
    const from = dateParam('from', addDays(to, -DEFAULT_PERIOD_DAYS));
    if (compareDates(from, to) > 0) throw invalid('from', 'after-to');
    const days: CalendarDate[] = [];
    for (let d = from; compareDates(d, to) <= 0; d = addDays(d, 1)) {
      days.push(d);
      if (days.length > MAX_PERIOD_DAYS) throw invalid('to', 'period-too-long');
    }

    let branchIds: string[] | null = scope.all ? null : [...scope.branchIds];
    const branch = query.branch === undefined || query.branch === '' ? null : query.branch;
    if (branch !== null) {
      const tree = await this.directory.organisation(this.now());
      // Unknown and not one's own read the same: the answer reveals no branch outside one's roles.
      if (!tree.branches.has(branch) || !(scope.all || scope.branchIds.has(branch)))
        throw invalid('branch', 'unknown');
      const within = new Set<string>([branch]);
      // Children after parents is not guaranteed: grow the set until it stops growing.
      for (let grew = true; grew; ) {
        grew = false;
        for (const b of tree.branches.values())
          if (b.parentId !== null && within.has(b.parentId) && !within.has(b.id)) {
            within.add(b.id);
            grew = true;
          }
      }
      branchIds = [...within].filter((id) => scope.all || scope.branchIds.has(id));
    }

    const station = query.station === undefined || query.station === '' ? null : query.station;
    if (station !== null) {
      const stored = await getStation(this.db, station);
      if (stored === null || !(scope.all || scope.branchIds.has(stored.branchId)))
        throw invalid('station', 'unknown');
    }
    const code = query.code === undefined || query.code === '' ? null : query.code;
    if (code !== null && !isErrorCode(code)) throw invalid('code', 'unknown');

    const start = startOfDay(from, this.timeZone);
    const end = startOfDay(addDays(to, 1), this.timeZone);
    return {
      filter: {
        from: start,
        to: end,
        branchIds,
        stationId: station,
        code,
        localTime: offsetSegments(start, end, this.timeZone),
      },
      filters: { from: formatDate(from), to: formatDate(to), branch, station, code },
      days,
      scope,
    };
  }

  /** Every figure for the filters. */
  async figures(session: CurrentSession, query: InsightQuery): Promise<InsightFigures> {
    const { filter, filters, days, scope } = await this.resolve(session, query);
    const counts = await insightCounts(this.db, filter);
    const cases = await resolvedCases(this.db, filter);
    const tree = await this.directory.organisation(this.now());
    const branches = [...tree.branches.values()]
      .filter((b) => scope.all || scope.branchIds.has(b.id))
      .map((b) => ({ id: b.id, name: b.name }))
      .sort((a, b) => a.name.localeCompare(b.name, 'sv') || a.id.localeCompare(b.id));
    const stations = (await listStations(this.db, scope.all ? {} : { branchIds: [...scope.branchIds] }))
      .map((s) => ({ id: s.id, name: s.name }))
      .sort((a, b) => a.name.localeCompare(b.name, 'sv') || a.id.localeCompare(b.id));

    const perDay = new Map(
      days.map((d) => [epochDay(d), { day: formatDate(d), started: 0, completed: 0, failed: 0 }]),
    );
    const hours = Array.from({ length: 24 }, (_, hour) => ({ hour, started: 0 }));
    for (const row of counts.perDayHour) {
      const day = perDay.get(row.day);
      if (day !== undefined) {
        day.started += row.started;
        day.completed += row.completed;
        day.failed += row.failed;
      }
      const hour = hours[row.hour];
      if (hour !== undefined) hour.started += row.started;
    }
    const durations = cases.map((c) => c.resolvedAt - c.filedAt).sort((a, b) => a - b);
    return {
      filters,
      branches,
      stations,
      perDay: [...perDay.values()],
      byCode: [...counts.byCode],
      byStep: [...counts.byStep],
      byStation: counts.byStation.map((s) => ({ ...s, rate: rate(s.failed, s.flows) })),
      byAgent: counts.byAgent.map((a) => ({
        version: a.version ?? UNKNOWN_AGENT_PART,
        packaging: a.packaging ?? UNKNOWN_AGENT_PART,
        flows: a.flows,
        failed: a.failed,
        rate: rate(a.failed, a.flows),
      })),
      ackTimeout: {
        ...counts.ackTimeout,
        rate: rate(counts.ackTimeout.ackTimeouts, counts.ackTimeout.reachedStep7),
      },
      caseResolution: {
        resolved: durations.length,
        medianMs: percentile(durations, 0.5),
        p90Ms: percentile(durations, 0.9),
      },
      busiestHours: hours,
    };
  }

  /** The flows behind one figure's bar (at most MAX_LISTED_FLOWS, newest first). */
  async flows(
    session: CurrentSession,
    query: InsightFlowsQuery,
  ): Promise<{ flows: InsightFlow[]; truncated: boolean }> {
    const resolved = await this.resolve(session, query);
    const figure = query.figure;
    if (!(INSIGHT_FIGURES as readonly string[]).includes(figure)) throw invalid('figure', 'unknown');
    const outcome = query.outcome ?? 'started';
    if (!(INSIGHT_OUTCOMES as readonly string[]).includes(outcome)) throw invalid('outcome', 'unknown');
    const { selection, filter } = this.selectionOf(figure as InsightFigure, query.key, resolved);
    const rows = await insightFlows(
      this.db,
      filter,
      selection,
      outcome as InsightOutcome,
      MAX_LISTED_FLOWS + 1,
    );
    return { flows: rows.slice(0, MAX_LISTED_FLOWS), truncated: rows.length > MAX_LISTED_FLOWS };
  }

  private selectionOf(
    figure: InsightFigure,
    key: string | undefined,
    { filter, days }: Resolved,
  ): { selection: InsightSelection; filter: InsightFilter } {
    const needKey = (): string => {
      if (key === undefined || key === '') throw invalid('key', 'missing');
      return key;
    };
    const integer = (min: number, max: number): number => {
      const text = needKey();
      const value = /^\d{1,2}$/.test(text) ? Number(text) : Number.NaN;
      if (!(value >= min && value <= max)) throw invalid('key', 'out-of-range');
      return value;
    };
    switch (figure) {
      case 'perDay': {
        const day = parseDate(needKey());
        if (!day.ok || !days.some((d) => compareDates(d, day.value) === 0))
          throw invalid('key', 'out-of-range');
        const from = startOfDay(day.value, this.timeZone);
        const to = startOfDay(addDays(day.value, 1), this.timeZone);
        return {
          selection: { figure },
          filter: { ...filter, from, to, localTime: offsetSegments(from, to, this.timeZone) },
        };
      }
      case 'byCode': {
        const code = needKey();
        if (!isErrorCode(code)) throw invalid('key', 'unknown');
        return { selection: { figure, code }, filter };
      }
      case 'byStep':
        return { selection: { figure, step: integer(0, 7) }, filter };
      case 'byStation':
        return { selection: { figure, stationId: needKey() }, filter };
      case 'byAgent': {
        const text = needKey();
        const slash = text.lastIndexOf('/');
        if (slash < 0) throw invalid('key', 'version/packaging');
        const part = (value: string) => (value === UNKNOWN_AGENT_PART ? null : value);
        return {
          selection: { figure, version: part(text.slice(0, slash)), packaging: part(text.slice(slash + 1)) },
          filter,
        };
      }
      case 'ackTimeout':
        return { selection: { figure }, filter };
      case 'busiestHours':
        return { selection: { figure, hour: integer(0, 23) }, filter };
    }
  }

  /** The resolved cases behind caseResolution. */
  async cases(session: CurrentSession, query: InsightQuery): Promise<{ cases: ResolvedCase[] }> {
    const { filter } = await this.resolve(session, query);
    return { cases: await resolvedCases(this.db, filter) };
  }

  /** The figures as CSV: see `figuresCsv`. */
  async csv(session: CurrentSession, query: InsightQuery): Promise<string> {
    return figuresCsv(await this.figures(session, query));
  }
}

export const CSV_COLUMNS = [
  'figure',
  'key',
  'label',
  'started',
  'completed',
  'failed',
  'flows',
  'rate',
  'medianMs',
  'p90Ms',
] as const;
type CsvRow = Partial<Record<(typeof CSV_COLUMNS)[number], string | number | null>>;

/**
 * One table with a `figure` column, the rows in the page's order: the filters first (`filter`, key
 * the filter's name, label its value), then perDay, byCode, byStep, byStation, byAgent, ackTimeout
 * (flows = reached step 7, failed = ACK_TIMEOUT), caseResolution (flows = resolved cases) and
 * busiestHours. Empty cells are values that do not apply or are unknown (a rate over nothing).
 */
export const figuresCsv = (figures: InsightFigures): string => {
  const rows: CsvRow[] = [];
  for (const [key, value] of Object.entries(figures.filters))
    rows.push({ figure: 'filter', key, label: value });
  for (const d of figures.perDay)
    rows.push({ figure: 'perDay', key: d.day, started: d.started, completed: d.completed, failed: d.failed });
  for (const c of figures.byCode) rows.push({ figure: 'byCode', key: c.code, flows: c.flows });
  for (const s of figures.byStep) rows.push({ figure: 'byStep', key: s.step, flows: s.flows });
  for (const s of figures.byStation)
    rows.push({
      figure: 'byStation',
      key: s.stationId,
      label: s.stationName,
      flows: s.flows,
      failed: s.failed,
      rate: s.rate,
    });
  for (const a of figures.byAgent)
    rows.push({
      figure: 'byAgent',
      key: `${a.version}/${a.packaging}`,
      flows: a.flows,
      failed: a.failed,
      rate: a.rate,
    });
  const ack = figures.ackTimeout;
  rows.push({ figure: 'ackTimeout', flows: ack.reachedStep7, failed: ack.ackTimeouts, rate: ack.rate });
  const cases = figures.caseResolution;
  rows.push({
    figure: 'caseResolution',
    flows: cases.resolved,
    medianMs: cases.medianMs,
    p90Ms: cases.p90Ms,
  });
  for (const h of figures.busiestHours)
    rows.push({ figure: 'busiestHours', key: h.hour, started: h.started });
  // A cell starting with = + - @ is what spreadsheets run as a formula: station names are typed by people.
  const safe = (value: string | number | null | undefined): string => {
    if (value === null || value === undefined) return '';
    const text = String(value);
    return typeof value === 'string' && /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  };
  return stringify(
    rows.map((row) => CSV_COLUMNS.map((column) => safe(row[column]))),
    { header: true, columns: [...CSV_COLUMNS], record_delimiter: 'windows' },
  );
};
