import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertOrder, listOrdersForRecipient } from '../order/order.repository.js';
import { StoreError } from '../store-error.js';
import { anOrder, aPerson, card, hsa, pnr, seedOrganisation, T0 } from '../test-support/store-fixtures.js';
import { createTestStore, DIALECTS, type TestStore } from '../test-support/test-stores.js';
import {
  findPersonWithOrders,
  getPersonByHsaId,
  getPersonByPersonalNumber,
  insertPerson,
  listPersonsInBranch,
} from './person.repository.js';

describe.each(DIALECTS)('person repository on %s', (dialect) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore(dialect);
    await seedOrganisation(store.db);
  });
  afterAll(() => store?.dispose());

  const anna = aPerson('anna1', {
    personalNumber: pnr('19800101', '123'),
    createdAt: T0 + 123,
    upn: 'anna.andersson@regionexempel.se',
    email: 'Anna.Andersson@regionexempel.se',
  });
  const bertil = aPerson('bert1', {
    personalNumber: pnr('19750615', '456'),
    givenName: 'Bertil',
    surname: 'Berg',
    protectedIdentity: true,
  });
  const foreign = aPerson('frgn1', {
    personalNumber: null,
    givenName: 'Ola',
    surname: 'Nordmann',
    branchId: 'other',
  });
  const samordning = aPerson('samo1', { personalNumber: pnr('19800161', '234'), surname: 'Ceder' });

  it('round-trips persons, with booleans as booleans and timestamps as numbers', async () => {
    for (const person of [anna, bertil, foreign, samordning]) await insertPerson(store.db, person);
    const stored = await getPersonByHsaId(store.db, anna.hsaId);
    // The directory's UPN and e-mail come back as they went in; a person without them has none.
    expect(stored).toEqual(anna);
    expect(await getPersonByHsaId(store.db, bertil.hsaId)).not.toHaveProperty('upn');
    expect(typeof stored?.createdAt).toBe('number');
    expect(await getPersonByHsaId(store.db, bertil.hsaId)).toMatchObject({ protectedIdentity: true });
    expect(await getPersonByHsaId(store.db, foreign.hsaId)).toEqual(foreign);
    expect(await getPersonByHsaId(store.db, samordning.hsaId)).toEqual(samordning);
    expect(samordning.personalNumber?.kind).toBe('samordningsnummer');
  });

  it('finds a person by personal number', async () => {
    expect(await getPersonByPersonalNumber(store.db, bertil.personalNumber?.value ?? '')).toEqual(bertil);
    expect(await getPersonByPersonalNumber(store.db, '190001011234')).toBeNull();
  });

  it('finds a person with their branch name and orders in one statement, by HSA-id or personal number', async () => {
    await insertOrder(store.db, anOrder('order-b1', bertil, { cardNumber: card(41), createdAt: T0 }));
    await insertOrder(
      store.db,
      anOrder('order-b2', bertil, { cardNumber: card(42), createdAt: T0 + 60_000 }),
    );
    const orders = await listOrdersForRecipient(store.db, bertil.hsaId);
    const expected = { person: bertil, branchName: 'Kliniken', orders };
    expect(orders.map((o) => o.id)).toEqual(['order-b2', 'order-b1']);
    expect(await findPersonWithOrders(store.db, { hsaId: bertil.hsaId })).toEqual(expected);
    expect(
      await findPersonWithOrders(store.db, { personalNumber: bertil.personalNumber?.value ?? '' }),
    ).toEqual(expected);
    // Without orders: the person and their branch, no order made of the empty join.
    expect(await findPersonWithOrders(store.db, { hsaId: foreign.hsaId })).toEqual({
      person: foreign,
      branchName: 'Annan förvaltning',
      orders: [],
    });
    expect(await findPersonWithOrders(store.db, { hsaId: hsa('nobody') })).toBeNull();
    expect(await findPersonWithOrders(store.db, { personalNumber: '190001011234' })).toBeNull();
  });

  it('answers null for an unknown HSA-id', async () => {
    expect(await getPersonByHsaId(store.db, hsa('nobody'))).toBeNull();
  });

  it('lists the persons of a branch by name', async () => {
    expect(await listPersonsInBranch(store.db, 'clinic')).toEqual([anna, bertil, samordning].sort(byName));
    expect(await listPersonsInBranch(store.db, 'other')).toEqual([foreign]);
    expect(await listPersonsInBranch(store.db, 'hospital')).toEqual([]);
  });

  it('refuses a second person with the same HSA-id as a CONFLICT', async () => {
    const error = await insertPerson(store.db, anna).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: 'CONFLICT' });
  });

  it('refuses a person in an unknown branch as NOT_FOUND', async () => {
    await expect(insertPerson(store.db, aPerson('lost1', { branchId: 'nowhere' }))).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});

const byName = (
  a: { surname: string; givenName: string },
  b: { surname: string; givenName: string },
): number => a.surname.localeCompare(b.surname) || a.givenName.localeCompare(b.givenName);
