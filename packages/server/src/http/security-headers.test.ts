import Fastify from 'fastify';
import helmet from 'helmet';
import { describe, expect, it } from 'vitest';
import { registerSecurityHeaders } from './security-headers.js';

const appWith = async (hstsMaxAgeSeconds?: number) => {
  const app = Fastify();
  registerSecurityHeaders(app, { hstsMaxAgeSeconds });
  app.get('/ok', async () => ({ ok: true }));
  app.get('/fails', async () => {
    throw new Error('boom');
  });
  await app.ready();
  return app;
};

describe('security headers', () => {
  it('are on every answer, found or not, succeeded or failed', async () => {
    const app = await appWith();
    for (const url of ['/ok', '/missing', '/fails']) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(response.headers['referrer-policy']).toBe('no-referrer');
      expect(response.headers['cross-origin-opener-policy']).toBe('same-origin');
      expect(response.headers['x-powered-by']).toBeUndefined();
      // The page's policy is the web routes' own; HSTS only when the server is reached over https.
      expect(response.headers['content-security-policy']).toBeUndefined();
      expect(response.headers['strict-transport-security']).toBeUndefined();
    }
    await app.close();
  });

  it('send HSTS with the configured age when it is set', async () => {
    const app = await appWith(600);
    const response = await app.inject({ method: 'GET', url: '/ok' });
    expect(response.headers['strict-transport-security']).toBe('max-age=600; includeSubDomains');
    await app.close();
  });

  it('are exactly the headers helmet’s own middleware sets on a response', async () => {
    const app = await appWith(600);
    const plain = Fastify();
    const middleware = helmet({
      contentSecurityPolicy: false,
      strictTransportSecurity: { maxAge: 600, includeSubDomains: true },
    });
    plain.get('/ok', (request, reply) => {
      middleware(request.raw, reply.raw, () => reply.send({ ok: true }));
    });
    const headersOf = async (server: typeof app) => {
      const { date: _date, ...headers } = (await server.inject({ method: 'GET', url: '/ok' })).headers;
      return headers;
    };
    expect(await headersOf(app)).toEqual(await headersOf(plain));
    await Promise.all([app.close(), plain.close()]);
  });
});
