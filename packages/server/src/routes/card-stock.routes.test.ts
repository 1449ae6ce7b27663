// Card stock over HTTP on both dialects: a batch registered all or nothing with every line's
// problem; an order refused for each reason its card cannot be given; the acknowledged card issued;
// its return revoking the e-ID and destroying it; a sealed card destroyed. Parallel identical
// requests have exactly one effect.
import { addDays, type CardNumber, dateOf, formatDate, type HsaId } from '@reservkort/domain';
import { certificateStatus, getStockCard, moveStockCard } from '@reservkort/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditCount as auditEntries } from '../../../store/src/test-support/store-fixtures.js';
import { DIALECTS } from '../../../store/src/test-support/test-stores.js';
import { statusOf } from '../http/api-error.js';
import { type Answer, Client, emptyReader, orderBody } from '../test-support/acceptance-client.js';
import { walkTo } from '../test-support/acceptance-flow.js';
import {
  ADMIN1_CARD,
  ADMIN2_CARD,
  ANNA,
  createIssuanceHarness,
  type Harness,
  RESERVE_CARD,
  RESERVE_PINS,
} from '../test-support/issuance-harness.js';
import { Page } from '../test-support/page.js';
import { stockTestCards } from '../test-support/test-stock.js';

const DAY = 86_400_000;
const card = (serial: number) => `97522789000000${String(serial).padStart(5, '0')}` as CardNumber;

const refusedWith = (answer: Pick<Answer, 'status' | 'body'>, code: string) => {
  expect(answer.body?.code, JSON.stringify(answer.body)).toBe(code);
  expect(answer.status).toBe(statusOf(code as 'CARD_NOT_IN_STOCK'));
};

describe.each(DIALECTS)('card stock over HTTP on %s', (dialect) => {
  let h: Harness;
  let admin1: Client;
  let admin2: Client;

  beforeAll(async () => {
    h = await createIssuanceHarness({}, () => ({}), dialect);
    admin1 = new Client(h);
    admin2 = new Client(h);
    expect((await admin2.login(ADMIN2_CARD)).status).toBe(200);
    // Admin 1 logs in last: the card stays in reader 1 for the order signatures below.
    expect((await admin1.login(ADMIN1_CARD)).status).toBe(200);
  });
  afterAll(async () => {
    await h?.dispose();
  });

  const auditCount = (action: string, subject: string) => auditEntries(h.t.store.db, action, subject);
  const draft = (cardNumber: CardNumber) => ({
    personHsaId: ANNA,
    cardNumber,
    validity: { notBefore: h.clock.now(), notAfter: h.clock.now() + 5 * DAY },
    idDocument: 'swedish-passport',
  });
  const prepare = (cardNumber: CardNumber) => admin1.post('/api/admin/orders/prepare', draft(cardNumber));
  const line = (cardNumber: CardNumber, manufactured = '2026-03-15', product = '473') => ({
    cardNumber,
    product,
    manufactured,
  });

  // First: Anna's only order is then the harness's, for the reserve card.
  it('issues the card at the acknowledgement; its return revokes the e-ID as superseded and destroys it, once', async () => {
    const page = new Page(h);
    await emptyReader(h, 'reader-1');
    await walkTo(h, page, 7);
    // A support case on the flow names the card's product and physical expiry from the stock.
    const preview = await page.api('POST', '/api/support/cases/preview', { flowId: page.flowId });
    expect(preview.status, JSON.stringify(preview.body)).toBe(200);
    expect(preview.body.case.cardStock).toEqual({ product: '573', physicalExpiry: '2030-12-31' });
    const ack = await page.signChallenge('acknowledge', 'reader-2', RESERVE_PINS.pin2);
    const done = await page.api('POST', `/api/flows/${page.flowId}/acknowledge`, ack);
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(await getStockCard(h.t.store.db, RESERVE_CARD)).toMatchObject({ state: 'issued', holder: ANNA });
    const serials = (
      await h.t.store.db
        .selectFrom('certificates')
        .select('serial')
        .where('card_number', '=', RESERVE_CARD)
        .where('hsa_id', '=', ANNA)
        .execute()
    ).map((r) => r.serial);
    expect(serials).toHaveLength(2);

    const listed = await page.api('GET', '/api/stock/region?state=issued');
    expect(listed.status).toBe(200);
    expect(listed.body.cards.map((c: { cardNumber: string }) => c.cardNumber)).toContain(RESERVE_CARD);

    const answers = await Promise.all(
      [1, 2, 3, 4].map(() =>
        page.api('POST', `/api/stock/cards/${RESERVE_CARD}/return`, { cause: 'ordinary-card-back' }),
      ),
    );
    const winners = answers.filter((a) => a.status === 200);
    expect(winners, JSON.stringify(answers.map((a) => a.body))).toHaveLength(1);
    expect(winners[0]?.body.state).toBe('destroyed');
    for (const answer of answers.filter((a) => a.status !== 200))
      expect(['CARD_STOCK_CONFLICT', 'CARD_DESTROYED']).toContain(answer.body.code);
    for (const serial of serials)
      expect((await certificateStatus(h.t.store.db, serial))?.revocation?.reason).toBe('superseded');
    expect(await auditCount('stock.card-returned', RESERVE_CARD)).toBe(1);
    expect(await auditCount('stock.card-destroyed', RESERVE_CARD)).toBe(1);
    const counts = (await page.api('GET', '/api/stock/region')).body.counts;
    expect(counts).toMatchObject({ issued: 0, returned: 0, destroyed: 1 });
    refusedWith(
      await page.api('POST', `/api/stock/cards/${RESERVE_CARD}/return`, { cause: 'no-longer-needed' }),
      'CARD_DESTROYED',
    );
  });

  it('registers a batch all or nothing, every line’s problem at once, and audits it', async () => {
    const refused = await admin2.post('/api/stock/region/batches', {
      lines: [
        line(card(1001)),
        line(card(1002), '2026-03-15', '999'),
        line(card(1001)),
        line(card(1003), '2026-02-30'),
      ],
    });
    refusedWith(refused, 'STOCK_LINE_INVALID');
    expect(refused.body.problems.map((p: { code: string; details: object }) => [p.code, p.details])).toEqual([
      ['STOCK_LINE_INVALID', { line: 2, reason: 'product' }],
      ['STOCK_LINE_INVALID', { line: 3, reason: 'duplicate' }],
      ['STOCK_LINE_INVALID', { line: 4, reason: 'manufactured' }],
    ]);
    expect(refused.body.problems[0].message.sv).toEqual(expect.any(String));
    expect(await getStockCard(h.t.store.db, card(1001))).toBeNull();

    const csv = [
      'card_number;product;manufactured;physical_expiry',
      `${card(1001)};473;2026-03-15;2030-03-14`,
      '9752 2789 0000 0001 002;573;2026-03-15;',
      '',
    ].join('\n');
    const imported = await admin2.post('/api/stock/region/batches', { csv });
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    expect(imported.body.imported).toBe(2);
    expect(await auditCount('stock.imported', imported.body.batchId)).toBe(1);
    expect(await getStockCard(h.t.store.db, card(1002))).toMatchObject({
      product: '573',
      physicalExpiry: { year: 2031, month: 3, day: 14 },
      state: 'sealed',
      stationId: 'region',
    });

    const again = await admin2.post('/api/stock/region/batches', { csv });
    refusedWith(again, 'CARD_ALREADY_IN_STOCK');
    expect(again.body.problems.map((p: { details: { line: number } }) => p.details.line)).toEqual([1, 2]);
    refusedWith(
      await admin2.post('/api/stock/region/batches', { csv: 'number,product\n1,473' }),
      'REQUEST_INVALID',
    );
  });

  it('lets exactly one of parallel identical imports register the batch', async () => {
    const body = { lines: [line(card(1011)), line(card(1012))] };
    const answers = await Promise.all([1, 2, 3, 4].map(() => admin2.post('/api/stock/region/batches', body)));
    expect(
      answers.filter((a) => a.status === 201),
      JSON.stringify(answers.map((a) => a.body)),
    ).toHaveLength(1);
    for (const answer of answers.filter((a) => a.status !== 201))
      refusedWith(answer, 'CARD_ALREADY_IN_STOCK');
    const imports = await h.t.store.db
      .selectFrom('audit_log')
      .select('details')
      .where('action', '=', 'stock.imported')
      .execute();
    expect(imports.filter((e) => String(e.details).includes('"cards":2'))).toHaveLength(2);
  });

  it('refuses an order’s card number for each reason the station cannot give it', async () => {
    refusedWith(await prepare(card(1099)), 'CARD_NOT_IN_STOCK');

    await stockTestCards(h.t.store.db, [card(1021)], 'clinic');
    refusedWith(await prepare(card(1021)), 'CARD_AT_OTHER_STATION');

    await stockTestCards(h.t.store.db, [card(1022), card(1023)]);
    expect((await admin2.post(`/api/stock/cards/${card(1022)}/destroy`, { why: 'damaged' })).status).toBe(
      200,
    );
    refusedWith(await prepare(card(1022)), 'CARD_DESTROYED');

    const sealed = await getStockCard(h.t.store.db, card(1023));
    if (sealed === null) throw new Error('fixture');
    await moveStockCard(h.t.store.db, {
      card: { ...sealed, state: 'issued', holder: 'SE2321000016-ulla' as HsaId },
      expectedVersion: sealed.version,
    });
    refusedWith(await prepare(card(1023)), 'CARD_ALREADY_GIVEN');

    // A 473 card made so that its last physical day falls inside the order's five days.
    const today = dateOf(h.clock.now());
    const made = addDays(today, 2);
    const manufactured = formatDate({ ...made, year: made.year - 4 });
    const imported = await admin2.post('/api/stock/region/batches', {
      lines: [line(card(1024), manufactured)],
    });
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    const late = await prepare(card(1024));
    refusedWith(late, 'CARD_PAST_PHYSICAL_EXPIRY');
    expect(late.body.details.physicalExpiry).toBe(formatDate(addDays(today, 1)));
  });

  it('an order holds its sealed card: it cannot be destroyed while the order is open', async () => {
    await stockTestCards(h.t.store.db, [card(1031)]);
    // Admin 1's card back in reader 1 for the order signature.
    expect((await admin1.login(ADMIN1_CARD)).status).toBe(200);
    const prepared = await prepare(card(1031));
    expect(prepared.status, JSON.stringify(prepared.body)).toBe(200);
    const registered = await admin1.post('/api/admin/orders', await orderBody(h, prepared.body));
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);
    refusedWith(
      await admin2.post(`/api/stock/cards/${card(1031)}/destroy`, { why: 'damaged' }),
      'CARD_STOCK_CONFLICT',
    );
    expect((await getStockCard(h.t.store.db, card(1031)))?.state).toBe('sealed');
    // A sealed card cannot be returned: it was never given out.
    refusedWith(
      await admin2.post(`/api/stock/cards/${card(1031)}/return`, { cause: 'no-longer-needed' }),
      'CARD_STOCK_CONFLICT',
    );
  });

  it('destroys a sealed card once of parallel identical requests, and never again', async () => {
    await stockTestCards(h.t.store.db, [card(1041)]);
    const answers = await Promise.all(
      [1, 2, 3, 4].map(() =>
        admin2.post(`/api/stock/cards/${card(1041)}/destroy`, { why: 'past-physical-expiry' }),
      ),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    for (const answer of answers.filter((a) => a.status !== 200)) refusedWith(answer, 'CARD_DESTROYED');
    expect(await auditCount('stock.card-destroyed', card(1041))).toBe(1);
    refusedWith(
      await admin1.post(`/api/stock/cards/${card(1041)}/destroy`, { why: 'damaged' }),
      'NO_ROLE_IN_BRANCH',
    );
  });
});
