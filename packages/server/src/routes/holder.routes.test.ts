import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, send } from '../test-support/acceptance-client.js';
import { walkTo } from '../test-support/acceptance-flow.js';
import { acknowledge } from '../test-support/durable-walk.js';
import {
  ADMIN2_CARD,
  ANNA,
  completeWithPins,
  createIssuanceHarness,
  type Harness,
  RESERVE_CARD,
  RESERVE_PINS,
} from '../test-support/issuance-harness.js';
import { Page } from '../test-support/page.js';

describe.each(['sqlite', 'postgres'] as const)('the holder’s login with the reserve card (%s)', (dialect) => {
  let h: Harness;

  /** The server's challenge signed by the reserve card in reader 2 with its PIN 1. */
  const holderLogin = async (pin = RESERVE_PINS.pin1) => {
    await h.agent.bind(h.agentToken, 'reader-2');
    const challenge = (await send(h.baseUrl, 'POST', '/api/auth/challenge', {}, null)).body;
    const started = await h.agent.authenticate(
      h.agentToken,
      'reader-2',
      Buffer.from(challenge.challenge, 'base64'),
      null,
    );
    const done = await completeWithPins(h.agent, started, [pin]);
    const result = done.result as { signature: string; certificate: string };
    return {
      challengeId: challenge.challengeId as string,
      certificate: result.certificate,
      signature: result.signature,
    };
  };

  const holderClient = async () => {
    const client = new Client(h);
    const answer = await client.post('/api/holder/login', await holderLogin());
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    client.cookie =
      answer.setCookie
        .find((c) => c.startsWith('rk_session='))
        ?.split(';')[0]
        ?.slice(11) ?? '';
    client.csrf = answer.body.csrfToken;
    return { client, answer };
  };

  beforeAll(async () => {
    h = await createIssuanceHarness({}, () => ({}), dialect);
    const page = new Page(h);
    await walkTo(h, page, 7);
    expect((await acknowledge(page)).status).toBe(200);
  });
  afterAll(() => h?.dispose());

  it('opens a holder’s session that the holder’s pages know and no administrator’s route accepts', async () => {
    const { client, answer } = await holderClient();
    expect(answer.body).toMatchObject({
      hsaId: ANNA,
      name: 'Anna Andersson',
      cardNumber: RESERVE_CARD,
      assuranceLevel: 'LoA3',
    });
    expect((await client.get('/api/holder/session')).body.holder).toMatchObject({ hsaId: ANNA });
    // The administrators' side sees nobody logged in, and refuses its routes.
    expect((await client.get('/api/auth/session')).body).toEqual({ user: null });
    expect((await client.get('/api/auth/me')).body.code).toBe('NOT_LOGGED_IN');
    expect((await client.get('/api/support/cases/no-such-case')).body.code).toBe('NOT_LOGGED_IN');
    expect((await client.post('/api/flows/start', {})).status).toBeGreaterThanOrEqual(400);
    expect((await client.post('/api/holder/logout', {})).status).toBe(200);
    expect((await client.get('/api/holder/session')).body).toEqual({ holder: null });
  });

  it('refuses an administrator’s card, and an administrator’s session is no holder’s', async () => {
    const admin = new Client(h);
    expect((await admin.login(ADMIN2_CARD)).status).toBe(200);
    expect((await admin.get('/api/holder/session')).body).toEqual({ holder: null });
    expect((await admin.post('/api/holder/logout', {})).body.code).toBe('NOT_LOGGED_IN');
    const { loginBody } = await import('../test-support/acceptance-client.js');
    const refused = await admin.post('/api/holder/login', await loginBody(h, ADMIN2_CARD));
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ code: 'LOGIN_FAILED', details: { reason: 'not a reserve card' } });
  });

  it('refuses a challenge used twice and a signature of other bytes', async () => {
    const body = await holderLogin();
    expect(
      (
        await send(
          h.baseUrl,
          'POST',
          '/api/holder/login',
          { 'content-type': 'application/json' },
          Buffer.from(JSON.stringify(body)),
        )
      ).status,
    ).toBe(200);
    const again = await send(
      h.baseUrl,
      'POST',
      '/api/holder/login',
      { 'content-type': 'application/json' },
      Buffer.from(JSON.stringify(body)),
    );
    expect(again.body).toMatchObject({ code: 'LOGIN_FAILED', details: { reason: 'challenge' } });
    const other = await holderLogin();
    const forged = { ...other, signature: body.signature };
    const refused = await send(
      h.baseUrl,
      'POST',
      '/api/holder/login',
      { 'content-type': 'application/json' },
      Buffer.from(JSON.stringify(forged)),
    );
    expect(refused.body).toMatchObject({ code: 'LOGIN_FAILED', details: { reason: 'signature' } });
  });
});
