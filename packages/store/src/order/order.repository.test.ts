import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertCa } from '../ca/ca.repository.js';
import { insertCertificate } from '../certificate/certificate.repository.js';
import { openStore, type Store } from '../database.js';
import { insertPerson } from '../person/person.repository.js';
import {
  aCa,
  aCertificate,
  anOrder,
  aPerson,
  card,
  DAY,
  hsa,
  MINUTE,
  seedOrganisation,
  T0,
} from '../test-support/store-fixtures.js';
import { createTestStore, DIALECTS, type TestStore } from '../test-support/test-stores.js';
import {
  cardHolder,
  cardNumberUse,
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

  it('lets one order at a time hold a card number, open or completed, whoever it is for', async () => {
    await insertOrder(store.db, anOrder('order-h1', anna, { cardNumber: card(61) }));
    for (const [id, recipient] of [
      ['order-h2', anna],
      ['order-h3', bertil],
    ] as const) {
      await expect(
        insertOrder(store.db, anOrder(id, recipient, { cardNumber: card(61) })),
      ).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining(card(61)) });
    }
    // Starting and completing keep the number; nothing else may hold it afterwards.
    for (const [state, version] of [
      ['in_progress', 1],
      ['completed', 2],
    ] as const) {
      expect(
        await updateOrderState(store.db, {
          id: 'order-h1',
          expectedVersion: version,
          state,
          stateChangedAt: T0 + MINUTE,
        }),
      ).toBe(true);
    }
    await expect(
      insertOrder(store.db, anOrder('order-h4', anna, { cardNumber: card(61) })),
    ).rejects.toMatchObject({
      code: 'CONFLICT',
    });
  });

  it('gives a card number back when its order is cancelled or expires', async () => {
    await insertOrder(store.db, anOrder('order-g1', anna, { cardNumber: card(62) }));
    expect(
      await updateOrderState(store.db, {
        id: 'order-g1',
        expectedVersion: 1,
        state: 'cancelled',
        stateChangedAt: T0 + MINUTE,
      }),
    ).toBe(true);
    await insertOrder(store.db, anOrder('order-g2', bertil, { cardNumber: card(62) }));
    expect(
      await updateOrderState(store.db, {
        id: 'order-g2',
        expectedVersion: 1,
        state: 'expired',
        stateChangedAt: T0 + 14 * DAY,
      }),
    ).toBe(true);
    await insertOrder(store.db, anOrder('order-g3', anna, { cardNumber: card(62) }));
    expect((await cardNumberUse(store.db, card(62))).orders.map((o) => [o.id, o.state])).toEqual([
      ['order-g1', 'cancelled'],
      ['order-g2', 'expired'],
      ['order-g3', 'registered'],
    ]);
  });

  it('refuses the second of two registrations that each saw the card number free', async () => {
    // PostgreSQL at READ COMMITTED: both transactions read before either writes, so neither sees
    // the other's order; the index makes the second insert wait for the first and then fail.
    // SQLite: transactions take the write lock up front and run one after the other, so the second
    // one's insert meets the committed order.
    const other: Store = dialect === 'postgres' ? await openStore({ url: store.url }) : store;
    let bothRead: () => void = () => undefined;
    const read = new Promise<void>((resolve) => {
      let count = 0;
      bothRead = () => {
        count += 1;
        if (count === 2 || dialect === 'sqlite') resolve();
      };
    });
    try {
      const outcomes = await Promise.allSettled(
        [
          [store, anna, 'order-r1'],
          [other, bertil, 'order-r2'],
        ].map(([s, recipient, id]) =>
          (s as Store).db.transaction().execute(async (trx) => {
            const seen = await cardNumberUse(trx, card(63));
            bothRead();
            await read;
            if (dialect === 'postgres') expect(seen.orders).toEqual([]);
            await insertOrder(trx, anOrder(id as string, recipient as typeof anna, { cardNumber: card(63) }));
          }),
        ),
      );
      expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
      const refused = outcomes.find((o) => o.status === 'rejected');
      expect(refused?.status === 'rejected' && refused.reason).toMatchObject({ code: 'CONFLICT' });
      expect((await cardNumberUse(store.db, card(63))).orders).toHaveLength(1);
    } finally {
      if (other !== store) await other.close();
    }
  });

  it('tells whom certificates carrying a card number named, revoked or not', async () => {
    await insertCa(store.db, aCa('root', { role: 'root' }));
    await insertCa(store.db, aCa('loa3', { issuerId: 'root' }));
    await insertCertificate(
      store.db,
      aCertificate('0a', 'loa3', { hsaId: anna.hsaId, cardNumber: card(64) }),
    );
    await insertCertificate(
      store.db,
      aCertificate('0b', 'loa3', { hsaId: anna.hsaId, cardNumber: card(64) }),
    );
    await insertCertificate(
      store.db,
      aCertificate('0c', 'loa3', { hsaId: bertil.hsaId, cardNumber: card(65) }),
    );
    expect(await cardNumberUse(store.db, card(64))).toEqual({ orders: [], certifiedFor: [anna.hsaId] });
    expect((await cardNumberUse(store.db, card(11))).orders.map((o) => o.id)).toEqual(['order-1']);
  });
});
