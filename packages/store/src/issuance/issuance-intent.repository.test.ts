import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit, auditHead, listAudit, verifyAudit } from '../audit/audit.repository.js';
import { insertCa } from '../ca/ca.repository.js';
import {
  type BoundCertificate,
  getCertificate,
  insertCertificate,
  insertRevocation,
  listCertificatesOfIntent,
  listReserveCardCertificates,
  recordBoundCertificates,
} from '../certificate/certificate.repository.js';
import { openStore, type Store } from '../database.js';
import { insertFlow } from '../flow/flow.repository.js';
import { aCa, aCertificate, MINUTE, T0 } from '../test-support/store-fixtures.js';
import { createTestStore, DIALECTS, type TestStore } from '../test-support/test-stores.js';
import {
  bindIntent,
  closeIntent,
  getIntent,
  insertIntents,
  keepIntentsOfFlow,
  listIntentsOfFlow,
  listUnsettledIntents,
  settleIntent,
} from './issuance-intent.repository.js';

const aFlow = (id: string) => ({
  id,
  orderId: null,
  admin2HsaId: null,
  status: 'active' as const,
  step: 6 as const,
  state: { flowId: id },
  deadline: null,
  pendingEffects: [],
  createdAt: T0,
});

const intentsOf = (flowId: string, attempt = 1, at = T0) =>
  (['card-auth', 'card-sign'] as const).map((purpose) => ({
    id: `${flowId}-${attempt}-${purpose}`,
    flowId,
    attempt,
    purpose,
    createdAt: at,
  }));

describe.each(DIALECTS)('issuance intents on %s', (dialect) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore(dialect);
    await insertCa(store.db, aCa('loa3'));
  });
  afterAll(() => store?.dispose());

  it('are unique on (flow, attempt, purpose): a second claim is a CONFLICT and adds nothing', async () => {
    await insertFlow(store.db, aFlow('f-unique'));
    await insertIntents(store.db, intentsOf('f-unique'));
    const again = intentsOf('f-unique').map((i) => ({ ...i, id: `${i.id}-again` }));
    await expect(insertIntents(store.db, again)).rejects.toMatchObject({ code: 'CONFLICT' });
    const [, signAgain] = again;
    if (signAgain === undefined) throw new Error('fixture');
    await expect(insertIntents(store.db, [signAgain])).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await listIntentsOfFlow(store.db, 'f-unique')).map((i) => i.id).sort()).toEqual(
      intentsOf('f-unique')
        .map((i) => i.id)
        .sort(),
    );
    // Another attempt of the same flow is another key.
    await insertIntents(store.db, intentsOf('f-unique', 2));
    expect(await listIntentsOfFlow(store.db, 'f-unique')).toHaveLength(4);
  });

  it('refer to a flow that exists', async () => {
    await expect(insertIntents(store.db, intentsOf('no-such-flow'))).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('take one certificate each, and none once closed', async () => {
    await insertFlow(store.db, aFlow('f-cert'));
    const [auth, sign] = intentsOf('f-cert');
    if (!auth || !sign) throw new Error('fixture');
    await insertIntents(store.db, [auth, sign]);
    await insertCertificate(store.db, aCertificate('a1', 'loa3', { intentId: auth.id, createdAt: T0 + 1 }));
    expect((await getCertificate(store.db, 'a1'))?.intentId).toBe(auth.id);
    expect((await getIntent(store.db, auth.id))?.issuedAt).toBe(T0 + 1);
    // A second certificate under the same intent: refused by the unique index.
    await expect(
      insertCertificate(store.db, aCertificate('a2', 'loa3', { intentId: auth.id })),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    // Closed before its certificate was recorded: refused, and nothing is stored.
    await closeIntent(store.db, sign.id, T0 + 2);
    await expect(
      insertCertificate(store.db, aCertificate('s1', 'loa3', { intentId: sign.id })),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await getCertificate(store.db, 's1')).toBeNull();
    expect(await listCertificatesOfIntent(store.db, sign.id)).toEqual([]);
    expect((await listCertificatesOfIntent(store.db, auth.id)).map((c) => c.serial)).toEqual(['a1']);
    // Certificates of no intent are as before.
    await insertCertificate(store.db, aCertificate('n1', 'loa3'));
    await insertCertificate(store.db, aCertificate('n2', 'loa3', { intentId: null }));
    expect((await getCertificate(store.db, 'n2'))?.intentId).toBeNull();
  });

  it('bind once while open; close and settle once', async () => {
    await insertFlow(store.db, aFlow('f-bind'));
    const [auth, sign] = intentsOf('f-bind');
    if (!auth || !sign) throw new Error('fixture');
    await insertIntents(store.db, [auth, sign]);
    expect(await bindIntent(store.db, auth.id, 'b1', T0 + 5)).toBe(true);
    expect(await bindIntent(store.db, auth.id, 'b2', T0 + 6)).toBe(false);
    await closeIntent(store.db, sign.id, T0 + 7);
    await closeIntent(store.db, sign.id, T0 + 8);
    expect(await bindIntent(store.db, sign.id, 'b3', T0 + 9)).toBe(false);
    await settleIntent(store.db, sign.id, 'revoked', T0 + 10);
    await settleIntent(store.db, sign.id, 'kept', T0 + 11);
    expect(await getIntent(store.db, auth.id)).toMatchObject({
      serial: 'b1',
      boundAt: T0 + 5,
      closedAt: null,
    });
    expect(await getIntent(store.db, sign.id)).toMatchObject({
      serial: null,
      closedAt: T0 + 7,
      settledAt: T0 + 10,
      outcome: 'revoked',
    });
  });

  it('are kept, in one statement, only where bound to a serial the completed flow holds', async () => {
    await insertFlow(store.db, aFlow('f-keep'));
    const [auth, sign] = intentsOf('f-keep');
    const [oldAuth] = intentsOf('f-keep', 0);
    if (!auth || !sign || !oldAuth) throw new Error('fixture');
    await insertIntents(store.db, [oldAuth, auth, sign]);
    await bindIntent(store.db, oldAuth.id, 'k0', T0 + 1);
    await bindIntent(store.db, auth.id, 'k1', T0 + 2);
    await bindIntent(store.db, sign.id, 'k2', T0 + 2);
    await closeIntent(store.db, sign.id, T0 + 3);
    expect(await keepIntentsOfFlow(store.db, 'f-keep', ['k1', 'k2'], T0 + 4)).toBe(2);
    expect(await getIntent(store.db, auth.id)).toMatchObject({
      closedAt: T0 + 4,
      settledAt: T0 + 4,
      outcome: 'kept',
    });
    // Closed before: the first closing time stays.
    expect(await getIntent(store.db, sign.id)).toMatchObject({
      closedAt: T0 + 3,
      settledAt: T0 + 4,
      outcome: 'kept',
    });
    // An earlier attempt's certificate the flow does not hold is left to the reconciler.
    expect(await getIntent(store.db, oldAuth.id)).toMatchObject({ settledAt: null, outcome: null });
    // Settled ones are not settled again; no serials, nothing to do.
    expect(await keepIntentsOfFlow(store.db, 'f-keep', ['k1', 'k2'], T0 + 9)).toBe(0);
    expect(await keepIntentsOfFlow(store.db, 'f-keep', [], T0 + 9)).toBe(0);
  });

  it('list the unsettled ones created up to a time, a page at a time', async () => {
    await insertFlow(store.db, aFlow('f-page'));
    const at = T0 + 60 * MINUTE;
    await insertIntents(store.db, [...intentsOf('f-page', 1, at), ...intentsOf('f-page', 2, at + MINUTE)]);
    const page = async (limit: number, after: { createdAt: number; id: string } | null) =>
      (await listUnsettledIntents(store.db, at + MINUTE, limit, after))
        .filter((i) => i.flowId === 'f-page')
        .map((i) => i.id);
    const all = await page(100, null);
    expect(all).toEqual([
      'f-page-1-card-auth',
      'f-page-1-card-sign',
      'f-page-2-card-auth',
      'f-page-2-card-sign',
    ]);
    expect(await page(100, { createdAt: at, id: 'f-page-1-card-auth' })).toEqual(all.slice(1));
    expect(await page(100, { createdAt: at, id: 'f-page-1-card-sign' })).toEqual(all.slice(2));
    expect((await listUnsettledIntents(store.db, at - 1, 100)).some((i) => i.flowId === 'f-page')).toBe(
      false,
    );
    await settleIntent(store.db, 'f-page-1-card-auth', 'kept', at + 2 * MINUTE);
    expect(await page(100, null)).toEqual(all.slice(1));
  });

  it('serialise a certificate under an intent against its closing, across connections', async () => {
    await insertFlow(store.db, aFlow('f-race'));
    const [auth] = intentsOf('f-race');
    if (!auth) throw new Error('fixture');
    await insertIntents(store.db, [auth]);
    // SQLite allows one store per file and process: the race is PostgreSQL's to show.
    const other = dialect === 'postgres' ? await openStore({ url: store.url }) : store;
    try {
      // The close starts once the certificate's insert has run, its transaction still open:
      // a fixed delay instead would let a slow first connection lose the race under load.
      let inserted!: () => void;
      const certificateInserted = new Promise<void>((resolve) => {
        inserted = resolve;
      });
      const outcomes = await Promise.allSettled([
        other.db.transaction().execute(async (trx) => {
          await insertCertificate(trx, aCertificate('r1', 'loa3', { intentId: auth.id }));
          inserted();
          await new Promise((resolve) => setTimeout(resolve, 50));
        }),
        (async () => {
          await certificateInserted;
          await store.db.transaction().execute(async (trx) => {
            await closeIntent(trx, auth.id, T0 + 1);
            return listCertificatesOfIntent(trx, auth.id);
          });
        })(),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);
      // Closed after the certificate's commit: whoever closed it sees the certificate.
      const seen = await store.db.transaction().execute((trx) => listCertificatesOfIntent(trx, auth.id));
      expect(seen.map((c) => c.serial)).toEqual(['r1']);
      await expect(
        insertCertificate(store.db, aCertificate('r2', 'loa3', { intentId: auth.id })),
      ).rejects.toMatchObject({ code: 'CONFLICT' });
    } finally {
      if (other !== store) await other.close();
    }
  });
  it('lists a person’s reserve-card certificates: those a flow bound, and none it left unbound', async () => {
    await insertFlow(store.db, aFlow('flow-eid'));
    await insertIntents(store.db, [...intentsOf('flow-eid', 1), ...intentsOf('flow-eid', 2)]);
    const holder = 'SE2321000016-eid1' as Parameters<typeof listReserveCardCertificates>[1]['hsaId'];
    const mine = (serial: string, intentId: string, profile: string, at: number) =>
      aCertificate(serial, 'loa3', { intentId, profile, hsaId: holder, createdAt: at });
    // Attempt 1 issued and was revoked unbound; attempt 2 was bound to the card.
    await insertCertificate(store.db, mine('e1', 'flow-eid-1-card-auth', 'card-auth', T0));
    await insertRevocation(store.db, {
      serial: 'e1',
      revokedAt: T0 + 1,
      reason: 'cessationOfOperation',
      revokedBy: 'x',
    });
    await insertCertificate(store.db, mine('e3', 'flow-eid-2-card-auth', 'card-auth', T0 + 2));
    await insertCertificate(store.db, mine('e4', 'flow-eid-2-card-sign', 'card-sign', T0 + 3));
    for (const purpose of ['card-auth', 'card-sign'] as const)
      await bindIntent(store.db, `flow-eid-2-${purpose}`, purpose === 'card-auth' ? 'e3' : 'e4', T0 + 4);
    // Outside any flow (as förlängning's certificates may be), and someone else's.
    await insertCertificate(store.db, aCertificate('e5', 'loa3', { hsaId: holder, createdAt: T0 + 5 }));
    await insertCertificate(store.db, aCertificate('e6', 'loa3', { createdAt: T0 + 6 }));
    const listed = await listReserveCardCertificates(store.db, { hsaId: holder });
    expect(listed.map((c) => c.serial)).toEqual(['e3', 'e4', 'e5']);
    const card = listed[0]?.cardNumber ?? null;
    expect(card).not.toBeNull();
    if (card !== null)
      expect((await listReserveCardCertificates(store.db, { hsaId: holder, cardNumber: card })).length).toBe(
        3,
      );
  });
});

describe.each(DIALECTS)('card certificates recorded and bound together on %s', (dialect) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore(dialect);
    await insertCa(store.db, aCa('loa3'));
  });
  afterAll(() => store?.dispose());

  /** The claim's two intents, each with its certificate and audit entry, bound at T0 + 2. */
  const boundOf = (flowId: string, serials: readonly [string, string]): BoundCertificate[] =>
    intentsOf(flowId).map((intent, i) => {
      const serial = serials[i] ?? '';
      return {
        certificate: {
          ...aCertificate(serial, 'loa3', { profile: intent.purpose, createdAt: T0 + 1 }),
          intentId: intent.id,
        },
        entry: {
          at: T0 + 1,
          actor: 'test',
          action: 'certificate.issued',
          subject: serial,
          details: { intent: intent.id },
        },
        boundAt: T0 + 2,
      };
    });
  const record = (bound: readonly BoundCertificate[], s: Store = store) =>
    s.db.transaction().execute((trx) => recordBoundCertificates(trx, bound));
  const issuedEntries = async (serials: readonly string[]) =>
    (await listAudit(store.db, { limit: 10_000 }))
      .filter((e) => e.action === 'certificate.issued' && serials.includes(e.subject))
      .map((e) => e.subject);

  it('records each certificate under its intent, appends its entry and binds it, in order', async () => {
    await insertFlow(store.db, aFlow('f-together'));
    await insertIntents(store.db, intentsOf('f-together'));
    await store.db.transaction().execute(async (trx) => {
      // An entry earlier in the transaction: the batch's entries chain on from it.
      await appendAudit(trx, { at: T0, actor: 'test', action: 'before', subject: 'f-together', details: {} });
      await recordBoundCertificates(trx, boundOf('f-together', ['b1', 'b2']));
    });
    const intents = await listIntentsOfFlow(store.db, 'f-together');
    expect(intents.map((i) => ({ serial: i.serial, issuedAt: i.issuedAt, boundAt: i.boundAt }))).toEqual([
      { serial: 'b1', issuedAt: T0 + 1, boundAt: T0 + 2 },
      { serial: 'b2', issuedAt: T0 + 1, boundAt: T0 + 2 },
    ]);
    expect(await getCertificate(store.db, 'b2')).toMatchObject({ intentId: 'f-together-1-card-sign' });
    expect(await issuedEntries(['b1', 'b2'])).toEqual(['b1', 'b2']);
    expect(await verifyAudit(store.db)).toMatchObject({ ok: true });
  });

  it('refuses a closed intent, a bound intent and a taken serial as CONFLICT, and keeps nothing', async () => {
    await insertFlow(store.db, aFlow('f-refused'));
    await insertIntents(store.db, intentsOf('f-refused'));
    const head = await auditHead(store.db);
    // The second intent closed: the first's certificate, recorded before it in the batch, goes too.
    await closeIntent(store.db, 'f-refused-1-card-sign', T0);
    await expect(record(boundOf('f-refused', ['r1', 'r2']))).rejects.toMatchObject({ code: 'CONFLICT' });
    // A serial that is taken.
    await insertCertificate(store.db, aCertificate('r4', 'loa3'));
    await expect(record(boundOf('f-refused', ['r3', 'r4']))).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await getCertificate(store.db, 'r1')).toBeNull();
    expect(await getCertificate(store.db, 'r3')).toBeNull();
    expect((await listIntentsOfFlow(store.db, 'f-refused')).map((i) => [i.issuedAt, i.serial])).toEqual([
      [null, null],
      [null, null],
    ]);
    // A bound intent.
    await insertFlow(store.db, aFlow('f-bound'));
    await insertIntents(store.db, intentsOf('f-bound'));
    await record(boundOf('f-bound', ['k1', 'k2']));
    const bound = await auditHead(store.db);
    await expect(record(boundOf('f-bound', ['k3', 'k4']))).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await getCertificate(store.db, 'k3')).toBeNull();
    expect((await listIntentsOfFlow(store.db, 'f-bound')).map((i) => i.serial)).toEqual(['k1', 'k2']);
    expect(await auditHead(store.db)).toEqual(bound);
    expect(await issuedEntries(['r1', 'r2', 'r3', 'r4'])).toEqual([]);
    expect((await auditHead(store.db)).size).toBe(head.size + 2);
    expect(await verifyAudit(store.db)).toMatchObject({ ok: true });
  });

  it('lets one of parallel records of the same claim through, and keeps the chain whole', async () => {
    // PostgreSQL: a second pool, so that the transactions really run at once.
    const other: Store = dialect === 'postgres' ? await openStore({ url: store.url }) : store;
    try {
      const flows = Array.from({ length: 6 }, (_, i) => `f-parallel-${i}`);
      for (const flowId of flows) {
        await insertFlow(store.db, aFlow(flowId));
        await insertIntents(store.db, intentsOf(flowId));
      }
      const outcomes = await Promise.allSettled(
        flows.flatMap((flowId) =>
          [store, other].map((s, by) => record(boundOf(flowId, [`${flowId}-${by}a`, `${flowId}-${by}b`]), s)),
        ),
      );
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(flows.length);
      for (const o of outcomes)
        if (o.status === 'rejected') expect(o.reason).toMatchObject({ code: 'CONFLICT' });
      for (const flowId of flows) {
        const serials = (await listIntentsOfFlow(store.db, flowId)).map((i) => i.serial);
        // Both intents bound by the same record, and only its certificates kept.
        expect([
          [`${flowId}-0a`, `${flowId}-0b`],
          [`${flowId}-1a`, `${flowId}-1b`],
        ]).toContainEqual(serials);
        for (const serial of serials)
          expect((await getCertificate(store.db, serial ?? ''))?.intentId).toMatch(flowId);
        expect(await listCertificatesOfIntent(store.db, `${flowId}-1-card-auth`)).toHaveLength(1);
      }
      expect(await verifyAudit(store.db)).toMatchObject({ ok: true });
    } finally {
      if (other !== store) await other.close();
    }
  });
});
