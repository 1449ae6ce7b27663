import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hsa, seedOrganisation, T0 } from '../test-support/store-fixtures.js';
import { createTestStore, DIALECTS, type TestStore } from '../test-support/test-stores.js';
import { getAdmin, grantRole, insertAdmin } from './admin.repository.js';

describe.each(DIALECTS)('admin repository on %s', (dialect) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore(dialect);
    await seedOrganisation(store.db);
  });
  afterAll(() => store?.dispose());

  const admin = { hsaId: hsa('adm1'), givenName: 'Karin', surname: 'Kvist', createdAt: T0 };

  it('round-trips an administrator with their grants', async () => {
    await insertAdmin(store.db, admin);
    expect(await getAdmin(store.db, admin.hsaId)).toEqual({ ...admin, grants: [] });
    expect(await grantRole(store.db, { adminHsaId: admin.hsaId, role: 'RA', branchId: 'region' })).toBe(true);
    expect(await grantRole(store.db, { adminHsaId: admin.hsaId, role: 'KUR', branchId: 'region' })).toBe(
      true,
    );
    expect(await grantRole(store.db, { adminHsaId: admin.hsaId, role: 'KRA', branchId: 'hospital' })).toBe(
      true,
    );
    expect(await getAdmin(store.db, admin.hsaId)).toEqual({
      ...admin,
      grants: [
        { role: 'KRA', branchId: 'hospital' },
        { role: 'KUR', branchId: 'region' },
        { role: 'RA', branchId: 'region' },
      ],
    });
  });

  it('treats a grant already held as a no-op', async () => {
    expect(await grantRole(store.db, { adminHsaId: admin.hsaId, role: 'RA', branchId: 'region' })).toBe(
      false,
    );
    expect((await getAdmin(store.db, admin.hsaId))?.grants).toHaveLength(3);
  });

  it('refuses a grant for an unknown administrator or branch', async () => {
    await expect(
      grantRole(store.db, { adminHsaId: hsa('ghost'), role: 'RA', branchId: 'region' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(
      grantRole(store.db, { adminHsaId: admin.hsaId, role: 'RA', branchId: 'nowhere' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses a duplicate administrator as a CONFLICT', async () => {
    await expect(insertAdmin(store.db, admin)).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('answers null for an unknown administrator', async () => {
    expect(await getAdmin(store.db, hsa('ghost'))).toBeNull();
  });
});
