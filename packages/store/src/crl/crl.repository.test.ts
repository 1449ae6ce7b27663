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
});
