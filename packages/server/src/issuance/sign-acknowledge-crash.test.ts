// Acceptance: SIGKILL of a real `reservkort serve` a few milliseconds into SIGNERA (POST /sign) and
// KVITTERA KORT (POST /acknowledge), the two requests that move an order and send its move with the
// step's audit entry. After each restart everything the request changes is there, or none of it:
// SIGNERA's step 4, the order in progress and its `flow.signed` entry; KVITTERA KORT's completed
// flow, completed order, kept certificates, card issued from stock and their entries. Its challenge
// may be used up without the step (the kill fell between the two), and then the same request again
// is refused without acting; a fresh challenge then works. `reservkort audit verify` passes.
import type { CardNumber, FlowState } from '@reservkort/domain';
import { certificateStatus, getFlow, getOrder, getStockCard } from '@reservkort/store';
import { describe, expect, it } from 'vitest';
import { auditCount } from '../../../store/src/test-support/store-fixtures.js';
import { crashScaffolding } from '../test-support/crash-scaffolding.js';
import { addReserveCard, auditVerifiedOffline, RECIPIENTS } from '../test-support/durable-fixture.js';
import type { ApiAnswer } from '../test-support/durable-page.js';
import { walkStep4ToStep7, walkToStep3 } from '../test-support/durable-walk.js';
import { ADMIN2_CARD, CARD_PINS, RESERVE_PINS } from '../test-support/issuance-harness.js';

const anna = RECIPIENTS.anna;
/** A little later each time, until a kill finds the request committed. */
const KILL_AFTER_MS = [1, 5, 10, 15, 20, 30, 60, 90] as const;

/** What a kill left: nothing, the challenge used up without the step, or the step with all it changes. */
type Outcome = 'nothing' | 'challenge used, no step' | 'step';

describe('SIGKILL into SIGNERA and KVITTERA KORT (SQLite data folder, real server processes)', () => {
  const crash = crashScaffolding();
  const { seededWorkstation } = crash;

  it('killed a few ms into each, restarted: the step with the order, entries, certificates and stock, or none of it', async () => {
    const seeded = await seededWorkstation('reservkort-sign-ack-crash-', [anna]);
    await addReserveCard(seeded.ws, anna);
    const served = await crash.served(seeded);
    const { store, page } = served;
    const outcomes: Record<string, Outcome[]> = { sign: [], acknowledge: [] };

    const challengeUsed = async (id: string) =>
      (
        await store.db
          .selectFrom('login_challenges')
          .select('used_at')
          .where('id', '=', id)
          .executeTakeFirst()
      )?.used_at != null;
    const entries = (action: string, subject: string) => auditCount(store.db, action, subject);

    /** What SIGNERA and KVITTERA KORT change, as stored now. */
    const observed = async () => {
      const flow = await getFlow(store.db, page.flowId);
      const state = flow?.state as FlowState | undefined;
      if (flow === null || state?.order == null) throw new Error('the flow or its order is gone');
      const orderId = state.order.orderId;
      const order = await getOrder(store.db, orderId);
      const stock = await getStockCard(store.db, anna.reserveCard as CardNumber);
      const intents = await store.db
        .selectFrom('issuance_intents')
        .select(['serial', 'outcome', 'settled_at'])
        .where('flow_id', '=', page.flowId)
        .execute();
      const revoked: string[] = [];
      for (const serial of state.issuedSerials) {
        if ((await certificateStatus(store.db, serial))?.revocation != null) revoked.push(serial);
      }
      return {
        step: flow.step,
        status: state.status,
        version: flow.version,
        order: order?.state,
        orderVersion: order?.version,
        signedEntries: await entries('flow.signed', page.flowId),
        acknowledgedEntries: await entries('flow.acknowledged', page.flowId),
        stockIssuedEntries: await entries('stock.card-issued', anna.reserveCard),
        stock: stock?.state,
        kept: intents.filter((i) => i.outcome === 'kept').length,
        unsettled: intents.filter((i) => i.settled_at === null).length,
        revoked,
      };
    };

    /** Kills the server `afterMs` into `send`, restarts it and lets the page reload the flow. */
    const killedInto = async (send: () => Promise<ApiAnswer>, afterMs: number) => {
      const answer = await served.killedInto(send, afterMs);
      expect((await page.view()).status).toBe(200);
      return answer;
    };

    /**
     * The same request as the page's retry after a lost answer: refused (its challenge is used up,
     * or the flow it would end has ended), and nothing it changes moves.
     */
    const refusedAgain = async (
      send: () => Promise<ApiAnswer>,
      [status, code]: readonly [number, string] = [422, 'SIGNATURE_INVALID'],
    ) => {
      const before = await observed();
      const again = await send();
      expect(again.status, JSON.stringify(again.body)).toBe(status);
      expect(again.body).toMatchObject({ code });
      expect(await observed()).toEqual(before);
    };

    // --- SIGNERA: killed into POST /sign until a kill finds it committed. ------------------------
    await walkToStep3(page, ADMIN2_CARD, anna);
    const unsigned = await observed();
    expect(unsigned).toMatchObject({ step: 3, order: 'registered', signedEntries: 0 });
    for (const afterMs of KILL_AFTER_MS) {
      const request = await page.signChallenge('order', 'reader-1', CARD_PINS.pin2);
      const send = () => page.api('POST', `/api/flows/${page.flowId}/sign`, request);
      const answer = await killedInto(send, afterMs);
      const now = await observed();
      const used = await challengeUsed(request.challengeId);
      if (now.step === 4) {
        expect(now, `signed, killed ${afterMs} ms in`).toMatchObject({
          order: 'in_progress',
          orderVersion: (unsigned.orderVersion ?? 0) + 1,
          signedEntries: 1,
        });
        expect(used).toBe(true);
        outcomes.sign?.push('step');
        await refusedAgain(send);
        break;
      }
      // Not signed: the flow, the order and the entries as before.
      expect(now, `not signed, killed ${afterMs} ms in`).toEqual(unsigned);
      if (!(answer instanceof Error)) expect(answer.status).not.toBe(200);
      outcomes.sign?.push(used ? 'challenge used, no step' : 'nothing');
      if (used) await refusedAgain(send);
    }
    if ((await observed()).step !== 4) {
      // No kill landed after the commit: a fresh challenge signs the order.
      const request = await page.signChallenge('order', 'reader-1', CARD_PINS.pin2);
      const signed = await page.api('POST', `/api/flows/${page.flowId}/sign`, request);
      expect(signed.body.view?.step, JSON.stringify(signed.body)).toBe(4);
    }

    // --- KVITTERA KORT: killed into POST /acknowledge until a kill finds it committed. -----------
    const { serials } = await walkStep4ToStep7(page, anna);
    const unacknowledged = await observed();
    expect(unacknowledged).toMatchObject({
      step: 7,
      order: 'in_progress',
      acknowledgedEntries: 0,
      stockIssuedEntries: 0,
      stock: 'sealed',
      kept: 0,
      unsettled: 2,
      revoked: [],
    });
    for (const afterMs of KILL_AFTER_MS) {
      const ack = await page.signChallenge('acknowledge', 'reader-2', RESERVE_PINS.pin2);
      const body = { challengeId: ack.challengeId, signature: ack.signature };
      const send = () => page.api('POST', `/api/flows/${page.flowId}/acknowledge`, body);
      const answer = await killedInto(send, afterMs);
      const now = await observed();
      const used = await challengeUsed(ack.challengeId);
      if (now.status === 'completed') {
        expect(now, `acknowledged, killed ${afterMs} ms in`).toMatchObject({
          order: 'completed',
          acknowledgedEntries: 1,
          stockIssuedEntries: 1,
          stock: 'issued',
          kept: 2,
          unsettled: 0,
          revoked: [],
        });
        expect(used).toBe(true);
        outcomes.acknowledge?.push('step');
        await refusedAgain(send, [409, 'FLOW_ENDED']);
        break;
      }
      // Not acknowledged: all as before, still at step 7 with good certificates the reconciler leaves alone.
      expect(now, `not acknowledged, killed ${afterMs} ms in`).toEqual(unacknowledged);
      if (!(answer instanceof Error)) expect(answer.status).not.toBe(200);
      outcomes.acknowledge?.push(used ? 'challenge used, no step' : 'nothing');
      if (used) await refusedAgain(send);
    }
    if ((await observed()).status !== 'completed') {
      const ack = await page.signChallenge('acknowledge', 'reader-2', RESERVE_PINS.pin2);
      const done = await page.api('POST', `/api/flows/${page.flowId}/acknowledge`, {
        challengeId: ack.challengeId,
        signature: ack.signature,
      });
      expect(done.body.view?.status, JSON.stringify(done.body)).toBe('completed');
    }
    expect(await observed()).toMatchObject({ order: 'completed', kept: 2, revoked: [] });
    expect(serials).toHaveLength(2);

    expect(await served.server.stop()).toBe(0);
    await auditVerifiedOffline(seeded.folder.root);
    console.info('what each kill left', JSON.stringify(outcomes));
  }, 240_000);
});
