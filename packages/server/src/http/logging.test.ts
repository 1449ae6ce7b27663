import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../app.js';
import { Client, send } from '../test-support/acceptance-client.js';
import {
  ADMIN1_CARD,
  ADMIN2_CARD,
  ANNA_PNR,
  CARD_PINS,
  createIssuanceHarness,
  type Harness,
} from '../test-support/issuance-harness.js';
import { Page } from '../test-support/page.js';
import { decodePercent, loggedUrl, maskPersonalNumbers, SEARCH_NOT_LOGGED } from './log-redaction.js';

/** Anna's personnummer as a client may write it in a URL: every separator, percent-encoded or not. */
const ANNA_FORMS = (() => {
  const [century, date, last] = [ANNA_PNR.slice(0, 2), ANNA_PNR.slice(2, 8), ANNA_PNR.slice(8)];
  const digitsEncoded = [...`${date}-${last}`]
    .map((c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .join('');
  return [
    ANNA_PNR,
    `${century}${date}-${last}`,
    `${date}-${last}`,
    `${century}${date}%2D${last}`,
    `${date}%2d${last}`,
    `${date}%20${last}`,
    `${date}%2B${last}`,
    `${date}+${last}`,
    `${date}%252D${last}`,
    digitsEncoded,
  ];
})();
/** Any trace of Anna's personnummer in decoded log text. */
const ANNA_TRACE = new RegExp(`${ANNA_PNR.slice(2, 8)}\\D{0,3}${ANNA_PNR.slice(8)}`);

describe('logs', () => {
  it('mask personnummer in every written form', () => {
    expect(maskPersonalNumbers('/api/admin/persons?query=198001011234')).toBe(
      '/api/admin/persons?query=1980XXXX-XXXX',
    );
    expect(maskPersonalNumbers('q=800101-1234&x=1')).toBe('q=80XXXX-XXXX&x=1');
    expect(maskPersonalNumbers('card 9752278900000000100')).toBe('card 9752278900000000100');
    expect(maskPersonalNumbers('800101 1234')).toBe('80XXXX-XXXX');
  });

  it('never show a search query, and mask a personnummer elsewhere however it is encoded', () => {
    for (const form of ANNA_FORMS) {
      expect(loggedUrl(`/api/admin/persons?query=${form}`)).toBe(`/api/admin/persons${SEARCH_NOT_LOGGED}`);
      expect(loggedUrl(`/api/flows/abcdefgh/search?query=${form}`)).toBe(
        `/api/flows/abcdefgh/search${SEARCH_NOT_LOGGED}`,
      );
      const elsewhere = loggedUrl(`/api/support/cases?code=${form}&x=1`);
      expect(decodePercent(elsewhere), form).not.toMatch(ANNA_TRACE);
      expect(elsewhere, form).toMatch(/80XXXX-XXXX&x=1$/);
    }
    // Searches by HSA-id are searches too; the router's decoding of the path is followed.
    expect(loggedUrl('/api/admin/persons?query=SE2321000016-anna')).toBe(
      `/api/admin/persons${SEARCH_NOT_LOGGED}`,
    );
    expect(loggedUrl('/api/admin/%70ersons?query=x')).toBe(`/api/admin/%70ersons${SEARCH_NOT_LOGGED}`);
    // Nothing to mask: the URL as it came.
    expect(loggedUrl('/api/flows/abc%2Ddef?x=%20')).toBe('/api/flows/abc%2Ddef?x=%20');
  });

  describe('of a running server', () => {
    let h: Harness;
    beforeEach(async () => {
      h = await createIssuanceHarness();
    });
    afterEach(async () => {
      await h.dispose();
    });

    it('are JSON lines with no personnummer, PIN or session token', async () => {
      const stream = new PassThrough();
      const lines: string[] = [];
      stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
      const logged = await buildApp(h.ctx, { logger: true, logStream: stream, services: h.services });
      const baseUrl = await logged.listen({ port: 0, host: '127.0.0.1' });
      const page = new Page({ ...h, baseUrl });
      await page.login(ADMIN1_CARD);
      await page.api('GET', `/api/admin/persons?query=${ANNA_PNR}`);
      await logged.close();
      expect(lines.length).toBeGreaterThan(2);
      for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
      const text = lines.join('\n');
      expect(text).toContain(`/api/admin/persons${SEARCH_NOT_LOGGED}`);
      expect(text).not.toContain(ANNA_PNR);
      for (const pin of Object.values(CARD_PINS)) expect(text).not.toContain(`"${pin}"`);
      expect(text).not.toMatch(/rk_session=/);
    });

    it('hold no search query and no personnummer in any encoding, while the requests are still there', async () => {
      const stream = new PassThrough();
      const lines: string[] = [];
      stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
      const logged = await buildApp(h.ctx, { logger: true, logStream: stream, services: h.services });
      const baseUrl = await logged.listen({ port: 0, host: '127.0.0.1' });
      const admin = new Client({ ...h, baseUrl });
      expect((await admin.login(ADMIN2_CARD)).status).toBe(200);
      const flowId = (await admin.startFlow()).body.view.flowId;
      await admin.post(`/api/flows/${flowId}/actions`, { type: 'manage-orders' });
      const statuses: number[] = [];
      for (const form of ANNA_FORMS) {
        statuses.push((await admin.get(`/api/admin/persons?query=${form}`)).status);
        statuses.push(
          (await admin.post(`/api/flows/${flowId}/search?query=${form}`, { query: form })).status,
        );
        // A body the parser refuses: V8's message quotes it.
        const broken = await admin.request('POST', `/api/flows/${flowId}/search`, {
          raw: `{"query": "${form}"`,
          contentType: 'application/json',
        });
        statuses.push(broken.status);
        // Elsewhere: in a path parameter, in another route's query string, on no route at all.
        statuses.push((await admin.get(`/api/flows/${form}`)).status);
        statuses.push((await admin.get(`/api/support/cases?code=${form}`)).status);
        statuses.push((await send(baseUrl, 'GET', `/no/such/${form}?q=${form}`, {}, null)).status);
      }
      expect((await admin.get('/api/admin/persons?query=SE2321000016-anna')).status).toBe(200);
      await logged.close();
      // Every request answered, none with a 500 that could log its cause.
      expect(statuses.every((status) => status < 500)).toBe(true);
      for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
      const text = lines.join('\n');
      expect(decodePercent(text)).not.toMatch(ANNA_TRACE);
      expect(decodePercent(text)).not.toContain('SE2321000016-anna');
      expect(text).toContain(`/api/admin/persons${SEARCH_NOT_LOGGED}`);
      expect(text).toContain(`/api/flows/${flowId}/search${SEARCH_NOT_LOGGED}`);
      expect(text).toContain('/api/flows/80XXXX-XXXX');
      expect(text).toContain('/api/support/cases?code=80XXXX-XXXX');
      expect(text).toContain('/no/such/80XXXX-XXXX?q=80XXXX-XXXX');
    });
  });
});
