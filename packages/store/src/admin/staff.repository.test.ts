import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hsa } from '../test-support/store-fixtures.js';
import { createTestStore, DIALECTS, type TestStore } from '../test-support/test-stores.js';
import { grantStaffRole, hasStaffRole } from './staff.repository.js';
import type { StaffRole } from './staff.table.js';

describe.each(DIALECTS)('staff repository on %s', (dialect) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore(dialect);
  });
  afterAll(() => store?.dispose());

  it('grants a staff role once and answers who holds it', async () => {
    expect(await hasStaffRole(store.db, hsa('desk1'), 'service-desk')).toBe(false);
    expect(await grantStaffRole(store.db, { hsaId: hsa('desk1'), role: 'service-desk' })).toBe(true);
    expect(await grantStaffRole(store.db, { hsaId: hsa('desk1'), role: 'service-desk' })).toBe(false);
    expect(await hasStaffRole(store.db, hsa('desk1'), 'service-desk')).toBe(true);
    expect(await hasStaffRole(store.db, hsa('desk2'), 'service-desk')).toBe(false);
  });

  it('refuses a role the schema does not know', async () => {
    await expect(
      grantStaffRole(store.db, { hsaId: hsa('desk1'), role: 'superuser' as StaffRole }),
    ).rejects.toThrow();
    const { rows } = await sql<{ n: number }>`select count(*) as n from staff_roles`.execute(store.db);
    expect(Number(rows[0]?.n)).toBe(1);
  });
});
