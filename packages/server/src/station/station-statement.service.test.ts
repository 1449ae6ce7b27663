// verifyStatement against a real CA and store on both dialects, with statements signed by
// node:crypto with the station key, as the agent signs them.
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import {
  type CardNumber,
  canonicalStatementBytes,
  type SignedStatement,
  type StatementPayload,
} from '@reservkort/domain';
import {
  getCertificate,
  getCertificatePending,
  getStation,
  pendingAll,
  upsertBranches,
} from '@reservkort/store';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestCa, type TestCa } from '../../../pki/src/test-support/test-ca.js';
import { countingWrites, DIALECTS } from '../../../store/src/test-support/test-stores.js';
import { ApiError } from '../http/api-error.js';
import { registerStation, revokeStation, STATION_VALIDITY_MS } from './station.service.js';
import { stationCsr } from './station-key.js';
import {
  acceptVerifiedStatement,
  type ExpectedStatement,
  newStationNonce,
  previewStatement,
  verifyStatement,
  verifyStatementWith,
} from './station-statement.service.js';

const newKey = (): KeyObject => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
const pemOf = (key: KeyObject) => key.export({ format: 'pem', type: 'pkcs8' }).toString();

const signStatement = (key: KeyObject, payload: StatementPayload): SignedStatement => {
  const bytes = canonicalStatementBytes(payload);
  return {
    payload: Buffer.from(bytes).toString('base64url'),
    signature: sign('sha256', bytes, { key, dsaEncoding: 'ieee-p1363' }).toString('base64url'),
  };
};

describe.each(DIALECTS)('verifyStatement on %s', (dialect) => {
  let t: TestCa;
  let key: KeyObject;
  let stationId: string;
  const nonce = newStationNonce();
  const now = Date.now();
  const expected: ExpectedStatement = { flowId: 'flow-1', nonce, kinds: ['readers', 'event'], now };
  const readers = (overrides: Partial<StatementPayload> = {}): StatementPayload => ({
    v: 1,
    station: stationId,
    flowId: 'flow-1',
    nonce,
    seq: 1,
    at: now,
    kind: 'readers',
    body: {
      readers: {
        1: { connected: true, card: { cardNumber: '9752278900000000002' as CardNumber, insertions: 1 } },
        2: { connected: true, card: null },
      },
    },
    ...overrides,
  });
  const refusal = async (signed: SignedStatement, what: Partial<ExpectedStatement> = {}) => {
    const error = await verifyStatement(t.store.db, t.ca, signed, { ...expected, ...what }).catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    return { code: (error as ApiError).code, details: (error as ApiError).details };
  };

  // One CA per dialect; a fresh station, with its own key and last_seq, for every test.
  beforeAll(async () => {
    t = await createTestCa(dialect);
    await upsertBranches(t.store.db, [{ id: 'clinic', parentId: null, name: 'Kliniken' }]);
  });
  afterAll(() => t?.dispose());
  beforeEach(async () => {
    key = newKey();
    const registered = await registerStation(
      { db: t.store.db, ca: t.ca, now: () => Date.now() },
      { csr: await stationCsr(pemOf(key)), name: 'Disk 1', branchId: 'clinic', actor: 'ca-operator' },
    );
    stationId = registered.stationId;
  });

  it('accepts a good statement and raises last_seq with it', async () => {
    const verified = await verifyStatement(
      t.store.db,
      t.ca,
      signStatement(key, readers({ seq: 7 })),
      expected,
    );
    expect(verified.payload).toEqual(readers({ seq: 7 }));
    expect(verified.station).toMatchObject({ id: stationId, branchId: 'clinic', lastSeq: 7 });
    expect((await getStation(t.store.db, stationId))?.lastSeq).toBe(7);
    // An event statement too, the flow's station named.
    const event = readers({
      seq: 8,
      kind: 'event',
      body: { event: { type: 'card-inserted', reader: 2, cardNumber: '9752278900000000100' as CardNumber } },
    });
    await expect(
      verifyStatement(t.store.db, t.ca, signStatement(key, event), { ...expected, stationId }),
    ).resolves.toMatchObject({ payload: event });
  });

  it('leaves last_seq as it was when the transaction using the statement rolls back', async () => {
    await expect(
      t.store.db.transaction().execute(async (trx) => {
        await verifyStatement(trx, t.ca, signStatement(key, readers({ seq: 3 })), expected);
        throw new Error('the flow change failed');
      }),
    ).rejects.toThrow('the flow change failed');
    expect((await getStation(t.store.db, stationId))?.lastSeq).toBe(0);
    await verifyStatement(t.store.db, t.ca, signStatement(key, readers({ seq: 3 })), expected);
  });

  it('refuses an unregistered station: STATION_NOT_REGISTERED', async () => {
    const stranger = newKey();
    expect(await refusal(signStatement(stranger, readers({ station: 'st-notregistered1' })))).toEqual({
      code: 'STATION_NOT_REGISTERED',
      details: { reason: 'unknown station' },
    });
  });

  it('refuses a station whose certificate is revoked, or that is revoked, or expired: STATION_REVOKED', async () => {
    const station = await getStation(t.store.db, stationId);
    await t.ca.revoke(station?.certificateSerial ?? '', 'keyCompromise', 'ca-operator');
    expect(await refusal(signStatement(key, readers()))).toEqual({
      code: 'STATION_REVOKED',
      details: { reason: 'certificate revoked' },
    });
    await revokeStation({ db: t.store.db, ca: t.ca, now: () => Date.now() }, stationId, 'ca-operator');
    expect((await refusal(signStatement(key, readers()))).details).toEqual({ reason: 'station revoked' });
  });

  it('refuses a station whose certificate has expired: STATION_REVOKED', async () => {
    expect(
      await refusal(signStatement(key, readers()), { now: now + STATION_VALIDITY_MS + 86_400_000 }),
    ).toEqual({
      code: 'STATION_REVOKED',
      details: { reason: 'certificate expired' },
    });
  });

  it.each([
    [
      'a bad signature',
      () => ({
        ...signStatement(key, readers()),
        signature: signStatement(key, readers({ seq: 2 })).signature,
      }),
      'signature',
    ],
    ['another key’s signature', () => signStatement(newKey(), readers()), 'signature'],
    [
      'a DER signature instead of raw r‖s',
      () => {
        const signed = signStatement(key, readers());
        const bytes = Buffer.from(signed.payload, 'base64url');
        return { ...signed, signature: sign('sha256', bytes, key).toString('base64url') };
      },
      'signature',
    ],
    ['a payload for another flow', () => signStatement(key, readers({ flowId: 'flow-2' })), 'flow'],
    ['a stale nonce', () => signStatement(key, readers({ nonce: newStationNonce() })), 'nonce'],
    [
      'the wrong kind',
      () => signStatement(key, readers({ kind: 'agent-info', body: { version: '1', packaging: 'msi' } })),
      'kind',
    ],
    [
      'a payload re-encoded on the way',
      () => {
        const signed = signStatement(key, readers());
        const json = JSON.parse(Buffer.from(signed.payload, 'base64url').toString('utf8'));
        return { ...signed, payload: Buffer.from(JSON.stringify(json, null, 1)).toString('base64url') };
      },
      'not canonical',
    ],
    [
      'a field the page added',
      () => {
        const signed = signStatement(key, readers());
        const json = JSON.parse(Buffer.from(signed.payload, 'base64url').toString('utf8'));
        return {
          ...signed,
          payload: Buffer.from(JSON.stringify({ ...json, forged: 1 })).toString('base64url'),
        };
      },
      'statement-field',
    ],
    ['not base64url', () => ({ payload: 'a+b/', signature: 'x' }), 'encoding'],
  ])('refuses %s: STATEMENT_INVALID', async (_what, make, reason) => {
    expect(await refusal(make())).toEqual({ code: 'STATEMENT_INVALID', details: { reason } });
    expect((await getStation(t.store.db, stationId))?.lastSeq).toBe(0);
  });

  it('refuses another station’s statement on a flow bound to a station', async () => {
    expect(await refusal(signStatement(key, readers()), { stationId: 'st-someotherstation' })).toEqual({
      code: 'STATEMENT_INVALID',
      details: { reason: 'station' },
    });
  });

  it('refuses a replayed statement and a lower sequence number: STATEMENT_INVALID seq', async () => {
    const signed = signStatement(key, readers({ seq: 5 }));
    await verifyStatement(t.store.db, t.ca, signed, expected);
    expect(await refusal(signed)).toEqual({ code: 'STATEMENT_INVALID', details: { reason: 'seq' } });
    expect(await refusal(signStatement(key, readers({ seq: 4 })))).toEqual({
      code: 'STATEMENT_INVALID',
      details: { reason: 'seq' },
    });
    // Two requests racing with one statement: one is believed.
    const next = signStatement(key, readers({ seq: 6 }));
    const outcomes = await Promise.allSettled([
      verifyStatement(t.store.db, t.ca, next, expected),
      verifyStatement(t.store.db, t.ca, next, expected),
    ]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
  });

  it('accepts a statement checked beforehand once, in the transaction, for the flow as it still is', async () => {
    const flow = { id: 'flow-1', stationNonce: nonce, stationId };
    const checked = () =>
      verifyStatement(t.store.db, t.ca, signStatement(key, readers({ seq: 9 })), {
        ...expected,
        accept: false,
      });
    const verified = await checked();
    expect((await getStation(t.store.db, stationId))?.lastSeq).toBe(0);
    const accept = (f: typeof flow) =>
      t.store.db.transaction().execute((trx) => acceptVerifiedStatement(trx, verified, f, now));
    const refused = async (f: typeof flow) => {
      const error = await accept(f).catch((e) => e);
      expect(error).toBeInstanceOf(ApiError);
      return (error as ApiError).details;
    };
    // A flow that moved on (a new nonce), or is another flow or station's, refuses it.
    expect(await refused({ ...flow, stationNonce: newStationNonce() })).toEqual({ reason: 'nonce' });
    expect(await refused({ ...flow, id: 'flow-2' })).toEqual({ reason: 'flow' });
    expect(await refused({ ...flow, stationId: 'st-someotherstation' })).toEqual({ reason: 'station' });
    // Two requests racing with it: one is believed, and last_seq moves once.
    const outcomes = await Promise.allSettled([accept(flow), accept(flow)]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((await getStation(t.store.db, stationId))?.lastSeq).toBe(9);
    expect(await refused(flow)).toEqual({ reason: 'seq' });
    // A station revoked between the check and the transaction is refused there.
    const later = await verifyStatement(t.store.db, t.ca, signStatement(key, readers({ seq: 10 })), {
      ...expected,
      accept: false,
    });
    await revokeStation({ db: t.store.db, ca: t.ca, now: () => Date.now() }, stationId, 'ca-operator');
    const error = await t.store.db
      .transaction()
      .execute((trx) => acceptVerifiedStatement(trx, later, flow, now))
      .catch((e) => e);
    expect(error).toMatchObject({ code: 'STATION_REVOKED' });
    expect((await getStation(t.store.db, stationId))?.lastSeq).toBe(9);
  });

  it('previews a statement with a read of its own beside the station: nothing written, refusals as verifyStatement', async () => {
    const station = await getStation(t.store.db, stationId);
    if (station === null) throw new Error('no station');
    const preview = (signed: SignedStatement) =>
      previewStatement(t.store.db, t.ca, signed, expected, async (payload) => {
        expect(payload.station).toBe(stationId);
        return getCertificatePending(t.store.db, station.certificateSerial);
      });
    const good = await preview(signStatement(key, readers({ seq: 3 })));
    expect(good.verified.station.id).toBe(stationId);
    expect(good.verified.payload.seq).toBe(3);
    expect(good.alongside).toEqual(await getCertificate(t.store.db, station.certificateSerial));
    expect((await getStation(t.store.db, stationId))?.lastSeq).toBe(0);
    const refused = async (signed: SignedStatement) => {
      const error = await preview(signed).catch((e) => e);
      expect(error).toBeInstanceOf(ApiError);
      return (error as ApiError).details;
    };
    expect(await refused(signStatement(newKey(), readers()))).toEqual({ reason: 'signature' });
    expect(await refused(signStatement(key, readers({ nonce: newStationNonce() })))).toEqual({
      reason: 'nonce',
    });
    await verifyStatement(t.store.db, t.ca, signStatement(key, readers({ seq: 4 })), expected);
    expect(await refused(signStatement(key, readers({ seq: 4 })))).toEqual({ reason: 'seq' });
    await revokeStation({ db: t.store.db, ca: t.ca, now: () => Date.now() }, stationId, 'ca-operator');
    const error = await preview(signStatement(key, readers({ seq: 5 }))).catch((e) => e);
    expect(error).toMatchObject({ code: 'STATION_REVOKED' });
  });

  it.runIf(dialect === 'postgres')(
    'previews with the station and the read beside it in one write',
    async () => {
      const station = await getStation(t.store.db, stationId);
      if (station === null) throw new Error('no station');
      const signed = signStatement(key, readers({ seq: 2 }));
      await countingWrites(t.store.url, async (db, writes) => {
        // Once first: the station's key is checked against its certificate once per process.
        await previewStatement(db, t.ca, signed, expected, async () =>
          getCertificatePending(db, station.certificateSerial),
        );
        const before = writes();
        const { alongside } = await previewStatement(db, t.ca, signed, expected, async () =>
          getCertificatePending(db, station.certificateSerial),
        );
        expect(writes() - before).toBe(1);
        expect(alongside?.serial).toBe(station.certificateSerial);
      });
    },
  );

  it('accepts a statement in its transaction with a read beside the raise; a refusal rolls the raise back', async () => {
    const station = await getStation(t.store.db, stationId);
    if (station === null) throw new Error('no station');
    const inTransaction = (signed: SignedStatement, fail = false) =>
      t.store.db.transaction().execute(async (trx) => {
        const result = await verifyStatementWith(trx, t.ca, signed, expected, async () =>
          getCertificatePending(trx, station.certificateSerial),
        );
        if (fail) throw new Error('the flow refused it');
        return result;
      });
    const { verified, alongside } = await inTransaction(signStatement(key, readers({ seq: 7 })));
    expect(verified.station.lastSeq).toBe(7);
    expect(alongside?.serial).toBe(station.certificateSerial);
    expect((await getStation(t.store.db, stationId))?.lastSeq).toBe(7);
    await expect(inTransaction(signStatement(key, readers({ seq: 8 })), true)).rejects.toThrow(/refused/);
    expect((await getStation(t.store.db, stationId))?.lastSeq).toBe(7);
    await expect(inTransaction(signStatement(key, readers({ seq: 7 })))).rejects.toMatchObject({
      details: { reason: 'seq' },
    });
    await expect(inTransaction(signStatement(newKey(), readers({ seq: 9 })))).rejects.toMatchObject({
      details: { reason: 'signature' },
    });
    expect((await getStation(t.store.db, stationId))?.lastSeq).toBe(7);
    if (dialect !== 'postgres') return;
    await countingWrites(t.store.url, async (db, writes) => {
      const accept = (seq: number) =>
        db
          .transaction()
          .execute((trx) =>
            verifyStatementWith(trx, t.ca, signStatement(key, readers({ seq })), expected, async () =>
              getCertificatePending(trx, station.certificateSerial),
            ),
          );
      await accept(10);
      await accept(11);
      const before = writes();
      await accept(12);
      // BEGIN, the raise and the read beside it; then the COMMIT.
      expect(writes() - before).toBe(2);
    });
  });

  it('asks what the statement must be from the value read beside it, before any check; its refusal rolls the raise back', async () => {
    const station = await getStation(t.store.db, stationId);
    if (station === null) throw new Error('no station');
    const seen: string[] = [];
    const inTransaction = (
      signed: SignedStatement,
      judge: (serial: string | undefined) => ExpectedStatement,
    ) =>
      t.store.db.transaction().execute((trx) =>
        verifyStatementWith(
          trx,
          t.ca,
          signed,
          ([record]) => {
            seen.push(record?.serial ?? 'none');
            return judge(record?.serial);
          },
          async () => pendingAll(getCertificatePending(trx, station.certificateSerial)),
        ),
      );
    const { verified } = await inTransaction(signStatement(key, readers({ seq: 20 })), () => expected);
    expect(verified.station.lastSeq).toBe(20);
    expect(seen).toEqual([station.certificateSerial]);
    // Asked even for a statement whose signature is bad: it comes before the checks, and may refuse.
    await expect(
      inTransaction(signStatement(newKey(), readers({ seq: 21 })), () => {
        throw new ApiError('ACCESS_DENIED');
      }),
    ).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
    // What it returns is what the statement is checked against.
    await expect(
      inTransaction(signStatement(key, readers({ seq: 22 })), () => ({
        ...expected,
        nonce: newStationNonce(),
      })),
    ).rejects.toMatchObject({ details: { reason: 'nonce' } });
    expect((await getStation(t.store.db, stationId))?.lastSeq).toBe(20);
    expect(seen).toHaveLength(3);
  });

  it('makes a fresh 32-hex-character nonce each time', () => {
    const nonces = new Set(Array.from({ length: 20 }, () => newStationNonce()));
    expect(nonces.size).toBe(20);
    for (const n of nonces) expect(n).toMatch(/^[0-9a-f]{32}$/);
    expect(newStationNonce(() => new Uint8Array(16).fill(0xab))).toBe('ab'.repeat(16));
  });
});
