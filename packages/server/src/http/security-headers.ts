import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet from 'helmet';

export interface SecurityHeaderSettings {
  /** HSTS max-age in seconds: set only when the server is reached over https; none when absent. */
  readonly hstsMaxAgeSeconds?: number | undefined;
}

/** What helmet's middleware does to a response: the headers it sets, and those it removes. */
interface HeaderChanges {
  readonly set: readonly (readonly [name: string, value: string])[];
  readonly removed: readonly string[];
}

/**
 * Runs the middleware once on a response that only records what is done to it. With the options
 * below every header is a constant (no content security policy, hence no per-request nonce), so
 * the record holds for every response; a middleware that wanted anything else of the response, or
 * did not finish at once, is an error at start rather than a response without its headers.
 */
const recordChanges = (middleware: ReturnType<typeof helmet>): HeaderChanges => {
  const set: [string, string][] = [];
  const removed: string[] = [];
  const response = {
    setHeader: (name: string, value: unknown) => {
      set.push([name.toLowerCase(), String(value)]);
      return response;
    },
    removeHeader: (name: string) => {
      removed.push(name.toLowerCase());
    },
  };
  let finished = false;
  middleware({} as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
    finished = true;
  });
  if (!finished) throw new Error('the security headers middleware did not finish at once');
  return { set, removed };
};

/**
 * Helmet's security headers on every response. The middleware is built and run once, here, and
 * what it sets is then set on each response as it is: running it for each request cost more than
 * routing the request (each of its dozen middlewares a call and a closure). Built for each
 * request, as the Fastify wrapper does, it also left per-request closures on the reply, and in this
 * server that made every request's objects outlive young-generation collections.
 */
export const registerSecurityHeaders = (app: FastifyInstance, settings: SecurityHeaderSettings): void => {
  const middleware = helmet({
    // The page's own policy is set by the web routes, which know its scripts.
    contentSecurityPolicy: false,
    // HSTS means nothing over plain HTTP: it is sent only when the server is reached over https.
    strictTransportSecurity: settings.hstsMaxAgeSeconds
      ? { maxAge: settings.hstsMaxAgeSeconds, includeSubDomains: true }
      : false,
  });
  const { set, removed } = recordChanges(middleware);
  const headers = Object.fromEntries(set);
  app.addHook('onRequest', (_request, reply, done) => {
    for (const name of removed) reply.raw.removeHeader(name);
    reply.headers(headers);
    done();
  });
};
