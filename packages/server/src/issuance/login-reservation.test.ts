// The issuance portal's first flow reserved with the login (`reserveFlow`), as the page asks for it
// on the issuance screen: the login's answer carries what POST /api/flows/start would have, kept
// with the session in one transaction, and the flow starts on it as on any reservation: once, for
// that administrator only. A login that does not ask, or the service desk's, reserves nothing.
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../store/src/test-support/test-stores.js';
import { ACTORS, addAcceptanceDirectory } from '../test-support/acceptance-directory.js';
import {
  ADMIN1_CARD,
  ADMIN2_CARD,
  createIssuanceHarness,
  type Harness,
} from '../test-support/issuance-harness.js';
import { Page } from '../test-support/page.js';
import { writesToPostgres } from '../test-support/postgres-writes.js';

describe.each(DIALECTS)('a flow reserved with the login on %s', (dialect) => {
  let h: Harness;
  let page: Page;

  beforeEach(async () => {
    h = await createIssuanceHarness({}, () => ({}), dialect);
    page = new Page(h);
  }, 60_000);
  afterEach(async () => {
    await h?.dispose();
  });

  /** Flow reservations stored, and sessions, as counts. */
  const rows = async () => {
    const count = async (query: ReturnType<typeof sql<{ n: number }>>) =>
      Number((await query.execute(h.t.store.db)).rows[0]?.n ?? 0);
    return {
      reservations: await count(
        sql<{ n: number }>`select count(*) as n from login_challenges where challenge like '%"flow-start"%'`,
      ),
      sessions: await count(sql<{ n: number }>`select count(*) as n from sessions`),
    };
  };
  const loginReserving = async (card: typeof ADMIN2_CARD) =>
    page.sendLogin({ ...(await page.signedLogin(card)), reserveFlow: true });

  it('answers the login with a reservation the flow then starts on, once', async () => {
    const before = await rows();
    const login = await loginReserving(ADMIN2_CARD);
    expect(login.status, JSON.stringify(login.body)).toBe(200);
    const reserved = login.body.flowReservation;
    expect(reserved).toEqual({
      flowId: expect.any(String),
      stationNonce: expect.any(String),
      cardKeyType: 'ecdsa-p256',
    });
    expect(await rows()).toEqual({
      reservations: before.reservations + 1,
      sessions: before.sessions + 1,
    });
    const started = await page.start(reserved);
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    expect(started.body.view).toMatchObject({ flowId: reserved.flowId, step: 1 });
    // Used up: the same reservation again is the flow already started.
    const again = await page.api('POST', '/api/flows', {
      flowId: reserved.flowId,
      readers: await page.statement('readers'),
    });
    expect([again.status, again.body.code, again.body.details?.reason]).toEqual([
      409,
      'EVENT_OUT_OF_ORDER',
      'flow already started',
    ]);
    expect(again.body.message.sv).toBeTruthy();
    expect(again.body.message.en).toBeTruthy();
  });

  it('reserves nothing for a login that does not ask, nor for the service desk', async () => {
    await addAcceptanceDirectory(h, { actors: ['desk'] });
    const before = await rows();
    const plain = await page.login(ADMIN2_CARD);
    expect(plain.status).toBe(200);
    expect(plain.body).not.toHaveProperty('flowReservation');
    await h.cards.removeCard('reader-1');
    const desk = await loginReserving(ACTORS.desk.cardNumber);
    expect(desk.status, JSON.stringify(desk.body)).toBe(200);
    expect(desk.body.serviceDesk).toBe(true);
    expect(desk.body).not.toHaveProperty('flowReservation');
    expect((await rows()).reservations).toBe(before.reservations);
  });

  it('is the reserving administrator’s only', async () => {
    const admin1 = await loginReserving(ADMIN1_CARD);
    expect(admin1.status, JSON.stringify(admin1.body)).toBe(200);
    await h.cards.removeCard('reader-1');
    expect((await page.login(ADMIN2_CARD)).status).toBe(200);
    const taken = await page.start(admin1.body.flowReservation);
    expect([taken.status, taken.body.code]).toEqual([404, 'NOT_FOUND']);
  });

  it.runIf(dialect === 'postgres')('takes the round trips a login without it takes', async () => {
    // The first login of the process reads and checks what it then keeps (the card's chain).
    expect((await page.login(ADMIN2_CARD)).status).toBe(200);
    await h.cards.removeCard('reader-1');
    const plain = await page.signedLogin(ADMIN2_CARD);
    const alone = await writesToPostgres(() => page.sendLogin(plain));
    expect(alone.result.status).toBe(200);
    await h.cards.removeCard('reader-1');
    const request = { ...(await page.signedLogin(ADMIN2_CARD)), reserveFlow: true };
    const reserving = await writesToPostgres(() => page.sendLogin(request));
    expect(reserving.result.body.flowReservation).toBeDefined();
    // The reservation goes out with the session's insert.
    expect(reserving.writes).toEqual(alone.writes);
  });

  it('keeps one session and one reservation for six copies of one login sent at once', async () => {
    const request = { ...(await page.signedLogin(ADMIN2_CARD)), reserveFlow: true };
    const before = await rows();
    const answers = await Promise.all(Array.from({ length: 6 }, () => page.sendLogin(request)));
    const outcomes = answers.map((a) => (a.status === 200 ? 'ok' : `${a.status} ${a.body.code}`));
    expect(
      outcomes.filter((o) => o === 'ok'),
      outcomes.join('; '),
    ).toHaveLength(1);
    expect(outcomes.filter((o) => o === '401 LOGIN_FAILED')).toHaveLength(5);
    expect(await rows()).toEqual({
      reservations: before.reservations + 1,
      sessions: before.sessions + 1,
    });
  });
});
