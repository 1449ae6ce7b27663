import { afterEach, describe, expect, it } from 'vitest';
import { insertCa } from '../ca/ca.repository.js';
import {
  insertCertificate,
  insertRevocation,
  revocationEpoch,
} from '../certificate/certificate.repository.js';
import { runMigrations } from '../database.js';
import { aCa, aCertificate } from '../test-support/store-fixtures.js';
import { createTestStore, DIALECTS, type TestStore } from '../test-support/test-stores.js';
import { MIGRATIONS } from './migration.provider.js';

const NAME = '2026-12-05T12-revocations-generation';
const BEFORE = Object.fromEntries(Object.entries(MIGRATIONS).filter(([name]) => name < NAME));

describe.each(DIALECTS)('the revocations generation migration on %s', (dialect) => {
  let store: TestStore | undefined;
  afterEach(async () => {
    await store?.dispose();
    store = undefined;
  });

  it('starts the count at the revocations already stored, and counts on from there', async () => {
    store = await createTestStore(dialect, { migrate: false });
    const db = store.db;
    await runMigrations(db, BEFORE);
    await insertCa(db, aCa('loa3'));
    for (const serial of ['aa', 'bb', 'cc']) await insertCertificate(db, aCertificate(serial, 'loa3'));
    // Revocations as the schema before stored them.
    await db
      .insertInto('revocations')
      .values(
        ['aa', 'bb'].map((serial) => ({ serial, revoked_at: 1, reason: 'superseded', revoked_by: 'test' })),
      )
      .execute();
    await runMigrations(db, MIGRATIONS);
    expect(await revocationEpoch(db)).toBe(2);
    await insertRevocation(db, { serial: 'cc', revokedAt: 2, reason: 'superseded', revokedBy: 'test' });
    expect(await revocationEpoch(db)).toBe(3);
  });
});
