import { errorResponse, isErrorCode, MAX_STATEMENT_EVENTS } from '@reservkort/domain';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { AgentError, isAgentError } from '../agent-error.js';
import type { CardKeySpec } from '../backend/card-backend.js';
import type { VirtualBackend } from '../backend/virtual-backend.js';
import type { CardAgent, OperationView } from '../card-agent.js';
import { DIALOG_CSS, DIALOG_JS, pinDialogPage } from '../dialog/pin-dialog-page.js';
import { REQUESTABLE_KINDS, type StatementRequest } from '../station/station-statements.js';
import { trainingRoutes } from './training-routes.js';

export interface AgentAppOptions {
  readonly agent: CardAgent;
  /** The only origin whose pages may use the agent, e.g. http://localhost:3000 (see `acceptedOrigins`). */
  readonly portalOrigin: string;
  /** Answer Private Network Access pre-flights (Chromium asks before a public page calls loopback). */
  readonly privateNetworkAccess?: boolean;
  /** Training mode: the virtual cards the training panel may plug, insert and remove. */
  readonly training?: VirtualBackend;
}

const SESSION_HEADER = 'x-agent-session';
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '[::1]']);

const STATUS: Record<string, number> = {
  READER_NOT_FOUND: 404,
  CARD_MISSING: 409,
  CARD_REMOVED: 409,
  PIN_INCORRECT: 400,
  PIN_BLOCKED: 423,
  PIN_FORMAT: 400,
  PUK_INCORRECT: 400,
  CARD_LOCKED: 423,
  KEY_MISSING: 409,
  WRONG_CARD: 409,
  CARD_ERROR: 422,
  ORIGIN_FORBIDDEN: 403,
  SESSION_INVALID: 401,
  DIALOG_CANCELLED: 409,
  DIALOG_TIMEOUT: 408,
  REQUEST_INVALID: 400,
  STATION_NOT_REGISTERED: 409,
  STATION_KEY_UNAVAILABLE: 503,
};

/** The body of every error answer: a stable code, the catalogue's words in both languages, details. */
export const errorBody = (code: string, details: Record<string, unknown> = {}) =>
  errorResponse(isErrorCode(code) ? code : 'REQUEST_INVALID', details);

const hostname = (host: string | undefined): string => {
  if (!host) return '';
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  return host.split(':')[0] ?? '';
};

/**
 * The page origins the agent answers. Outside training only the configured one. In training mode,
 * where one process runs the portal and its agent on loopback, a portal configured on a loopback name
 * is also answered under the other loopback spellings of the same scheme and port: the page opened at
 * http://127.0.0.1:3000 works as it does at http://localhost:3000. No other host is ever added.
 */
export const acceptedOrigins = (portalOrigin: string, training: boolean): ReadonlySet<string> => {
  const configured = new URL(portalOrigin);
  if (!training || !LOOPBACK_HOSTS.has(configured.hostname)) return new Set([configured.origin]);
  return new Set([
    configured.origin,
    ...[...LOOPBACK_HOSTS].map((host) => {
      const spelling = new URL(configured.origin);
      spelling.hostname = host;
      return spelling.origin;
    }),
  ]);
};

const base64 = { type: 'string', pattern: '^[A-Za-z0-9+/]*={0,2}$', maxLength: 65536 } as const;
const flowId = { type: 'string', minLength: 1, maxLength: 100 } as const;

/**
 * The agent's HTTP API on loopback. Only the configured portal origin may call `/v1`; the PIN
 * dialog pages live on the agent's own origin and only they may submit a PIN.
 */
export const buildAgentApp = async (options: AgentAppOptions): Promise<FastifyInstance> => {
  const { agent, portalOrigin } = options;
  const accepted = acceptedOrigins(portalOrigin, options.training !== undefined);
  const app = Fastify({ logger: false, bodyLimit: 256 * 1024 });

  /** The origin to name in CORS answers: the caller's, once it is one of those accepted. */
  const allowedOrigin = (request: FastifyRequest): string => {
    const origin = request.headers.origin;
    return origin !== undefined && accepted.has(origin) ? origin : portalOrigin;
  };
  const corsHeaders = (request: FastifyRequest, reply: FastifyReply) =>
    reply.header('access-control-allow-origin', allowedOrigin(request)).header('vary', 'Origin');

  app.addHook('onRequest', async (request, reply) => {
    // Loopback names only: a page on a rebinding DNS name must not reach the agent.
    if (!LOOPBACK_HOSTS.has(hostname(request.headers.host))) {
      return reply.status(403).send(errorBody('ORIGIN_FORBIDDEN', { reason: 'host' }));
    }
    const origin = request.headers.origin;
    const path = request.url.split('?')[0] ?? '';
    const ownOrigin = `http://${request.headers.host}`;
    if (path.startsWith('/dialog/')) {
      // The dialog page itself is a navigation (no Origin); what it posts comes from its own origin.
      if (request.method !== 'GET' && origin !== ownOrigin) {
        return reply.status(403).send(errorBody('ORIGIN_FORBIDDEN', { reason: 'origin' }));
      }
      return;
    }
    if (origin === undefined || !accepted.has(origin)) {
      // The refusal itself is readable by the refused page (a fixed body, nothing of the agent's
      // settings), so that it can tell "opened at the wrong address" from "no agent running".
      if (origin) reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
      return reply
        .status(403)
        .send(errorBody('ORIGIN_FORBIDDEN', { reason: origin ? 'origin' : 'no-origin' }));
    }
    corsHeaders(request, reply);
    if (request.method === 'OPTIONS') {
      reply
        .header('access-control-allow-methods', 'GET, POST')
        .header('access-control-allow-headers', `content-type, ${SESSION_HEADER}, last-event-id`)
        .header('access-control-max-age', '600');
      if (
        options.privateNetworkAccess !== false &&
        request.headers['access-control-request-private-network'] === 'true'
      ) {
        reply.header('access-control-allow-private-network', 'true');
      }
      return reply.status(204).send();
    }
  });

  app.setErrorHandler((error, _request, reply) => {
    if (isAgentError(error))
      return reply.status(STATUS[error.code] ?? 400).send(errorBody(error.code, error.details));
    const validation = (error as { validation?: unknown; statusCode?: number }).validation !== undefined;
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (validation || (status >= 400 && status < 500)) {
      return reply
        .status(validation ? 400 : status)
        .send(errorBody('REQUEST_INVALID', { reason: validation ? 'schema' : 'http' }));
    }
    return reply.status(500).send(errorBody('CARD_ERROR', { reason: 'internal' }));
  });
  app.setNotFoundHandler((_request, reply) =>
    reply.status(404).send(errorBody('REQUEST_INVALID', { reason: 'no such path' })),
  );

  const session = (request: FastifyRequest): string => {
    const token = request.headers[SESSION_HEADER];
    if (typeof token !== 'string')
      throw new AgentError('SESSION_INVALID', 'missing agent session header', {});
    return token;
  };
  const withDialogUrl = (request: FastifyRequest, view: OperationView) => ({
    ...view,
    dialogUrl: view.dialog ? `http://${request.headers.host}/dialog/${view.dialog.id}` : null,
  });
  const readerParams = {
    type: 'object',
    properties: { readerId: { type: 'string', minLength: 1, maxLength: 100 } },
    required: ['readerId'],
  } as const;

  app.options('/v1/*', async () => undefined);

  app.get('/v1/info', async () => ({ ...agent.info, backend: agent.cardBackend.describe() }));

  app.post('/v1/sessions', async () => agent.createSession());

  app.post<{ Body: { readerId: string } }>(
    '/v1/sessions/bind',
    { schema: { body: readerParams } },
    async (request) => ({ cardNumber: await agent.bind(session(request), request.body.readerId) }),
  );

  app.get('/v1/readers', async (request) => {
    agent.session(session(request));
    return { readers: await agent.cardBackend.readers() };
  });

  app.get<{ Params: { readerId: string } }>(
    '/v1/readers/:readerId/card',
    { schema: { params: readerParams } },
    async (request) => {
      agent.session(session(request));
      const info = await agent.cardBackend.cardInfo(request.params.readerId);
      return {
        ...info,
        certificates: info.certificates.map((c) => ({
          key: c.key,
          der: Buffer.from(c.der).toString('base64'),
        })),
      };
    },
  );

  const withFlow = { type: 'object', properties: { flowId }, additionalProperties: false } as const;

  app.post<{ Params: { readerId: string }; Body: { challenge: string; flowId?: string } }>(
    '/v1/readers/:readerId/authenticate',
    {
      schema: {
        params: readerParams,
        body: {
          type: 'object',
          properties: { challenge: base64, flowId },
          required: ['challenge'],
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const view = await agent.authenticate(
        session(request),
        request.params.readerId,
        Buffer.from(request.body.challenge, 'base64'),
        request.body.flowId ?? null,
      );
      return reply.status(202).send(withDialogUrl(request, view));
    },
  );

  app.post<{ Params: { readerId: string }; Body: { data: string; flowId?: string } }>(
    '/v1/readers/:readerId/sign',
    {
      schema: {
        params: readerParams,
        body: {
          type: 'object',
          properties: { data: base64, flowId },
          required: ['data'],
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const view = await agent.sign(
        session(request),
        request.params.readerId,
        Buffer.from(request.body.data, 'base64'),
        request.body.flowId ?? null,
      );
      return reply.status(202).send(withDialogUrl(request, view));
    },
  );

  app.post<{ Params: { readerId: string }; Body: { flowId?: string; keySpec?: 'ecdsa-p256' | 'rsa-2048' } }>(
    '/v1/readers/:readerId/enrol',
    {
      schema: {
        params: readerParams,
        body: {
          type: 'object',
          properties: { flowId, keySpec: { type: 'string', enum: ['ecdsa-p256', 'rsa-2048'] } },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const view = await agent.enrol(
        session(request),
        request.params.readerId,
        request.body.flowId ?? null,
        request.body.keySpec,
      );
      return reply.status(202).send(withDialogUrl(request, view));
    },
  );

  app.post<{ Params: { readerId: string }; Body: { flowId?: string; auth: string; sign: string } }>(
    '/v1/readers/:readerId/certificates',
    {
      schema: {
        params: readerParams,
        body: {
          type: 'object',
          properties: { flowId, auth: base64, sign: base64 },
          required: ['auth', 'sign'],
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const view = await agent.writeCertificates(
        session(request),
        request.params.readerId,
        { auth: Buffer.from(request.body.auth, 'base64'), sign: Buffer.from(request.body.sign, 'base64') },
        request.body.flowId ?? null,
      );
      return reply.status(202).send(withDialogUrl(request, view));
    },
  );

  app.post<{ Params: { readerId: string }; Body: { flowId?: string } }>(
    '/v1/readers/:readerId/clean',
    { schema: { params: readerParams, body: withFlow } },
    async (request, reply) => {
      const view = await agent.clean(session(request), request.params.readerId, request.body?.flowId ?? null);
      return reply.status(202).send(withDialogUrl(request, view));
    },
  );

  // Förlängning on the holder's computer: new keys beside the old ones, with the card's proof bound
  // to the extension's id and nonce; then the new certificates written and the old keys removed.
  app.post<{
    Params: { readerId: string };
    Body: { extensionId: string; nonce: string; keySpec?: CardKeySpec };
  }>(
    '/v1/readers/:readerId/renewal/keys',
    {
      schema: {
        params: readerParams,
        body: {
          type: 'object',
          properties: {
            extensionId: { type: 'string', pattern: '^[A-Za-z0-9_-]{8,64}$' },
            nonce: { type: 'string', pattern: '^[A-Za-z0-9_-]{8,128}$' },
            keySpec: { type: 'string', enum: ['ecdsa-p256', 'rsa-2048'] },
          },
          required: ['extensionId', 'nonce'],
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const view = await agent.renewKeys(
        session(request),
        request.params.readerId,
        { id: request.body.extensionId, nonce: request.body.nonce },
        request.body.keySpec,
      );
      return reply.status(202).send(withDialogUrl(request, view));
    },
  );

  app.post<{ Params: { readerId: string }; Body: { auth: string; sign: string } }>(
    '/v1/readers/:readerId/renewal/certificates',
    {
      schema: {
        params: readerParams,
        body: {
          type: 'object',
          properties: { auth: base64, sign: base64 },
          required: ['auth', 'sign'],
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const view = await agent.renewCertificates(session(request), request.params.readerId, {
        auth: Buffer.from(request.body.auth, 'base64'),
        sign: Buffer.from(request.body.sign, 'base64'),
      });
      return reply.status(202).send(withDialogUrl(request, view));
    },
  );

  // PIN change and unblock: the dialog asks for the PINs and the PUK, the portal only says which PIN.
  const whichPin = {
    type: 'object',
    properties: { pin: { type: 'string', enum: ['pin1', 'pin2'] } },
    required: ['pin'],
    additionalProperties: false,
  } as const;

  app.post<{ Params: { readerId: string }; Body: { pin: 'pin1' | 'pin2' } }>(
    '/v1/readers/:readerId/change-pin',
    { schema: { params: readerParams, body: whichPin } },
    async (request, reply) => {
      const view = await agent.changePin(session(request), request.params.readerId, request.body.pin);
      return reply.status(202).send(withDialogUrl(request, view));
    },
  );

  app.post<{ Params: { readerId: string }; Body: { pin: 'pin1' | 'pin2' } }>(
    '/v1/readers/:readerId/unblock-pin',
    { schema: { params: readerParams, body: whichPin } },
    async (request, reply) => {
      const view = await agent.unblockPin(session(request), request.params.readerId, request.body.pin);
      return reply.status(202).send(withDialogUrl(request, view));
    },
  );

  app.get<{ Params: { operationId: string }; Querystring: { wait?: number } }>(
    '/v1/operations/:operationId',
    {
      schema: {
        params: {
          type: 'object',
          properties: { operationId: { type: 'string', maxLength: 64 } },
          required: ['operationId'],
        },
        querystring: { type: 'object', properties: { wait: { type: 'integer', minimum: 0, maximum: 30 } } },
      },
    },
    async (request) => {
      agent.session(session(request));
      const view = await agent.waitFor(request.params.operationId, (request.query.wait ?? 0) * 1000);
      return withDialogUrl(request, view);
    },
  );

  // --- the station: its identity and its signed statements --------------------------------------
  app.get('/v1/station', async (request) => agent.stationView(session(request)));

  app.post<{ Body: { name: string } }>(
    '/v1/station/csr',
    {
      schema: {
        body: {
          type: 'object',
          properties: { name: { type: 'string', minLength: 1, maxLength: 100 } },
          required: ['name'],
          additionalProperties: false,
        },
      },
    },
    async (request) => {
      const { csr } = await agent.stationCsr(session(request), request.body.name);
      return { csr };
    },
  );

  app.post<{ Body: { certificate: string } }>(
    '/v1/station/certificate',
    {
      schema: {
        body: {
          type: 'object',
          properties: { certificate: { type: 'string', minLength: 1, maxLength: 32768 } },
          required: ['certificate'],
          additionalProperties: false,
        },
      },
    },
    async (request) => agent.installStationCertificate(session(request), request.body.certificate),
  );

  app.post<{ Body: StatementRequest }>(
    '/v1/statements',
    {
      schema: {
        body: {
          type: 'object',
          properties: {
            flowId: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,100}$' },
            nonce: { type: 'string', pattern: '^[0-9a-f]{32}$' },
            kind: { type: 'string', enum: [...REQUESTABLE_KINDS] },
            eventSeq: { type: 'integer', minimum: 1 },
            eventSeqs: {
              type: 'array',
              items: { type: 'integer', minimum: 1 },
              minItems: 2,
              maxItems: MAX_STATEMENT_EVENTS,
            },
            reader: { type: 'integer', enum: [1, 2] },
          },
          required: ['flowId', 'nonce', 'kind'],
          additionalProperties: false,
        },
      },
    },
    async (request) => agent.statement(session(request), request.body),
  );

  app.get<{ Params: { flowId: string } }>(
    '/v1/flows/:flowId/events',
    { schema: { params: { type: 'object', properties: { flowId }, required: ['flowId'] } } },
    async (request) => {
      agent.session(session(request));
      return { events: agent.flowEvents(request.params.flowId) };
    },
  );

  // A reloaded page finds its flow's card work here, to carry on with it where it is.
  app.get<{ Params: { flowId: string } }>(
    '/v1/flows/:flowId/operations',
    { schema: { params: { type: 'object', properties: { flowId }, required: ['flowId'] } } },
    async (request) => ({
      operations: agent
        .flowOperations(session(request), request.params.flowId)
        .map((view) => withDialogUrl(request, view)),
    }),
  );

  app.post<{ Params: { flowId: string } }>(
    '/v1/flows/:flowId/download-lost',
    { schema: { params: { type: 'object', properties: { flowId }, required: ['flowId'] } } },
    async (request) => agent.downloadLost(session(request), request.params.flowId),
  );

  // Server-sent events: EventSource cannot send headers, so the session comes in the query.
  app.get<{ Querystring: { session?: string; after?: number } }>(
    '/v1/events',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { session: { type: 'string', maxLength: 64 }, after: { type: 'integer', minimum: 0 } },
        },
      },
    },
    async (request, reply) => {
      agent.session(request.query.session);
      const lastEventId = Number(request.headers['last-event-id'] ?? request.query.after ?? Number.NaN);
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'access-control-allow-origin': allowedOrigin(request),
        vary: 'Origin',
      });
      raw.write('retry: 1000\n\n');
      const unsubscribe = agent.subscribe(
        (event) => raw.write(`id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`),
        Number.isFinite(lastEventId) ? lastEventId : undefined,
      );
      const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), 15_000);
      request.raw.on('close', () => {
        clearInterval(heartbeat);
        unsubscribe();
      });
    },
  );

  // --- the PIN dialog, on the agent's own origin -----------------------------------------------
  const dialogParams = {
    type: 'object',
    properties: { dialogId: { type: 'string', pattern: '^[A-Za-z0-9_-]{10,64}$' } },
    required: ['dialogId'],
  } as const;
  const dialogSecurity = (reply: FastifyReply) =>
    reply
      .header(
        'content-security-policy',
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'",
      )
      .header('x-frame-options', 'DENY')
      .header('cache-control', 'no-store')
      .header('referrer-policy', 'no-referrer');

  app.get('/dialog/assets/dialog.css', async (_request, reply) => reply.type('text/css').send(DIALOG_CSS));
  app.get('/dialog/assets/dialog.js', async (_request, reply) =>
    reply.type('text/javascript').send(DIALOG_JS),
  );

  app.get<{ Params: { dialogId: string }; Querystring: { lang?: 'sv' | 'en' } }>(
    '/dialog/:dialogId',
    {
      schema: {
        params: dialogParams,
        querystring: { type: 'object', properties: { lang: { type: 'string', enum: ['sv', 'en'] } } },
      },
    },
    async (request, reply) => {
      const view = agent.dialogShown(request.params.dialogId);
      return dialogSecurity(reply)
        .type('text/html; charset=utf-8')
        .send(pinDialogPage(view, request.query.lang ?? 'sv'));
    },
  );

  app.post<{ Params: { dialogId: string }; Body: { pin: string; newPin?: string; repeat?: string } }>(
    '/dialog/:dialogId/attempt',
    {
      schema: {
        params: dialogParams,
        body: {
          type: 'object',
          // `pin` is the PIN (or, in an unblock, the PUK); a change or unblock adds the new PIN twice.
          properties: {
            pin: { type: 'string', maxLength: 16 },
            newPin: { type: 'string', maxLength: 16 },
            repeat: { type: 'string', maxLength: 16 },
          },
          required: ['pin'],
          additionalProperties: false,
        },
      },
    },
    async (request, reply) =>
      dialogSecurity(reply).send(
        await agent.submitPin(
          request.params.dialogId,
          request.body.pin,
          request.body.newPin,
          request.body.repeat,
        ),
      ),
  );

  app.post<{ Params: { dialogId: string } }>(
    '/dialog/:dialogId/cancel',
    { schema: { params: dialogParams } },
    async (request, reply) => dialogSecurity(reply).send(agent.cancelDialog(request.params.dialogId)),
  );

  if (options.training)
    await app.register(trainingRoutes(agent, options.training), { prefix: '/v1/training' });
  return app;
};
