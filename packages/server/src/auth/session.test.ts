import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN1_CARD, createIssuanceHarness, type Harness } from '../test-support/issuance-harness.js';
import { Page } from '../test-support/page.js';
import { DEFAULT_SESSION_SETTINGS } from './session.js';

describe('sessions', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createIssuanceHarness();
  });
  afterEach(async () => {
    await h.dispose();
  });

  it('end after the idle time-out', async () => {
    const page = new Page(h);
    await page.login(ADMIN1_CARD);
    expect((await page.api('GET', '/api/auth/me')).status).toBe(200);
    h.clock.advance(DEFAULT_SESSION_SETTINGS.idleMs + 1000);
    expect((await page.api('GET', '/api/auth/me')).body).toMatchObject({
      code: 'NOT_LOGGED_IN',
      details: { reason: 'expired' },
    });
  });

  it('end at the absolute time-out however busy they are', async () => {
    const page = new Page(h);
    await page.login(ADMIN1_CARD);
    const step = DEFAULT_SESSION_SETTINGS.idleMs / 2;
    for (let spent = 0; spent < DEFAULT_SESSION_SETTINGS.absoluteMs - step; spent += step) {
      h.clock.advance(step);
      expect((await page.api('GET', '/api/auth/me')).status).toBe(200);
    }
    h.clock.advance(step * 2);
    expect((await page.api('GET', '/api/auth/me')).status).toBe(401);
  });

  it('end at the first request after their login certificate was revoked, whoever revoked it', async () => {
    const page = new Page(h);
    await page.login(ADMIN1_CARD);
    expect((await page.start()).status).toBe(200);
    const session = await h.t.store.db.selectFrom('sessions').selectAll().executeTakeFirstOrThrow();
    // The CA in this process, with no revocation watcher running: the request itself must notice.
    await h.t.ca.revoke(session.certificate_serial, 'keyCompromise', 'operator');
    const refused = { status: 401, body: { code: 'LOGIN_CERTIFICATE_REVOKED' } };
    expect(await page.api('GET', '/api/auth/me')).toMatchObject(refused);
    // The page's own question on a load is answered: no one is logged in.
    expect(await page.api('GET', '/api/auth/session')).toMatchObject({ status: 200, body: { user: null } });
    expect(await page.api('GET', `/api/flows/${page.flowId}`)).toMatchObject(refused);
    expect(await page.api('POST', '/api/flows/start')).toMatchObject(refused);
    expect(await page.api('POST', '/api/auth/logout')).toMatchObject(refused);
    const ended = await h.t.store.db
      .selectFrom('sessions')
      .select('ended_at')
      .where('id', '=', session.id)
      .executeTakeFirstOrThrow();
    expect(ended.ended_at).not.toBeNull();
  });
});
