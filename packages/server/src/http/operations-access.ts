import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { ApiError } from './api-error.js';

/**
 * Who may read the operators' endpoints (metrics, the API description): anyone who reaches them
 * (`open`), or only a caller with the bearer token (`token`).
 */
export type OperationsAccessMode = 'open' | 'token';

export interface OperationsAccess {
  readonly mode: OperationsAccessMode;
  /** The bearer token; null when none is configured, and then `token` mode lets no one in. */
  readonly token: string | null;
  /** Served only by the operations listener (`listenOperations`), not on the main port. */
  readonly separateListener: boolean;
}

/** Where the token comes from: the environment, else this file in the data folder's `secrets/`. */
export const OPERATIONS_TOKEN_ENV = 'RESERVKORT_OPERATIONS_TOKEN';
export const OPERATIONS_TOKEN_FILE = 'operations-token';

/** Open in training mode only; everywhere else a token is needed. */
export const defaultOperationsAccess = (training: boolean): OperationsAccess => ({
  mode: training ? 'open' : 'token',
  token: null,
  separateListener: false,
});

/** The routes for operators: Prometheus metrics and the API description (document and UI). */
export const isOperationsRoute = (route: string | undefined): boolean =>
  route === '/metrics' || route === '/api/docs' || (route?.startsWith('/api/docs/') ?? false);

/** Requests that came in through the operations listener. */
const viaOperationsListener = new WeakSet<IncomingMessage>();

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Compared through their digests, so neither the length nor the first difference shows in the time. */
const sameToken = (presented: string, expected: string): boolean =>
  timingSafeEqual(digest(presented), digest(expected));

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

/**
 * One hook, added before any route: the operators' routes answer only as `access` says, and the
 * operations listener serves nothing else. Elsewhere they are not found, as if they did not exist.
 */
export const guardOperationsRoutes = (app: FastifyInstance, access: OperationsAccess): void => {
  app.addHook('onRequest', async (request, reply) => {
    const viaListener = viaOperationsListener.has(request.raw);
    const operations = isOperationsRoute(request.routeOptions.url);
    // The listener serves operators only; with a listener, the main port does not serve them.
    if (viaListener && !operations) throw new ApiError('NOT_FOUND', { what: 'path' });
    if (operations && access.separateListener && !viaListener)
      throw new ApiError('NOT_FOUND', { what: 'path' });
    if (!operations || access.mode === 'open') return;
    reply.header('www-authenticate', 'Bearer realm="reservkort-operations"');
    if (access.token === null)
      throw new ApiError('OPERATIONS_TOKEN_REQUIRED', { reason: 'no token configured' });
    const presented = BEARER.exec(request.headers.authorization ?? '')?.[1];
    if (presented === undefined) throw new ApiError('OPERATIONS_TOKEN_REQUIRED', { reason: 'no token sent' });
    if (!sameToken(presented, access.token))
      throw new ApiError('OPERATIONS_TOKEN_REQUIRED', { reason: 'wrong token' });
    reply.removeHeader('www-authenticate');
  });
};

export interface OperationsListener {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * A second address (plain HTTP, meant for a private network or loopback) where the app answers its
 * operators' routes and nothing else; the app's hook tells its requests apart.
 */
export const listenOperations = async (
  app: FastifyInstance,
  host: string,
  port: number,
): Promise<OperationsListener> => {
  await app.ready();
  const server = createServer((req, res) => {
    viaOperationsListener.add(req);
    app.routing(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
};
