// The answer that brings a flow to a signature (step 3's SIGNERA, step 7's KVITTERA KORT) gives the
// challenge the card is to sign, so that the page need not ask for it: stored in that answer's
// transaction, for this flow, its order and card, and usable once, like one asked for.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readStatement } from '../auth/signing-challenge.js';
import { RECIPIENTS } from '../test-support/durable-fixture.js';
import { storedSigningChallenges, walkStep4ToStep7 } from '../test-support/durable-walk.js';
import {
  ADMIN2_CARD,
  ANNA_PNR,
  CARD_PINS,
  createIssuanceHarness,
  type Harness,
  RESERVE_CARD,
  RESERVE_PINS,
} from '../test-support/issuance-harness.js';
import { Page } from '../test-support/page.js';
import { SIGNING_TTL_MS, type SigningPurpose } from './issuance.service.js';

/** The fields of a challenge's statement, read as the routes read it for that purpose. */
const fieldsOf = (toBeSigned: string, purpose: SigningPurpose) => readStatement(toBeSigned, purpose)?.fields;

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
    expect(fieldsOf(order.toBeSigned, 'order')).toMatchObject({
      purpose: 'order',
      flowId: page.flowId,
      orderId: 'order-anna',
      cardNumber: RESERVE_CARD,
    });
    expect(order.expiresAt - selected.body.view.now).toBeGreaterThan(SIGNING_TTL_MS - 5_000);
    expect(order.expiresAt - selected.body.view.now).toBeLessThanOrEqual(SIGNING_TTL_MS);
    expect(await storedSigningChallenges(h.t.store.db, page.flowId, 'order')).toEqual([order.challengeId]);

    // Waiting at step 3 stores no more: only the arrival gives one.
    const tick = await page.api('POST', `/api/flows/${page.flowId}/agent-events`, { type: 'tick' });
    expect(tick.status).toBe(200);
    expect(tick.body.signingChallenge).toBeUndefined();
    expect(await storedSigningChallenges(h.t.store.db, page.flowId, 'order')).toHaveLength(1);

    const signature = await page.signChallenge('order', 'reader-1', CARD_PINS.pin2, order);
    const signed = await page.api('POST', `/api/flows/${page.flowId}/sign`, signature);
    expect(signed.body.view?.step, JSON.stringify(signed.body)).toBe(4);
    expect(signed.body.signingChallenge).toBeUndefined();
    // Used: the same challenge again is no challenge.
    const again = await page.api('POST', `/api/flows/${page.flowId}/sign`, signature);
    expect(again.status).toBe(422);
    expect(again.body).toMatchObject({ code: 'SIGNATURE_INVALID', details: { reason: 'challenge' } });

    const { offered: acknowledge } = await walkStep4ToStep7(page, RECIPIENTS.anna);
    // Steps 4–6 stored no challenge: none was given on the way.
    expect(await storedSigningChallenges(h.t.store.db, page.flowId, 'order')).toEqual([order.challengeId]);
    expect(acknowledge).toMatchObject({ purpose: 'acknowledge' });
    expect(fieldsOf(acknowledge.toBeSigned, 'acknowledge')).toMatchObject({
      purpose: 'acknowledge',
      flowId: page.flowId,
      cardNumber: RESERVE_CARD,
    });
    expect(await storedSigningChallenges(h.t.store.db, page.flowId, 'acknowledge')).toEqual([
      acknowledge.challengeId,
    ]);

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
    expect(await storedSigningChallenges(h.t.store.db, page.flowId, 'order')).toEqual([
      offers[0].challengeId,
    ]);
    expect((await page.view()).body.view.step).toBe(3);
  });
});
