import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DurablePage, httpEndpoint } from '../test-support/durable-page.js';
import {
  ADMIN1_CARD,
  ANNA_PNR,
  createIssuanceHarness,
  type Harness,
} from '../test-support/issuance-harness.js';

describe('caching of API answers', () => {
  let h: Harness;
  let page: DurablePage;
  /** The Cache-Control header of every answer, in order. */
  const seen: (string | null)[] = [];
  const last = () => seen.at(-1);

  beforeAll(async () => {
    h = await createIssuanceHarness();
    const endpoint = httpEndpoint('server', h.baseUrl, (response) => {
      seen.push(response.headers.get('cache-control'));
    });
    page = new DurablePage(
      { cards: h.cards, agent: h.agent, agentToken: h.agentToken, ca: h.t.ca, close: async () => {} },
      [endpoint],
    );
  });
  afterAll(async () => {
    await h?.dispose();
  });

  it('forbids storing the answers that carry the CSRF token: login, /api/auth/me and /api/auth/session', async () => {
    const login = await page.login(ADMIN1_CARD);
    expect(login.body.csrfToken).toEqual(expect.any(String));
    expect(last()).toBe('no-store');
    const me = await page.api('GET', '/api/auth/me');
    expect(me.body.csrfToken).toBe(login.body.csrfToken);
    expect(last()).toBe('no-store');
    const session = await page.api('GET', '/api/auth/session');
    expect(session.body.user.csrfToken).toBe(login.body.csrfToken);
    expect(last()).toBe('no-store');
  });

  it('forbids storing every other answer of the API, refusals included', async () => {
    for (const [method, url] of [
      ['GET', `/api/admin/persons?query=${ANNA_PNR}`],
      ['POST', '/api/flows/start'],
      ['POST', '/api/flows'],
      ['GET', '/api/flows/no-such-flow'],
      ['GET', '/api/no-such-route'],
      ['POST', '/api/auth/challenge'],
    ] as const) {
      await page.api(
        method,
        url,
        method === 'POST' && url === '/api/flows' ? { flowId: 'no-such-flow', readers: {} } : undefined,
      );
      expect(last(), `${method} ${url}`).toBe('no-store');
    }
    await page.api('POST', '/api/auth/logout');
    const loggedOut = await page.api('GET', '/api/auth/me');
    expect(loggedOut.status).toBe(401);
    expect(last()).toBe('no-store');
  });

  it('leaves the caching of what is not the API to its routes', async () => {
    const health = await fetch(`${h.baseUrl}/health`);
    expect(health.headers.get('cache-control')).not.toBe('no-store');
  });
});
