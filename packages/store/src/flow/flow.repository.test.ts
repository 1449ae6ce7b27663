import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendAudit,
  auditHead,
  listAudit,
  type NewAuditEntry,
  verifyAudit,
} from '../audit/audit.repository.js';
import { openStore, type Store } from '../database.js';
import { getOrderPending, insertOrder } from '../order/order.repository.js';
import { pendingAll, pendingRows, runPending } from '../pending.js';
import { insertPerson } from '../person/person.repository.js';
import { consumeChallenge, insertChallengeQuery } from '../session/login-challenge.repository.js';
import { anOrder, aPerson, card, hsa, MINUTE, seedOrganisation, T0 } from '../test-support/store-fixtures.js';
import { countingWrites, createTestStore, DIALECTS, type TestStore } from '../test-support/test-stores.js';
import {
  activeFlowForOrder,
  type FlowChange,
  getFlow,
  insertFlow,
  insertFlowAndAudit,
  listDueFlows,
  listFlowsForOrder,
  listFlowsWithPendingEffects,
  type NewFlow,
  recordFlowAgentIfUnknown,
  updateFlow,
  updateFlowAndAudit,
  updateFlowAndAuditEach,
  updateFlowWith,
} from './flow.repository.js';

const aFlow = (id: string, overrides: Partial<NewFlow> = {}): NewFlow => ({
  id,
  orderId: null,
  admin2HsaId: null,
  status: 'active',
  step: 0,
  state: { flowId: id, step: 0, readers: { 1: { connected: true, card: null } }, loginCardRemovedAt: null },
  deadline: null,
  pendingEffects: [],
  createdAt: T0,
  ...overrides,
});

const aChange = (id: string, expectedVersion: number, overrides: Partial<FlowChange> = {}): FlowChange => ({
  id,
  expectedVersion,
  status: 'active',
  step: 1,
  state: { flowId: id, step: 1 },
  deadline: null,
  pendingEffects: [],
  updatedAt: T0 + MINUTE,
  ...overrides,
});

describe.each(DIALECTS)('flow repository on %s', (dialect) => {
  let store: TestStore;
  const anna = aPerson('anna1');
  beforeAll(async () => {
    store = await createTestStore(dialect);
    await seedOrganisation(store.db);
    await insertPerson(store.db, anna);
    for (const [i, id] of ['order-1', 'order-2', 'order-3', 'order-4'].entries()) {
      await insertOrder(store.db, anOrder(id, anna, { cardNumber: card(i + 1) }));
    }
  });
  afterAll(() => store?.dispose());

  it('keeps the agent a flow started with; a later report fills in only an unknown one', async () => {
    await insertFlow(store.db, aFlow('flow-agent-known', { agent: { version: '1.4.0', packaging: 'msi' } }));
    await insertFlow(store.db, aFlow('flow-agent-unknown'));
    for (const id of ['flow-agent-known', 'flow-agent-unknown'])
      await recordFlowAgentIfUnknown(store.db, id, { version: '1.5.0', packaging: 'pkg' });
    expect((await getFlow(store.db, 'flow-agent-known'))?.agent).toEqual({
      version: '1.4.0',
      packaging: 'msi',
    });
    const unknown = await getFlow(store.db, 'flow-agent-unknown');
    expect(unknown?.agent).toEqual({ version: '1.5.0', packaging: 'pkg' });
    expect(unknown?.version).toBe(1);
  });

  it('round-trips a flow at version 1, JSON and timestamps typed', async () => {
    const effects = [{ type: 'revoke-certificates', serials: ['aa'], reason: 'keyCompromise' }];
    const flow = aFlow('flow-1', {
      orderId: 'order-1',
      admin2HsaId: hsa('adm2'),
      step: 3,
      deadline: T0 + 10 * MINUTE,
      pendingEffects: effects,
    });
    await insertFlow(store.db, flow);
    const stored = await getFlow(store.db, 'flow-1');
    expect(stored).toEqual({
      id: 'flow-1',
      orderId: 'order-1',
      admin2HsaId: hsa('adm2'),
      status: 'active',
      step: 3,
      state: flow.state,
      deadline: T0 + 10 * MINUTE,
      pendingEffects: effects,
      version: 1,
      createdAt: T0,
      updatedAt: T0,
      stationId: null,
      stationNonce: '',
      loginInsertions: null,
      cardKeys: null,
      agent: null,
      reachedStep: 0,
      codeCount: 0,
    });
    expect(typeof stored?.deadline).toBe('number');
    expect(typeof stored?.createdAt).toBe('number');
    expect(typeof stored?.step).toBe('number');
    expect(await getFlow(store.db, 'no-such-flow')).toBeNull();
  });

  it('keeps the station facts: the nonce, the login insertion counter, and the keys the card vouched for', async () => {
    await insertFlow(store.db, { ...aFlow('flow-s'), stationNonce: 'a'.repeat(32), loginInsertions: 7 });
    expect(await getFlow(store.db, 'flow-s')).toMatchObject({
      stationNonce: 'a'.repeat(32),
      loginInsertions: 7,
      cardKeys: null,
      agent: null,
    });
    const keys = { auth: 'MFkw-auth', sign: 'MFkw-sign' };
    expect(
      await updateFlow(store.db, { ...aChange('flow-s', 1), stationNonce: 'b'.repeat(32), cardKeys: keys }),
    ).toBe(true);
    expect(await getFlow(store.db, 'flow-s')).toMatchObject({ stationNonce: 'b'.repeat(32), cardKeys: keys });
    // Absent from a change: left as stored.
    expect(await updateFlow(store.db, aChange('flow-s', 2))).toBe(true);
    expect(await getFlow(store.db, 'flow-s')).toMatchObject({ stationNonce: 'b'.repeat(32), cardKeys: keys });
  });

  it('updates only at the expected version, bumping it, and keeps absent ids', async () => {
    await insertFlow(store.db, aFlow('flow-u'));
    expect(await updateFlow(store.db, aChange('flow-u', 1, { admin2HsaId: hsa('adm2') }))).toBe(true);
    expect(await getFlow(store.db, 'flow-u')).toMatchObject({
      step: 1,
      state: { flowId: 'flow-u', step: 1 },
      admin2HsaId: hsa('adm2'),
      orderId: null,
      version: 2,
      createdAt: T0,
      updatedAt: T0 + MINUTE,
    });
    // orderId given, admin2HsaId absent: the one set, the other kept.
    const change = aChange('flow-u', 2, {
      step: 3,
      orderId: 'order-2',
      deadline: T0 + 5 * MINUTE,
      pendingEffects: [{ type: 'start-order', orderId: 'order-2' }],
    });
    expect(await updateFlow(store.db, change)).toBe(true);
    expect(await getFlow(store.db, 'flow-u')).toMatchObject({
      orderId: 'order-2',
      admin2HsaId: hsa('adm2'),
      deadline: T0 + 5 * MINUTE,
      pendingEffects: [{ type: 'start-order', orderId: 'order-2' }],
      version: 3,
    });
    // A stale version: someone else moved the flow on since it was read.
    expect(await updateFlow(store.db, aChange('flow-u', 2, { status: 'aborted' }))).toBe(false);
    expect(await getFlow(store.db, 'flow-u')).toMatchObject({ status: 'active', version: 3 });
    expect(await updateFlow(store.db, aChange('no-such-flow', 1))).toBe(false);
  });

  it('given the flow as read, stores what it would without it, and records only the codes new to the timeline', async () => {
    const entry = (step: number, at: number, codes: string[]) => ({ step, at, codes });
    const timelines = [
      [entry(1, T0, [])],
      [entry(1, T0, []), entry(2, T0 + MINUTE, ['CARD_MISSING'])],
      [
        entry(1, T0, []),
        entry(2, T0 + MINUTE, ['CARD_MISSING']),
        entry(3, T0 + 2 * MINUTE, ['CARD_MISSING', 'PIN_BLOCKED']),
      ],
      // The same again: a change that moves nothing the columns hold.
      [
        entry(1, T0, []),
        entry(2, T0 + MINUTE, ['CARD_MISSING']),
        entry(3, T0 + 2 * MINUTE, ['CARD_MISSING', 'PIN_BLOCKED']),
      ],
    ];
    const changes = timelines.map((timeline, i) => ({
      status: i < 3 ? ('active' as const) : ('aborted' as const),
      step: Math.min(i + 1, 3) as 1 | 2 | 3,
      state: { flowId: 'x', step: i + 1, timeline },
      deadline: i < 3 ? T0 + (10 + i) * MINUTE : null,
      pendingEffects: i === 2 ? [{ type: 'revoke-certificates', serials: ['ab'], reason: 'superseded' }] : [],
      orderId: i === 0 ? null : 'order-4',
      admin2HsaId: hsa('adm2'),
      updatedAt: T0 + (i + 1) * MINUTE,
    }));
    for (const [id, withPrevious] of [
      ['flow-prev-without', false],
      ['flow-prev-with', true],
    ] as const) {
      await insertFlow(store.db, aFlow(id));
      for (const [i, change] of changes.entries()) {
        const previous = await getFlow(store.db, id);
        if (previous === null) throw new Error('flow missing');
        const ok = await updateFlow(store.db, {
          id,
          expectedVersion: i + 1,
          ...change,
          state: { ...change.state, flowId: id },
          ...(withPrevious ? { previous } : {}),
        });
        expect(ok).toBe(true);
      }
    }
    const read = async (id: string) => {
      const { id: _id, state, ...flow } = (await getFlow(store.db, id)) ?? {};
      const row = await store.db
        .selectFrom('flows')
        .select(['branch_id', 'reached_step', 'code_count'])
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      const codes = await store.db
        .selectFrom('flow_codes')
        .select(['code', 'step', 'at'])
        .where('flow_id', '=', id)
        .orderBy('code')
        .execute();
      return { flow, state: { ...(state as object), flowId: '' }, row, codes };
    };
    const without = await read('flow-prev-without');
    expect(await read('flow-prev-with')).toEqual(without);
    expect(without.row).toMatchObject({ reached_step: 3, code_count: 2 });
    expect(without.codes).toEqual([
      { code: 'CARD_MISSING', step: 2, at: T0 + MINUTE },
      { code: 'PIN_BLOCKED', step: 3, at: T0 + 2 * MINUTE },
    ]);
    expect(without.flow).toMatchObject({ status: 'aborted', orderId: 'order-4', deadline: null, version: 5 });
  });

  it('records the codes of a timeline with the update, once each, and none for a stale version', async () => {
    await insertFlow(store.db, aFlow('flow-codes'));
    const timeline = (codes: string[][]) => ({
      flowId: 'flow-codes',
      step: 2,
      timeline: codes.map((c, i) => ({ at: T0 + i, step: 2, codes: c })),
    });
    const codesOf = () =>
      store.db
        .selectFrom('flow_codes')
        .select(['code', 'step', 'at'])
        .where('flow_id', '=', 'flow-codes')
        .orderBy('code')
        .execute();
    const first = timeline([['NO_ORDER']]);
    expect(await updateFlow(store.db, aChange('flow-codes', 1, { state: first }))).toBe(true);
    expect(await codesOf()).toEqual([{ code: 'NO_ORDER', step: 2, at: T0 }]);
    const second = timeline([['NO_ORDER'], ['NO_ROLE_IN_BRANCH', 'NO_ORDER']]);
    // At a version the flow has left: neither the row nor its codes change.
    expect(await updateFlow(store.db, aChange('flow-codes', 1, { state: second }))).toBe(false);
    expect(await codesOf()).toEqual([{ code: 'NO_ORDER', step: 2, at: T0 }]);
    expect(await updateFlow(store.db, aChange('flow-codes', 2, { state: second }))).toBe(true);
    expect(await codesOf()).toEqual([
      { code: 'NO_ORDER', step: 2, at: T0 },
      { code: 'NO_ROLE_IN_BRANCH', step: 2, at: T0 + 1 },
    ]);
    expect(await getFlow(store.db, 'flow-codes')).toMatchObject({ version: 3, state: second });
  });

  it('lets exactly one of two concurrent updates from the same version win', async () => {
    await insertFlow(store.db, aFlow('flow-race'));
    // PostgreSQL: two pools, so the updates really race for the row. SQLite: one connection per
    // process (see openStore), whose statements the driver serialises.
    const other: Store = dialect === 'postgres' ? await openStore({ url: store.url }) : store;
    try {
      const results = await Promise.all(
        [store, other].map((s, i) => updateFlow(s.db, aChange('flow-race', 1, { step: i === 0 ? 1 : 2 }))),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await getFlow(store.db, 'flow-race')).toMatchObject({ version: 2 });
    } finally {
      if (other !== store) await other.close();
    }
  });

  it('lists the active flows past their deadline, the longest overdue first', async () => {
    // flow-1 and flow-u, active, have deadlines after now.
    const now = T0 + 2 * MINUTE;
    await insertFlow(store.db, aFlow('due-late', { deadline: now - MINUTE }));
    await insertFlow(store.db, aFlow('due-early', { deadline: now - 30 * MINUTE }));
    await insertFlow(store.db, aFlow('due-now', { deadline: now }));
    await insertFlow(store.db, aFlow('not-yet', { deadline: now + 1 }));
    await insertFlow(store.db, aFlow('no-deadline', { deadline: null }));
    await insertFlow(
      store.db,
      aFlow('ended', { status: 'ack-timeout-revoked', deadline: now - 50 * MINUTE }),
    );
    const due = await listDueFlows(store.db, now, 10);
    expect(due.map((f) => f.id)).toEqual(['due-early', 'due-late', 'due-now']);
    expect((await listDueFlows(store.db, now, 1)).map((f) => f.id)).toEqual(['due-early']);
  });

  it('lists the flows that still owe effects, of any status, the longest waiting first', async () => {
    const revoke = { type: 'revoke-certificates', serials: ['bb'], reason: 'cessationOfOperation' };
    await insertFlow(
      store.db,
      aFlow('owes-new', { status: 'aborted', createdAt: T0 + 2 * MINUTE, pendingEffects: [revoke] }),
    );
    await insertFlow(store.db, aFlow('owes-old', { createdAt: T0 - MINUTE, pendingEffects: [revoke] }));
    const owing = await listFlowsWithPendingEffects(store.db, 100);
    // flow-1 and flow-u owe effects from the earlier tests.
    expect(owing.map((f) => f.id)).toEqual(['owes-old', 'flow-1', 'flow-u', 'owes-new']);
    expect(owing[0]?.pendingEffects).toEqual([revoke]);
    // Clearing the effects takes a flow off the list.
    expect(
      await updateFlow(store.db, aChange('owes-old', 1, { status: 'aborted', pendingEffects: [] })),
    ).toBe(true);
    expect((await listFlowsWithPendingEffects(store.db, 100)).map((f) => f.id)).toEqual([
      'flow-1',
      'flow-u',
      'owes-new',
    ]);
    expect((await listFlowsWithPendingEffects(store.db, 1)).map((f) => f.id)).toEqual(['flow-1']);
  });

  it("finds an order's flows and its active one", async () => {
    await insertFlow(store.db, aFlow('o3-first', { orderId: 'order-3', status: 'aborted', createdAt: T0 }));
    expect(await activeFlowForOrder(store.db, 'order-3')).toBeNull();
    await insertFlow(store.db, aFlow('o3-second', { orderId: 'order-3', createdAt: T0 + MINUTE }));
    expect((await listFlowsForOrder(store.db, 'order-3')).map((f) => f.id)).toEqual([
      'o3-first',
      'o3-second',
    ]);
    expect(await activeFlowForOrder(store.db, 'order-3')).toMatchObject({
      id: 'o3-second',
      status: 'active',
    });
    expect(await listFlowsForOrder(store.db, 'no-such-order')).toEqual([]);
  });

  it('updates with reads sent alongside, which see the update; a flow that moved on answers false', async () => {
    for (const id of ['flow-with', 'flow-with-stale']) await insertFlow(store.db, aFlow(id));
    const previous = await getFlow(store.db, 'flow-with');
    if (previous === null) throw new Error('flow-with missing');
    const versionOf = (db: typeof store.db, id: string) =>
      pendingRows(sql<{ version: number }>`select version from flows where id = ${id}`.compile(db), (rows) =>
        Number(rows[0]?.version),
      );
    const timeline = [{ step: 1, at: T0, codes: ['CARD_MISSING'] }];
    const answer = await store.db
      .transaction()
      .execute((trx) =>
        updateFlowWith(
          trx,
          aChange('flow-with', 1, { previous, state: { flowId: 'flow-with', step: 1, timeline } }),
          pendingAll(
            versionOf(trx, 'flow-with'),
            getOrderPending(trx, 'order-1'),
            getOrderPending(trx, 'none'),
          ),
        ),
      );
    expect(answer.updated).toBe(true);
    // Read after the update, in its transaction: the new version.
    expect(answer.alongside[0]).toBe(2);
    expect(answer.alongside[1]).toMatchObject({ id: 'order-1', version: 1 });
    expect(answer.alongside[2]).toBeNull();
    expect(await getFlow(store.db, 'flow-with')).toMatchObject({ version: 2, step: 1 });
    const codes = await store.db
      .selectFrom('flow_codes')
      .select('code')
      .where('flow_id', '=', 'flow-with')
      .execute();
    expect(codes).toEqual([{ code: 'CARD_MISSING' }]);

    const stale = await getFlow(store.db, 'flow-with-stale');
    if (stale === null) throw new Error('flow-with-stale missing');
    expect(await updateFlow(store.db, aChange('flow-with-stale', 1, { previous: stale }))).toBe(true);
    const moved = await store.db
      .transaction()
      .execute((trx) =>
        updateFlowWith(
          trx,
          aChange('flow-with-stale', 1, { previous: stale }),
          versionOf(trx, 'flow-with-stale'),
        ),
      );
    expect(moved).toEqual({ updated: false, alongside: 2 });
    // Without the flow as read the update goes first, the reads after it.
    const unread = await store.db
      .transaction()
      .execute((trx) =>
        updateFlowWith(trx, aChange('flow-with-stale', 2), versionOf(trx, 'flow-with-stale')),
      );
    expect(unread).toEqual({ updated: true, alongside: 3 });
  });

  it('updates with writes given before, made first; one that fails keeps nothing, with or without the flow as read', async () => {
    await insertFlow(store.db, aFlow('flow-with-before'));
    const challenge = (id: string) => ({ id, challenge: 'dGVzdA==', createdAt: T0, expiresAt: T0 + MINUTE });
    const challenged = (id: string) =>
      pendingRows(
        sql<{ n: number }>`select count(*) as n from login_challenges where id = ${id}`.compile(store.db),
        (rows) => Number(rows[0]?.n),
      );
    const change = (version: number, id: string, asRead: boolean) =>
      store.db.transaction().execute(async (trx) => {
        const previous = asRead ? ((await getFlow(trx, 'flow-with-before')) ?? undefined) : undefined;
        return updateFlowWith(
          trx,
          aChange('flow-with-before', version, previous === undefined ? {} : { previous }),
          pendingRows(
            sql<{ n: number }>`select count(*) as n from login_challenges where id = ${id}`.compile(trx),
            (rows) => Number(rows[0]?.n),
          ),
          [insertChallengeQuery(trx, challenge(id))],
        );
      });
    // Made before the reads beside the update: they see it.
    expect(await change(1, 'before-1', true)).toEqual({ updated: true, alongside: 1 });
    expect(await change(2, 'before-2', false)).toEqual({ updated: true, alongside: 1 });
    for (const asRead of [true, false]) {
      await expect(change(3, 'before-1', asRead)).rejects.toMatchObject({ code: 'CONFLICT' });
    }
    expect(await getFlow(store.db, 'flow-with-before')).toMatchObject({ version: 3 });
    expect(await runPending(store.db, challenged('before-2'))).toBe(1);
  });

  it('refuses a duplicate id as a CONFLICT and an unknown order as NOT_FOUND', async () => {
    await expect(insertFlow(store.db, aFlow('flow-1'))).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(insertFlow(store.db, aFlow('flow-x', { orderId: 'no-such-order' }))).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(
      updateFlow(store.db, aChange('flow-1', 1, { orderId: 'no-such-order' })),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses a state JSON cannot hold', async () => {
    await expect(insertFlow(store.db, aFlow('flow-undefined', { state: undefined }))).rejects.toThrow(
      TypeError,
    );
  });
});

describe.each(DIALECTS)('a flow change and its audit entry on %s', (dialect) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore(dialect);
  });
  afterAll(() => store?.dispose());

  const entryFor = (flowId: string, i = 0): NewAuditEntry => ({
    at: T0 + i,
    actor: 'SE2321000016-adm2',
    action: 'flow.search',
    subject: flowId,
    details: { step: 2, codes: [], status: 'active', i },
  });
  const read = async (id: string) => {
    const flow = await getFlow(store.db, id);
    if (flow === null) throw new Error(`flow ${id} missing`);
    return flow;
  };
  const entriesOf = async (flowId: string) =>
    (await listAudit(store.db, { limit: 10_000 }))
      .filter((entry) => entry.subject === flowId)
      .map(({ seq, action, details }) => ({ seq, action, details }));

  it('stores both in one go, and an entry appended after it in the transaction links to it', async () => {
    await insertFlow(store.db, aFlow('flow-audited'));
    const previous = await read('flow-audited');
    const { first, second } = await store.db.transaction().execute(async (trx) => {
      const first = await updateFlowAndAudit(
        trx,
        aChange('flow-audited', 1, { previous }),
        entryFor('flow-audited'),
      );
      const second = await appendAudit(trx, { ...entryFor('flow-audited', 1), action: 'flow.after' });
      return { first, second };
    });
    expect(first).not.toBeNull();
    expect(second.seq).toBe((first?.seq ?? 0) + 1);
    expect(second.prevHash).toBe(first?.hash);
    expect(await read('flow-audited')).toMatchObject({ version: 2, step: 1 });
    expect(await entriesOf('flow-audited')).toEqual([
      { seq: first?.seq, action: 'flow.search', details: entryFor('flow-audited').details },
      { seq: second.seq, action: 'flow.after', details: entryFor('flow-audited', 1).details },
    ]);
    expect((await auditHead(store.db)).hash).toBe(second.hash);
    expect(await verifyAudit(store.db)).toMatchObject({ ok: true });
  });

  it('stores a change and each of its entries in order, chained, and an entry after them links on', async () => {
    await insertFlow(store.db, aFlow('flow-audited-each'));
    const previous = await read('flow-audited-each');
    const each = [0, 1, 2].map((i) => ({ ...entryFor('flow-audited-each', i), action: `flow.event-${i}` }));
    const { stored, after } = await store.db.transaction().execute(async (trx) => {
      const stored = await updateFlowAndAuditEach(trx, aChange('flow-audited-each', 1, { previous }), each);
      const after = await appendAudit(trx, { ...entryFor('flow-audited-each', 3), action: 'flow.after' });
      return { stored, after };
    });
    if (stored === null) throw new Error('the change was not stored');
    expect(stored.map((entry) => entry.action)).toEqual(['flow.event-0', 'flow.event-1', 'flow.event-2']);
    expect(stored.map((entry) => entry.seq)).toEqual([1, 2, 3].map((i) => (stored[0]?.seq ?? 0) + i - 1));
    expect(stored[1]?.prevHash).toBe(stored[0]?.hash);
    expect(stored[2]?.prevHash).toBe(stored[1]?.hash);
    expect(after.prevHash).toBe(stored[2]?.hash);
    expect(await read('flow-audited-each')).toMatchObject({ version: 2 });
    expect((await entriesOf('flow-audited-each')).map((entry) => entry.action)).toEqual([
      'flow.event-0',
      'flow.event-1',
      'flow.event-2',
      'flow.after',
    ]);
    expect(await verifyAudit(store.db)).toMatchObject({ ok: true });
    // At a version the flow has left: nothing of it is kept, once rolled back.
    const head = await auditHead(store.db);
    for (const last of [false, true])
      await expect(
        store.db.transaction().execute(async (trx) => {
          const moved = await updateFlowAndAuditEach(
            trx,
            aChange('flow-audited-each', 1, { previous }),
            each,
            {
              last,
            },
          );
          expect(moved).toBeNull();
          throw new Error('the flow moved on');
        }),
      ).rejects.toThrow(/moved on/);
    expect(await auditHead(store.db)).toEqual(head);
    expect(await read('flow-audited-each')).toMatchObject({ version: 2 });
  });

  it('answers null for a flow that moved on; rolled back, neither the flow nor the log changed', async () => {
    await insertFlow(store.db, aFlow('flow-moved'));
    const previous = await read('flow-moved');
    expect(await updateFlow(store.db, aChange('flow-moved', 1, { previous }))).toBe(true);
    const head = await auditHead(store.db);
    await expect(
      store.db.transaction().execute(async (trx) => {
        const stored = await updateFlowAndAudit(
          trx,
          aChange('flow-moved', 1, { step: 3, previous }),
          entryFor('flow-moved'),
        );
        expect(stored).toBeNull();
        throw new Error('the flow moved on');
      }),
    ).rejects.toThrow(/moved on/);
    expect(await auditHead(store.db)).toEqual(head);
    expect(await read('flow-moved')).toMatchObject({ version: 2, step: 1 });
  });

  it('records the codes the change raises with it', async () => {
    await insertFlow(store.db, aFlow('flow-audited-codes'));
    const previous = await read('flow-audited-codes');
    const state = {
      flowId: 'flow-audited-codes',
      step: 2,
      timeline: [{ at: T0, step: 2, codes: ['NO_ORDER'] }],
    };
    await store.db
      .transaction()
      .execute((trx) =>
        updateFlowAndAudit(
          trx,
          aChange('flow-audited-codes', 1, { state, previous }),
          entryFor('flow-audited-codes'),
        ),
      );
    const codes = await store.db
      .selectFrom('flow_codes')
      .select(['code', 'step'])
      .where('flow_id', '=', 'flow-audited-codes')
      .execute();
    expect(codes).toEqual([{ code: 'NO_ORDER', step: 2 }]);
    expect(await read('flow-audited-codes')).toMatchObject({ version: 2, codeCount: 1, reachedStep: 2 });
  });

  it('chains on from an entry appended earlier in the transaction, and works without the flow as read', async () => {
    await insertFlow(store.db, aFlow('flow-audited-later'));
    const previous = await read('flow-audited-later');
    const [earlier, later, unread] = await store.db.transaction().execute(async (trx) => {
      const earlier = await appendAudit(trx, { ...entryFor('flow-audited-later'), action: 'flow.before' });
      const later = await updateFlowAndAudit(
        trx,
        aChange('flow-audited-later', 1, { previous }),
        entryFor('flow-audited-later', 1),
      );
      const unread = await updateFlowAndAudit(
        trx,
        aChange('flow-audited-later', 2),
        entryFor('flow-audited-later', 2),
      );
      return [earlier, later, unread];
    });
    expect(later?.prevHash).toBe(earlier.hash);
    expect(unread?.prevHash).toBe(later?.hash);
    expect(await read('flow-audited-later')).toMatchObject({ version: 3 });
    expect(await verifyAudit(store.db)).toMatchObject({ ok: true });
  });

  const codesOf = async (flowId: string) =>
    (await store.db.selectFrom('flow_codes').select('code').where('flow_id', '=', flowId).execute()).map(
      (row) => row.code,
    );
  const raising = (flowId: string, code: string) => ({
    flowId,
    step: 2,
    timeline: [{ at: T0, step: 2, codes: [code] }],
  });

  it('with `last`, stores the change, its codes and its entry as without it', async () => {
    await insertFlow(store.db, aFlow('flow-last'));
    const previous = await read('flow-last');
    const stored = await store.db
      .transaction()
      .execute((trx) =>
        updateFlowAndAudit(
          trx,
          aChange('flow-last', 1, { state: raising('flow-last', 'NO_ORDER'), previous }),
          entryFor('flow-last'),
          { last: true },
        ),
      );
    expect(stored).toMatchObject({ action: 'flow.search', subject: 'flow-last' });
    expect(await read('flow-last')).toMatchObject({ version: 2, codeCount: 1, reachedStep: 2 });
    expect(await codesOf('flow-last')).toEqual(['NO_ORDER']);
    expect(await entriesOf('flow-last')).toEqual([
      { seq: stored?.seq, action: 'flow.search', details: entryFor('flow-last').details },
    ]);
    expect(await verifyAudit(store.db)).toMatchObject({ ok: true });
  });

  it('with `last`, answers null for a flow that moved on, and keeps neither its codes nor its entry', async () => {
    await insertFlow(store.db, aFlow('flow-last-moved'));
    const previous = await read('flow-last-moved');
    expect(await updateFlow(store.db, aChange('flow-last-moved', 1, { previous }))).toBe(true);
    const head = await auditHead(store.db);
    // Twice: on PostgreSQL the first goes after BEGIN, the second, its statements prepared, with it.
    for (const attempt of [1, 2]) {
      await expect(
        store.db.transaction().execute(async (trx) => {
          const stored = await updateFlowAndAudit(
            trx,
            aChange('flow-last-moved', 1, { state: raising('flow-last-moved', 'NO_ORDER'), previous }),
            entryFor('flow-last-moved', attempt),
            { last: true },
          );
          expect(stored).toBeNull();
          throw new Error('the flow moved on');
        }),
      ).rejects.toThrow(/moved on/);
    }
    expect(await auditHead(store.db)).toEqual(head);
    expect(await codesOf('flow-last-moved')).toEqual([]);
    expect(await read('flow-last-moved')).toMatchObject({ version: 2, codeCount: 0 });
    // The connection goes on: a change from the version it is at goes through.
    const now = await read('flow-last-moved');
    await store.db.transaction().execute((trx) =>
      updateFlowAndAudit(trx, aChange('flow-last-moved', 2, { previous: now }), entryFor('flow-last-moved'), {
        last: true,
      }),
    );
    expect(await read('flow-last-moved')).toMatchObject({ version: 3 });
    expect(await verifyAudit(store.db)).toMatchObject({ ok: true });
  });

  it.each([false, true])(
    'makes the writes given before the change first; one that fails keeps nothing (last: %s)',
    async (last) => {
      const id = `flow-before-${last}`;
      await insertFlow(store.db, aFlow(id));
      const challenge = {
        id: `challenge-${id}`,
        challenge: 'dGVzdA==',
        createdAt: T0,
        expiresAt: T0 + MINUTE,
      };
      const change = async (version: number) => {
        const previous = await read(id);
        return store.db.transaction().execute((trx) =>
          updateFlowAndAudit(trx, aChange(id, version, { previous }), entryFor(id, version), {
            last,
            before: [insertChallengeQuery(trx, challenge)],
          }),
        );
      };
      expect(await change(1)).toMatchObject({ subject: id });
      expect(await read(id)).toMatchObject({ version: 2 });
      const head = await auditHead(store.db);
      // The same challenge again: its id is taken, so neither the change nor its entry is kept.
      await expect(change(2)).rejects.toMatchObject({ code: 'CONFLICT' });
      expect(await read(id)).toMatchObject({ version: 2 });
      expect(await auditHead(store.db)).toEqual(head);
      expect(await consumeChallenge(store.db, challenge.id, T0 + 1)).toBe('dGVzdA==');
      expect(await verifyAudit(store.db)).toMatchObject({ ok: true });
    },
  );

  it('inserts a flow with its codes and its entry as the last work; a taken id keeps neither', async () => {
    const flow = aFlow('flow-inserted', { state: raising('flow-inserted', 'NO_ORDER') });
    const stored = await store.db
      .transaction()
      .execute((trx) =>
        insertFlowAndAudit(trx, flow, { ...entryFor('flow-inserted'), action: 'flow.logged-in' }),
      );
    expect(stored).toMatchObject({ action: 'flow.logged-in', subject: 'flow-inserted' });
    expect(await read('flow-inserted')).toMatchObject({ version: 1, codeCount: 1, reachedStep: 2 });
    expect(await codesOf('flow-inserted')).toEqual(['NO_ORDER']);
    const head = await auditHead(store.db);
    // Twice: on PostgreSQL the first goes after BEGIN, the second, its statements prepared, with it.
    for (const attempt of [1, 2]) {
      await expect(
        store.db
          .transaction()
          .execute((trx) =>
            insertFlowAndAudit(trx, { ...flow, createdAt: T0 + attempt }, entryFor('flow-inserted', attempt)),
          ),
      ).rejects.toMatchObject({ code: 'CONFLICT' });
    }
    expect(await auditHead(store.db)).toEqual(head);
    expect(await read('flow-inserted')).toMatchObject({ version: 1, createdAt: T0 });
    // The connection goes on.
    await store.db
      .transaction()
      .execute((trx) => insertFlowAndAudit(trx, aFlow('flow-inserted-2'), entryFor('flow-inserted-2')));
    expect(await entriesOf('flow-inserted-2')).toHaveLength(1);
    expect(await verifyAudit(store.db)).toMatchObject({ ok: true });
  });

  it.each([false, true])(
    'keeps the chain whole under parallel changes, and lets one of two changes from the same version through (last: %s)',
    async (last) => {
      // PostgreSQL: a second pool, so that the transactions really run at once.
      const other: Store = dialect === 'postgres' ? await openStore({ url: store.url }) : store;
      try {
        const ids = Array.from({ length: 12 }, (_, i) => `flow-parallel-${last}-${i}`);
        for (const id of ids) await insertFlow(store.db, aFlow(id));
        const flows = await Promise.all(ids.map(read));
        // Each flow changed twice from version 1, by the two stores: one change of each pair wins.
        const outcomes = await Promise.allSettled(
          flows.flatMap((previous, i) =>
            [store, other].map((s, by) =>
              s.db.transaction().execute(async (trx) => {
                const stored = await updateFlowAndAudit(
                  trx,
                  aChange(previous.id, 1, { step: by === 0 ? 1 : 2, previous }),
                  entryFor(previous.id, 10 * i + by),
                  { last },
                );
                if (stored === null) throw new Error('the flow moved on');
                return stored;
              }),
            ),
          ),
        );
        const won = outcomes.filter((o) => o.status === 'fulfilled');
        expect(won).toHaveLength(ids.length);
        for (const o of outcomes)
          if (o.status === 'rejected')
            expect(String(o.reason)).toMatch(/moved on|could not serialize|deadlock/);
        for (const id of ids) {
          expect(await read(id)).toMatchObject({ version: 2 });
          expect(await entriesOf(id)).toHaveLength(1);
        }
        expect(await verifyAudit(store.db)).toMatchObject({ ok: true });
      } finally {
        if (other !== store) await other.close();
      }
    },
  );
});

describe('a flow change that commits with its last writes on PostgreSQL', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore('postgres');
  });
  afterAll(() => store?.dispose());

  const entry = (flowId: string, i = 0): NewAuditEntry => ({
    at: T0 + i,
    actor: 'SE2321000016-adm2',
    action: 'flow.search',
    subject: flowId,
    details: { step: 2, codes: [], i },
  });
  const actionsOf = async (flowId: string) =>
    (await listAudit(store.db, { limit: 10_000 })).filter((e) => e.subject === flowId).map((e) => e.action);

  it('sends an update and the reads beside it with its BEGIN, in one write', async () => {
    await insertFlow(store.db, aFlow('flow-with-writes'));
    await insertOrder(store.db, anOrder('order-w', aPerson('anna1'), { cardNumber: card(40) })).catch(
      () => undefined,
    );
    await countingWrites(store.url, async (db, writes) => {
      const change = async (version: number) => {
        const previous = await getFlow(db, 'flow-with-writes');
        if (previous === null) throw new Error('flow-with-writes missing');
        const before = writes();
        await db.transaction().execute(async (trx) => {
          const { updated } = await updateFlowWith(
            trx,
            aChange('flow-with-writes', version, { previous, updatedAt: T0 + version }),
            pendingAll(getOrderPending(trx, 'order-w'), getOrderPending(trx, 'order-x')),
          );
          expect(updated).toBe(true);
        });
        return writes() - before;
      };
      // The first changes prepare the statements of their shapes on the connection.
      await change(1);
      await change(2);
      // Then BEGIN, the update and both reads in one write; the COMMIT in another.
      expect(await change(3)).toBe(2);
    });
  });

  it('sends the writes given before a last change with it, in one write', async () => {
    await insertFlow(store.db, aFlow('flow-before-one-write'));
    await countingWrites(store.url, async (db, writes) => {
      const change = async (version: number) => {
        const previous = await getFlow(db, 'flow-before-one-write');
        if (previous === null) throw new Error('flow-before-one-write missing');
        const before = writes();
        await db.transaction().execute((trx) =>
          updateFlowAndAudit(
            trx,
            aChange('flow-before-one-write', version, { previous, updatedAt: T0 + version }),
            entry('flow-before-one-write', version),
            {
              last: true,
              before: [
                insertChallengeQuery(trx, {
                  id: `challenge-one-write-${version}`,
                  challenge: 'dGVzdA==',
                  createdAt: T0,
                  expiresAt: T0 + MINUTE,
                }),
              ],
            },
          ),
        );
        return writes() - before;
      };
      await change(1);
      await change(2);
      // BEGIN, the challenge, the update, its entry and the COMMIT.
      expect(await change(3)).toBe(1);
    });
  });

  it('inserts a flow with its entry and the COMMIT in one write, BEGIN included', async () => {
    await countingWrites(store.url, async (db, writes) => {
      const insert = async (i: number) => {
        const before = writes();
        await db
          .transaction()
          .execute((trx) =>
            insertFlowAndAudit(trx, aFlow(`flow-one-write-${i}`), entry(`flow-one-write-${i}`)),
          );
        return writes() - before;
      };
      // The first inserts prepare the statements on the connection.
      await insert(1);
      await insert(2);
      expect(await insert(3)).toBe(1);
    });
    expect(await actionsOf('flow-one-write-3')).toEqual(['flow.search']);
    expect(await verifyAudit(store.db)).toMatchObject({ ok: true });
  });

  it('has committed when it returns, and nothing more runs in the transaction', async () => {
    const other = await openStore({ url: store.url });
    try {
      await insertFlow(store.db, aFlow('flow-last-early'));
      const previous = await getFlow(store.db, 'flow-last-early');
      if (previous === null) throw new Error('flow-last-early missing');
      await expect(
        store.db.transaction().execute(async (trx) => {
          await updateFlowAndAudit(
            trx,
            aChange('flow-last-early', 1, { previous }),
            entry('flow-last-early'),
            {
              last: true,
            },
          );
          // Another session sees the change before the transaction's callback has ended.
          expect(await getFlow(other.db, 'flow-last-early')).toMatchObject({ version: 2 });
          await appendAudit(trx, { ...entry('flow-last-early', 1), action: 'flow.after' });
        }),
      ).rejects.toThrow(/committed with its last writes/);
      // The statement after it was refused: the change and its one entry stand, and the chain is whole.
      expect(await getFlow(store.db, 'flow-last-early')).toMatchObject({ version: 2 });
      expect(await actionsOf('flow-last-early')).toEqual(['flow.search']);
      expect(await verifyAudit(store.db)).toMatchObject({ ok: true });
    } finally {
      await other.close();
    }
  });
});
