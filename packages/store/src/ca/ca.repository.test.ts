import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aCa, T0 } from '../test-support/store-fixtures.js';
import { createTestStore, DIALECTS, type TestStore } from '../test-support/test-stores.js';
import { getCa, insertCa, listCas, nextCrlNumber } from './ca.repository.js';

describe.each(DIALECTS)('CA repository on %s', (dialect) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore(dialect);
  });
  afterAll(() => store?.dispose());

  const root = aCa('root', { role: 'root', keyKind: 'pkcs11', keyRef: 'pkcs11:token=ca;object=root' });
  const loa3 = aCa('loa3', {
    issuerId: 'root',
    policyOid: '1.2.752.129.2.1.3.1',
    assuranceLevel: 'LoA3',
    createdAt: T0 + 1,
  });

  it('round-trips CAs with the CRL number at 0', async () => {
    await insertCa(store.db, root);
    await insertCa(store.db, loa3);
    expect(await getCa(store.db, 'loa3')).toEqual({ ...loa3, crlNumber: 0 });
    expect(await listCas(store.db)).toEqual([
      { ...root, crlNumber: 0 },
      { ...loa3, crlNumber: 0 },
    ]);
    expect(await getCa(store.db, 'loa2')).toBeNull();
  });

  it('hands out increasing CRL numbers, one per call even when called at once', async () => {
    expect(await nextCrlNumber(store.db, 'loa3')).toBe(1);
    expect(await nextCrlNumber(store.db, 'loa3')).toBe(2);
    const concurrent = await Promise.all(Array.from({ length: 5 }, () => nextCrlNumber(store.db, 'loa3')));
    expect([...concurrent].sort((a, b) => a - b)).toEqual([3, 4, 5, 6, 7]);
    expect(await nextCrlNumber(store.db, 'root')).toBe(1);
    expect(await getCa(store.db, 'loa3')).toMatchObject({ crlNumber: 7 });
  });

  it('refuses an unknown CA and a duplicate id', async () => {
    await expect(nextCrlNumber(store.db, 'loa2')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(insertCa(store.db, root)).rejects.toMatchObject({ code: 'CONFLICT' });
  });
});
