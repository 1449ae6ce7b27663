// A challenge is made for one purpose: a login challenge, or a statement for another route, sent
// where a statement of a given purpose is expected is refused with the catalogue's code. Numbers
// beyond what the database takes are refused before they reach it.

import { type CardNumber, isErrorCode } from '@reservkort/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Answer, Client, send, signWithCard } from '../test-support/acceptance-client.js';
import { ACTORS, addAcceptanceDirectory } from '../test-support/acceptance-directory.js';
import {
  ADMIN1_CARD,
  ADMIN2_CARD,
  ANNA,
  createIssuanceHarness,
  type Harness,
} from '../test-support/issuance-harness.js';
import { readersStatement } from '../test-support/station-agent.js';
import { stockTestCards } from '../test-support/test-stock.js';

/** A refusal the catalogue explains: 4xx with a known code. */
const expectRefused = (answer: Answer, code: string) => {
  const where = `${answer.status} ${answer.raw.toString('utf8').slice(0, 300)}`;
  expect(answer.status, where).toBeGreaterThanOrEqual(400);
  expect(answer.status, where).toBeLessThan(500);
  expect(isErrorCode(answer.body?.code), where).toBe(true);
  expect(answer.body.code, where).toBe(code);
};

describe('a challenge used where it does not belong', () => {
  let h: Harness;
  const admin1 = {} as { client: Client };
  const admin2 = {} as { client: Client };
  const desk = {} as { client: Client };
  let flowId = '';

  const loginChallenge = async (): Promise<string> =>
    (await send(h.baseUrl, 'POST', '/api/auth/challenge', {}, null)).body.challengeId;

  beforeAll(async () => {
    h = await createIssuanceHarness();
    await addAcceptanceDirectory(h, { actors: ['desk'] });
    await stockTestCards(h.t.store.db, ['9752278900000000777' as CardNumber]);
    admin1.client = new Client(h);
    admin2.client = new Client(h);
    desk.client = new Client(h);
    expect((await desk.client.login(ACTORS.desk.cardNumber)).status).toBe(200);
    expect((await admin1.client.login(ADMIN1_CARD)).status).toBe(200);
    // Admin 2 logs in last: the card stays in reader 1 for the signatures below.
    expect((await admin2.client.login(ADMIN2_CARD)).status).toBe(200);
    const started = await admin2.client.startFlow();
    expect(started.status).toBe(200);
    flowId = started.body.view.flowId;
  });
  afterAll(async () => {
    await h?.dispose();
  });

  it('a login challenge sent to SIGNERA is refused', async () => {
    const answer = await admin2.client.post(`/api/flows/${flowId}/sign`, {
      challengeId: await loginChallenge(),
      certificate: 'AAAA',
      signature: 'AAAA',
      // Shaped like a readers statement: the challenge is refused before it is looked at.
      readers: { payload: 'AAAA', signature: 'AAAA' },
    });
    expectRefused(answer, 'SIGNATURE_INVALID');
  });

  it('a login challenge sent to KVITTERA KORT is refused', async () => {
    const answer = await admin2.client.post(`/api/flows/${flowId}/acknowledge`, {
      challengeId: await loginChallenge(),
      signature: 'AAAA',
    });
    expectRefused(answer, 'SIGNATURE_INVALID');
  });

  it('a login challenge sent to register an order is refused, also when signed with the card', async () => {
    // The station states its readers truthfully for each challenge: the challenge's purpose refuses it.
    const first = (await send(h.baseUrl, 'POST', '/api/auth/challenge', {}, null)).body;
    const unsigned = await admin2.client.post('/api/admin/orders', {
      challengeId: first.challengeId,
      certificate: 'AAAA',
      signature: 'AAAA',
      readers: await readersStatement(h.agent, h.agentToken, first.challengeId, first.stationNonce),
    });
    expectRefused(unsigned, 'SIGNATURE_INVALID');
    const challenge = (await send(h.baseUrl, 'POST', '/api/auth/challenge', {}, null)).body;
    const signed = await signWithCard(h, 'reader-1', Buffer.from(challenge.challenge, 'base64'));
    const answer = await admin2.client.post('/api/admin/orders', {
      challengeId: challenge.challengeId,
      ...signed,
      readers: await readersStatement(h.agent, h.agentToken, challenge.challengeId, challenge.stationNonce),
    });
    expectRefused(answer, 'SIGNATURE_INVALID');
  });

  it('a SIGNERA statement signed with the card does not register an order', async () => {
    const issued = await admin2.client.post(`/api/flows/${flowId}/signing-challenge`, { purpose: 'order' });
    expect(issued.status).toBe(200);
    const signed = await signWithCard(h, 'reader-1', Buffer.from(issued.body.toBeSigned, 'base64'));
    const answer = await admin2.client.post('/api/admin/orders', {
      challengeId: issued.body.challengeId,
      ...signed,
      readers: await readersStatement(h.agent, h.agentToken, issued.body.challengeId, '0'.repeat(32)),
    });
    expectRefused(answer, 'SIGNATURE_INVALID');
  });

  it('an order draft sent to SIGNERA is refused', async () => {
    const now = h.clock.now();
    const prepared = await admin1.client.post('/api/admin/orders/prepare', {
      personHsaId: ANNA,
      cardNumber: '9752278900000000777',
      validity: { notBefore: now, notAfter: now + 86_400_000 },
      idDocument: 'swedish-passport',
    });
    expect(prepared.status).toBe(200);
    const answer = await admin2.client.post(`/api/flows/${flowId}/sign`, {
      challengeId: prepared.body.challengeId,
      certificate: 'AAAA',
      signature: 'AAAA',
      // Shaped like a readers statement: the challenge is refused before it is looked at.
      readers: { payload: 'AAAA', signature: 'AAAA' },
    });
    expectRefused(answer, 'SIGNATURE_INVALID');
  });

  it('a KVITTERA KORT statement sent to SIGNERA is refused', async () => {
    const issued = await admin2.client.post(`/api/flows/${flowId}/signing-challenge`, {
      purpose: 'acknowledge',
    });
    expect(issued.status).toBe(200);
    const answer = await admin2.client.post(`/api/flows/${flowId}/sign`, {
      challengeId: issued.body.challengeId,
      certificate: 'AAAA',
      signature: 'AAAA',
      // Shaped like a readers statement: the challenge is refused before it is looked at.
      readers: { payload: 'AAAA', signature: 'AAAA' },
    });
    expectRefused(answer, 'SIGNATURE_INVALID');
  });

  it.each(['1e309', '-1e309', '1e400', '9007199254740993', '1e20', 'Infinity'])(
    'the support queue refuses limit and offset %s',
    async (value) => {
      for (const name of ['limit', 'offset']) {
        const answer = await desk.client.get(`/api/support/cases?${name}=${value}`);
        expectRefused(answer, 'REQUEST_INVALID');
      }
    },
  );
});
