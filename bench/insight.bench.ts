// "Insikter" at scale: 100,000 flows over a year (codes, card stations, agent versions, branches) and
// 5,000 support cases in SQLite, then every figure of GET /api/insights for the whole year, timed in
// process as the route runs it (InsightService.figures for the service desk: the figures queries over
// flows and flow_codes, the case resolution times, the branch and station lists). Side by side, as
// the baseline, a plain count(*) over the same rows, and the figures of one administrator's branch
// and of the default 30 days. Each timing is the median of BENCH_ROUNDS runs.
// Goal: figures over 100,000 flows under 1 s on SQLite.
// Knobs: BENCH_FLOWS (100,000), BENCH_CASES (5,000), BENCH_ROUNDS (7).
import { performance } from 'node:perf_hooks';
// The cookie plugin's types, which the server's session module is written against.
import type {} from '@fastify/cookie';
import {
  addDays,
  type CardNumber,
  dateOf,
  formatDate,
  type HsaId,
  offsetSegments,
  startOfDay,
} from '@reservkort/domain';
import {
  grantRole,
  grantStaffRole,
  insertAdmin,
  insightCounts,
  resolvedCases,
  timelineFacts,
  upsertBranches,
} from '@reservkort/store';
import { sql } from 'kysely';
import type { CurrentSession } from '../packages/server/src/auth/session.js';
import { InsightService } from '../packages/server/src/insight/insight.service.js';
import { DirectoryCache } from '../packages/server/src/issuance/directory.js';
import { createTestStore } from '../packages/store/src/test-support/test-stores.js';
import { median, ratio, table } from './support.js';

const FLOWS = Number(process.env.BENCH_FLOWS ?? 100_000);
const CASES = Number(process.env.BENCH_CASES ?? 5_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const GOAL_MS = 1_000;
const DAY = 86_400_000;
const HOUR = 3_600_000;
const CHUNK = 500;

const STATIONS = 40;
const BRANCHES = 20;
const AGENTS = [
  ['1.4.0', 'msi'],
  ['1.4.0', 'pkg'],
  ['1.3.2', 'msi'],
  ['1.5.0-rc1', 'deb'],
] as const;
/** Codes and the step they are raised at, with how often a flow raises them (per 1,000). */
const CODES = [
  ['READERS_MISSING', 0, 30],
  ['HSA_ID_INCOMPLETE', 2, 40],
  ['CARD_REINSERTED', 3, 10],
  ['WRONG_CARD', 4, 15],
  ['CARD_REMOVED_DURING_DOWNLOAD', 6, 25],
  ['AUTH_DIALOG_NOT_SHOWN', 6, 5],
  ['DOWNLOAD_FAILED', 6, 10],
  ['ACK_TIMEOUT', 7, 20],
] as const;

/** A small deterministic random source: the same data every run. */
const randomFrom = (seed: number) => {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
};

const timed = async (work: () => Promise<unknown>): Promise<number> => {
  await work(); // warm: statements prepared, pages cached
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const start = performance.now();
    await work();
    times.push(performance.now() - start);
  }
  return median(times);
};

export const run = async (): Promise<void> => {
  const store = await createTestStore('sqlite');
  try {
    const db = store.db;
    const now = Date.UTC(2026, 11, 5, 12, 0);
    const today = dateOf(now);
    const yearStart = startOfDay(addDays(today, -364));
    const random = randomFrom(42);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

    process.stdout.write(
      `seeding ${FLOWS.toLocaleString('en')} flows and ${CASES.toLocaleString('en')} cases …\n`,
    );
    await upsertBranches(db, [
      { id: 'region', parentId: null, name: 'Region Bench' },
      ...Array.from({ length: BRANCHES }, (_, i) => ({
        id: `b${i}`,
        parentId: 'region',
        name: `Förvaltning ${i}`,
      })),
    ]);
    // Stations as rows only: the figures read their id, name and branch.
    await db
      .insertInto('cas')
      .values({
        id: 'loa3',
        role: 'issuing',
        name: 'Bench CA',
        issuer_id: null,
        certificate_pem: '-',
        key_kind: 'file',
        key_ref: '-',
        policy_oid: null,
        assurance_level: null,
        created_at: now,
      } as never)
      .execute();
    for (let s = 0; s < STATIONS; s++) {
      await db
        .insertInto('certificates')
        .values({
          serial: `st-cert-${s}`,
          ca_id: 'loa3',
          profile: 'station',
          subject: `CN=st-${s}`,
          hsa_id: null,
          card_number: null,
          order_id: null,
          not_before: now - 400 * DAY,
          not_after: now + 30 * DAY,
          certificate_pem: '-',
          created_at: now - 400 * DAY,
        } as never)
        .execute();
      await db
        .insertInto('stations')
        .values({
          id: `st-${s}`,
          name: `Kortstation ${s}`,
          branch_id: `b${s % BRANCHES}`,
          certificate_serial: `st-cert-${s}`,
          spki: `spki-${s}`,
          status: 'active',
          registered_by: 'bench',
          registered_at: now - 400 * DAY,
        })
        .execute();
    }

    const flowRows: Record<string, unknown>[] = [];
    const codeRows: Record<string, unknown>[] = [];
    for (let i = 0; i < FLOWS; i++) {
      const id = `flow-${String(i).padStart(6, '0')}`;
      // Office hours more than nights, every day of the year.
      const day = Math.floor(random() * 365);
      const hour = random() < 0.8 ? 7 + Math.floor(random() * 10) : Math.floor(random() * 24);
      const at = yearStart + day * DAY + hour * HOUR + Math.floor(random() * HOUR);
      const station = Math.floor(random() * STATIONS);
      const agent = random() < 0.05 ? null : pick(AGENTS);
      const timeline: { at: number; step: number; event: string; codes: string[] }[] = [
        { at, step: 0, event: 'flow-started', codes: [] },
      ];
      for (const [code, step, perMille] of CODES)
        if (random() * 1000 < perMille)
          timeline.push({ at: at + step * 60_000, step, event: 'x', codes: [code] });
      const raised = new Set(timeline.flatMap((e) => e.codes));
      const reached = raised.has('ACK_TIMEOUT') || random() < 0.85 ? 7 : Math.floor(random() * 7);
      timeline.push({ at: at + 10 * 60_000, step: reached, event: 'y', codes: [] });
      const status = raised.has('ACK_TIMEOUT')
        ? 'ack-timeout-revoked'
        : raised.size > 0
          ? 'aborted'
          : reached === 7
            ? 'completed'
            : 'active';
      const facts = timelineFacts({ timeline });
      flowRows.push({
        id,
        order_id: null,
        admin2_hsa_id: null,
        status,
        step: reached,
        state_json: JSON.stringify({ timeline }),
        deadline: null,
        pending_effects_json: '[]',
        created_at: at,
        updated_at: at + 10 * 60_000,
        station_id: `st-${station}`,
        station_nonce: null,
        branch_id: `b${station % BRANCHES}`,
        reached_step: facts.reachedStep,
        code_count: facts.codes.length,
        agent_version: agent?.[0] ?? null,
        agent_packaging: agent?.[1] ?? null,
      });
      for (const c of facts.codes) codeRows.push({ flow_id: id, code: c.code, step: c.step, at: c.at });
    }
    const caseRows: Record<string, unknown>[] = [];
    for (let i = 0; i < CASES; i++) {
      const flow = flowRows[Math.floor(random() * flowRows.length)] as { id: string; created_at: number };
      const filed = flow.created_at + 20 * 60_000;
      const resolved = random() < 0.8;
      caseRows.push({
        id: `case-${String(i).padStart(6, '0')}`,
        flow_id: flow.id,
        status: resolved ? 'resolved' : 'open',
        assignee: null,
        reported_by: 'SE2321000016-bnch',
        protected_identity: 0,
        codes_json: '["DOWNLOAD_FAILED"]',
        draft_json: '{}',
        created_at: filed,
        updated_at: filed,
        station_id: null,
        resolved_at: resolved ? filed + Math.floor(random() * 48 * HOUR) : null,
      });
    }
    await db.transaction().execute(async (trx) => {
      for (let i = 0; i < flowRows.length; i += CHUNK)
        await trx
          .insertInto('flows')
          .values(flowRows.slice(i, i + CHUNK) as never)
          .execute();
      for (let i = 0; i < codeRows.length; i += CHUNK)
        await trx
          .insertInto('flow_codes')
          .values(codeRows.slice(i, i + CHUNK) as never)
          .execute();
      for (let i = 0; i < caseRows.length; i += CHUNK)
        await trx
          .insertInto('support_cases')
          .values(caseRows.slice(i, i + CHUNK) as never)
          .execute();
    });
    await sql`analyze`.execute(db);

    const desk = 'SE2321000016-desk' as HsaId;
    const admin = 'SE2321000016-badm' as HsaId;
    await grantStaffRole(db, { hsaId: desk, role: 'service-desk' });
    await insertAdmin(db, { hsaId: admin, givenName: 'Bench', surname: 'Admin', createdAt: now });
    await grantRole(db, { adminHsaId: admin, role: 'RA', branchId: 'b3' });
    const session = (hsaId: HsaId): CurrentSession => ({
      id: `session-${hsaId}`,
      hsaId,
      cardNumber: '9752278900000000001' as CardNumber,
      certificateSerial: '-',
      assuranceLevel: 'LoA3',
      csrfToken: '-',
      loginCardRemovedAt: null,
      station: null,
      role: 'admin',
    });
    const insights = new InsightService(db, new DirectoryCache(db), () => now);
    const year = { from: formatDate(addDays(today, -364)), to: formatDate(today) };
    const checked = await insights.figures(session(desk), year);
    const total = checked.perDay.reduce((n, d) => n + d.started, 0);
    if (total !== FLOWS) throw new Error(`the figures counted ${total} flows of ${FLOWS}`);

    const yearFrom = startOfDay(addDays(today, -364));
    const yearTo = startOfDay(addDays(today, 1));
    const filter = {
      from: yearFrom,
      to: yearTo,
      branchIds: null,
      stationId: null,
      code: null,
      localTime: offsetSegments(yearFrom, yearTo),
    };
    const baseline = await timed(() =>
      db
        .selectFrom('flows')
        .select(sql<number>`count(*)`.as('n'))
        .where('created_at', '>=', yearFrom)
        .where('created_at', '<', yearTo)
        .executeTakeFirst(),
    );
    const rows: [string, number][] = [
      ['count(*) over the year’s flows (baseline)', baseline],
      [
        'figures queries, whole year, all branches',
        await timed(async () => {
          await insightCounts(db, filter);
          await resolvedCases(db, filter);
        }),
      ],
      [
        'GET /api/insights in process, whole year, service desk',
        await timed(() => insights.figures(session(desk), year)),
      ],
      ['… whole year, one administrator’s branch', await timed(() => insights.figures(session(admin), year))],
      [
        '… whole year, one code',
        await timed(() => insights.figures(session(desk), { ...year, code: 'ACK_TIMEOUT' })),
      ],
      ['… default 30 days, service desk', await timed(() => insights.figures(session(desk), {}))],
      [
        'flows behind a figure (byCode, failed, 500)',
        await timed(() =>
          insights.flows(session(desk), {
            ...year,
            figure: 'byCode',
            key: 'CARD_REMOVED_DURING_DOWNLOAD',
            outcome: 'failed',
          }),
        ),
      ],
      ['figures as CSV, whole year, service desk', await timed(() => insights.csv(session(desk), year))],
    ];
    process.stdout.write(
      `${table([
        ['measurement', `median of ${ROUNDS}`, 'vs baseline'],
        ...rows.map(([name, ms]) => [name, `${ms.toFixed(1)} ms`, ratio(ms, baseline)]),
      ])}\n`,
    );
    const figuresMs = rows[2]?.[1] ?? Number.NaN;
    process.stdout.write(
      `goal: figures over ${FLOWS.toLocaleString('en')} flows < 1 s on SQLite: ${figuresMs < GOAL_MS ? 'met' : 'missed'} (${figuresMs.toFixed(0)} ms)\n`,
    );
  } finally {
    await store.dispose();
  }
};
