// What the service desk reads in a case: every attempt at the order (a restart is a new flow), the
// order a refused search explained (OWN_ORDER), the card's certificates with their status now, and
// the queue searched and sorted without giving away a protected recipient.
import type { CardNumber, HsaId } from '@reservkort/domain';
import { grantStaffRole } from '@reservkort/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../store/src/test-support/test-stores.js';
import {
  ADMIN1,
  ADMIN1_CARD,
  ADMIN2,
  ADMIN2_CARD,
  ANNA,
  ANNA_PNR,
  createIssuanceHarness,
  type Harness,
  RESERVE_CARD,
} from '../test-support/issuance-harness.js';
import { Page } from '../test-support/page.js';
import { provisionCard } from '../test-support/provision-card.js';
import { flowStationNonce } from '../test-support/station-agent.js';

const DESK = 'SE2321000016-desk' as HsaId;
const DESK_CARD = '9752278900000000009' as CardNumber;

describe.each(DIALECTS)('support cases as the service desk reads them, on %s', (dialect) => {
  let h: Harness;
  let desk: Page;
  /** Case ids by what they hold. */
  const filed: Record<'restarted' | 'ownOrder', string> = { restarted: '', ownOrder: '' };
  let cardSerials: string[] = [];

  beforeAll(async () => {
    h = await createIssuanceHarness({}, () => ({}), dialect);
    // Admin 2: a search that needs the whole HSA-id, then Anna's order, then "Starta om utgivningen",
    // and the order again in the new flow, where the case is filed with the login card's certificates.
    const admin2 = new Page(h);
    await admin2.login(ADMIN2_CARD);
    await admin2.start();
    await admin2.action('manage-orders');
    await admin2.api('POST', `/api/flows/${admin2.flowId}/search`, { query: 'abc1' });
    await admin2.api('POST', `/api/flows/${admin2.flowId}/search`, { query: ANNA_PNR });
    await admin2.action('order-selected');
    const first = admin2.flowId;
    const restarted = await admin2.api('POST', `/api/flows/${first}/restart`);
    expect(restarted.status, JSON.stringify(restarted.body)).toBe(200);
    admin2.flowId = restarted.body.view.flowId;
    admin2.stationNonce = restarted.body.stationNonce;
    await admin2.action('manage-orders');
    await admin2.api('POST', `/api/flows/${admin2.flowId}/search`, { query: ANNA_PNR });
    await admin2.action('order-selected');
    const certificates = await h.agent.statement(h.agentToken, {
      flowId: admin2.flowId,
      nonce: await flowStationNonce(h, admin2.flowId),
      kind: 'card-certificates',
      reader: 1,
    });
    const preview = await admin2.api('POST', '/api/support/cases/preview', {
      flowId: admin2.flowId,
      statements: [certificates],
    });
    expect(preview.body.case.attempts.map((a: { flowId: string }) => a.flowId)).toEqual([first]);
    const sent = await admin2.api('POST', '/api/support/cases', {
      flowId: admin2.flowId,
      comment: 'Andra försöket',
      statements: [certificates],
    });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    filed.restarted = sent.body.id;
    cardSerials = sent.body.case.certificates.map((c: { serial: string }) => c.serial);
    await admin2.api('POST', '/api/auth/logout');
    await h.cards.removeCard('reader-1');

    // Admin 1 searches for Anna, whose order admin 1 registered: OWN_ORDER, and a case.
    const admin1 = new Page(h);
    await admin1.login(ADMIN1_CARD);
    await admin1.start();
    await admin1.action('manage-orders');
    const own = await admin1.api('POST', `/api/flows/${admin1.flowId}/search`, { query: ANNA_PNR });
    expect(own.body.raised).toContain('OWN_ORDER');
    const ownCase = await admin1.api('POST', '/api/support/cases', { flowId: admin1.flowId });
    expect(ownCase.status, JSON.stringify(ownCase.body)).toBe(201);
    filed.ownOrder = ownCase.body.id;
    await admin1.api('POST', '/api/auth/logout');
    await h.cards.removeCard('reader-1');

    await provisionCard(h.cards, h.t.ca, {
      hsaId: DESK,
      givenName: 'Sara',
      surname: 'Servicedesk',
      cardNumber: DESK_CARD,
    });
    await grantStaffRole(h.t.store.db, { hsaId: DESK, role: 'service-desk' });
    desk = new Page(h);
    expect((await desk.login(DESK_CARD)).body.serviceDesk).toBe(true);
  });
  afterAll(async () => h?.dispose());

  it('covers the order: the attempt before the restart with its codes, and every code in the case', async () => {
    const shown = await desk.api('GET', `/api/support/cases/${filed.restarted}`);
    const attempts = shown.body.case.attempts;
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({
      status: 'aborted',
      step: 3,
      admin2HsaId: ADMIN2,
      codes: ['HSA_ID_INCOMPLETE'],
    });
    expect(attempts[0].timeline.at(-1)).toMatchObject({ event: 'aborted', details: { reason: 'restart' } });
    expect(shown.body.codes).toEqual(['HSA_ID_INCOMPLETE']);
    expect(shown.body.catalogue.map((e: { code: string }) => e.code)).toEqual(['HSA_ID_INCOMPLETE']);
    // The queue finds it by the earlier attempt's code.
    const byCode = await desk.api('GET', '/api/support/cases?code=HSA_ID_INCOMPLETE');
    expect(byCode.body.cases.map((c: { id: string }) => c.id)).toEqual([filed.restarted]);
  });

  it('fills admin 1, the recipient and the card number of the order OWN_ORDER explained', async () => {
    const shown = await desk.api('GET', `/api/support/cases/${filed.ownOrder}`);
    expect(shown.body.codes).toEqual(['OWN_ORDER']);
    expect(shown.body.case).toMatchObject({
      admin1HsaId: ADMIN1,
      admin2HsaId: ADMIN1,
      recipientHsaId: ANNA,
      cardNumber: RESERVE_CARD,
      protectedIdentity: false,
    });
  });

  it('gives each certificate on the card its status now: good, then revoked with the reason', async () => {
    expect(cardSerials.length).toBeGreaterThan(0);
    const before = await desk.api('GET', `/api/support/cases/${filed.restarted}`);
    expect(before.body.certificateStatuses).toEqual(
      cardSerials.map((serial) => ({ serial, status: 'good' })),
    );
    const [revoked, ...rest] = cardSerials;
    await h.t.ca.revoke(revoked ?? '', 'keyCompromise', 'test');
    const after = await desk.api('GET', `/api/support/cases/${filed.restarted}`);
    expect(after.body.certificateStatuses).toEqual([
      { serial: revoked, status: 'revoked', reason: 'keyCompromise', revokedAt: expect.any(Number) },
      ...rest.map((serial) => ({ serial, status: 'good' })),
    ]);
  });

  it('searches and sorts the queue on the server, and refuses a sort it does not know', async () => {
    const ids = async (query: string) =>
      (await desk.api('GET', `/api/support/cases?${query}`)).body.cases.map((c: { id: string }) => c.id);
    expect(await ids('q=own_order')).toEqual([filed.ownOrder]);
    expect(await ids(`q=${ADMIN2.toLowerCase()}`)).toEqual([filed.restarted]);
    expect(await ids('q=9752 2789 0000 0000 100')).toEqual([filed.ownOrder, filed.restarted]);
    expect(await ids(`q=${filed.restarted}`)).toEqual([filed.restarted]);
    expect(await ids('sort=reportedBy&direction=asc')).toEqual([filed.ownOrder, filed.restarted]);
    expect(await ids('sort=reportedBy&direction=desc')).toEqual([filed.restarted, filed.ownOrder]);
    expect(await ids('sort=createdAt&direction=asc')).toEqual([filed.restarted, filed.ownOrder]);
    const refused = await desk.api('GET', '/api/support/cases?sort=name');
    expect(refused.status).toBe(400);
  });

  it('files READERS_MISSING before login on a registered station’s signed word alone, once per challenge', async () => {
    const anonymous = new Page(h);
    await h.cards.unplugReader('reader-2');
    const challenge = await anonymous.api('POST', '/api/support/cases/before-login/challenge');
    expect(challenge.status).toBe(200);
    const sign = (kind: 'agent-info' | 'readers') =>
      h.agent.statement(h.agentToken, {
        flowId: challenge.body.challengeId,
        nonce: challenge.body.stationNonce,
        kind,
      });
    const statements = [await sign('agent-info'), await sign('readers')];
    const body = { challengeId: challenge.body.challengeId, comment: 'Läsare 2 syns inte', statements };
    const filed = await anonymous.api('POST', '/api/support/cases/before-login', body);
    expect(filed.status, JSON.stringify(filed.body)).toBe(201);
    expect(filed.body.case).toMatchObject({
      flowId: '',
      reportedBy: expect.stringMatching(/^st-/),
      admin2HsaId: null,
      agentVersion: '0.1.0',
      agentPackaging: 'test',
      codes: ['READERS_MISSING'],
      readers: { throughout: false, gaps: [{ reader: 2, to: null }] },
    });
    expect(filed.body.case.timeline[0]).toMatchObject({
      event: 'station-reported',
      details: { reader1: true, reader2: false, missing: '2' },
    });
    // The challenge is used up: the same statements cannot file a second case.
    const again = await anonymous.api('POST', '/api/support/cases/before-login', body);
    expect(again.body).toMatchObject({ code: 'STATEMENT_INVALID', details: { reason: 'nonce' } });
    // The desk sees it in the queue, reported by the station.
    const queue = await desk.api('GET', '/api/support/cases?code=READERS_MISSING');
    expect(queue.body.cases.map((c: { id: string }) => c.id)).toEqual([filed.body.id]);
    expect(queue.body.cases[0].reportedBy).toBe(filed.body.case.reportedBy);

    // With both readers there, there is nothing to report before login.
    await h.cards.plugReader('reader-2');
    const next = await anonymous.api('POST', '/api/support/cases/before-login/challenge');
    const signNext = (kind: 'agent-info' | 'readers') =>
      h.agent.statement(h.agentToken, { flowId: next.body.challengeId, nonce: next.body.stationNonce, kind });
    const refused = await anonymous.api('POST', '/api/support/cases/before-login', {
      challengeId: next.body.challengeId,
      statements: [await signNext('agent-info'), await signNext('readers')],
    });
    expect(refused.body).toMatchObject({ code: 'REQUEST_INVALID' });
  });

  it('files one case for one challenge when the same report is sent many times at once', async () => {
    const anonymous = new Page(h);
    await h.cards.unplugReader('reader-2');
    const challenge = await anonymous.api('POST', '/api/support/cases/before-login/challenge');
    const sign = (kind: 'agent-info' | 'readers') =>
      h.agent.statement(h.agentToken, {
        flowId: challenge.body.challengeId,
        nonce: challenge.body.stationNonce,
        kind,
      });
    const body = {
      challengeId: challenge.body.challengeId,
      comment: 'Skickat flera gånger',
      statements: [await sign('agent-info'), await sign('readers')],
    };
    const before = (await desk.api('GET', '/api/support/cases?code=READERS_MISSING')).body.cases.length;
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => anonymous.api('POST', '/api/support/cases/before-login', body)),
    );
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    for (const refused of answers.filter((a) => a.status !== 201)) {
      expect(refused.status).toBeGreaterThanOrEqual(400);
      expect(refused.status).toBeLessThan(500);
      expect(refused.body.code).toBe('STATEMENT_INVALID');
    }
    const after = (await desk.api('GET', '/api/support/cases?code=READERS_MISSING')).body.cases.length;
    expect(after).toBe(before + 1);
    await h.cards.plugReader('reader-2');
  });
});
