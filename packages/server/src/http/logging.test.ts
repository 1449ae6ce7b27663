import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../app.js';
import {
  ADMIN1_CARD,
  ANNA_PNR,
  CARD_PINS,
  createIssuanceHarness,
  type Harness,
} from '../test-support/issuance-harness.js';
import { Page } from '../test-support/page.js';
import { maskPersonalNumbers } from './log-redaction.js';

describe('logs', () => {
  it('mask personnummer in every written form', () => {
    expect(maskPersonalNumbers('/api/admin/persons?query=198001011234')).toBe(
      '/api/admin/persons?query=1980XXXX-XXXX',
    );
    expect(maskPersonalNumbers('q=800101-1234&x=1')).toBe('q=80XXXX-XXXX&x=1');
    expect(maskPersonalNumbers('card 9752278900000000100')).toBe('card 9752278900000000100');
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
      expect(text).toContain('/api/admin/persons?query=');
      expect(text).not.toContain(ANNA_PNR);
      for (const pin of Object.values(CARD_PINS)) expect(text).not.toContain(`"${pin}"`);
      expect(text).not.toMatch(/rk_session=/);
    });
  });
});
