// Every figure on seeded flows with known answers, on both dialects: local days and hours across
// the spring daylight-saving change in Europe/Stockholm, branch scoping, the code filter, and the
// flows and cases behind the figures.
import { type FlowStatus, offsetSegments, type Step, startOfDay } from '@reservkort/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertCa } from '../ca/ca.repository.js';
import { insertCertificate } from '../certificate/certificate.repository.js';
import { insertFlow, updateFlow } from '../flow/flow.repository.js';
import { insertOrder } from '../order/order.repository.js';
import { insertPerson } from '../person/person.repository.js';
import { insertStation } from '../station/station.repository.js';
import { insertCase, updateCase } from '../support/support-case.repository.js';
import {
  aCa,
  aCertificate,
  anOrder,
  aPerson,
  card,
  DAY,
  seedOrganisation,
  T0,
} from '../test-support/store-fixtures.js';
import { createTestStore, DIALECTS, type TestStore } from '../test-support/test-stores.js';
import { type InsightFilter, insightCounts, insightFlows, resolvedCases } from './insight.repository.js';

const HOUR = 3_600_000;
/** Local Swedish days: 28 March 2026 is winter time (+1), 29 March turns to summer time (+2) at 02:00. */
const FROM = startOfDay({ year: 2026, month: 3, day: 28 });
const TO = startOfDay({ year: 2026, month: 3, day: 31 });
const epochDay = (month: number, day: number) => Date.UTC(2026, month - 1, day) / DAY;

const entry = (at: number, step: Step, codes: string[] = []) => ({ at, step, event: 'x', codes });
const stateOf = (timeline: ReturnType<typeof entry>[]) => ({ timeline });

interface SeedFlow {
  id: string;
  at: number;
  station: string;
  order: string | null;
  status: FlowStatus;
  timeline: ReturnType<typeof entry>[];
  agent: { version: string; packaging: string } | null;
}

const FLOWS: SeedFlow[] = [
  // 00:30 local on 29 March (still +1): day 29, hour 0.
  {
    id: 'f1',
    at: Date.UTC(2026, 2, 28, 23, 30),
    station: 'st-a',
    order: 'o-a',
    status: 'completed',
    timeline: [entry(0, 0), entry(1, 6), entry(2, 7)],
    agent: { version: '1.4.0', packaging: 'msi' },
  },
  // 00:30 local on 30 March (+2): day 30, hour 0. The same code twice counts once, at its first step.
  {
    id: 'f2',
    at: Date.UTC(2026, 2, 29, 22, 30),
    station: 'st-a',
    order: 'o-a',
    status: 'aborted',
    timeline: [
      entry(0, 0),
      entry(1, 6, ['CARD_REMOVED_DURING_DOWNLOAD']),
      entry(2, 6, ['CARD_REMOVED_DURING_DOWNLOAD', 'DOWNLOAD_FAILED']),
    ],
    agent: { version: '1.4.0', packaging: 'msi' },
  },
  // 11:00 local on 28 March.
  {
    id: 'f3',
    at: Date.UTC(2026, 2, 28, 10, 0),
    station: 'st-b',
    order: 'o-b',
    status: 'ack-timeout-revoked',
    timeline: [entry(0, 0), entry(1, 7), entry(2, 7, ['ACK_TIMEOUT'])],
    agent: null,
  },
  // 00:30 local on 28 March; no order: the station's branch.
  {
    id: 'f4',
    at: Date.UTC(2026, 2, 27, 23, 30),
    station: 'st-b',
    order: null,
    status: 'active',
    timeline: [entry(0, 0, ['READERS_MISSING'])],
    agent: { version: '1.3.0', packaging: 'pkg' },
  },
  // Outside the period, by a minute either side in local time.
  {
    id: 'f5',
    at: Date.UTC(2026, 2, 30, 22, 0),
    station: 'st-a',
    order: null,
    status: 'active',
    timeline: [entry(0, 0)],
    agent: null,
  },
  {
    id: 'f6',
    at: Date.UTC(2026, 2, 27, 22, 59),
    station: 'st-a',
    order: null,
    status: 'active',
    timeline: [entry(0, 0, ['READERS_MISSING'])],
    agent: null,
  },
];

describe.each(DIALECTS)('the insight figures on %s', (dialect) => {
  let store: TestStore;
  const filter = (overrides: Partial<InsightFilter> = {}): InsightFilter => ({
    from: FROM,
    to: TO,
    branchIds: null,
    stationId: null,
    code: null,
    localTime: offsetSegments(FROM, TO),
    ...overrides,
  });

  beforeAll(async () => {
    store = await createTestStore(dialect);
    const db = store.db;
    await seedOrganisation(db);
    await insertCa(db, aCa('loa3'));
    for (const [id, branchId, name] of [
      ['st-a', 'clinic', 'Kliniken, rum 1'],
      ['st-b', 'other', 'Annan, disken'],
    ] as const) {
      await insertCertificate(
        db,
        aCertificate(`cert-${id}`, 'loa3', {
          profile: 'station',
          hsaId: null,
          cardNumber: null,
          orderId: null,
        }),
      );
      await insertStation(db, {
        id,
        name,
        branchId,
        certificateSerial: `cert-${id}`,
        spki: `spki-${id}`,
        registeredBy: 'SE2321000016-adm1',
        registeredAt: T0,
      });
    }
    const anna = aPerson('anna1', { branchId: 'clinic' });
    const bo = aPerson('bo001', { branchId: 'other', protectedIdentity: true });
    await insertPerson(db, anna);
    await insertPerson(db, bo);
    await insertOrder(db, anOrder('o-a', anna, { cardNumber: card(1) }));
    await insertOrder(db, anOrder('o-b', bo, { cardNumber: card(2) }));
    for (const f of FLOWS) {
      // Started without an order, then the order chosen and the rest of the timeline written, as issuance does.
      await insertFlow(db, {
        id: f.id,
        orderId: null,
        admin2HsaId: null,
        status: 'active',
        step: 0,
        state: stateOf(f.timeline.slice(0, 1)),
        deadline: null,
        pendingEffects: [],
        createdAt: f.at,
        stationId: f.station,
        agent: f.agent,
      });
      const ok = await updateFlow(db, {
        id: f.id,
        expectedVersion: 1,
        status: f.status,
        step: f.timeline.at(-1)?.step ?? 0,
        state: stateOf(f.timeline),
        deadline: null,
        pendingEffects: [],
        orderId: f.order,
        updatedAt: f.at + HOUR,
      });
      expect(ok).toBe(true);
    }
    // Cases: on f2 resolved after 1 h, on f3 after 3 h (reopened and resolved again, from the second
    // "resolved" on), one still open; one resolved outside the period.
    const aCase = (id: string, flowId: string, at: number) =>
      insertCase(db, {
        id,
        flowId,
        reportedBy: 'SE2321000016-adm2' as never,
        protectedIdentity: false,
        codes: ['DOWNLOAD_FAILED'],
        draft: {},
        createdAt: at,
        stationId: null,
      });
    const f2At = Date.UTC(2026, 2, 29, 23, 0);
    await aCase('case-2', 'f2', f2At);
    expect(
      await updateCase(db, { id: 'case-2', expectedVersion: 1, status: 'resolved', updatedAt: f2At + HOUR }),
    ).toBe(true);
    // Resolved again without a reopening: the first resolution counts.
    expect(
      await updateCase(db, {
        id: 'case-2',
        expectedVersion: 2,
        status: 'resolved',
        updatedAt: f2At + 5 * HOUR,
      }),
    ).toBe(true);
    const f3At = Date.UTC(2026, 2, 28, 12, 0);
    await aCase('case-3', 'f3', f3At);
    await updateCase(db, { id: 'case-3', expectedVersion: 1, status: 'resolved', updatedAt: f3At + HOUR });
    await updateCase(db, { id: 'case-3', expectedVersion: 2, status: 'open', updatedAt: f3At + 2 * HOUR });
    await updateCase(db, {
      id: 'case-3',
      expectedVersion: 3,
      status: 'resolved',
      updatedAt: f3At + 3 * HOUR,
    });
    await aCase('case-open', 'f1', f3At);
    await aCase('case-late', 'f5', Date.UTC(2026, 2, 30, 22, 30));
    await updateCase(db, {
      id: 'case-late',
      expectedVersion: 1,
      status: 'resolved',
      updatedAt: Date.UTC(2026, 2, 30, 23, 0),
    });
  });
  afterAll(() => store?.dispose());

  it('counts by local day and hour across the change to summer time', async () => {
    const counts = await insightCounts(store.db, filter());
    const sorted = [...counts.perDayHour].sort((a, b) => a.day - b.day || a.hour - b.hour);
    expect(sorted).toEqual([
      { day: epochDay(3, 28), hour: 0, started: 1, completed: 0, failed: 1 },
      { day: epochDay(3, 28), hour: 11, started: 1, completed: 0, failed: 1 },
      { day: epochDay(3, 29), hour: 0, started: 1, completed: 1, failed: 0 },
      { day: epochDay(3, 30), hour: 0, started: 1, completed: 0, failed: 1 },
    ]);
  });

  it('counts each code once per flow, at the step where it was first raised', async () => {
    const counts = await insightCounts(store.db, filter());
    expect(counts.byCode).toEqual([
      { code: 'ACK_TIMEOUT', flows: 1 },
      { code: 'CARD_REMOVED_DURING_DOWNLOAD', flows: 1 },
      { code: 'DOWNLOAD_FAILED', flows: 1 },
      { code: 'READERS_MISSING', flows: 1 },
    ]);
    expect(counts.byStep).toEqual([
      { step: 0, flows: 1 },
      { step: 6, flows: 1 },
      { step: 7, flows: 1 },
    ]);
  });

  it('gives failures per card station and per agent version and packaging, and the ACK_TIMEOUT share', async () => {
    const counts = await insightCounts(store.db, filter());
    expect(counts.byStation).toEqual([
      { stationId: 'st-b', stationName: 'Annan, disken', flows: 2, failed: 2 },
      { stationId: 'st-a', stationName: 'Kliniken, rum 1', flows: 2, failed: 1 },
    ]);
    expect(counts.byAgent).toEqual(
      expect.arrayContaining([
        { version: '1.3.0', packaging: 'pkg', flows: 1, failed: 1 },
        { version: '1.4.0', packaging: 'msi', flows: 2, failed: 1 },
        { version: null, packaging: null, flows: 1, failed: 1 },
      ]),
    );
    expect(counts.byAgent).toHaveLength(3);
    expect(counts.ackTimeout).toEqual({ reachedStep7: 2, ackTimeouts: 1 });
  });

  it('keeps to the given branches: the order’s recipient’s branch, else the station’s', async () => {
    const clinic = await insightCounts(store.db, filter({ branchIds: ['clinic'] }));
    expect(clinic.perDayHour.reduce((n, r) => n + r.started, 0)).toBe(2);
    expect(clinic.byStation.map((s) => s.stationId)).toEqual(['st-a']);
    const other = await insightFlows(
      store.db,
      filter({ branchIds: ['other'] }),
      { figure: 'perDay' },
      'started',
      10,
    );
    expect(other.map((f) => f.flowId)).toEqual(['f3', 'f4']);
    const none = await insightCounts(store.db, filter({ branchIds: [] }));
    expect(none.perDayHour).toEqual([]);
    expect(await resolvedCases(store.db, filter({ branchIds: ['clinic'] }))).toHaveLength(1);
  });

  it('with a code, counts only that code as a failure', async () => {
    const counts = await insightCounts(store.db, filter({ code: 'CARD_REMOVED_DURING_DOWNLOAD' }));
    expect(counts.perDayHour.reduce((n, r) => n + r.failed, 0)).toBe(1);
    expect(counts.byCode).toEqual([{ code: 'CARD_REMOVED_DURING_DOWNLOAD', flows: 1 }]);
    expect(counts.byStation.find((s) => s.stationId === 'st-b')?.failed).toBe(0);
  });

  it('lists the flows behind a figure, newest first, with codes, station and case', async () => {
    const failedAtSix = await insightFlows(store.db, filter(), { figure: 'byStep', step: 6 }, 'failed', 10);
    expect(failedAtSix).toEqual([
      {
        flowId: 'f2',
        startedAt: FLOWS[1]?.at,
        status: 'aborted',
        step: 6,
        codes: ['CARD_REMOVED_DURING_DOWNLOAD', 'DOWNLOAD_FAILED'],
        stationId: 'st-a',
        caseId: 'case-2',
      },
    ]);
    const hourZero = await insightFlows(
      store.db,
      filter(),
      { figure: 'busiestHours', hour: 0 },
      'started',
      10,
    );
    expect(hourZero.map((f) => f.flowId)).toEqual(['f2', 'f1', 'f4']);
    const unknownAgent = await insightFlows(
      store.db,
      filter(),
      { figure: 'byAgent', version: null, packaging: null },
      'started',
      10,
    );
    expect(unknownAgent.map((f) => f.flowId)).toEqual(['f3']);
    const timedOut = await insightFlows(store.db, filter(), { figure: 'ackTimeout' }, 'failed', 10);
    expect(timedOut.map((f) => f.flowId)).toEqual(['f3']);
    const completed = await insightFlows(
      store.db,
      filter(),
      { figure: 'byStation', stationId: 'st-a' },
      'completed',
      10,
    );
    expect(completed.map((f) => f.flowId)).toEqual(['f1']);
    expect(await insightFlows(store.db, filter(), { figure: 'perDay' }, 'started', 2)).toHaveLength(2);
  });

  it('lists the cases resolved in the period with the time of their current resolution', async () => {
    const cases = await resolvedCases(store.db, filter());
    expect(cases).toEqual([
      {
        caseId: 'case-3',
        filedAt: Date.UTC(2026, 2, 28, 12, 0),
        resolvedAt: Date.UTC(2026, 2, 28, 15, 0),
        codes: ['DOWNLOAD_FAILED'],
      },
      {
        caseId: 'case-2',
        filedAt: Date.UTC(2026, 2, 29, 23, 0),
        resolvedAt: Date.UTC(2026, 2, 30, 0, 0),
        codes: ['DOWNLOAD_FAILED'],
      },
    ]);
    expect(await resolvedCases(store.db, filter({ code: 'ACK_TIMEOUT' }))).toHaveLength(1);
    expect(await resolvedCases(store.db, filter({ stationId: 'st-a' }))).toHaveLength(1);
  });
});
