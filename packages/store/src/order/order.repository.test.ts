import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../database.js';
import { insertPerson } from '../person/person.repository.js';
import { anOrder, aPerson, card, hsa, MINUTE, seedOrganisation, T0 } from '../test-support/store-fixtures.js';
import { createTestStore, DIALECTS, type TestStore } from '../test-support/test-stores.js';
import {
  cardHolder,
  getOrder,
  insertOrder,
  listOrdersForRecipient,
  updateOrderState,
} from './order.repository.js';

describe.each(DIALECTS)('order repository on %s', (dialect) => {
  let store: TestStore;
  const anna = aPerson('anna1');
  const bertil = aPerson('bert1', { protectedIdentity: true, branchId: 'hospital' });
  beforeAll(async () => {
    store = await createTestStore(dialect);
    await seedOrganisation(store.db);
    await insertPerson(store.db, anna);
    await insertPerson(store.db, bertil);
  });
  afterAll(() => store?.dispose());

  it('round-trips the domain order at version 1, booleans and timestamps included', async () => {
    const order = anOrder('order-1', bertil, { cardNumber: card(11) });
    await insertOrder(store.db, order);
    const stored = await getOrder(store.db, 'order-1');
    expect(stored).toEqual({ ...order, version: 1 });
    expect(stored?.recipient.protectedIdentity).toBe(true);
    expect(typeof stored?.validity.notAfter).toBe('number');
    expect(await getOrder(store.db, 'no-such-order')).toBeNull();
  });

  it("lists a recipient's orders newest first", async () => {
    await insertOrder(store.db, anOrder('order-a1', anna, { cardNumber: card(21), createdAt: T0 }));
    await insertOrder(store.db, anOrder('order-a2', anna, { cardNumber: card(22), createdAt: T0 + MINUTE }));
    const orders = await listOrdersForRecipient(store.db, anna.hsaId);
    expect(orders.map((o) => o.id)).toEqual(['order-a2', 'order-a1']);
    expect(await listOrdersForRecipient(store.db, hsa('nobody'))).toEqual([]);
  });

  it('changes state only at the expected version', async () => {
    const changedAt = T0 + 5 * MINUTE;
    expect(
      await updateOrderState(store.db, {
        id: 'order-a1',
        expectedVersion: 1,
        state: 'in_progress',
        stateChangedAt: changedAt,
      }),
    ).toBe(true);
    expect(await getOrder(store.db, 'order-a1')).toMatchObject({
      state: 'in_progress',
      stateChangedAt: changedAt,
      version: 2,
    });
    // A stale version: someone else moved the order on since it was read.
    expect(
      await updateOrderState(store.db, {
        id: 'order-a1',
        expectedVersion: 1,
        state: 'cancelled',
        stateChangedAt: changedAt,
      }),
    ).toBe(false);
    expect(await getOrder(store.db, 'order-a1')).toMatchObject({ state: 'in_progress', version: 2 });
    expect(
      await updateOrderState(store.db, {
        id: 'no-such-order',
        expectedVersion: 1,
        state: 'cancelled',
        stateChangedAt: T0,
      }),
    ).toBe(false);
  });

  it('lets exactly one of two concurrent changes from the same version win', async () => {
    await insertOrder(store.db, anOrder('order-race', anna, { cardNumber: card(31) }));
    // PostgreSQL: two pools, so the updates really race for the row. SQLite: one connection per
    // process (see openStore), whose statements the driver serialises.
    const other: Store = dialect === 'postgres' ? await openStore({ url: store.url }) : store;
    try {
      const results = await Promise.all(
        [store, other].map((s, i) =>
          updateOrderState(s.db, {
            id: 'order-race',
            expectedVersion: 1,
            state: i === 0 ? 'in_progress' : 'cancelled',
            stateChangedAt: T0 + i,
          }),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await getOrder(store.db, 'order-race')).toMatchObject({ version: 2 });
    } finally {
      if (other !== store) await other.close();
    }
  });

  it('knows who holds a card number, ignoring cancelled orders', async () => {
    expect(await cardHolder(store.db, card(11))).toBe(bertil.hsaId);
    expect(await cardHolder(store.db, card(99))).toBeNull();
    await insertOrder(
      store.db,
      anOrder('order-cancelled', anna, { cardNumber: card(41), state: 'cancelled' }),
    );
    expect(await cardHolder(store.db, card(41))).toBeNull();
    await insertOrder(
      store.db,
      anOrder('order-completed', anna, { cardNumber: card(42), state: 'completed' }),
    );
    expect(await cardHolder(store.db, card(42))).toBe(anna.hsaId);
  });

  it('refuses a duplicate order id as a CONFLICT and an unknown recipient as NOT_FOUND', async () => {
    await expect(insertOrder(store.db, anOrder('order-1', bertil))).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    await expect(insertOrder(store.db, anOrder('order-x', aPerson('ghost')))).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('commits or rolls back with the caller-owned transaction', async () => {
    await store.db
      .transaction()
      .execute(async (trx) => {
        await insertOrder(trx, anOrder('order-rolled-back', anna, { cardNumber: card(51) }));
        throw new Error('abort');
      })
      .catch(() => undefined);
    expect(await getOrder(store.db, 'order-rolled-back')).toBeNull();
  });
});
