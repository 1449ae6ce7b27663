import type { CardNumber, HsaId } from '@reservkort/domain';
import { grantStaffRole } from '@reservkort/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ADMIN1_CARD,
  ADMIN2_CARD,
  ANNA,
  ANNA_PNR,
  CARD_PINS,
  completeWithPins,
  createIssuanceHarness,
  type Harness,
} from '../test-support/issuance-harness.js';
import { Page } from '../test-support/page.js';
import { provisionCard } from '../test-support/provision-card.js';
import { flowStationNonce, readersStatement } from '../test-support/station-agent.js';
import { stockTestCards } from '../test-support/test-stock.js';

const DESK = 'SE2321000016-desk' as HsaId;
const DESK_CARD = '9752278900000000009' as CardNumber;

/**
 * Admin 1 signs a prepared order with the signature key of the card in reader 1; the station states
 * its readers for that draft.
 */
const signDraft = async (
  h: Harness,
  prepared: { challengeId: string; toBeSigned: string; stationNonce: string },
) => {
  const started = await h.agent.sign(
    h.agentToken,
    'reader-1',
    Buffer.from(prepared.toBeSigned, 'base64'),
    null,
  );
  const done = await completeWithPins(h.agent, started, [CARD_PINS.pin2]);
  const info = await h.cards.cardInfo('reader-1');
  return {
    signature: (done.result as { signature: string }).signature,
    certificate: Buffer.from(
      info.certificates.find((c) => c.key === 'sign')?.der ?? new Uint8Array(),
    ).toString('base64'),
    readers: await readersStatement(h.agent, h.agentToken, prepared.challengeId, prepared.stationNonce),
  };
};

describe('admin portal and support cases over HTTP', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createIssuanceHarness();
    await stockTestCards(h.t.store.db, ['9752278900000000555', '9752278900000000556'] as CardNumber[]);
  });
  afterEach(async () => {
    await h.dispose();
  });

  it('lets admin 1 find a person, register an order signed with the card, see it and cancel it', async () => {
    const page = new Page(h);
    expect((await page.login(ADMIN1_CARD)).status).toBe(200);
    const found = await page.api('GET', `/api/admin/persons?query=${ANNA_PNR}`);
    expect(found.body.person).toMatchObject({
      hsaId: ANNA,
      name: 'Anna Andersson',
      organisation: 'Kliniken',
    });
    expect(found.body.orders).toHaveLength(1);

    const now = Date.now();
    const draft = {
      personHsaId: ANNA,
      cardNumber: '9752 2789 0000 0000 555',
      validity: { notBefore: now, notAfter: now + 5 * 86_400_000 },
      idDocument: 'swedish-passport',
    };
    const prepared = await page.api('POST', '/api/admin/orders/prepare', draft);
    expect(prepared.status, JSON.stringify(prepared.body)).toBe(200);
    const signed = await signDraft(h, prepared.body);
    const registered = await page.api('POST', '/api/admin/orders', {
      challengeId: prepared.body.challengeId,
      ...signed,
    });
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);
    expect(registered.body).toMatchObject({ state: 'registered', cardNumber: '9752278900000000555' });
    // The draft's signature is single-use.
    const replay = await page.api('POST', '/api/admin/orders', {
      challengeId: prepared.body.challengeId,
      ...signed,
    });
    expect(replay.body.code).toBe('SIGNATURE_INVALID');

    expect((await page.api('GET', `/api/admin/persons?query=${ANNA}`)).body.orders).toHaveLength(2);
    // Once the login card has left its reader, the session may no longer sign orders.
    const again2 = await page.api('POST', '/api/admin/orders/prepare', {
      ...draft,
      cardNumber: '9752278900000000556',
    });
    const marked = await page.api('POST', '/api/auth/card-removed', { cardNumber: ADMIN1_CARD });
    expect(marked.body, JSON.stringify(marked.body)).toMatchObject({
      loginCardRemovedAt: expect.any(Number),
    });
    const late = await signDraft(h, again2.body);
    const refused = await page.api('POST', '/api/admin/orders', {
      challengeId: again2.body.challengeId,
      ...late,
    });
    expect(refused.body).toMatchObject({
      code: 'CARD_REINSERTED',
      details: { removedAt: expect.any(Number) },
    });
    const cancelled = await page.api('POST', `/api/admin/orders/${registered.body.id}/cancel`);
    expect(cancelled.body.state).toBe('cancelled');
    const again = await page.api('POST', `/api/admin/orders/${registered.body.id}/cancel`);
    expect(again.body.code).toBe('ORDER_STATE_CONFLICT');
  });

  it('reports every problem of an order at once, and refuses a card number given to someone else', async () => {
    const page = new Page(h);
    await page.login(ADMIN1_CARD);
    const bad = await page.api('POST', '/api/admin/orders/prepare', {
      personHsaId: ANNA,
      cardNumber: '1234',
      validity: { notBefore: Date.now(), notAfter: Date.now() + 60 * 86_400_000 },
      idDocument: 'library-card',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.details.problems.split(',')).toEqual([
      'CARD_NUMBER_INVALID',
      'VALIDITY_TOO_LONG',
      'ID_DOCUMENT_NOT_LOA3',
    ]);
    expect(bad.body.message).toMatchObject({ sv: expect.any(String), en: expect.any(String) });
  });

  it('files a pre-filled support case from a flow, which the service desk works; others may not see the queue', async () => {
    const admin2 = new Page(h);
    await admin2.login(ADMIN2_CARD);
    await admin2.start();
    await admin2.action('manage-orders');
    await admin2.api('POST', `/api/flows/${admin2.flowId}/search`, { query: 'abc1' });
    const agentInfo = await h.agent.statement(h.agentToken, {
      flowId: admin2.flowId,
      nonce: await flowStationNonce(h, admin2.flowId),
      kind: 'agent-info',
    });
    const filed = await admin2.api('POST', '/api/support/cases', {
      flowId: admin2.flowId,
      comment: 'Hittar inte beställningen',
      statements: [agentInfo],
    });
    expect(filed.status, JSON.stringify(filed.body)).toBe(201);
    expect(filed.body.case).toMatchObject({
      admin2HsaId: 'SE2321000016-adm2',
      agentVersion: '0.1.0',
      agentPackaging: 'test',
      stationId: expect.stringMatching(/^st-/),
    });
    expect(filed.body.codes).toContain('HSA_ID_INCOMPLETE');
    // A refusal the flow answered without recording it (EVENT_OUT_OF_ORDER) is named by the code
    // the portal showed; what is no catalogue code is left out.
    const refused = await admin2.api('POST', '/api/support/cases/preview', {
      flowId: admin2.flowId,
      shownCodes: ['EVENT_OUT_OF_ORDER', 'NOT_A_CODE'],
    });
    expect(refused.status, JSON.stringify(refused.body)).toBe(200);
    expect(refused.body.case.codes).toEqual(['HSA_ID_INCOMPLETE', 'EVENT_OUT_OF_ORDER']);
    expect(refused.body.catalogue.map((e: { code: string }) => e.code)).toContain('EVENT_OUT_OF_ORDER');
    expect((await admin2.api('GET', '/api/support/cases')).body.code).toBe('ACCESS_DENIED');

    await h.cards.removeCard('reader-1');
    await provisionCard(h.cards, h.t.ca, {
      hsaId: DESK,
      givenName: 'Sara',
      surname: 'Servicedesk',
      cardNumber: DESK_CARD,
    });
    await grantStaffRole(h.t.store.db, { hsaId: DESK, role: 'service-desk' });
    const desk = new Page(h);
    expect((await desk.login(DESK_CARD)).body.serviceDesk).toBe(true);
    const queue = await desk.api('GET', '/api/support/cases?status=open&code=HSA_ID_INCOMPLETE');
    expect(queue.body.cases.map((c: { id: string }) => c.id)).toEqual([filed.body.id]);
    const one = await desk.api('GET', `/api/support/cases/${filed.body.id}`);
    expect(one.body.catalogue.map((e: { code: string }) => e.code)).toContain('HSA_ID_INCOMPLETE');
    expect(one.body.case.timeline.length).toBeGreaterThan(2);
    expect((await desk.api('POST', `/api/support/cases/${filed.body.id}/assign`)).body).toMatchObject({
      status: 'assigned',
      assignee: DESK,
    });
    expect(
      (
        await desk.api('POST', `/api/support/cases/${filed.body.id}/comments`, {
          text: 'Be om fullständigt HSA-id.',
        })
      ).status,
    ).toBe(201);
    expect((await desk.api('POST', `/api/support/cases/${filed.body.id}/resolve`)).body.status).toBe(
      'resolved',
    );
    expect((await desk.api('GET', `/api/support/cases/${filed.body.id}`)).body.comments).toHaveLength(1);
    expect((await desk.api('GET', '/api/catalogue')).body.entries.length).toBeGreaterThan(50);
  });
});
