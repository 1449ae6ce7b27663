// The admin portal over HTTP: one card number is only ever ordered for one person, also when the
// orders race on PostgreSQL; the persons lookup answers alike for anyone the admin may not see.
import type { CardNumber, HsaId } from '@reservkort/domain';
import { cardNumberUse, getOrder } from '@reservkort/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCsr } from '../../../pki/src/test-support/test-ca.js';
import { DIALECTS } from '../../../store/src/test-support/test-stores.js';
import { statusOf } from '../http/api-error.js';
import { type Answer, Client, orderBody } from '../test-support/acceptance-client.js';
import {
  ACTORS,
  addAcceptanceDirectory,
  personalNumberText,
  RECIPIENTS,
} from '../test-support/acceptance-directory.js';
import {
  ADMIN1_CARD,
  ANNA,
  ANNA_PNR,
  createIssuanceHarness,
  type Harness,
} from '../test-support/issuance-harness.js';
import { stockTestCards } from '../test-support/test-stock.js';

const DAY = 86_400_000;
const ULLA = RECIPIENTS.noOrder.person.hsaId;
const card = (serial: number) => `97522789000000${String(serial).padStart(5, '0')}` as CardNumber;

describe.each(DIALECTS)('one card number, one person, on %s', (dialect) => {
  let h: Harness;
  let admin1: Client;

  beforeAll(async () => {
    h = await createIssuanceHarness({}, () => ({}), dialect);
    await addAcceptanceDirectory(h, { actors: [] });
    // The numbers these tests order, sealed in the test station's stock.
    await stockTestCards(
      h.t.store.db,
      Array.from({ length: 10 }, (_, i) => card(601 + i)),
    );
    admin1 = new Client(h);
    expect((await admin1.login(ADMIN1_CARD)).status).toBe(200);
  });
  afterAll(async () => {
    await h?.dispose();
  });

  const draft = (personHsaId: HsaId, cardNumber: CardNumber, validityMs = 5 * DAY) => ({
    personHsaId,
    cardNumber,
    validity: { notBefore: h.clock.now(), notAfter: h.clock.now() + validityMs },
    idDocument: 'swedish-passport',
  });
  /**
   * Admin 1 prepares an order and signs it with the card in reader 1, the station stating its
   * readers: the body to register it.
   */
  const signed = async (personHsaId: HsaId, cardNumber: CardNumber, validityMs?: number) => {
    const prepared = await admin1.post(
      '/api/admin/orders/prepare',
      draft(personHsaId, cardNumber, validityMs),
    );
    expect(prepared.status, JSON.stringify(prepared.body)).toBe(200);
    return orderBody(h, prepared.body);
  };
  const register = async (personHsaId: HsaId, cardNumber: CardNumber, validityMs?: number) =>
    admin1.post('/api/admin/orders', await signed(personHsaId, cardNumber, validityMs));
  const prepare = (personHsaId: HsaId, cardNumber: CardNumber) =>
    admin1.post('/api/admin/orders/prepare', draft(personHsaId, cardNumber));
  const refusedWith = (answer: Answer, code: string) => {
    expect(answer.body.code, JSON.stringify(answer.body)).toBe(code);
    expect(answer.status).toBe(statusOf(code as 'CARD_NUMBER_TAKEN'));
  };
  const ordersOf = async (cardNumber: CardNumber) =>
    (await cardNumberUse(h.t.store.db, cardNumber)).orders.map((o) => [o.recipient.hsaId, o.state]);

  it('eight parallel orders of one card number for two persons: exactly one is registered', async () => {
    const number = card(601);
    const bodies = [];
    for (let i = 0; i < 8; i++) bodies.push(await signed(i % 2 === 0 ? ANNA : ULLA, number));
    const answers = await Promise.all(bodies.map((body) => admin1.post('/api/admin/orders', body)));
    const registered = answers.filter((a) => a.status === 201);
    expect(registered, JSON.stringify(answers.map((a) => a.body))).toHaveLength(1);
    const winner = registered[0]?.body.id as string;
    const holder = (await getOrder(h.t.store.db, winner))?.recipient.hsaId;
    for (const [i, answer] of answers.entries()) {
      if (answer.status === 201) continue;
      // The same person gets no second order; the other person is told the number is someone else's.
      refusedWith(
        answer,
        (i % 2 === 0 ? ANNA : ULLA) === holder ? 'CARD_ALREADY_ORDERED' : 'CARD_NUMBER_TAKEN',
      );
    }
    expect(await ordersOf(number)).toEqual([[holder, 'registered']]);
  });

  it('a cancelled order gives its number back: to the same person, and, never issued, to another', async () => {
    const number = card(602);
    const first = await register(ANNA, number);
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    refusedWith(await prepare(ANNA, number), 'CARD_ALREADY_ORDERED');
    refusedWith(await prepare(ULLA, number), 'CARD_NUMBER_TAKEN');

    expect((await admin1.post(`/api/admin/orders/${first.body.id}/cancel`)).body.state).toBe('cancelled');
    const again = await register(ANNA, number);
    expect(again.status, JSON.stringify(again.body)).toBe(201);

    // Ordered for the wrong person by mistake and cancelled before anything was issued.
    expect((await admin1.post(`/api/admin/orders/${again.body.id}/cancel`)).body.state).toBe('cancelled');
    const other = await register(ULLA, number);
    expect(other.status, JSON.stringify(other.body)).toBe(201);
    refusedWith(await prepare(ANNA, number), 'CARD_NUMBER_TAKEN');
    expect(await ordersOf(number)).toEqual([
      [ANNA, 'cancelled'],
      [ANNA, 'cancelled'],
      [ULLA, 'registered'],
    ]);
  });

  it('a card issued to a person is never ordered again, for them or anyone else', async () => {
    // Klara's card was handed over and acknowledged (order completed).
    const klara = RECIPIENTS.used;
    refusedWith(await prepare(klara.person.hsaId, klara.cardNumber), 'CARD_ALREADY_ISSUED');
    refusedWith(await prepare(ANNA, klara.cardNumber), 'CARD_NUMBER_TAKEN');
  });

  it('a card number a certificate once carried never goes to another person, even after a cancellation', async () => {
    const number = card(603);
    const first = await register(ULLA, number);
    expect(first.status).toBe(201);
    // The flow got as far as issuing (the certificate stays on record, revoked or not), then the
    // order was cancelled.
    await h.t.ca.issue({
      caId: 'loa3',
      profile: 'card-auth',
      csr: (await makeCsr()).pem,
      holder: { hsaId: ULLA, givenName: 'Ulla', surname: 'Testsson', organisation: 'Region Exempel' },
      cardNumber: number,
      validity: { notBefore: h.clock.now(), notAfter: h.clock.now() + DAY },
      orderId: first.body.id,
      actor: 'test',
    });
    expect((await admin1.post(`/api/admin/orders/${first.body.id}/cancel`)).body.state).toBe('cancelled');
    refusedWith(await prepare(ANNA, number), 'CARD_NUMBER_TAKEN');
    expect((await register(ULLA, number)).status).toBe(201);
  });

  it('an order that ran out unused gives its number back, and its expiry is recorded', async () => {
    const number = card(604);
    const lapsing = await register(ANNA, number, DAY);
    expect(lapsing.status).toBe(201);
    h.clock.advance(DAY + 1000);
    try {
      // A new login: the old session's idle time ran out with the day.
      expect((await admin1.login(ADMIN1_CARD)).status).toBe(200);
      const other = await register(ULLA, number);
      expect(other.status, JSON.stringify(other.body)).toBe(201);
      expect(await getOrder(h.t.store.db, lapsing.body.id)).toMatchObject({ state: 'expired', version: 2 });
      const audit = await h.t.store.db
        .selectFrom('audit_log')
        .select('action')
        .where('subject', '=', lapsing.body.id)
        .orderBy('seq')
        .execute();
      expect(audit.map((a) => a.action)).toEqual(['order.registered', 'order.expired']);
    } finally {
      h.clock.advance(-(DAY + 1000));
      await admin1.login(ADMIN1_CARD);
    }
  });
});

describe('the persons lookup of the admin portal', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createIssuanceHarness();
    await addAcceptanceDirectory(h, { actors: ['outsider', 'noKur'] });
  });
  afterAll(async () => {
    await h?.dispose();
  });

  /** A valid personnummer nobody in the directory has. */
  const UNKNOWN_PNR = personalNumberText('19850404');
  const lookUp = (client: Client, query: string) =>
    client.get(`/api/admin/persons?query=${encodeURIComponent(query)}`);
  const sameAnswer = (answers: readonly Answer[]) => {
    const [first, ...rest] = answers.map((a) => ({ status: a.status, body: a.body }));
    expect(first).toMatchObject({ status: 404, body: { code: 'PERSON_NOT_FOUND' } });
    for (const other of rest) expect(other).toEqual(first);
  };

  it('answers an unknown person and a person outside the admin’s roles identically', async () => {
    const outsider = new Client(h);
    expect((await outsider.login(ACTORS.outsider.cardNumber)).status).toBe(200);
    sameAnswer([
      await lookUp(outsider, UNKNOWN_PNR),
      await lookUp(outsider, ANNA_PNR),
      await lookUp(outsider, 'SE2321000016-nobody'),
      await lookUp(outsider, ANNA),
    ]);
    // Preparing an order for them says no more.
    const prepare = (personHsaId: string) =>
      outsider.post('/api/admin/orders/prepare', {
        personHsaId,
        cardNumber: card(700),
        validity: { notBefore: h.clock.now(), notAfter: h.clock.now() + DAY },
        idDocument: 'swedish-passport',
      });
    sameAnswer([await prepare('SE2321000016-nobody'), await prepare(ANNA)]);
  });

  it('answers a protected person the admin lacks KUR for like an unknown one', async () => {
    const noKur = new Client(h);
    expect((await noKur.login(ACTORS.noKur.cardNumber)).status).toBe(200);
    const answers = [await lookUp(noKur, UNKNOWN_PNR), await lookUp(noKur, RECIPIENTS.protectedPerson.pnr)];
    sameAnswer(answers);
    expect(JSON.stringify(answers[1]?.body)).not.toContain('Hemlig');
    // Someone they may see is found as before.
    expect((await lookUp(noKur, ANNA_PNR)).body.person).toMatchObject({ hsaId: ANNA });
  });
});
