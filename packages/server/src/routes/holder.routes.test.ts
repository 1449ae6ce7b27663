import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listAudit } from '@reservkort/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opensslOcsp } from '../../../pki/src/test-support/test-ca.js';
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
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('NOT_A_RESERVE_CARD');
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

  it('shows the holder both certificates of their own card, with issuer, validity, status and days left', async () => {
    const { client } = await holderClient();
    const answer = await client.get('/api/holder/eids');
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.eids).toHaveLength(1);
    const [eid] = answer.body.eids;
    expect(eid).toMatchObject({ cardNumber: RESERVE_CARD, status: 'good' });
    expect(eid.daysLeft).toBeGreaterThan(0);
    expect(eid.certificates.map((c: { use: string }) => c.use).sort()).toEqual([
      'authentication',
      'signature',
    ]);
    for (const certificate of eid.certificates) {
      expect(certificate).toMatchObject({ status: 'good', revocation: null });
      expect(certificate.issuer).toContain('CN=');
      expect(certificate.notAfter).toBeGreaterThan(certificate.notBefore);
    }
    // An administrator's session is no holder's: it sees no one's e-IDs here.
    const admin = new Client(h);
    expect((await admin.login(ADMIN2_CARD)).status).toBe(200);
    expect((await admin.get('/api/holder/eids')).body.code).toBe('NOT_LOGGED_IN');
    expect((await admin.post('/api/holder/eids/revoke', { reason: 'card-lost' })).body.code).toBe(
      'NOT_LOGGED_IN',
    );
    await client.post('/api/holder/logout', {});
  });

  it('refuses a reason the holder may not give, and one it does not know', async () => {
    const { client } = await holderClient();
    for (const reason of ['left-organisation', 'superseded', 'because']) {
      const refused = await client.post('/api/holder/eids/revoke', { reason });
      expect(refused.status).toBe(400);
      expect(refused.body.code).toBe('REVOCATION_REASON_NOT_OFFERED');
    }
    expect((await client.get('/api/holder/eids')).body.eids[0].status).toBe('good');
    await client.post('/api/holder/logout', {});
  });

  it('revokes both certificates once for identical requests at once, audited once, OCSP revoked, the session ended', async () => {
    const { client } = await holderClient();
    const serials: string[] = (await client.get('/api/holder/eids')).body.eids[0].certificates.map(
      (c: { serial: string }) => c.serial,
    );
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => client.post('/api/holder/eids/revoke', { reason: 'card-lost' })),
    );
    const done = answers.filter((a) => a.status === 200);
    expect(done, JSON.stringify(answers.map((a) => a.body))).toHaveLength(1);
    expect(done[0]?.body).toMatchObject({ reason: 'keyCompromise' });
    expect([...(done[0]?.body.serials ?? [])].sort()).toEqual([...serials].sort());
    // The others arrived after the revocation, or after their session ended with it.
    for (const other of answers.filter((a) => a.status !== 200))
      expect(['ALREADY_REVOKED', 'LOGIN_CERTIFICATE_REVOKED', 'NOT_LOGGED_IN']).toContain(other.body.code);
    const audit = await listAudit(h.ctx.store.db, { limit: 100_000 });
    expect(audit.filter((e) => e.action === 'eid.revoked' && e.subject === RESERVE_CARD)).toHaveLength(1);
    for (const serial of serials)
      expect(audit.filter((e) => e.action === 'certificate.revoked' && e.subject === serial)).toHaveLength(1);
    expect(audit.find((e) => e.action === 'eid.revoked')?.details).toMatchObject({
      holder: ANNA,
      by: 'holder',
      reason: 'card-lost',
    });

    // The session ended with the spärr; the card can no longer open another.
    expect((await client.get('/api/holder/session')).body).toEqual({ holder: null });
    const again = await new Client(h).post('/api/holder/login', await holderLogin());
    expect(again.body).toMatchObject({ code: 'LOGIN_FAILED', details: { reason: 'revoked' } });

    // OpenSSL's OCSP client hears "revoked" with the reason at once.
    const root = join(h.t.dir, 'root.pem');
    const loa3 = join(h.t.dir, 'loa3.pem');
    for (const serial of serials) {
      const stored = await h.ctx.store.db
        .selectFrom('certificates')
        .select('certificate_pem')
        .where('serial', '=', serial)
        .executeTakeFirstOrThrow();
      const file = join(h.t.dir, `${serial}.pem`);
      await writeFile(file, stored.certificate_pem);
      const ocsp = await opensslOcsp(`${h.baseUrl}/ocsp`, { issuer: loa3, root }, file);
      expect(ocsp.out, ocsp.out).toContain('Response verify OK');
      expect(ocsp.out).toContain(`${file}: revoked`);
      expect(ocsp.out).toContain('Reason: keyCompromise');
    }
  });
});
