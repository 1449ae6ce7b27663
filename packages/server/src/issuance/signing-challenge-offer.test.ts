// The answer that brings a flow to a signature (step 3's SIGNERA, step 7's KVITTERA KORT) gives the
// challenge the card is to sign, so that the page need not ask for it: stored in that answer's
// transaction, for this flow, its order and card, and usable once, like one asked for.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ADMIN2_CARD,
  ANNA_PNR,
  CARD_PINS,
  completeWithPins,
  createIssuanceHarness,
  type Harness,
  RESERVE_CARD,
  RESERVE_PINS,
} from '../test-support/issuance-harness.js';
import { Page } from '../test-support/page.js';
import { SIGNING_TTL_MS } from './issuance.service.js';

const fieldsOf = (toBeSigned: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(toBeSigned, 'base64').toString('utf8'));

/** The signing challenges stored for this flow and purpose. */
const storedFor = async (h: Harness, flowId: string, purpose: string): Promise<string[]> => {
  const rows = await h.t.store.db.selectFrom('login_challenges').select(['id', 'challenge']).execute();
  return rows
    .filter((row) => {
      try {
        const fields = fieldsOf(row.challenge);
        return fields.flowId === flowId && fields.purpose === purpose;
      } catch {
        return false;
      }
    })
    .map((row) => row.id);
};

/** Login, step 1, the search: the flow waits for its order to be selected (step 2). */
const walkToSelection = async (page: Page) => {
  expect((await page.login(ADMIN2_CARD)).status).toBe(200);
  const started = await page.start();
  expect(started.body.signingChallenge).toBeUndefined();
  const managing = await page.action('manage-orders');
  expect(managing.body.view.step).toBe(2);
  expect(managing.body.signingChallenge).toBeUndefined();
  const search = await page.api('POST', `/api/flows/${page.flowId}/search`, { query: ANNA_PNR });
  expect(search.body.review?.cardNumber).toBe(RESERVE_CARD);
  expect(search.body.signingChallenge).toBeUndefined();
};

describe('the signing challenge given with the answer that reaches a signature', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createIssuanceHarness();
  });
  afterEach(async () => {
    await h.dispose();
  });

  it('comes with steps 3 and 7, for this flow, order and card, signs SIGNERA and KVITTERA KORT, once each', async () => {
    const page = new Page(h);
    await walkToSelection(page);
    const selected = await page.action('order-selected');
    expect(selected.body.view.step).toBe(3);
    const order = selected.body.signingChallenge;
    expect(order).toMatchObject({ purpose: 'order', challengeId: expect.any(String) });
    expect(fieldsOf(order.toBeSigned)).toMatchObject({
      purpose: 'order',
      flowId: page.flowId,
      orderId: 'order-anna',
      cardNumber: RESERVE_CARD,
    });
    expect(order.expiresAt - selected.body.view.now).toBeGreaterThan(SIGNING_TTL_MS - 5_000);
    expect(order.expiresAt - selected.body.view.now).toBeLessThanOrEqual(SIGNING_TTL_MS);
    expect(await storedFor(h, page.flowId, 'order')).toEqual([order.challengeId]);

    // Waiting at step 3 stores no more: only the arrival gives one.
    const tick = await page.api('POST', `/api/flows/${page.flowId}/agent-events`, { type: 'tick' });
    expect(tick.status).toBe(200);
    expect(tick.body.signingChallenge).toBeUndefined();
    expect(await storedFor(h, page.flowId, 'order')).toHaveLength(1);

    const signature = await page.signChallenge('order', 'reader-1', CARD_PINS.pin2, order);
    const signed = await page.api('POST', `/api/flows/${page.flowId}/sign`, signature);
    expect(signed.body.view?.step, JSON.stringify(signed.body)).toBe(4);
    expect(signed.body.signingChallenge).toBeUndefined();
    // Used: the same challenge again is no challenge.
    const again = await page.api('POST', `/api/flows/${page.flowId}/sign`, signature);
    expect(again.status).toBe(422);
    expect(again.body).toMatchObject({ code: 'SIGNATURE_INVALID', details: { reason: 'challenge' } });

    await h.cards.insertCard('reader-2', RESERVE_CARD);
    await page.relay({ type: 'card-inserted', reader: 2, cardNumber: RESERVE_CARD });
    await page.action('handover-confirmed');
    expect((await page.relay({ type: 'handover-verified', cardNumber: RESERVE_CARD })).body.view.step).toBe(
      5,
    );
    await page.action('terms-accepted', { accepted: true });
    await page.action('download-requested');
    const enrol = await h.agent.enrol(h.agentToken, 'reader-2', page.flowId);
    const enrolled = await completeWithPins(h.agent, enrol, [RESERVE_PINS.pin1, RESERVE_PINS.pin2]);
    expect(enrolled.state).toBe('done');
    const step6 = await page.relayAgentEvents({ count: 0 });
    expect(step6?.body.view.step).toBe(6);
    expect(step6?.body.signingChallenge).toBeUndefined();
    const { authCsr, signCsr } = enrolled.result as { authCsr: string; signCsr: string };
    const issued = await page.api('POST', `/api/flows/${page.flowId}/certificates`, { authCsr, signCsr });
    expect(issued.status, JSON.stringify(issued.body)).toBe(200);
    const write = await h.agent.writeCertificates(
      h.agentToken,
      'reader-2',
      {
        auth: Buffer.from(issued.body.certificates.auth, 'base64'),
        sign: Buffer.from(issued.body.certificates.sign, 'base64'),
      },
      page.flowId,
    );
    expect((await h.agent.waitFor(write.id, 5000)).state).toBe('done');
    const written = await page.relay({ type: 'certificates-written' });
    expect(written.body.view.step).toBe(7);
    const acknowledge = written.body.signingChallenge;
    expect(acknowledge).toMatchObject({ purpose: 'acknowledge' });
    expect(fieldsOf(acknowledge.toBeSigned)).toMatchObject({
      purpose: 'acknowledge',
      flowId: page.flowId,
      cardNumber: RESERVE_CARD,
    });
    expect(await storedFor(h, page.flowId, 'acknowledge')).toEqual([acknowledge.challengeId]);

    // The order's challenge is for SIGNERA only; KVITTERA KORT takes the one given for it.
    const ack = await page.signChallenge('acknowledge', 'reader-2', RESERVE_PINS.pin2, acknowledge);
    const done = await page.api('POST', `/api/flows/${page.flowId}/acknowledge`, {
      challengeId: ack.challengeId,
      signature: ack.signature,
    });
    expect(done.body.view?.status, JSON.stringify(done.body)).toBe('completed');
    expect(done.body.signingChallenge).toBeUndefined();
  });

  it('a challenge asked for is still given, and one given for SIGNERA is refused at KVITTERA KORT', async () => {
    const page = new Page(h);
    await walkToSelection(page);
    const order = (await page.action('order-selected')).body.signingChallenge;
    const asked = await page.api('POST', `/api/flows/${page.flowId}/signing-challenge`, { purpose: 'order' });
    expect(asked.status).toBe(200);
    expect(asked.body).toMatchObject({ purpose: 'order', challengeId: expect.any(String) });
    expect(asked.body.challengeId).not.toBe(order.challengeId);
    const misused = await page.api('POST', `/api/flows/${page.flowId}/acknowledge`, {
      challengeId: order.challengeId,
      signature: 'AAAA',
    });
    expect(misused.body).toMatchObject({ code: 'SIGNATURE_INVALID', details: { reason: 'challenge' } });
    // The one asked for signs SIGNERA as well.
    const signature = await page.signChallenge('order', 'reader-1', CARD_PINS.pin2, asked.body);
    const signed = await page.api('POST', `/api/flows/${page.flowId}/sign`, signature);
    expect(signed.body.view?.step, JSON.stringify(signed.body)).toBe(4);
  });

  it('parallel selections: one reaches step 3, and only its challenge is stored', async () => {
    const page = new Page(h);
    await walkToSelection(page);
    const answers = await Promise.all(Array.from({ length: 6 }, () => page.action('order-selected')));
    for (const answer of answers) expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(500);
    const offers = answers.flatMap((a) =>
      a.body.signingChallenge === undefined ? [] : [a.body.signingChallenge],
    );
    expect(offers).toHaveLength(1);
    expect(await storedFor(h, page.flowId, 'order')).toEqual([offers[0].challengeId]);
    expect((await page.view()).body.view.step).toBe(3);
  });
});
