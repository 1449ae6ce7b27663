import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertCa } from '../ca/ca.repository.js';
import { insertCertificate } from '../certificate/certificate.repository.js';
import { openStore } from '../database.js';
import { insertOrder } from '../order/order.repository.js';
import { insertPerson } from '../person/person.repository.js';
import { StoreError } from '../store-error.js';
import {
  aCa,
  aCertificate,
  anOrder,
  aPerson,
  card,
  MINUTE,
  seedOrganisation,
  T0,
} from '../test-support/store-fixtures.js';
import { createTestStore, DIALECTS, type TestStore } from '../test-support/test-stores.js';
import {
  getExtension,
  getExtensionOfNewSerial,
  getLiveExtensionOfCard,
  insertExtension,
  listExtensionsOfCard,
  listExtensionsToSettle,
  type NewExtension,
  updateExtension,
} from './extension.repository.js';

const anna = aPerson('anna');

/** An extension of card `n` (its order `order-n`, old serials `a-n` and `s-n`). */
const anExtension = (id: string, n: number, overrides: Partial<NewExtension> = {}): NewExtension => ({
  id,
  cardNumber: card(n),
  holderHsaId: anna.hsaId,
  orderId: `order-${n}`,
  oldAuthSerial: `a${n}`,
  oldSignSerial: `b${n}`,
  nonce: `nonce-${id}`,
  createdAt: T0,
  deadline: T0 + 15 * MINUTE,
  ...overrides,
});

describe.each(DIALECTS)('extension repository (%s)', (dialect) => {
  let store: TestStore;

  beforeAll(async () => {
    store = await createTestStore(dialect);
    await seedOrganisation(store.db);
    await insertPerson(store.db, anna);
    await insertCa(store.db, aCa('loa3'));
    for (const n of [1, 2, 3, 4, 5]) {
      await insertOrder(store.db, anOrder(`order-${n}`, anna, { cardNumber: card(n), state: 'completed' }));
      for (const [serial, profile] of [
        [`a${n}`, 'card-auth'],
        [`b${n}`, 'card-sign'],
        [`c${n}`, 'card-auth'],
        [`d${n}`, 'card-sign'],
      ] as const) {
        await insertCertificate(
          store.db,
          aCertificate(serial, 'loa3', { cardNumber: card(n), orderId: `order-${n}`, profile }),
        );
      }
    }
  });
  afterAll(() => store?.dispose());

  it('records an extension open, reads it back, and lets one change through per version', async () => {
    const stored = await insertExtension(store.db, anExtension('x1', 1));
    expect(stored).toMatchObject({
      id: 'x1',
      cardNumber: card(1),
      state: 'open',
      version: 1,
      oldAuthSerial: 'a1',
      oldSignSerial: 'b1',
      termsAcceptedAt: null,
      newAuthSerial: null,
    });
    expect(await updateExtension(store.db, 'x1', { version: 1 }, { termsAcceptedAt: T0 + 1 }, T0 + 1)).toBe(
      true,
    );
    // The same version again, or the wrong state: nothing is written.
    expect(await updateExtension(store.db, 'x1', { version: 1 }, { termsAcceptedAt: T0 + 2 }, T0 + 2)).toBe(
      false,
    );
    expect(
      await updateExtension(store.db, 'x1', { version: 2, state: 'issuing' }, { state: 'issued' }, T0 + 2),
    ).toBe(false);
    expect(
      await updateExtension(
        store.db,
        'x1',
        { version: 2, state: 'open' },
        { state: 'issuing', authIntent: 'i-a', signIntent: 'i-s', claimedAt: T0 + 3 },
        T0 + 3,
      ),
    ).toBe(true);
    expect(await getExtension(store.db, 'x1')).toMatchObject({
      version: 3,
      state: 'issuing',
      termsAcceptedAt: T0 + 1,
      authIntent: 'i-a',
      claimedAt: T0 + 3,
      updatedAt: T0 + 3,
    });
    expect(await getLiveExtensionOfCard(store.db, card(1))).toMatchObject({ id: 'x1' });
    expect(await getExtension(store.db, 'no-such')).toBeNull();
  });

  it('lets a card have one extension that is not abandoned, also for parallel inserts from two connections', async () => {
    const other = await openStore({ url: store.url });
    try {
      const results = await Promise.allSettled([
        insertExtension(store.db, anExtension('x2a', 2)),
        insertExtension(other.db, anExtension('x2b', 2)),
        insertExtension(store.db, anExtension('x2c', 2)),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const lost of results.filter((r) => r.status === 'rejected')) {
        expect((lost as PromiseRejectedResult).reason).toBeInstanceOf(StoreError);
        expect(((lost as PromiseRejectedResult).reason as StoreError).code).toBe('CONFLICT');
      }
      expect(await listExtensionsOfCard(store.db, card(2))).toHaveLength(1);
    } finally {
      await other.close();
    }
    // Abandoned, it gives the card back for another try; completed, it keeps it for good.
    const live = await getLiveExtensionOfCard(store.db, card(2));
    if (live === null) throw new Error('one extension');
    expect(
      await updateExtension(
        store.db,
        live.id,
        { version: live.version },
        { state: 'abandoned', abandonedAt: T0, abandonReason: 'deadline' },
        T0,
      ),
    ).toBe(true);
    expect(await getLiveExtensionOfCard(store.db, card(2))).toBeNull();
    await insertExtension(store.db, anExtension('x2d', 2));
    await updateExtension(store.db, 'x2d', { version: 1 }, { state: 'completed', completedAt: T0 }, T0);
    await expect(insertExtension(store.db, anExtension('x2e', 2))).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    expect((await listExtensionsOfCard(store.db, card(2))).map((e) => e.state)).toEqual([
      'abandoned',
      'completed',
    ]);
  });

  it('lists what the sweep has left to do, and finds an extension by a new serial', async () => {
    // Overdue and open; claimed long ago and never bound; completed with the old pair still good;
    // abandoned with a new pair; and one with nothing to do (completed, old pair revoked).
    await insertExtension(store.db, anExtension('s3', 3, { deadline: T0 + MINUTE }));
    await insertExtension(store.db, anExtension('s4', 4, { deadline: T0 + 60 * MINUTE }));
    await updateExtension(
      store.db,
      's4',
      { version: 1 },
      { state: 'issuing', claimedAt: T0, authIntent: 'i4a', signIntent: 'i4s' },
      T0,
    );
    await insertExtension(store.db, anExtension('s5', 5, { deadline: T0 + 60 * MINUTE }));
    await updateExtension(
      store.db,
      's5',
      { version: 1 },
      { state: 'completed', newAuthSerial: 'c5', newSignSerial: 'd5', completedAt: T0 },
      T0,
    );
    expect(await getExtensionOfNewSerial(store.db, 'd5')).toMatchObject({ id: 's5' });
    expect(await getExtensionOfNewSerial(store.db, 'a5')).toBeNull();

    const due = async (now: number, grace: number) =>
      (await listExtensionsToSettle(store.db, now, now - grace, 50)).map((e) => e.id).sort();
    // Before any deadline and within the claim's grace: only the completed one.
    expect(await due(T0 + 1, 30_000)).toEqual(['s5', 'x2d']);
    // After the open one's deadline and the claims' grace (x1's claim, from the first test, too).
    expect(await due(T0 + 2 * MINUTE, 30_000)).toEqual(['s3', 's4', 's5', 'x1', 'x2d']);
    await updateExtension(store.db, 's5', { version: 2 }, { oldRevokedAt: T0 + 1 }, T0 + 1);
    expect(await due(T0 + 2 * MINUTE, 30_000)).toEqual(['s3', 's4', 'x1', 'x2d']);
  });
});
