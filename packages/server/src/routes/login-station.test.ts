// The administrator's login card as a registered card station proves it, over HTTP on both
// dialects: a login with the station's statement binds the session to the station, the reader and
// its insertion counter; an order signature needs the same station to show the card never taken
// out since, and a session logged in without a station signs no order at all.
import type { CardNumber } from '@reservkort/domain';
import { cardNumberUse } from '@reservkort/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../store/src/test-support/test-stores.js';
import { statusOf } from '../http/api-error.js';
import { type Answer, Client, emptyReader, loginBody, orderBody } from '../test-support/acceptance-client.js';
import {
  ADMIN1,
  ADMIN1_CARD,
  ANNA,
  createIssuanceHarness,
  type Harness,
} from '../test-support/issuance-harness.js';
import { payloadOf, readersStatement } from '../test-support/station-agent.js';
import { stockTestCards } from '../test-support/test-stock.js';

const DAY = 86_400_000;
const card = (serial: number) => `97522789000000${String(serial).padStart(5, '0')}` as CardNumber;

const refusedWith = (answer: Answer, code: string, details: Record<string, unknown> = {}) => {
  expect(answer.body?.code, JSON.stringify(answer.body)).toBe(code);
  expect(answer.status).toBe(statusOf(code as 'CARD_REINSERTED'));
  expect(answer.body.details).toMatchObject(details);
};

describe.each(DIALECTS)('the login card proven by its card station on %s', (dialect) => {
  let h: Harness;
  let stationId: string;

  beforeAll(async () => {
    h = await createIssuanceHarness({}, () => ({}), dialect);
    stationId = h.agent.stationView(h.agentToken).stationId ?? '';
    expect(stationId).toMatch(/^st-/);
    await stockTestCards(h.t.store.db, [card(701), card(703), card(704)]);
    // For the session without a station: the order names a station where admin 1 holds a role.
    await stockTestCards(h.t.store.db, [card(702)], 'clinic');
  });
  afterAll(async () => {
    await h?.dispose();
  });

  const sessionsOf = () =>
    h.t.store.db
      .selectFrom('sessions')
      .select(['station_id', 'login_reader', 'login_insertions'])
      .where('admin_hsa_id', '=', ADMIN1)
      .orderBy('created_at')
      .execute();
  const prepare = (client: Client, cardNumber: CardNumber, extra: { stationId?: string } = {}) =>
    client.post('/api/admin/orders/prepare', {
      personHsaId: ANNA,
      cardNumber,
      validity: { notBefore: h.clock.now(), notAfter: h.clock.now() + 5 * DAY },
      idDocument: 'swedish-passport',
      ...extra,
    });
  const ordersOf = async (cardNumber: CardNumber) => (await cardNumberUse(h.t.store.db, cardNumber)).orders;

  it('a login with the station’s statement binds the session to the station, the reader and its counter', async () => {
    const before = (await sessionsOf()).length;
    const body = await loginBody(h, ADMIN1_CARD, 'reader-2');
    const stated = payloadOf(body.readers ?? { payload: '', signature: '' });
    expect(stated).toMatchObject({ kind: 'readers', flowId: body.challengeId, station: stationId });
    const insertions = (stated.body as { readers: { 2: { card: { insertions: number } } } }).readers[2].card
      .insertions;
    expect(insertions).toBeGreaterThan(0);
    expect((await new Client(h).loginWith(body)).status).toBe(200);
    const sessions = await sessionsOf();
    expect(sessions).toHaveLength(before + 1);
    expect(sessions.at(-1)).toEqual({ station_id: stationId, login_reader: 2, login_insertions: insertions });
    await emptyReader(h, 'reader-2');
  });

  it('refuses a login whose statement is forged, made for another challenge, or shows no login card', async () => {
    const before = (await sessionsOf()).length;
    const client = new Client(h);
    const body = await loginBody(h, ADMIN1_CARD);
    const statement = body.readers ?? { payload: '', signature: '' };
    const flipped = `${statement.signature.slice(0, -2)}${statement.signature.endsWith('AA') ? 'BA' : 'AA'}`;
    refusedWith(
      await client.loginWith({ ...body, readers: { ...statement, signature: flipped } }),
      'STATEMENT_INVALID',
      {
        reason: 'signature',
      },
    );

    const other = await loginBody(h, ADMIN1_CARD);
    refusedWith(await client.loginWith({ ...other, readers: statement }), 'STATEMENT_INVALID', {
      reason: 'flow',
    });

    // The station states, for this very challenge, that its readers hold no card of this person.
    const third = await loginBody(h, ADMIN1_CARD);
    const nonce = payloadOf(third.readers ?? statement).nonce;
    await h.cards.removeCard('reader-1');
    const empty = await readersStatement(h.agent, h.agentToken, third.challengeId, nonce);
    await h.cards.insertCard('reader-1', ADMIN1_CARD);
    refusedWith(await client.loginWith({ ...third, readers: empty }), 'CARD_NOT_PROVEN');
    expect(await sessionsOf()).toHaveLength(before);
  });

  it('an order signed after the login card was taken out and put back, the page silent: CARD_REINSERTED, nothing stored', async () => {
    const admin1 = new Client(h);
    expect((await admin1.login(ADMIN1_CARD)).status).toBe(200);
    const number = card(701);
    const prepared = await prepare(admin1, number);
    expect(prepared.status, JSON.stringify(prepared.body)).toBe(200);
    expect(prepared.body.stationNonce).toMatch(/^[0-9a-f]{32}$/);
    await h.cards.removeCard('reader-1');
    await h.cards.insertCard('reader-1', ADMIN1_CARD);
    refusedWith(await admin1.post('/api/admin/orders', await orderBody(h, prepared.body)), 'CARD_REINSERTED');
    expect(await ordersOf(number)).toEqual([]);
    // The session's right to sign ended with the removal: a fresh draft is refused too.
    const again = await prepare(admin1, number);
    refusedWith(await admin1.post('/api/admin/orders', await orderBody(h, again.body)), 'CARD_REINSERTED');
    expect(await ordersOf(number)).toEqual([]);
    // A new login with the card as it is now signs.
    expect((await admin1.login(ADMIN1_CARD)).status).toBe(200);
    const fresh = await prepare(admin1, number);
    const registered = await admin1.post('/api/admin/orders', await orderBody(h, fresh.body));
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);
  });

  it('a session logged in without a station signs no order: CARD_NOT_PROVEN, nothing stored', async () => {
    const admin1 = new Client(h);
    const { readers: _left, ...withoutStation } = await loginBody(h, ADMIN1_CARD);
    expect((await admin1.loginWith(withoutStation)).status).toBe(200);
    const number = card(702);
    // Without a station the order names the one whose stock the card comes from; the register
    // step still needs the station to prove the login card.
    const prepared = await prepare(admin1, number, { stationId: 'clinic' });
    expect(prepared.status, JSON.stringify(prepared.body)).toBe(200);
    refusedWith(
      await admin1.post('/api/admin/orders', await orderBody(h, prepared.body)),
      'CARD_NOT_PROVEN',
      {
        reason: 'login not at a station',
      },
    );
    expect(await ordersOf(number)).toEqual([]);
  });

  it('one statement, sent with parallel signatures or with another draft, registers at most one order', async () => {
    const admin1 = new Client(h);
    expect((await admin1.login(ADMIN1_CARD)).status).toBe(200);
    const number = card(703);
    const prepared = await prepare(admin1, number);
    const body = await orderBody(h, prepared.body);
    const answers = await Promise.all([1, 2, 3, 4].map(() => admin1.post('/api/admin/orders', body)));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    for (const answer of answers.filter((a) => a.status !== 201)) refusedWith(answer, 'SIGNATURE_INVALID');
    expect(await ordersOf(number)).toHaveLength(1);

    // The statement of one draft with the signature of another: made for another challenge.
    const other = card(704);
    const first = await orderBody(h, (await prepare(admin1, other)).body);
    const second = await orderBody(h, (await prepare(admin1, other)).body);
    refusedWith(
      await admin1.post('/api/admin/orders', { ...second, readers: first.readers }),
      'STATEMENT_INVALID',
      {
        reason: 'flow',
      },
    );
    expect(await ordersOf(other)).toEqual([]);
  });
});
