import { afterEach, describe, expect, it } from 'vitest';
import { runMigrations } from '../database.js';
import { getOrder, insertOrder } from '../order/order.repository.js';
import { insertPerson } from '../person/person.repository.js';
import { anOrder, aPerson, BRANCHES, card, DAY } from '../test-support/store-fixtures.js';
import { createTestStore, DIALECTS, type TestStore } from '../test-support/test-stores.js';
import { MIGRATIONS } from './migration.provider.js';

const NAME = '2026-12-03T11-card-number-orders';
const BEFORE = Object.fromEntries(Object.entries(MIGRATIONS).filter(([name]) => name < NAME));
/** This migration and the ones up to it: later migrations are not this test's subject. */
const UP_TO = Object.fromEntries(Object.entries(MIGRATIONS).filter(([name]) => name <= NAME));

describe.each(DIALECTS)('the card-number migration on %s', (dialect) => {
  let store: TestStore | undefined;
  afterEach(async () => {
    await store?.dispose();
    store = undefined;
  });

  /** A database at the schema before the migration, holding orders the index would refuse. */
  const before = async () => {
    store = await createTestStore(dialect, { migrate: false });
    await runMigrations(store.db, BEFORE);
    // Rows as that schema took them: the repository of today also counts the write in a later table.
    await store.db
      .insertInto('branches')
      .values(BRANCHES.map((b) => ({ id: b.id, parent_id: b.parentId, name: b.name })))
      .execute();
    const anna = aPerson('anna1');
    const bertil = aPerson('bert1');
    await insertPerson(store.db, anna);
    await insertPerson(store.db, bertil);
    return { db: store.db, anna, bertil };
  };
  const now = Date.now();
  const lapsed = { validity: { notBefore: now - 30 * DAY, notAfter: now - 20 * DAY } };
  const current = { validity: { notBefore: now, notAfter: now + 10 * DAY } };

  it('records the expiry of unused orders past their validity, then lets one order hold each number', async () => {
    const { db, anna, bertil } = await before();
    await insertOrder(db, anOrder('order-old', anna, { cardNumber: card(1), ...lapsed }));
    await insertOrder(db, anOrder('order-new', bertil, { cardNumber: card(1), ...current }));
    expect(await runMigrations(db, UP_TO)).toEqual({ applied: [NAME] });
    expect(await getOrder(db, 'order-old')).toMatchObject({
      state: 'expired',
      stateChangedAt: lapsed.validity.notAfter,
      version: 2,
    });
    expect(await getOrder(db, 'order-new')).toMatchObject({ state: 'registered', version: 1 });
    await expect(insertOrder(db, anOrder('order-more', anna, { cardNumber: card(1) }))).rejects.toMatchObject(
      {
        code: 'CONFLICT',
      },
    );
  });

  it('refuses to guess between two live orders of one number, naming it, and changes nothing', async () => {
    const { db, anna, bertil } = await before();
    await insertOrder(db, anOrder('order-a', anna, { cardNumber: card(2), ...current }));
    await insertOrder(db, anOrder('order-b', bertil, { cardNumber: card(2), ...current }));
    await insertOrder(db, anOrder('order-c', anna, { cardNumber: card(3), ...lapsed }));
    await insertOrder(db, anOrder('order-d', anna, { cardNumber: card(3), ...lapsed }));
    await expect(runMigrations(db, UP_TO)).rejects.toMatchObject({
      code: 'MIGRATION_FAILED',
      message: expect.stringContaining(`${card(2)}. A card number belongs to one order at a time`),
    });
    // Nothing was applied: the lapsed orders still read as stored, and duplicates still go in.
    expect(await getOrder(db, 'order-c')).toMatchObject({ state: 'registered', version: 1 });
    await insertOrder(db, anOrder('order-e', anna, { cardNumber: card(2), ...current }));
  });
});
