import { afterEach, describe, expect, it } from 'vitest';
import { insertCa } from '../ca/ca.repository.js';
import {
  insertCertificate,
  insertRevocation,
  revocationEpoch,
} from '../certificate/certificate.repository.js';
import { aCa, aCertificate } from '../test-support/store-fixtures.js';
import { createTestStore, DIALECTS, type TestStore } from '../test-support/test-stores.js';
import { getCrl, saveCrl } from './crl.repository.js';

describe.each(DIALECTS)('CRLs and the revocation epoch on %s', (dialect) => {
  let store: TestStore | undefined;
  afterEach(async () => {
    await store?.dispose();
    store = undefined;
  });

  it('keeps one current CRL per CA and replaces it on publication', async () => {
    store = await createTestStore(dialect);
    await insertCa(store.db, aCa('loa3'));
    expect(await getCrl(store.db, 'loa3')).toBeNull();
    await saveCrl(store.db, {
      caId: 'loa3',
      crlNumber: 1,
      thisUpdate: 10,
      nextUpdate: 20,
      der: new Uint8Array([1, 2]),
    });
    await saveCrl(store.db, {
      caId: 'loa3',
      crlNumber: 2,
      thisUpdate: 30,
      nextUpdate: 40,
      der: new Uint8Array([3]),
    });
    expect(await getCrl(store.db, 'loa3')).toEqual({
      caId: 'loa3',
      crlNumber: 2,
      thisUpdate: 30,
      nextUpdate: 40,
      der: new Uint8Array([3]),
    });
  });

  it('refuses a CRL for a CA that does not exist', async () => {
    store = await createTestStore(dialect);
    await expect(
      saveCrl(store.db, { caId: 'nope', crlNumber: 1, thisUpdate: 1, nextUpdate: 2, der: new Uint8Array() }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('moves the revocation epoch on every revocation', async () => {
    store = await createTestStore(dialect);
    await insertCa(store.db, aCa('loa3'));
    await insertCertificate(store.db, aCertificate('aa', 'loa3'));
    await insertCertificate(store.db, aCertificate('bb', 'loa3'));
    const before = await revocationEpoch(store.db);
    await insertRevocation(store.db, {
      serial: 'aa',
      revokedAt: 1,
      reason: 'keyCompromise',
      revokedBy: 'test',
    });
    const after = await revocationEpoch(store.db);
    expect(after).toBeGreaterThan(before);
    expect(typeof after).toBe('number');
  });

  const revocationOf = (serial: string) =>
    ({ serial, revokedAt: 1, reason: 'keyCompromise', revokedBy: 'test' }) as const;

  it('leaves the epoch where it was for a repeated revocation and for one rolled back', async () => {
    store = await createTestStore(dialect);
    const db = store.db;
    await insertCa(db, aCa('loa3'));
    await insertCertificate(db, aCertificate('aa', 'loa3'));
    await insertCertificate(db, aCertificate('bb', 'loa3'));
    expect(await insertRevocation(db, revocationOf('aa'))).toBe(true);
    const once = await revocationEpoch(db);
    expect(await insertRevocation(db, revocationOf('aa'))).toBe(false);
    expect(await revocationEpoch(db)).toBe(once);
    const rolledBack = db.transaction().execute(async (trx) => {
      expect(await insertRevocation(trx, revocationOf('bb'))).toBe(true);
      throw new Error('the rest of the act failed');
    });
    await expect(rolledBack).rejects.toThrow('the rest of the act failed');
    expect(await revocationEpoch(db)).toBe(once);
  });

  it('counts parallel revocations each once', async () => {
    store = await createTestStore(dialect);
    const db = store.db;
    await insertCa(db, aCa('loa3'));
    const serials = Array.from({ length: 12 }, (_, i) => `c${i}`);
    for (const serial of serials) await insertCertificate(db, aCertificate(serial, 'loa3'));
    const before = await revocationEpoch(db);
    // Every certificate twice at once: each is revoked once and counted once.
    const results = await Promise.all(
      [...serials, ...serials].map((s) => insertRevocation(db, revocationOf(s))),
    );
    expect(results.filter(Boolean)).toHaveLength(serials.length);
    expect(await revocationEpoch(db)).toBe(before + serials.length);
  });
});
