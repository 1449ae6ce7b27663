// BEKRÄFTA ÖVERLÄMNING sent with the card's proof, in one request (`confirmed` at the handover
// route), as the page sends it: the click goes through the domain machine first, as the recipient's
// act, then the proof as the station's, in one change of the flow. The click's own answer comes
// first: one its control refuses (a colleague's card in reader 2) is kept alone, as it would be on
// its own, and the proof is left unused; one the flow does not take keeps nothing.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../store/src/test-support/test-stores.js';
import { walkTo } from '../test-support/acceptance-flow.js';
import {
  ADMIN1_CARD,
  createIssuanceHarness,
  type Harness,
  RESERVE_CARD,
} from '../test-support/issuance-harness.js';
import { Page } from '../test-support/page.js';
import { writesToPostgres } from '../test-support/postgres-writes.js';
import { statementFacts } from '../test-support/statement-facts.js';
import { payloadOf } from '../test-support/station-agent.js';

describe.each(DIALECTS)('the handover’s click with the card’s proof on %s', (dialect) => {
  let h: Harness;
  let page: Page;

  beforeEach(async () => {
    h = await createIssuanceHarness({}, () => ({}), dialect);
    page = new Page(h);
  }, 60_000);
  afterEach(async () => {
    await h?.dispose();
  });

  /** Everything a station statement may move: version, nonce, timeline, audit, the station's seq. */
  const facts = () => statementFacts(h, page.flowId);
  const confirmWith = (proof: unknown) =>
    page.api('POST', `/api/flows/${page.flowId}/handover`, { proof, confirmed: true });
  const insert = async (cardNumber: typeof RESERVE_CARD) => {
    await h.cards.insertCard('reader-2', cardNumber);
    expect((await page.relay({ type: 'card-inserted', reader: 2, cardNumber })).status).toBe(200);
  };

  it('applies the click, then the proof, in one change: the click the recipient’s, the proof the station’s', async () => {
    await walkTo(h, page, 4);
    await insert(RESERVE_CARD);
    const proof = await page.statement('card-proof', { reader: 2 });
    const was = await facts();
    const answer = await confirmWith(proof);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.raised).toEqual([]);
    expect(answer.body.view.step).toBe(5);
    const now = await facts();
    expect(now.version).toBe(was.version + 1);
    expect(now.nonce).not.toBe(was.nonce);
    expect(now.nonce).toBe(answer.body.stationNonce);
    expect(now.lastSeq).toBe(payloadOf(proof).seq);
    const added = now.timeline.slice(was.timeline.length);
    expect(added.map((e) => e.event)).toEqual(['handover-confirmed', 'handover-verified']);
    expect(added[0]?.details?.station).toBeUndefined();
    expect(added[1]?.details).toMatchObject({ station: h.stationId, cardNumber: RESERVE_CARD });
    const audited = now.audit.slice(was.audit.length);
    expect(audited.map((e) => [e.action, e.actor])).toEqual([
      ['flow.handover-confirmed', 'SE2321000016-adm2'],
      ['flow.handover-verified', 'SE2321000016-adm2'],
    ]);
    expect(audited[0]?.details).not.toHaveProperty('station');
    expect(audited[1]?.details).toMatchObject({ station: h.stationId });

    // The same request again: its statement is spent. With a fresh proof, the click is out of
    // order at step 5. Neither changes anything.
    const again = await confirmWith(proof);
    expect([again.status, again.body.code, again.body.details?.reason]).toEqual([
      422,
      'STATEMENT_INVALID',
      'nonce',
    ]);
    page.stationNonce = answer.body.stationNonce;
    const late = await confirmWith(await page.statement('card-proof', { reader: 2 }));
    expect([late.status, late.body.code]).toEqual([409, 'EVENT_OUT_OF_ORDER']);
    expect(late.body.message.sv).toBeTruthy();
    expect(late.body.message.en).toBeTruthy();
    expect(await facts()).toEqual(now);
  });

  it('keeps a click its control refuses alone, as on its own, and leaves the proof unused', async () => {
    await walkTo(h, page, 4);
    // A colleague's card in reader 2: BEKRÄFTA ÖVERLÄMNING raises WRONG_CARD and the flow waits.
    await insert(ADMIN1_CARD);
    const proof = await page.statement('card-proof', { reader: 2 });
    const was = await facts();
    const answer = await confirmWith(proof);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.raised).toEqual(['WRONG_CARD']);
    expect(answer.body.view.step).toBe(4);
    const now = await facts();
    expect(now.version).toBe(was.version + 1);
    // No statement was taken: the nonce and the station's sequence number stay.
    expect(now.nonce).toBe(was.nonce);
    expect(now.lastSeq).toBe(was.lastSeq);
    const added = now.timeline.slice(was.timeline.length);
    expect(added.map((e) => [e.event, e.codes])).toEqual([['handover-confirmed', ['WRONG_CARD']]]);
    expect(now.audit.slice(was.audit.length).map((e) => e.action)).toEqual(['flow.handover-confirmed']);

    // The click alone on the actions route says the same.
    const alone = await page.action('handover-confirmed');
    expect(alone.body.raised).toEqual(['WRONG_CARD']);
    expect((await facts()).timeline.at(-1)).toMatchObject({
      event: 'handover-confirmed',
      codes: ['WRONG_CARD'],
    });

    // The order's card in its place: the click and its proof go through.
    await h.cards.removeCard('reader-2');
    expect((await page.relay({ type: 'card-removed', reader: 2 })).status).toBe(200);
    await insert(RESERVE_CARD);
    const handed = await page.handover(true);
    expect(handed.status, JSON.stringify(handed.body)).toBe(200);
    expect(handed.body.view.step).toBe(5);
  });

  it('keeps a second click alone while the first waits for its proof, and the proof is still good', async () => {
    await walkTo(h, page, 4);
    await insert(RESERVE_CARD);
    // The click on its own (a page that lost its agent's answer), then the click with the proof.
    expect((await page.action('handover-confirmed')).status).toBe(200);
    const proof = await page.statement('card-proof', { reader: 2 });
    const was = await facts();
    const answer = await confirmWith(proof);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.raised).toEqual(['ACTION_PENDING']);
    const now = await facts();
    expect(now.version).toBe(was.version + 1);
    expect(now.nonce).toBe(was.nonce);
    expect(now.lastSeq).toBe(was.lastSeq);
    // The proof without the click goes through.
    const proved = await page.api('POST', `/api/flows/${page.flowId}/handover`, { proof });
    expect(proved.status, JSON.stringify(proved.body)).toBe(200);
    expect(proved.body.view.step).toBe(5);
  });

  it.runIf(dialect === 'postgres')('takes the round trips the proof alone takes', async () => {
    await walkTo(h, page, 4);
    await insert(RESERVE_CARD);
    const proof = await page.statement('card-proof', { reader: 2 });
    const { result, writes } = await writesToPostgres(() => confirmWith(proof));
    expect(result.status, JSON.stringify(result.body)).toBe(200);
    // As the proof alone: the session, flow and station; the card's record; the change and its
    // two entries with the commit. The click alone took two more.
    expect(writes).toEqual([3]);
  });
});
