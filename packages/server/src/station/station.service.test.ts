// Station registration against a real CA and store: the station's row and its certificate commit
// together, or neither does.
import { generateKeyPairSync } from 'node:crypto';
import { listCertificates, listStations, upsertBranches } from '@reservkort/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCa, type TestCa } from '../../../pki/src/test-support/test-ca.js';
import { DIALECTS } from '../../../store/src/test-support/test-stores.js';
import { registerStation } from './station.service.js';
import { stationCsr } from './station-key.js';

const newKeyPem = (): string =>
  generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    .privateKey.export({ format: 'pem', type: 'pkcs8' })
    .toString();

describe.each(DIALECTS)('registerStation on %s', (dialect) => {
  let t: TestCa;
  beforeAll(async () => {
    t = await createTestCa(dialect);
    await upsertBranches(t.store.db, [{ id: 'clinic', parentId: null, name: 'Kliniken' }]);
  });
  afterAll(() => t?.dispose());

  it('records no station certificate when the station row cannot be written', async () => {
    // The same random bytes twice: the second station gets the first one's id, which the table refuses.
    const sameId = (length: number) => new Uint8Array(length).fill(7);
    const deps = { db: t.store.db, ca: t.ca, now: () => Date.now(), random: sameId };
    const request = { name: 'Disk 1', branchId: 'clinic', actor: 'ca-operator' };
    const first = await registerStation(deps, { ...request, csr: await stationCsr(newKeyPem()) });
    const stationCertificates = async () =>
      (await listCertificates(t.store.db, { limit: 1000 })).filter((c) => c.profile === 'station');
    const before = await stationCertificates();
    await expect(registerStation(deps, { ...request, csr: await stationCsr(newKeyPem()) })).rejects.toThrow();
    expect(await stationCertificates()).toEqual(before);
    expect((await listStations(t.store.db)).map((s) => s.id)).toEqual([first.stationId]);
  });
});
