import { type StockCard, transitionStockCard } from '@reservkort/domain';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../database.js';
import { StoreError } from '../store-error.js';
import { card, hsa, MINUTE, seedOrganisation, T0 } from '../test-support/store-fixtures.js';
import { createTestStore, DIALECTS, type TestStore } from '../test-support/test-stores.js';
import {
  countStockCards,
  findStockCards,
  getStockCard,
  holdSealedStockCard,
  insertStockCards,
  listReturningStockCards,
  listStockCards,
  moveStockCard,
} from './card-stock.repository.js';

const sealed = (serial: number, overrides: Partial<StockCard> = {}): StockCard => ({
  cardNumber: card(serial),
  product: '473',
  manufactured: { year: 2026, month: 3, day: 15 },
  physicalExpiry: { year: 2030, month: 3, day: 14 },
  stationId: 'clinic',
  state: 'sealed',
  stateChangedAt: T0,
  holder: null,
  ...overrides,
});

const BATCH = { id: 'batch-1', importedBy: 'SE2321000016-adm1', importedAt: T0 };

const next = (stock: StockCard, event: Parameters<typeof transitionStockCard>[1]): StockCard => {
  const moved = transitionStockCard(stock, event);
  if (!moved.ok) throw new Error(moved.error.code);
  return moved.value;
};

describe.each(DIALECTS)('card stock repository on %s', (dialect) => {
  let store: TestStore;
  beforeEach(async () => {
    store = await createTestStore(dialect);
    await seedOrganisation(store.db);
  });
  afterEach(() => store?.dispose());

  it('round-trips a batch of cards with their batch, dates and version', async () => {
    await insertStockCards(store.db, [sealed(1), sealed(2, { product: '573', stationId: 'other' })], BATCH);
    expect(await getStockCard(store.db, card(1))).toEqual({
      ...sealed(1),
      batch: BATCH,
      version: 0,
      returnReason: null,
    });
    expect(await getStockCard(store.db, card(9))).toBeNull();
    const found = await findStockCards(store.db, [card(1), card(2), card(3)]);
    expect([...found.keys()].sort()).toEqual([card(1), card(2)].sort());
    expect(found.get(card(2))?.product).toBe('573');
  });

  it('registers a batch all or nothing: a card already in stock refuses the whole batch', async () => {
    await insertStockCards(store.db, [sealed(1)], BATCH);
    await expect(
      store.db
        .transaction()
        .execute((trx) => insertStockCards(trx, [sealed(2), sealed(1)], { ...BATCH, id: 'b2' })),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await getStockCard(store.db, card(2))).toBeNull();
  });

  it('lists a station’s cards by state and counts every state', async () => {
    await insertStockCards(
      store.db,
      [sealed(1), sealed(2), sealed(3), sealed(4, { stationId: 'other' })],
      BATCH,
    );
    const issued = next(sealed(2), { type: 'issue', at: T0 + MINUTE, holder: hsa('anna') });
    expect(await moveStockCard(store.db, { card: issued, expectedVersion: 0 })).toBe(true);
    const destroyed = next(sealed(3), { type: 'destroy', at: T0 + MINUTE });
    expect(await moveStockCard(store.db, { card: destroyed, expectedVersion: 0 })).toBe(true);
    expect((await listStockCards(store.db, { stationId: 'clinic' })).map((c) => c.cardNumber)).toEqual(
      [card(1), card(2), card(3)].sort(),
    );
    expect((await listStockCards(store.db, { stationId: 'clinic', state: 'issued' }))[0]).toMatchObject({
      cardNumber: card(2),
      holder: hsa('anna'),
      version: 1,
    });
    expect(await countStockCards(store.db, 'clinic')).toEqual({
      sealed: 1,
      issued: 1,
      returned: 0,
      destroyed: 1,
    });
    expect(await countStockCards(store.db, 'hospital')).toEqual({
      sealed: 0,
      issued: 0,
      returned: 0,
      destroyed: 0,
    });
  });

  it('lets exactly one of two changes of one version win, also from two connections at once', async () => {
    await insertStockCards(store.db, [sealed(1)], BATCH);
    const other = await openStore({ url: store.url });
    try {
      const issue = next(sealed(1), { type: 'issue', at: T0 + MINUTE, holder: hsa('anna') });
      const destroy = next(sealed(1), { type: 'destroy', at: T0 + MINUTE });
      const results = await Promise.all([
        moveStockCard(store.db, { card: issue, expectedVersion: 0 }),
        moveStockCard(other.db, { card: destroy, expectedVersion: 0 }),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await getStockCard(store.db, card(1)))?.version).toBe(1);
    } finally {
      await other.close();
    }
  });

  it('holds a sealed card for an order so that a destruction read before cannot win', async () => {
    await insertStockCards(store.db, [sealed(1)], BATCH);
    expect(await holdSealedStockCard(store.db, card(1), 0)).toBe(true);
    const destroy = next(sealed(1), { type: 'destroy', at: T0 + MINUTE });
    expect(await moveStockCard(store.db, { card: destroy, expectedVersion: 0 })).toBe(false);
    expect(await holdSealedStockCard(store.db, card(1), 0)).toBe(false);
    expect(await moveStockCard(store.db, { card: destroy, expectedVersion: 1 })).toBe(true);
    expect(await holdSealedStockCard(store.db, card(1), 2)).toBe(false);
  });

  it('keeps a return’s revocation reason until the return is finished, and lists unfinished returns', async () => {
    await insertStockCards(store.db, [sealed(1)], BATCH);
    const issued = next(sealed(1), { type: 'issue', at: T0, holder: hsa('anna') });
    await moveStockCard(store.db, { card: issued, expectedVersion: 0 });
    const returned = next(issued, { type: 'return', at: T0 + MINUTE });
    await moveStockCard(store.db, { card: returned, expectedVersion: 1, returnReason: 'superseded' });
    expect(await listReturningStockCards(store.db)).toEqual([
      expect.objectContaining({ cardNumber: card(1), state: 'returned', returnReason: 'superseded' }),
    ]);
    await moveStockCard(store.db, {
      card: next(returned, { type: 'destroy', at: T0 + 2 * MINUTE }),
      expectedVersion: 2,
    });
    expect(await listReturningStockCards(store.db)).toEqual([]);
    expect(await getStockCard(store.db, card(1))).toMatchObject({
      state: 'destroyed',
      returnReason: null,
      holder: hsa('anna'),
    });
  });

  it('refuses a card at a station that does not exist, and a sealed card with a holder', async () => {
    await expect(
      insertStockCards(store.db, [sealed(1, { stationId: 'nowhere' })], BATCH),
    ).rejects.toBeInstanceOf(StoreError);
    await expect(insertStockCards(store.db, [sealed(2, { holder: hsa('anna') })], BATCH)).rejects.toThrow();
  });
});
