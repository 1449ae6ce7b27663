// Acceptance: SIGKILL of a real `reservkort serve` a few milliseconds into the two requests whose
// answer gives a signing challenge (the order selected: SIGNERA; the certificates written: KVITTERA
// KORT). After each restart the flow is before or after the request, never half: at the step it
// reached, exactly one challenge for it is stored; before it, none. The flow then goes on to the end
// with the challenges given, and `reservkort audit verify` passes.
import { getFlow } from '@reservkort/store';
import { describe, expect, it } from 'vitest';
import { crashScaffolding } from '../test-support/crash-scaffolding.js';
import { addReserveCard, auditVerifiedOffline, RECIPIENTS } from '../test-support/durable-fixture.js';
import type { ApiAnswer } from '../test-support/durable-page.js';
import {
  issueAndWriteCertificates,
  storedSigningChallenges,
  walkStep4ToKeys,
} from '../test-support/durable-walk.js';
import { ADMIN2_CARD, CARD_PINS, RESERVE_PINS } from '../test-support/issuance-harness.js';
import type { SigningPurpose } from './issuance.service.js';

const anna = RECIPIENTS.anna;
/** A little later each time, until a kill finds the request committed. */
const KILL_AFTER_MS = [0, 1, 3, 5, 30, 90] as const;

describe('SIGKILL into the answers that give a signing challenge (SQLite data folder, real server processes)', () => {
  const crash = crashScaffolding();

  it('killed a few ms into each, restarted: the step and its one challenge, or neither; the flow goes on', async () => {
    const seeded = await crash.seededWorkstation('reservkort-offer-crash-', [anna]);
    await addReserveCard(seeded.ws, anna);
    const served = await crash.served(seeded);
    const { store, page } = served;

    const stored = (purpose: SigningPurpose) => storedSigningChallenges(store.db, page.flowId, purpose);
    const step = async () => (await getFlow(store.db, page.flowId))?.step ?? 0;
    /** For each request, how many ms in a kill first found it committed ('never': none did). */
    const outcomes: Record<string, number | 'never'> = {};

    /**
     * Sends the request and kills the server `afterMs` into it, a little later each time until the
     * flow reached `target`; after each restart the page reloads the flow. Before the step, no
     * challenge for it; at the step, exactly one. The answer, if one came before a kill, names it.
     */
    const killedUntil = async (
      send: () => Promise<ApiAnswer>,
      target: number,
      purpose: SigningPurpose,
    ): Promise<{ readonly challengeId: string; readonly toBeSigned: string } | null> => {
      for (const afterMs of KILL_AFTER_MS) {
        const answer = await served.killedInto(send, afterMs);
        expect((await page.view()).status).toBe(200);
        const reached = (await step()) === target;
        const challenges = await stored(purpose);
        expect(challenges, `${purpose}, killed ${afterMs} ms in`).toHaveLength(reached ? 1 : 0);
        if (!reached) continue;
        outcomes[purpose] = afterMs;
        // An answer that came before the kill gave the stored challenge; one that did not, nothing.
        if (!(answer instanceof Error)) expect(answer.body.signingChallenge?.challengeId).toBe(challenges[0]);
        return null;
      }
      // No kill landed after the commit: sent once more, it goes through and gives its challenge.
      outcomes[purpose] = 'never';
      const answer = await send();
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect(await stored(purpose)).toEqual([answer.body.signingChallenge.challengeId]);
      return answer.body.signingChallenge;
    };

    // --- Up to the order's selection: killed into POST /actions order-selected. -----------------
    expect((await page.login(ADMIN2_CARD)).status).toBe(200);
    expect((await page.start()).status).toBe(200);
    expect((await page.action('manage-orders')).body.view.step).toBe(2);
    expect(
      (await page.api('POST', `/api/flows/${page.flowId}/search`, { query: anna.pnr })).body.review
        ?.cardNumber,
    ).toBe(anna.reserveCard);
    const order = await killedUntil(() => page.action('order-selected'), 3, 'order');
    // The page that lost its answer asks for a challenge; one that has it signs with it.
    const signature = await page.signChallenge('order', 'reader-1', CARD_PINS.pin2, order ?? undefined);
    const signed = await page.api('POST', `/api/flows/${page.flowId}/sign`, signature);
    expect(signed.body.view?.step, JSON.stringify(signed.body)).toBe(4);

    // --- Up to the certificates written: killed into POST /agent-events certificates-written. ----
    await issueAndWriteCertificates(page, await walkStep4ToKeys(page, anna));
    // The same event of the agent's log each time, signed with the nonce the flow has then.
    const written = page.findEvent({ type: 'certificates-written' });
    if (written === null) throw new Error('the agent logged no certificates written');
    const acknowledge = await killedUntil(() => page.relaySeq(written), 7, 'acknowledge');
    const ack = await page.signChallenge(
      'acknowledge',
      'reader-2',
      RESERVE_PINS.pin2,
      acknowledge ?? undefined,
    );
    const done = await page.api('POST', `/api/flows/${page.flowId}/acknowledge`, {
      challengeId: ack.challengeId,
      signature: ack.signature,
    });
    expect(done.body.view?.status, JSON.stringify(done.body)).toBe('completed');

    expect(await served.server.stop()).toBe(0);
    await auditVerifiedOffline(seeded.folder.root);
    console.info('first kill after the commit (ms)', JSON.stringify(outcomes));
  }, 180_000);
});
