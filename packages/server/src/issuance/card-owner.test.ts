import { insertCa, insertCertificate, insertOrder, insertPerson } from '@reservkort/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  aCa,
  aCertificate,
  anOrder,
  aPerson,
  card,
  hsa,
  seedOrganisation,
} from '../../../store/src/test-support/store-fixtures.js';
import { createTestStore, type TestStore } from '../../../store/src/test-support/test-stores.js';
import { cardOwner } from './card-owner.js';

describe('whose card a card in a reader is', () => {
  let store: TestStore;
  const admin = hsa('adm2');
  beforeAll(async () => {
    store = await createTestStore('sqlite');
    await seedOrganisation(store.db);
    const anna = aPerson('anna1');
    await insertPerson(store.db, anna);
    await insertOrder(store.db, anOrder('order-1', anna, { cardNumber: card(1), state: 'completed' }));
    await insertOrder(store.db, anOrder('order-2', anna, { cardNumber: card(2), state: 'cancelled' }));
    await insertCa(store.db, aCa('root', { role: 'root' }));
    await insertCa(store.db, aCa('loa3', { issuerId: 'root' }));
    await insertCertificate(
      store.db,
      aCertificate('0a01', 'loa3', { hsaId: admin, cardNumber: card(3), orderId: null }),
    );
    await insertCertificate(
      store.db,
      aCertificate('0a02', 'loa3', { hsaId: hsa('adm4'), cardNumber: card(4), orderId: null }),
    );
  });
  afterAll(() => store?.dispose());

  it("names the previous recipient's card, the administrator's own, a staff member's, or none", async () => {
    expect(await cardOwner(store.db, card(1), admin)).toBe('previous-recipient');
    expect(await cardOwner(store.db, card(3), admin)).toBe('own-login-card');
    expect(await cardOwner(store.db, card(4), admin)).toBe('staff-card');
    // A cancelled order gave the card to nobody; a card the store never saw is unknown.
    expect(await cardOwner(store.db, card(2), admin)).toBe('unknown');
    expect(await cardOwner(store.db, card(9), admin)).toBe('unknown');
    expect(await cardOwner(store.db, null, admin)).toBe('unknown');
  });
});
