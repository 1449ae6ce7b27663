// Certificates exist exactly once, or are revoked: parallel requests for one flow's certificates,
// one key offered for both certificates, an order cancelled under a running flow, and background
// sweeps that fail. Real store (SQLite and PostgreSQL), CA, server over HTTP, agent and cards.
// The X.509 library's dependency injection needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { Pkcs10CertificateRequestGenerator } from '@peculiar/x509';
import { certificateStatus, getFlow, getOrder } from '@reservkort/store';
import { afterEach, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../store/src/test-support/test-stores.js';
import { buildApp } from '../app.js';
import { walkTo } from '../test-support/acceptance-flow.js';
import { createIssuanceHarness, type Harness, RESERVE_CARD } from '../test-support/issuance-harness.js';
import { Page } from '../test-support/page.js';

const crypto = webcrypto as unknown as Crypto;

/** The reserve card's certificates in the CA's table, with their revocation if any. */
const cardCertificates = async (h: Harness) => {
  const rows = await h.t.store.db
    .selectFrom('certificates')
    .select(['serial', 'profile'])
    .where('card_number', '=', RESERVE_CARD)
    // The card bureau's certificate of the card itself is no issued e-ID.
    .where('profile', '<>', 'card-bureau')
    .execute();
  return Promise.all(
    rows.map(async (r) => ({
      ...r,
      revocation: (await certificateStatus(h.t.store.db, r.serial))?.revocation ?? null,
    })),
  );
};

const stateOf = async (h: Harness, flowId: string) => (await h.services.issuance.load(flowId)).state;

describe('issuing a flow’s certificates', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.dispose();
    h = undefined;
  });

  describe.each(DIALECTS)('on %s', (dialect) => {
    it('six parallel requests: one 200, five 409, exactly two certificates, none orphaned', async () => {
      h = await createIssuanceHarness({}, () => ({}), dialect);
      const page = new Page(h);
      const { csrs } = await walkTo(h, page, 'keys-on-card');

      const answers = await Promise.all(
        Array.from({ length: 6 }, () => page.api('POST', `/api/flows/${page.flowId}/certificates`, csrs)),
      );
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses, JSON.stringify(answers.map((a) => a.body.code ?? 'ok'))).toEqual([
        200, 409, 409, 409, 409, 409,
      ]);
      for (const lost of answers.filter((a) => a.status === 409))
        expect(lost.body.code).toBe('CERTIFICATES_ALREADY_REQUESTED');

      const issued = await cardCertificates(h);
      expect(issued.map((c) => c.profile).sort()).toEqual(['card-auth', 'card-sign']);
      const bound = (await stateOf(h, page.flowId)).issuedSerials;
      expect([...bound].sort()).toEqual(issued.map((c) => c.serial).sort());

      // Past the grace period the reconciler finds both bound to the live flow: nothing revoked.
      h.clock.advance(60_000);
      await h.services.reconciler.reconcile();
      expect((await cardCertificates(h)).every((c) => c.revocation === null)).toBe(true);

      // An abort revokes both, and nothing else of the card's stays good.
      const aborted = await page.api('POST', `/api/flows/${page.flowId}/abort`, { reason: 'restart' });
      expect(aborted.status, JSON.stringify(aborted.body)).toBe(200);
      await h.services.reconciler.reconcile();
      const after = await cardCertificates(h);
      expect(after).toHaveLength(2);
      expect(after.every((c) => c.revocation?.reason === 'cessationOfOperation')).toBe(true);
    });
  });

  it('one key offered for both certificates: refused with CSR_SAME_KEY, nothing issued', async () => {
    h = await createIssuanceHarness();
    const page = new Page(h);
    const { csrs } = await walkTo(h, page, 'keys-on-card');
    if (csrs === undefined) throw new Error('the card made no CSRs');
    const certificatesUrl = `/api/flows/${page.flowId}/certificates`;

    const same = await page.api('POST', certificatesUrl, { authCsr: csrs.authCsr, signCsr: csrs.authCsr });
    expect(same.status, JSON.stringify(same.body)).toBe(422);
    expect(same.body.code).toBe('CSR_SAME_KEY');

    // Two different requests around one key pair are refused alike.
    const keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ])) as CryptoKeyPair;
    const csrFor = async (name: string) =>
      (
        await Pkcs10CertificateRequestGenerator.create(
          { name, keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } },
          crypto,
        )
      ).toString('pem');
    const twin = await page.api('POST', certificatesUrl, {
      authCsr: await csrFor('CN=auth'),
      signCsr: await csrFor('CN=sign'),
    });
    expect(twin.status, JSON.stringify(twin.body)).toBe(422);
    expect(twin.body.code).toBe('CSR_SAME_KEY');

    expect(await cardCertificates(h)).toEqual([]);
    const state = await stateOf(h, page.flowId);
    expect(state).toMatchObject({ step: 6, status: 'active', fault: null, issuedSerials: [] });

    // The card's own two keys are then issued as usual.
    const proper = await page.api('POST', certificatesUrl, csrs);
    expect(proper.status, JSON.stringify(proper.body)).toBe(200);
    expect(await cardCertificates(h)).toHaveLength(2);
  });

  it('cancelling the order at step 7 aborts the flow: both revoked, KVITTERA refused with ORDER_CANCELLED', async () => {
    h = await createIssuanceHarness();
    const page = new Page(h);
    await walkTo(h, page, 7);
    const serials = (await stateOf(h, page.flowId)).issuedSerials;
    expect(serials).toHaveLength(2);

    const cancelled = await page.api('POST', '/api/admin/orders/order-anna/cancel');
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    expect(cancelled.body.state).toBe('cancelled');
    expect((await getOrder(h.t.store.db, 'order-anna'))?.state).toBe('cancelled');

    const view = (await page.view()).body;
    expect(view.view.status).toBe('aborted');
    expect(view.view.timeline.at(-1)).toMatchObject({ event: 'aborted', codes: ['ORDER_CANCELLED'] });
    // The card is offered its clean-up, like after any failure from step 6 on.
    expect(view.cardEffects).toEqual([{ type: 'clean-card', cardNumber: RESERVE_CARD }]);
    for (const serial of serials) {
      expect((await certificateStatus(h.t.store.db, serial))?.revocation?.reason).toBe(
        'cessationOfOperation',
      );
    }

    const ack = await page.signChallenge('acknowledge', 'reader-2', '2222');
    const refused = await page.api('POST', `/api/flows/${page.flowId}/acknowledge`, {
      challengeId: ack.challengeId,
      signature: ack.signature,
    });
    expect(refused.status, JSON.stringify(refused.body)).toBe(410);
    expect(refused.body.code).toBe('ORDER_CANCELLED');
    const abort = await page.api('POST', `/api/flows/${page.flowId}/abort`, { reason: 'logout' });
    expect(abort.status).toBe(410);
    expect(abort.body.code).toBe('ORDER_CANCELLED');

    // Past the deadline the sweeper has nothing to do, and nothing fails.
    h.clock.advance(11 * 60_000);
    expect(await h.services.sweeper.sweep()).toBe(0);
    expect(await h.services.sweepFailures.count('deadline')).toBe(0);
  });

  it('a flow that moved on after the request read it is read again: KVITTERA still completes, once', async () => {
    h = await createIssuanceHarness();
    const page = new Page(h);
    await walkTo(h, page, 7);
    const issuance = h.services.issuance;
    const read = await issuance.load(page.flowId);
    // A tick lands between the request's read and its write.
    await issuance.apply(page.flowId, null, { type: 'tick', at: h.clock.now() });
    expect((await issuance.load(page.flowId)).version).toBeGreaterThan(read.version);
    const order = read.state.order;
    if (order === null) throw new Error('the flow has its order');
    const acknowledged = { type: 'acknowledged', cardNumber: order.cardNumber, at: h.clock.now() } as const;
    const done = await issuance.apply(page.flowId, null, acknowledged, { recent: read });
    expect(done.view.status).toBe('completed');
    expect((await getOrder(h.t.store.db, 'order-anna'))?.state).toBe('completed');
    // The same stale read again: the flow is read anew and the machine refuses a second KVITTERA.
    await expect(issuance.apply(page.flowId, null, acknowledged, { recent: read })).rejects.toMatchObject({
      code: expect.any(String),
    });
    expect((await issuance.load(page.flowId)).state.status).toBe('completed');
  });

  it('a flow frozen by an earlier cancel (order cancelled under step 7) is ended by the sweeper, not retried forever', async () => {
    h = await createIssuanceHarness();
    const page = new Page(h);
    await walkTo(h, page, 7);
    const state = await stateOf(h, page.flowId);
    // What the cancel route used to do: the order alone, the flow left at step 7.
    await h.t.store.db
      .updateTable('orders')
      .set({ state: 'cancelled' })
      .where('id', '=', 'order-anna')
      .execute();
    h.clock.advance((state.deadline ?? 0) - h.clock.now() + 1000);
    expect(await h.services.sweeper.sweep()).toBe(1);
    const flow = await getFlow(h.t.store.db, page.flowId);
    expect(flow?.status).toBe('ack-timeout-revoked');
    expect(flow?.pendingEffects).toEqual([]);
    for (const serial of state.issuedSerials)
      expect((await certificateStatus(h.t.store.db, serial))?.revocation).not.toBeNull();
    expect((await getOrder(h.t.store.db, 'order-anna'))?.state).toBe('cancelled');
    expect(await h.services.sweepFailures.count('deadline')).toBe(0);
  });

  it('a failing sweep is logged and counted in /metrics, never swallowed', async () => {
    h = await createIssuanceHarness();
    const stream = new PassThrough();
    const lines: string[] = [];
    stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
    const logged = await buildApp(h.ctx, {
      logger: true,
      logStream: stream,
      services: h.services,
      operations: { mode: 'open', token: null, separateListener: false },
    });
    try {
      const page = new Page(h);
      await walkTo(h, page, 7);
      // A flow row nobody can read, due and holding certificates: both sweeps trip over it. Its
      // version moves on, as at every write of a state: a server reads a state again only then.
      await h.t.store.db
        .updateTable('flows')
        .set((eb) => ({ state_json: '{"broken":', deadline: 0, version: eb('version', '+', 1) }))
        .where('id', '=', page.flowId)
        .execute();
      h.clock.advance(60_000);
      await h.services.sweeper.tick();
      await h.services.sweeper.tick();
      await h.services.reconciler.tick();

      const metrics = (await logged.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metrics).toMatch(/reservkort_sweep_failures_total\{sweeper="deadline"\} 2/);
      expect(metrics).toMatch(/reservkort_sweep_failures_total\{sweeper="reconciler"\} 1/);
      const failures = lines.map((l) => JSON.parse(l)).filter((l) => l.level === 50);
      expect(failures.map((l) => l.sweeper)).toEqual(['deadline', 'deadline', 'reconciler']);
      for (const line of failures) {
        expect(line.msg).toMatch(/sweep failed/);
        expect(line.err?.message).toBeTruthy();
      }
    } finally {
      await logged.close();
    }
  });
});
