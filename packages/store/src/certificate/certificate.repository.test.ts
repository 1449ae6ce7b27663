import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertCa } from '../ca/ca.repository.js';
import { aCa, aCertificate, T0 } from '../test-support/store-fixtures.js';
import { createTestStore, DIALECTS, type TestStore } from '../test-support/test-stores.js';
import {
  certificateStatus,
  getCertificate,
  insertCertificate,
  insertRevocation,
  listCertificates,
  listRevocations,
} from './certificate.repository.js';

describe.each(DIALECTS)('certificate repository on %s', (dialect) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore(dialect);
    await insertCa(store.db, aCa('root', { role: 'root' }));
    await insertCa(store.db, aCa('loa3', { issuerId: 'root' }));
  });
  afterAll(() => store?.dispose());

  // Created one second apart: 0a oldest, 0d newest.
  const certs = ['0a', '0b', '0c', '0d'].map((serial, i) =>
    aCertificate(serial, serial === '0d' ? 'root' : 'loa3', { createdAt: T0 + i * 1000 }),
  );
  const caCert = aCertificate('01', 'root', {
    profile: 'ca',
    hsaId: null,
    cardNumber: null,
    orderId: null,
    createdAt: T0 - 1000,
  });

  it('round-trips certificates, unrevoked', async () => {
    for (const cert of [caCert, ...certs]) await insertCertificate(store.db, cert);
    expect(await getCertificate(store.db, '0a')).toEqual({ ...certs[0], intentId: null, revocation: null });
    expect(await getCertificate(store.db, '01')).toEqual({ ...caCert, intentId: null, revocation: null });
    expect(await getCertificate(store.db, 'ff')).toBeNull();
  });

  it('records a revocation once; a second is refused with false', async () => {
    const revocation = {
      serial: '0b',
      revokedAt: T0 + 60_000,
      reason: 'keyCompromise',
      revokedBy: 'SE2321000016-adm2',
    } as const;
    expect(await insertRevocation(store.db, revocation)).toBe(true);
    expect(
      await insertRevocation(store.db, { ...revocation, reason: 'superseded', revokedAt: T0 + 120_000 }),
    ).toBe(false);
    expect(await getCertificate(store.db, '0b')).toMatchObject({
      revocation: { revokedAt: T0 + 60_000, reason: 'keyCompromise', revokedBy: 'SE2321000016-adm2' },
    });
    await expect(insertRevocation(store.db, { ...revocation, serial: 'ff' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('lists certificates newest first, by CA, by status and by page', async () => {
    const serials = async (query: Parameters<typeof listCertificates>[1]) =>
      (await listCertificates(store.db, query)).map((c) => c.serial);
    expect(await serials({})).toEqual(['0d', '0c', '0b', '0a', '01']);
    expect(await serials({ caId: 'loa3' })).toEqual(['0c', '0b', '0a']);
    expect(await serials({ caId: 'loa3', status: 'revoked' })).toEqual(['0b']);
    expect(await serials({ caId: 'loa3', status: 'good' })).toEqual(['0c', '0a']);
    expect(await serials({ limit: 2 })).toEqual(['0d', '0c']);
    expect(await serials({ limit: 2, offset: 2 })).toEqual(['0b', '0a']);
    expect(await serials({ offset: 3 })).toEqual(['0a', '01']);
    const [revoked] = await listCertificates(store.db, { status: 'revoked' });
    expect(revoked?.revocation?.reason).toBe('keyCompromise');
  });

  it("lists a CA's revocations for its CRL", async () => {
    await insertRevocation(store.db, {
      serial: '0d',
      revokedAt: T0,
      reason: 'cessationOfOperation',
      revokedBy: 'x',
    });
    expect(await listRevocations(store.db, 'loa3')).toEqual([
      { serial: '0b', revokedAt: T0 + 60_000, reason: 'keyCompromise' },
    ]);
    expect(await listRevocations(store.db, 'root')).toEqual([
      { serial: '0d', revokedAt: T0, reason: 'cessationOfOperation' },
    ]);
  });

  it('answers OCSP status in one lookup', async () => {
    expect(await certificateStatus(store.db, '0a')).toEqual({
      caId: 'loa3',
      notAfter: certs[0]?.notAfter,
      revocation: null,
    });
    expect(await certificateStatus(store.db, '0b')).toMatchObject({
      caId: 'loa3',
      revocation: { reason: 'keyCompromise', revokedAt: T0 + 60_000 },
    });
    expect(await certificateStatus(store.db, 'ff')).toBeNull();
  });

  it('refuses a duplicate serial as a CONFLICT', async () => {
    await expect(insertCertificate(store.db, caCert)).rejects.toMatchObject({ code: 'CONFLICT' });
  });
});
