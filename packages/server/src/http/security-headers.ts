import type { FastifyInstance } from 'fastify';
import helmet from 'helmet';

export interface SecurityHeaderSettings {
  /** HSTS max-age in seconds: set only when the server is reached over https; none when absent. */
  readonly hstsMaxAgeSeconds?: number | undefined;
}

/**
 * Helmet's security headers on every response. The middleware is built once, here: the Fastify
 * wrapper builds it anew for every request and leaves per-request closures on the reply, and in
 * this server that made every request's objects outlive young-generation collections, so each
 * scavenge copied and promoted megabytes of finished requests (longer pauses, then full
 * collections).
 */
export const registerSecurityHeaders = (app: FastifyInstance, settings: SecurityHeaderSettings): void => {
  const headers = helmet({
    // The page's own policy is set by the web routes, which know its scripts.
    contentSecurityPolicy: false,
    // HSTS means nothing over plain HTTP: it is sent only when the server is reached over https.
    strictTransportSecurity: settings.hstsMaxAgeSeconds
      ? { maxAge: settings.hstsMaxAgeSeconds, includeSubDomains: true }
      : false,
  });
  app.addHook('onRequest', (request, reply, done) => {
    headers(request.raw, reply.raw, (error?: unknown) => done(error instanceof Error ? error : undefined));
  });
};
