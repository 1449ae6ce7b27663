import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { ERROR_CODES, errorResponse } from '@reservkort/domain';
import { ocspFastPath, pkiRoutes } from '@reservkort/pki';
import { Ajv } from 'ajv';
import Fastify, { type FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { extensionRoutes } from './card-life/extension.routes.js';
import { registerErrorHandler } from './http/api-error.js';
import { registerNoStoreForApi } from './http/cache-control.js';
import { loggedUrl, redactForLog } from './http/log-redaction.js';
import {
  defaultOperationsAccess,
  guardOperationsRoutes,
  type OperationsAccess,
} from './http/operations-access.js';
import { DEFAULT_RATE_LIMIT, type RateLimitSettings, registerRateLimit } from './http/rate-limit.js';
import { RequestLog } from './http/request-log.js';
import { registerSecurityHeaders } from './http/security-headers.js';
import { adminRoutes } from './routes/admin.routes.js';
import { auditRoutes } from './routes/audit.routes.js';
import { authRoutes } from './routes/auth.routes.js';
import { cardStockRoutes } from './routes/card-stock.routes.js';
import { adminEidRoutes, deskEidRoutes } from './routes/eid.routes.js';
import { holderRoutes } from './routes/holder.routes.js';
import { insightRoutes } from './routes/insight.routes.js';
import { issuanceRoutes } from './routes/issuance.routes.js';
import { replayRoutes } from './routes/replay.routes.js';
import { catalogueRoutes, supportRoutes } from './routes/support.routes.js';
import { trainingRoutes } from './routes/training.routes.js';
import { webRoutes } from './routes/web.routes.js';
import type { ServerContext } from './server-context.js';
import { createServices, type Services } from './services.js';
import { stationRoutes } from './station/station.routes.js';

export interface AppOptions {
  /** Structured JSON logs (pino); off in tests. */
  readonly logger?: boolean;
  /** The services to use; built from the context when not given. */
  readonly services?: Services;
  /** Where logs go (default stdout); tests read them back. */
  readonly logStream?: DestinationStream;
  /** Serve HTTPS with this certificate (chain) and key, both PEM; plain HTTP when not given. */
  readonly https?: { readonly cert: Buffer; readonly key: Buffer };
  /** Proxies whose X-Forwarded-* headers are believed (client address and protocol in logs). */
  readonly trustProxy?: boolean | readonly string[];
  /** Send Strict-Transport-Security with this max-age; only where the public URL is https. */
  readonly hstsMaxAgeSeconds?: number;
  /** Limits on the unauthenticated routes (default: 60 a minute per address, counted in memory). */
  readonly rateLimit?: RateLimitSettings;
  /** Who may read /metrics and /api/docs (default: anyone in training mode, token holders otherwise). */
  readonly operations?: OperationsAccess;
}

/**
 * The server as one Fastify app: infrastructure first (errors, cookies, security headers, OpenAPI,
 * metrics), then the PKI endpoints and the API routes. POST /ocsp is answered before the framework.
 */
export const buildApp = async (ctx: ServerContext, options: AppOptions = {}): Promise<FastifyInstance> => {
  const fast = ocspFastPath(ctx.responder);
  const tls = options.https ? { cert: options.https.cert, key: options.https.key } : undefined;
  const app = Fastify({
    logger: options.logger
      ? {
          level: 'info',
          ...(options.logStream ? { stream: options.logStream } : {}),
          // PINs never reach the server; searches are never logged, and a personnummer anywhere
          // else in a URL or an error is masked, however it was encoded. Bodies are not logged.
          serializers: {
            req: (req) => ({ method: req.method, url: loggedUrl(req.url), remoteAddress: req.ip }),
            err: (err: Error & { code?: unknown }) => ({
              type: err.name,
              message: redactForLog(err.message),
              stack: redactForLog(err.stack ?? ''),
              ...(typeof err.code === 'string' ? { code: err.code } : {}),
            }),
          },
        }
      : false,
    ...(options.logger ? { logController: new RequestLog() } : {}),
    bodyLimit: 256 * 1024,
    // Malformed URLs (broken percent-encoding, over-long parameters) get the catalogue's answer too.
    frameworkErrors: (error, _request, reply) => {
      // The route-less reply of this hook is typed for no route; the body is the catalogue's.
      const plain = reply as unknown as { code(status: number): { send(body: unknown): void } };
      plain
        .code(error.statusCode && error.statusCode < 500 ? error.statusCode : 400)
        .send(errorResponse('REQUEST_INVALID', { reason: 'url' }));
    },
    ...(options.trustProxy === undefined
      ? {}
      : {
          trustProxy: typeof options.trustProxy === 'boolean' ? options.trustProxy : [...options.trustProxy],
        }),
    // With a server factory Fastify reads its `https` option only to name the scheme of its address.
    ...(tls ? { https: tls } : {}),
    serverFactory: (handler) => {
      const listener = (req: IncomingMessage, res: ServerResponse) => {
        if (!fast(req, res)) handler(req, res);
      };
      // An HTTPS server emits the same request events as an HTTP one; only its type differs.
      return tls ? (createHttpsServer(tls, listener) as unknown as Server) : createServer(listener);
    },
  });
  registerErrorHandler(app);
  registerNoStoreForApi(app);
  // Before any route, so that every operators' route (the docs plugin's too) is guarded.
  guardOperationsRoutes(app, options.operations ?? defaultOperationsAccess(ctx.training));
  // Bodies are JSON with real types: a number is not a string. Query strings and path parameters
  // arrive as text and are converted to the declared types.
  const strictBodies = new Ajv({
    coerceTypes: false,
    useDefaults: true,
    removeAdditional: true,
    allErrors: false,
  });
  const textParts = new Ajv({
    coerceTypes: 'array',
    useDefaults: true,
    removeAdditional: true,
    allErrors: false,
  });
  app.setValidatorCompiler(({ schema, httpPart }) => {
    if (httpPart === 'body') return strictBodies.compile(schema);
    const validate = textParts.compile(schema);
    // Ajv takes '1e309' for the integer Infinity and then skips minimum and maximum; a second pass
    // over the converted values checks them as they now are.
    const twice = (data: unknown) => validate(data) && validate(data);
    return Object.defineProperty(twice, 'errors', { get: () => validate.errors });
  });
  // The catalogue's codes, and its entry for one (every text in both languages, as errorResponse
  // makes it), named once in the OpenAPI document for the answers that carry them.
  app.addSchema({ $id: 'ErrorCode', type: 'string', enum: [...ERROR_CODES] });
  const texts = { type: 'object', properties: { sv: { type: 'string' }, en: { type: 'string' } } } as const;
  const bilingual = { ...texts, required: ['sv', 'en'] } as const;
  app.addSchema({
    $id: 'CatalogueEntry',
    type: 'object',
    properties: {
      code: { $ref: 'ErrorCode#' },
      message: bilingual,
      explanation: bilingual,
      remedy: bilingual,
      details: { type: 'object', additionalProperties: true },
    },
    required: ['code', 'message', 'explanation', 'remedy', 'details'],
  });
  app.addSchema({
    $id: 'ApiError',
    type: 'object',
    properties: {
      code: { type: 'string' },
      message: texts,
      explanation: texts,
      remedy: texts,
      details: { type: 'object', additionalProperties: true },
    },
    required: ['code', 'message'],
  });
  await app.register(cookie);
  registerSecurityHeaders(app, { hstsMaxAgeSeconds: options.hstsMaxAgeSeconds });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Reservkort API', version: '0.1.0', description: 'Issuance of LoA3 reserve cards' },
      tags: [
        { name: 'auth' },
        { name: 'admin' },
        { name: 'issuance' },
        { name: 'support' },
        { name: 'health' },
        { name: 'web' },
        { name: 'training' },
        { name: 'audit' },
        { name: 'stations' },
        { name: 'stock' },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });
  await registerRateLimit(app, options.rateLimit ?? DEFAULT_RATE_LIMIT);

  const registry = new Registry();
  // The event-loop lag histogram samples with a timer; at the library's 10 ms it woke an idle server
  // a hundred times a second, about a third of its idle CPU. Lag is still caught at 100 ms, since a
  // blocked loop delays the next sample by as long as it was blocked.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
  const requests = new Counter({
    name: 'reservkort_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['route', 'status'],
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    requests.inc({ route: request.routeOptions.url ?? 'unknown', status: String(reply.statusCode) });
  });
  const services = options.services ?? createServices(ctx);
  // The background sweeps report their failures through this app's logger and metrics.
  registry.registerMetric(services.sweepFailures.counter);
  registry.registerMetric(services.issuance.metrics.codes);
  registry.registerMetric(services.issuance.metrics.ended);
  if (options.logger) services.sweepFailures.logTo(app.log);

  app.get(
    '/health',
    { schema: { tags: ['health'], summary: 'For load balancers' } },
    async (_request, reply) => {
      try {
        await ctx.store.db.selectFrom('cas').select('id').limit(1).execute();
        return { status: 'ok', training: ctx.training };
      } catch {
        return reply.status(503).send(errorResponse('CARD_ERROR', { reason: 'database' }));
      }
    },
  );
  app.get(
    '/metrics',
    { schema: { tags: ['health'], summary: 'Prometheus metrics' } },
    async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()),
  );

  await app.register(pkiRoutes, { ca: ctx.ca, responder: ctx.responder });
  registerCheckpointMetrics(registry, services);
  await app.register(auditRoutes(services.checkpoints));
  await app.register(authRoutes(ctx, services.issuance), { prefix: '/api/auth' });
  await app.register(holderRoutes(ctx, services.revocation), { prefix: '/api/holder' });
  await app.register(extensionRoutes(ctx, services.extensions), { prefix: '/api/holder/extension' });
  await app.register(issuanceRoutes(ctx, services.issuance), { prefix: '/api/flows' });
  await app.register(adminRoutes(ctx, services.directory, services.issuance), { prefix: '/api/admin' });
  await app.register(supportRoutes(ctx, services.issuance), { prefix: '/api/support' });
  await app.register(adminEidRoutes(ctx, services.revocation), { prefix: '/api/admin' });
  await app.register(deskEidRoutes(ctx, services.directory, services.revocation), { prefix: '/api/support' });
  await app.register(stationRoutes(ctx, services.directory), { prefix: '/api/stations' });
  await app.register(cardStockRoutes(ctx, services.directory), { prefix: '/api/stock' });
  await app.register(catalogueRoutes, { prefix: '/api/catalogue' });
  await app.register(insightRoutes(ctx, services.insights), { prefix: '/api' });
  await app.register(replayRoutes(ctx, services.directory, services.issuance), { prefix: '/api' });
  if (ctx.trainingKit)
    await app.register(trainingRoutes(ctx, ctx.trainingKit, services.issuance, services.extensions), {
      prefix: '/api/training',
    });
  await app.register(webRoutes(ctx));
  return app;
};

/** What monitoring watches of the audit checkpoints: alert when failures rise or the time goes stale. */
const registerCheckpointMetrics = (registry: Registry, services: Services): void => {
  const { checkpoints } = services;
  new Gauge({
    name: 'reservkort_audit_checkpoint_entries',
    help: 'Entries covered by the newest audit checkpoint this server published',
    registers: [registry],
    collect() {
      const latest = checkpoints.latest;
      if (latest !== null) this.set(latest.checkpoint.size);
    },
  });
  new Gauge({
    name: 'reservkort_audit_checkpoint_timestamp_seconds',
    help: 'When the newest audit checkpoint this server published was signed',
    registers: [registry],
    collect() {
      const latest = checkpoints.latest;
      if (latest !== null) this.set(latest.checkpoint.time / 1000);
    },
  });
  new Gauge({
    name: 'reservkort_audit_checkpoint_failures',
    help: 'Audit checkpoint publications that failed since the last one that succeeded (the log may have been altered)',
    registers: [registry],
    collect() {
      this.set(checkpoints.consecutiveFailures);
    },
  });
};
