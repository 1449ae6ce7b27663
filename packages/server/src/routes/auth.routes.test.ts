import { VirtualBackend } from '@reservkort/agent';
import { type CardNumber, DEFAULT_FLOW_CONFIG, type HsaId } from '@reservkort/domain';
import { OcspResponder } from '@reservkort/pki';
import { grantRole, insertAdmin, upsertBranches } from '@reservkort/store';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCa, realClock, type TestCa } from '../../../pki/src/test-support/test-ca.js';
import { DIALECTS } from '../../../store/src/test-support/test-stores.js';
import { buildApp } from '../app.js';
import { DEFAULT_SESSION_SETTINGS, hashToken } from '../auth/session.js';
import { CARD_PINS, provisionCard } from '../test-support/provision-card.js';

const ADMIN = 'SE2321000016-adm2' as HsaId;
const ADMIN_CARD = '9752278900000000002' as CardNumber;
const LOA2_ADMIN = 'SE2321000016-lena' as HsaId;
const LOA2_CARD = '9752278900000000003' as CardNumber;
const STRANGER_CARD = '9752278900000000004' as CardNumber;

// On both stores: on PostgreSQL the challenge, the certificate's status and the holder's roles are
// read in one round trip, and the checks must still refuse in the same order.
describe.each(DIALECTS)('card login over HTTP, on %s', (dialect) => {
  let t: TestCa;
  let cards: VirtualBackend;
  let app: FastifyInstance;

  /** What the page does: challenge from the server, signature from the card, login at the server. */
  const login = async (cardNumber: CardNumber, tamper?: (body: Record<string, string>) => void) => {
    const challenge = (await app.inject({ method: 'POST', url: '/api/auth/challenge' })).json();
    await cards.insertCard('reader-1', cardNumber);
    try {
      const signature = await cards.sign(
        'reader-1',
        cardNumber,
        'auth',
        CARD_PINS.pin1,
        Buffer.from(challenge.challenge, 'base64'),
      );
      const certificate =
        (await cards.cardInfo('reader-1')).certificates.find((c) => c.key === 'auth')?.der ??
        new Uint8Array();
      const body = {
        challengeId: challenge.challengeId,
        certificate: Buffer.from(certificate).toString('base64'),
        signature: Buffer.from(signature).toString('base64'),
      };
      tamper?.(body);
      return await app.inject({ method: 'POST', url: '/api/auth/login', payload: body });
    } finally {
      await cards.removeCard('reader-1');
    }
  };

  beforeAll(async () => {
    t = await createTestCa(dialect);
    cards = await VirtualBackend.open({ stateFile: null, readers: 2 });
    await upsertBranches(t.store.db, [{ id: 'region', parentId: null, name: 'Region Exempel' }]);
    for (const [hsaId, givenName] of [
      [ADMIN, 'Admin'],
      [LOA2_ADMIN, 'Lena'],
    ] as const) {
      await insertAdmin(t.store.db, { hsaId, givenName, surname: 'Test', createdAt: Date.now() });
      await grantRole(t.store.db, { adminHsaId: hsaId, role: 'RA', branchId: 'region' });
    }
    await provisionCard(cards, t.ca, {
      hsaId: ADMIN,
      givenName: 'Admin',
      surname: 'Test',
      cardNumber: ADMIN_CARD,
    });
    await provisionCard(cards, t.ca, {
      hsaId: LOA2_ADMIN,
      givenName: 'Lena',
      surname: 'Test',
      cardNumber: LOA2_CARD,
      level: 'LoA2',
    });
    await provisionCard(cards, t.ca, {
      hsaId: 'SE2321000016-nobody' as HsaId,
      givenName: 'No',
      surname: 'Body',
      cardNumber: STRANGER_CARD,
    });
    app = await buildApp({
      store: t.store,
      ca: t.ca,
      responder: new OcspResponder(t.ca, t.store.db, realClock),
      clock: realClock,
      sessions: DEFAULT_SESSION_SETTINGS,
      flow: DEFAULT_FLOW_CONFIG,
      agentUrl: null,
      training: false,
    });
  });
  afterAll(async () => {
    await app?.close();
    await cards?.close();
    await t?.dispose();
  });

  it('logs in with a LoA3 card, binds the session to the card, and protects changes with CSRF', async () => {
    const response = await login(ADMIN_CARD);
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({
      hsaId: ADMIN,
      cardNumber: ADMIN_CARD,
      assuranceLevel: 'LoA3',
      serviceDesk: false,
    });
    const cookie = response.cookies.find((c) => c.name === 'rk_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    // The database keeps only a hash of the token.
    const { getSession } = await import('@reservkort/store');
    expect(await getSession(t.store.db, cookie?.value ?? '')).toBeNull();
    expect(await getSession(t.store.db, hashToken(cookie?.value ?? ''))).not.toBeNull();

    const cookies = { rk_session: cookie?.value ?? '' };
    const me = await app.inject({ method: 'GET', url: '/api/auth/me', cookies });
    expect(me.json()).toMatchObject({ hsaId: ADMIN, cardNumber: ADMIN_CARD });
    const noCsrf = await app.inject({ method: 'POST', url: '/api/auth/logout', cookies });
    expect(noCsrf.statusCode).toBe(403);
    expect(noCsrf.json()).toMatchObject({
      code: 'CSRF_INVALID',
      message: { sv: expect.any(String), en: expect.any(String) },
    });
    const out = await app.inject({
      method: 'POST',
      url: '/api/auth/logout',
      cookies,
      headers: { 'x-csrf-token': body.csrfToken },
    });
    expect(out.statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/api/auth/me', cookies })).statusCode).toBe(401);
  });

  it('answers "who is logged in" without an error status: no one, the admin, no one after logout', async () => {
    const session = (cookies: Record<string, string> = {}) =>
      app.inject({ method: 'GET', url: '/api/auth/session', cookies });
    const nobody = await session();
    expect([nobody.statusCode, nobody.json()]).toEqual([200, { user: null }]);
    expect((await session({ rk_session: 'not-a-session' })).json()).toEqual({ user: null });
    const response = await login(ADMIN_CARD);
    const body = response.json();
    const cookies = { rk_session: response.cookies.find((c) => c.name === 'rk_session')?.value ?? '' };
    const someone = await session(cookies);
    expect(someone.statusCode).toBe(200);
    expect(someone.json()).toEqual({ user: body });
    await app.inject({
      method: 'POST',
      url: '/api/auth/logout',
      cookies,
      headers: { 'x-csrf-token': body.csrfToken },
    });
    const ended = await session(cookies);
    expect([ended.statusCode, ended.json()]).toEqual([200, { user: null }]);
  });

  it('lets a LoA2 card log in, as LoA2', async () => {
    const response = await login(LOA2_CARD);
    expect(response.json()).toMatchObject({ assuranceLevel: 'LoA2', hsaId: LOA2_ADMIN });
  });

  it('refuses a reused challenge, a wrong signature, a stranger and a revoked card', async () => {
    let reused = '';
    const first = await login(ADMIN_CARD, (body) => {
      reused = body.challengeId ?? '';
    });
    expect(first.statusCode).toBe(200);
    const again = await login(ADMIN_CARD, (body) => {
      body.challengeId = reused;
    });
    expect(again.json()).toMatchObject({ code: 'LOGIN_FAILED', details: { reason: 'challenge' } });
    const forged = await login(ADMIN_CARD, (body) => {
      body.signature = Buffer.alloc(64, 1).toString('base64');
    });
    expect(forged.json()).toMatchObject({ code: 'LOGIN_FAILED', details: { reason: 'signature' } });
    const stranger = await login(STRANGER_CARD);
    expect(stranger.json()).toMatchObject({
      code: 'LOGIN_FAILED',
      details: { reason: 'not an administrator' },
    });
    const garbage = await login(ADMIN_CARD, (body) => {
      body.certificate = Buffer.from('not a certificate').toString('base64');
    });
    expect(garbage.statusCode).toBe(401);

    const { listCertificates } = await import('@reservkort/store');
    const auth = (await listCertificates(t.store.db, { caId: 'loa3' })).find(
      (c) => c.hsaId === ADMIN && c.profile === 'card-auth',
    );
    await t.ca.revoke(auth?.serial ?? '', 'keyCompromise', 'test');
    const revoked = await login(ADMIN_CARD);
    expect(revoked.json()).toMatchObject({ code: 'LOGIN_FAILED', details: { reason: 'revoked' } });
  });

  it('lets one of six logins with the same signed challenge through, sent at once: one session', async () => {
    let body: Record<string, string> = {};
    // The LoA2 card: the admin's own is revoked by the test before.
    const first = await login(LOA2_CARD, (signed) => {
      body = { ...signed };
      signed.challengeId = 'not-this-one';
    });
    expect(first.json()).toMatchObject({ code: 'LOGIN_FAILED', details: { reason: 'challenge' } });
    const sessions = async () =>
      Number(
        (await sql<{ n: number }>`select count(*) as n from sessions`.execute(t.store.db)).rows[0]?.n ?? 0,
      );
    const before = await sessions();
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => app.inject({ method: 'POST', url: '/api/auth/login', payload: body })),
    );
    const codes = answers.map((a) =>
      a.statusCode === 200 ? 'ok' : `${a.json().code} ${a.json().details?.reason}`,
    );
    expect(
      codes.filter((c) => c === 'ok'),
      codes.join('; '),
    ).toHaveLength(1);
    expect(codes.filter((c) => c === 'LOGIN_FAILED challenge')).toHaveLength(5);
    expect(await sessions()).toBe(before + 1);
  });

  it('answers malformed requests with REQUEST_INVALID, never a 500', async () => {
    for (const payload of [
      {},
      { challengeId: 1 },
      { challengeId: 'x', certificate: '%%%', signature: 'AAAA' },
      'not json',
    ]) {
      const response = await app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: payload as object,
      });
      expect(response.statusCode).toBeGreaterThanOrEqual(400);
      expect(response.statusCode).toBeLessThan(500);
      expect(response.json().code).toBeTruthy();
    }
  });

  it('serves health to anyone, and metrics and the OpenAPI description to operators only', async () => {
    expect((await app.inject({ method: 'GET', url: '/health' })).json()).toMatchObject({ status: 'ok' });
    // Not training mode: without the operations token (see operations-access.test.ts) they are closed.
    for (const url of ['/metrics', '/api/docs/json'])
      expect((await app.inject({ method: 'GET', url })).json()).toMatchObject({
        code: 'OPERATIONS_TOKEN_REQUIRED',
      });
    expect((app.swagger() as { paths: object }).paths).toHaveProperty('/api/auth/login');
    expect((await app.inject({ method: 'GET', url: '/nowhere' })).json()).toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});
