// The reconciler over the real store and CA: the states a crash leaves between the claim and the
// binding are built through the same calls the service makes, then judged after the grace period.
import {
  certificateStatus,
  type IssuancePurpose,
  insertIntents,
  listIntentsOfFlow,
  listUnsettledIntents,
} from '@reservkort/store';
import { afterEach, describe, expect, it } from 'vitest';
import { walkTo } from '../test-support/acceptance-flow.js';
import { ANNA, createIssuanceHarness, type Harness, RESERVE_CARD } from '../test-support/issuance-harness.js';
import { Page } from '../test-support/page.js';

const GRACE_MS = 30_000;
const HOLDER = { hsaId: ANNA, givenName: 'Anna', surname: 'Andersson', organisation: 'Kliniken' };

/**
 * What POST /certificates leaves when the process dies after `issued` of its two certificates: the
 * claim and both intents committed, those certificates recorded under their intents, nothing bound.
 */
const crashAfterIssuing = async (
  h: Harness,
  flowId: string,
  csrs: { authCsr: string; signCsr: string },
  issued: readonly IssuancePurpose[],
) => {
  const intents = { 'card-auth': `${flowId}-auth`, 'card-sign': `${flowId}-sign` } as const;
  await h.services.issuance.apply(
    flowId,
    null,
    { type: 'issuance-claimed', at: h.clock.now() },
    {
      also: async (trx, transition) => {
        await insertIntents(
          trx,
          (['card-auth', 'card-sign'] as const).map((purpose) => ({
            id: intents[purpose],
            flowId,
            attempt: transition.state.issuance?.attempt ?? 1,
            purpose,
            createdAt: h.clock.now(),
          })),
        );
        return [];
      },
    },
  );
  const serials: string[] = [];
  for (const purpose of issued) {
    const certificate = await h.t.ca.issue({
      caId: 'loa3',
      profile: purpose,
      csr: purpose === 'card-auth' ? csrs.authCsr : csrs.signCsr,
      holder: HOLDER,
      cardNumber: RESERVE_CARD,
      validity: { notBefore: h.clock.now(), notAfter: h.clock.now() + 86_400_000 },
      orderId: 'order-anna',
      actor: 'SE2321000016-adm2',
      intentId: intents[purpose],
    });
    serials.push(certificate.serial);
  }
  return { intents, serials };
};

const revocationOf = async (h: Harness, serial: string) =>
  (await certificateStatus(h.t.store.db, serial))?.revocation ?? null;

describe('the issuance reconciler', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    h?.services.reconciler.stop();
    await h?.dispose();
    h = undefined;
  });

  it.each([
    ['nothing issued', [] as IssuancePurpose[]],
    ['only the authentication certificate issued', ['card-auth'] as IssuancePurpose[]],
    ['both issued, not bound', ['card-auth', 'card-sign'] as IssuancePurpose[]],
  ])(
    'a claim a crash left unbound (%s): after the grace period the flow ends with DOWNLOAD_FAILED and all is revoked',
    async (_name, issued) => {
      h = await createIssuanceHarness();
      const page = new Page(h);
      const { csrs } = await walkTo(h, page, 'keys-on-card');
      if (csrs === undefined) throw new Error('the card made no CSRs');
      const { intents, serials } = await crashAfterIssuing(h, page.flowId, csrs, issued);

      // Within the grace period the request may still be running: nothing is judged.
      expect(await h.services.reconciler.reconcile()).toEqual({ ended: 0, revoked: 0 });
      for (const serial of serials) expect(await revocationOf(h, serial)).toBeNull();

      h.clock.advance(GRACE_MS + 1000);
      expect(await h.services.reconciler.reconcile()).toEqual({ ended: 1, revoked: serials.length });
      const view = (await page.view()).body;
      expect(view.view.fault).toMatchObject({
        code: 'DOWNLOAD_FAILED',
        details: { reason: 'issuance-interrupted' },
      });
      expect(view.view.controls).toContainEqual({ id: 'restart', enabled: true });
      expect(view.cardEffects).toEqual([{ type: 'clean-card', cardNumber: RESERVE_CARD }]);
      for (const serial of serials) {
        expect(await revocationOf(h, serial)).toMatchObject({
          reason: 'cessationOfOperation',
          revokedBy: 'issuance-reconciler',
        });
      }
      const audit = await h.t.store.db
        .selectFrom('audit_log')
        .select(['action', 'actor', 'details'])
        .where('subject', '=', page.flowId)
        .where('action', 'in', ['flow.download-failed', 'issuance.unbound-revoked'])
        .execute();
      expect(audit.map((a) => [a.action, a.actor])).toEqual([
        ['flow.download-failed', 'issuance-reconciler'],
        ...(serials.length > 0 ? [['issuance.unbound-revoked', 'issuance-reconciler']] : []),
      ]);
      expect((await listIntentsOfFlow(h.t.store.db, page.flowId)).map((i) => i.outcome)).toEqual([
        'revoked',
        'revoked',
      ]);
      // The request, had it lived on, can record nothing more under its intents.
      await expect(
        h.t.ca.issue({
          caId: 'loa3',
          profile: 'card-sign',
          csr: csrs.signCsr,
          holder: HOLDER,
          cardNumber: RESERVE_CARD,
          validity: { notBefore: h.clock.now(), notAfter: h.clock.now() + 86_400_000 },
          orderId: 'order-anna',
          actor: 'SE2321000016-adm2',
          intentId: intents['card-sign'],
        }),
      ).rejects.toMatchObject({ code: 'CONFLICT' });
      // Nothing is left to judge, and the restart the screen offers starts a new flow.
      expect(await h.services.reconciler.reconcile()).toEqual({ ended: 0, revoked: 0 });
      const restarted = await page.api('POST', `/api/flows/${page.flowId}/restart`);
      expect(restarted.status, JSON.stringify(restarted.body)).toBe(200);
      expect(restarted.body.view.step).toBe(1);
    },
  );

  it('keeps what a live flow holds; the acknowledgement settles what the completed flow keeps', async () => {
    h = await createIssuanceHarness();
    const page = new Page(h);
    await walkTo(h, page, 7);
    const serials = (await h.services.issuance.load(page.flowId)).state.issuedSerials;
    h.clock.advance(GRACE_MS + 1000);
    expect(await h.services.reconciler.reconcile()).toEqual({ ended: 0, revoked: 0 });
    for (const serial of serials) expect(await revocationOf(h, serial)).toBeNull();
    expect((await listIntentsOfFlow(h.t.store.db, page.flowId)).map((i) => i.settledAt)).toEqual([
      null,
      null,
    ]);

    const ack = await page.signChallenge('acknowledge', 'reader-2', '2222');
    const done = await page.api('POST', `/api/flows/${page.flowId}/acknowledge`, {
      challengeId: ack.challengeId,
      signature: ack.signature,
    });
    expect(done.body.view?.status, JSON.stringify(done.body)).toBe('completed');
    // Settled in the acknowledgement's own transaction: nothing is left for a reconciler pass.
    const kept = await listIntentsOfFlow(h.t.store.db, page.flowId);
    expect(kept.map((i) => i.outcome)).toEqual(['kept', 'kept']);
    expect(kept.every((i) => i.settledAt !== null && i.closedAt !== null)).toBe(true);
    expect(await listUnsettledIntents(h.t.store.db, h.clock.now(), 10)).toEqual([]);
    expect(await h.services.reconciler.reconcile()).toEqual({ ended: 0, revoked: 0 });
    expect(kept.map((i) => i.serial).sort()).toEqual([...serials].sort());
    for (const serial of serials) expect(await revocationOf(h, serial)).toBeNull();
  });

  it('runs on its own on a running server; a request after it ended the claim issues nothing', async () => {
    h = await createIssuanceHarness({}, () => ({ reconciler: { graceMs: 200, intervalMs: 50 } }));
    const page = new Page(h);
    const { csrs } = await walkTo(h, page, 'keys-on-card');
    if (csrs === undefined) throw new Error('the card made no CSRs');
    const { serials } = await crashAfterIssuing(h, page.flowId, csrs, ['card-auth']);
    h.services.reconciler.start();
    const settled = async () =>
      (await h?.services.issuance.load(page.flowId))?.state.fault != null &&
      (await revocationOf(h as Harness, serials[0] ?? '')) !== null;
    for (const until = Date.now() + 5000; !(await settled()) && Date.now() < until; )
      await new Promise((resolve) => setTimeout(resolve, 50));
    h.services.reconciler.stop();
    expect((await h.services.issuance.load(page.flowId)).state.fault).toMatchObject({
      code: 'DOWNLOAD_FAILED',
    });
    expect(await revocationOf(h, serials[0] ?? '')).not.toBeNull();
    // The page sends the request again: refused, and nothing of the card stays good.
    const late = await page.api('POST', `/api/flows/${page.flowId}/certificates`, csrs);
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('CERTIFICATES_ALREADY_REQUESTED');
    const card = await h.t.store.db
      .selectFrom('certificates')
      .select('serial')
      .where('card_number', '=', RESERVE_CARD)
      .where('profile', '<>', 'card-bureau')
      .execute();
    for (const { serial } of card) expect(await revocationOf(h, serial)).not.toBeNull();
    expect(await h.services.sweepFailures.count('reconciler')).toBe(0);
  });
});
