import type { Instant } from '@reservkort/domain';
import { type ExpressionBuilder, type Kysely, type RawBuilder, sql, type Transaction } from 'kysely';
import type { Database } from '../database.js';
import { fromJsonArray } from '../json-text.js';

type Db = Kysely<Database> | Transaction<Database>;

/**
 * The figures of "Insikter" over flows and support cases, from the columns and the `flow_codes`
 * table the flow repository writes with every flow change (never from the state JSON).
 *
 * Definitions, the same everywhere below:
 * - a flow is counted by the day and hour it started (its `created_at`), in local time;
 * - a flow *failed* when at least one catalogue code was raised on its timeline; each code counts
 *   once per flow, at the step where it was first raised; with a code filter, *failed* means that
 *   code was raised;
 * - a flow *completed* when its status is `completed`;
 * - a flow's branch is its order's recipient's branch, or its card station's without an order.
 */

/** From `from` on (until the next segment) local time is UTC plus `offsetMs`. Sorted by `from`. */
export interface LocalTimeSegment {
  readonly from: Instant;
  readonly offsetMs: number;
}

export interface InsightFilter {
  /** Flows started at or after this instant … */
  readonly from: Instant;
  /** … and before this one. */
  readonly to: Instant;
  /** Only flows of these branches; null: every flow (the service desk). */
  readonly branchIds: readonly string[] | null;
  readonly stationId: string | null;
  /** Only this code counts as a failure. */
  readonly code: string | null;
  /** How local days and hours are cut, across the period (daylight saving time included). */
  readonly localTime: readonly LocalTimeSegment[];
}

export interface InsightCounts {
  /** Day as days since 1970-01-01 in local time; only hours that had flows. */
  readonly perDayHour: readonly {
    day: number;
    hour: number;
    started: number;
    completed: number;
    failed: number;
  }[];
  readonly byCode: readonly { code: string; flows: number }[];
  readonly byStep: readonly { step: number; flows: number }[];
  readonly byStation: readonly { stationId: string; stationName: string; flows: number; failed: number }[];
  /** null version or packaging: no station reported it. */
  readonly byAgent: readonly {
    version: string | null;
    packaging: string | null;
    flows: number;
    failed: number;
  }[];
  readonly ackTimeout: { readonly reachedStep7: number; readonly ackTimeouts: number };
}

export const INSIGHT_FIGURES = [
  'perDay',
  'byCode',
  'byStep',
  'byStation',
  'byAgent',
  'ackTimeout',
  'busiestHours',
] as const;
export type InsightFigure = (typeof INSIGHT_FIGURES)[number];

export const INSIGHT_OUTCOMES = ['started', 'completed', 'failed'] as const;
export type InsightOutcome = (typeof INSIGHT_OUTCOMES)[number];

/** Which flows one figure's bar or cell stands for. A perDay day is narrowed by the caller's period. */
export type InsightSelection =
  | { readonly figure: 'perDay' }
  | { readonly figure: 'byCode'; readonly code: string }
  | { readonly figure: 'byStep'; readonly step: number }
  | { readonly figure: 'byStation'; readonly stationId: string }
  | { readonly figure: 'byAgent'; readonly version: string | null; readonly packaging: string | null }
  | { readonly figure: 'ackTimeout' }
  | { readonly figure: 'busiestHours'; readonly hour: number };

export interface InsightFlow {
  readonly flowId: string;
  readonly startedAt: Instant;
  readonly status: string;
  readonly step: number;
  /** In the order they were first raised. */
  readonly codes: string[];
  readonly stationId: string | null;
  /** The newest support case filed on the flow. */
  readonly caseId: string | null;
}

export interface ResolvedCase {
  readonly caseId: string;
  readonly filedAt: Instant;
  readonly resolvedAt: Instant;
  readonly codes: string[];
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

type FlowsEb = ExpressionBuilder<Database & { f: Database['flows'] }, 'f'>;

/** The local time of a flow's start, in ms since the epoch as if local time were UTC. */
const localStart = (segments: readonly LocalTimeSegment[]): RawBuilder<number> => {
  const [first, ...rest] = segments;
  if (first === undefined) return sql<number>`f.created_at`;
  if (rest.length === 0) return sql<number>`(f.created_at + ${sql.lit(first.offsetMs)})`;
  // Numbers of our own making, as literals: PostgreSQL then keeps the arithmetic in bigint.
  const whens = rest.map(
    (s, i) => sql`when f.created_at < ${sql.lit(s.from)} then ${sql.lit(segments[i]?.offsetMs ?? 0)}`,
  );
  const last = rest[rest.length - 1]?.offsetMs ?? first.offsetMs;
  return sql<number>`(f.created_at + case ${sql.join(whens, sql` `)} else ${sql.lit(last)} end)`;
};

/** A flow raised the filter's code (any code without one). */
const failedOf = (code: string | null): RawBuilder<number> =>
  code === null
    ? // The count kept on the flow: no look into flow_codes for the common case.
      sql<number>`case when f.code_count > 0 then 1 else 0 end`
    : sql<number>`case when exists (select 1 from flow_codes c where c.flow_id = f.id and c.code = ${code}) then 1 else 0 end`;

/** The flows of the filter: period, the viewer's branches, station. */
const flowsOf = (db: Db, filter: InsightFilter) => {
  let query = db
    .selectFrom('flows as f')
    .where('f.created_at', '>=', filter.from)
    .where('f.created_at', '<', filter.to);
  if (filter.branchIds !== null) {
    const ids = filter.branchIds;
    query = ids.length === 0 ? query.where(sql<boolean>`1 = 0`) : query.where('f.branch_id', 'in', [...ids]);
  }
  if (filter.stationId !== null) query = query.where('f.station_id', '=', filter.stationId);
  return query;
};

const num = (value: unknown): number => Number(value ?? 0);

/** Every figure's counts for the filter, in a handful of indexed queries. */
export async function insightCounts(db: Db, filter: InsightFilter): Promise<InsightCounts> {
  const local = localStart(filter.localTime);
  const failed = failedOf(filter.code);
  const dayHour = await flowsOf(db, filter)
    .select([
      sql<number>`${local} / ${sql.lit(DAY_MS)}`.as('day'),
      sql<number>`(${local} % ${sql.lit(DAY_MS)}) / ${sql.lit(HOUR_MS)}`.as('hour'),
      sql<number>`count(*)`.as('started'),
      sql<number>`sum(case when f.status = 'completed' then 1 else 0 end)`.as('completed'),
      sql<number>`sum(${failed})`.as('failed'),
    ])
    .groupBy([sql`1`, sql`2`])
    .execute();

  const codes = flowsOf(db, filter).innerJoin('flow_codes as c', 'c.flow_id', 'f.id');
  const withCode = filter.code === null ? codes : codes.where('c.code', '=', filter.code);
  const byCode = await withCode
    .select(['c.code as code', sql<number>`count(*)`.as('flows')])
    .groupBy('c.code')
    .orderBy(sql`count(*)`, 'desc')
    .orderBy('c.code')
    .execute();
  const byStep = await withCode
    .select(['c.step as step', sql<number>`count(distinct c.flow_id)`.as('flows')])
    .groupBy('c.step')
    .orderBy('c.step')
    .execute();

  const byStation = await flowsOf(db, filter)
    .innerJoin('stations as s', 's.id', 'f.station_id')
    .select([
      's.id as stationId',
      's.name as stationName',
      sql<number>`count(*)`.as('flows'),
      sql<number>`sum(${failed})`.as('failed'),
    ])
    .groupBy(['s.id', 's.name'])
    .orderBy('s.name')
    .orderBy('s.id')
    .execute();

  const byAgent = await flowsOf(db, filter)
    .select([
      'f.agent_version as version',
      'f.agent_packaging as packaging',
      sql<number>`count(*)`.as('flows'),
      sql<number>`sum(${failed})`.as('failed'),
    ])
    .groupBy(['f.agent_version', 'f.agent_packaging'])
    .orderBy('f.agent_version')
    .orderBy('f.agent_packaging')
    .execute();

  const ack = await flowsOf(db, filter)
    .where('f.reached_step', '>=', 7)
    .select([
      sql<number>`count(*)`.as('reached'),
      sql<number>`sum(${failedOf('ACK_TIMEOUT')})`.as('timeouts'),
    ])
    .executeTakeFirst();

  return {
    perDayHour: dayHour.map((r) => ({
      day: num(r.day),
      hour: num(r.hour),
      started: num(r.started),
      completed: num(r.completed),
      failed: num(r.failed),
    })),
    byCode: byCode.map((r) => ({ code: r.code, flows: num(r.flows) })),
    byStep: byStep.map((r) => ({ step: num(r.step), flows: num(r.flows) })),
    byStation: byStation.map((r) => ({
      stationId: r.stationId,
      stationName: r.stationName,
      flows: num(r.flows),
      failed: num(r.failed),
    })),
    byAgent: byAgent.map((r) => ({
      version: r.version,
      packaging: r.packaging,
      flows: num(r.flows),
      failed: num(r.failed),
    })),
    ackTimeout: { reachedStep7: num(ack?.reached), ackTimeouts: num(ack?.timeouts) },
  };
}

/** The predicate of one selection, on `f`. */
const selected = (
  eb: FlowsEb,
  selection: InsightSelection,
  filter: InsightFilter,
): ReturnType<FlowsEb['and']> => {
  const local = localStart(filter.localTime);
  switch (selection.figure) {
    case 'perDay':
      return eb.and([]);
    case 'byCode':
      return eb.and([
        eb.exists(
          eb
            .selectFrom('flow_codes as c')
            .select(sql`1`.as('one'))
            .whereRef('c.flow_id', '=', 'f.id')
            .where('c.code', '=', selection.code),
        ),
      ]);
    case 'byStep': {
      let codes = eb
        .selectFrom('flow_codes as c')
        .select(sql`1`.as('one'))
        .whereRef('c.flow_id', '=', 'f.id')
        .where('c.step', '=', selection.step);
      if (filter.code !== null) codes = codes.where('c.code', '=', filter.code);
      return eb.and([eb.exists(codes)]);
    }
    case 'byStation':
      return eb.and([eb('f.station_id', '=', selection.stationId)]);
    case 'byAgent':
      return eb.and([
        selection.version === null
          ? eb('f.agent_version', 'is', null)
          : eb('f.agent_version', '=', selection.version),
        selection.packaging === null
          ? eb('f.agent_packaging', 'is', null)
          : eb('f.agent_packaging', '=', selection.packaging),
      ]);
    case 'ackTimeout':
      return eb.and([eb('f.reached_step', '>=', 7)]);
    case 'busiestHours':
      return eb.and([
        eb(sql<number>`(${local} % ${sql.lit(DAY_MS)}) / ${sql.lit(HOUR_MS)}`, '=', sql.lit(selection.hour)),
      ]);
  }
};

/**
 * The flows behind one figure's bar, newest first, at most `limit`: ids, times, step, codes,
 * station and case — nothing of the persons in them.
 */
export async function insightFlows(
  db: Db,
  filter: InsightFilter,
  selection: InsightSelection,
  outcome: InsightOutcome,
  limit: number,
): Promise<InsightFlow[]> {
  // ACK_TIMEOUT's failures are its own code, whatever the filter.
  const code = selection.figure === 'ackTimeout' ? 'ACK_TIMEOUT' : filter.code;
  let query = flowsOf(db, filter).where((eb) => selected(eb as FlowsEb, selection, filter));
  if (outcome === 'completed') query = query.where('f.status', '=', 'completed');
  if (outcome === 'failed') query = query.where(sql<boolean>`${failedOf(code)} = 1`);
  const rows = await query
    .select(['f.id', 'f.created_at', 'f.status', 'f.step', 'f.station_id'])
    .orderBy('f.created_at', 'desc')
    .orderBy('f.id', 'desc')
    .limit(limit)
    .execute();
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const codes = await db
    .selectFrom('flow_codes')
    .select(['flow_id', 'code'])
    .where('flow_id', 'in', ids)
    .orderBy('at')
    .orderBy('code')
    .execute();
  const cases = await db
    .selectFrom('support_cases')
    .select(['flow_id', 'id'])
    .where('flow_id', 'in', ids)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  const codesOf = new Map<string, string[]>();
  for (const c of codes) codesOf.set(c.flow_id, [...(codesOf.get(c.flow_id) ?? []), c.code]);
  // Oldest first, so the newest case of a flow is the one left in the map.
  const caseOf = new Map(cases.map((c) => [c.flow_id, c.id]));
  return rows.map((r) => ({
    flowId: r.id,
    startedAt: num(r.created_at),
    status: r.status,
    step: num(r.step),
    codes: codesOf.get(r.id) ?? [],
    stationId: r.station_id,
    caseId: caseOf.get(r.id) ?? null,
  }));
}

/**
 * The cases resolved in the period, of the viewer's branches (the flow's branch, or the card
 * station's for a case filed before login), with the filter's station and code; oldest resolved first.
 */
export async function resolvedCases(db: Db, filter: InsightFilter): Promise<ResolvedCase[]> {
  let query = db
    .selectFrom('support_cases as k')
    .leftJoin('flows as f', 'f.id', 'k.flow_id')
    .leftJoin('stations as s', 's.id', 'k.station_id')
    .where('k.status', '=', 'resolved')
    .where('k.resolved_at', '>=', filter.from)
    .where('k.resolved_at', '<', filter.to);
  const branch = sql<string | null>`coalesce(f.branch_id, s.branch_id)`;
  if (filter.branchIds !== null) {
    const ids = filter.branchIds;
    query = ids.length === 0 ? query.where(sql<boolean>`1 = 0`) : query.where(branch, 'in', [...ids]);
  }
  if (filter.stationId !== null)
    query = query.where(sql`coalesce(f.station_id, k.station_id)`, '=', filter.stationId);
  if (filter.code !== null) {
    const code = filter.code;
    query = query.where((eb) =>
      eb.exists(
        eb
          .selectFrom('flow_codes as c')
          .select(sql`1`.as('one'))
          .whereRef('c.flow_id', '=', 'k.flow_id')
          .where('c.code', '=', code),
      ),
    );
  }
  const rows = await query
    .select(['k.id', 'k.created_at', 'k.resolved_at', 'k.codes_json'])
    .orderBy('k.resolved_at')
    .orderBy('k.id')
    .execute();
  return rows.map((r) => ({
    caseId: r.id,
    filedAt: num(r.created_at),
    resolvedAt: num(r.resolved_at),
    codes: fromJsonArray(r.codes_json, `The codes of support case ${r.id}`).map(String),
  }));
}
