import type { CardKeyFact, CardNumber } from '@reservkort/domain';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { requireSession } from '../auth/session.js';
import type { ServerContext } from '../server-context.js';
import type { ExtensionService } from './extension.service.js';

const base64 = { type: 'string', pattern: '^[A-Za-z0-9+/]*={0,2}$', minLength: 4, maxLength: 16384 } as const;
const errorRef = { $ref: 'ApiError#' } as const;
const errors = { 400: errorRef, 401: errorRef, 403: errorRef, 404: errorRef, 409: errorRef, 422: errorRef };
const params = {
  type: 'object',
  properties: { extensionId: { type: 'string', pattern: '^[A-Za-z0-9_-]{8,64}$' } },
  required: ['extensionId'],
} as const;
const serials = {
  type: 'object',
  properties: { auth: { type: 'string' }, sign: { type: 'string' } },
  required: ['auth', 'sign'],
} as const;

export const extensionView = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    state: { type: 'string', enum: ['open', 'issuing', 'issued', 'completed', 'abandoned'] },
    cardNumber: { type: 'string' },
    nonce: { type: 'string' },
    cardKeyType: { type: 'string', enum: ['ecdsa-p256', 'rsa-2048'] },
    termsAccepted: { type: 'boolean' },
    keysProven: { type: 'boolean' },
    validity: {
      type: 'object',
      properties: { notBefore: { type: 'number' }, notAfter: { type: 'number' } },
      required: ['notBefore', 'notAfter'],
    },
    oldSerials: serials,
    newSerials: { anyOf: [serials, { type: 'null' }] },
    deadline: { type: 'number' },
    abandonReason: { anyOf: [{ type: 'string' }, { type: 'null' }] },
  },
  required: [
    'id',
    'state',
    'cardNumber',
    'nonce',
    'cardKeyType',
    'termsAccepted',
    'keysProven',
    'validity',
    'oldSerials',
    'newSerials',
    'deadline',
    'abandonReason',
  ],
} as const;

const keyFact = {
  type: 'object',
  properties: {
    spki: base64,
    local: { type: 'boolean' },
    sensitive: { type: 'boolean' },
    neverExtractable: { type: 'boolean' },
  },
  required: ['spki', 'local', 'sensitive', 'neverExtractable'],
  additionalProperties: false,
} as const;

const certificatesSchema = {
  type: 'object',
  properties: { auth: { type: 'string' }, sign: { type: 'string' } },
  required: ['auth', 'sign'],
} as const;

/**
 * Förlängning on the holder's own pages (`/api/holder/extension`): a holder's session only, every
 * change audited by the service. The card's work runs in the card agent on the holder's computer;
 * the page carries the card's proof and the CSRs here and the certificates back.
 */
export const extensionRoutes =
  (ctx: ServerContext, extensions: ExtensionService): FastifyPluginAsync =>
  async (app) => {
    const holder = (request: FastifyRequest) =>
      requireSession(request, ctx.store.db, ctx.clock.now(), ctx.sessions, 'holder');

    app.get(
      '',
      {
        schema: {
          tags: ['holder'],
          summary:
            'The card’s förlängning, running or done; null if none was started (or the last was abandoned); the last one if it was abandoned and none started since',
          response: {
            200: {
              type: 'object',
              properties: {
                extension: { anyOf: [extensionView, { type: 'null' }] },
                abandoned: {
                  anyOf: [
                    {
                      type: 'object',
                      properties: {
                        id: { type: 'string' },
                        reason: { type: 'string' },
                        at: { type: 'integer' },
                      },
                      required: ['id', 'reason', 'at'],
                    },
                    { type: 'null' },
                  ],
                },
              },
              required: ['extension', 'abandoned'],
            },
            ...errors,
          },
        },
      },
      async (request) => {
        const session = await holder(request);
        return {
          extension: await extensions.current(session),
          abandoned: await extensions.lastAbandoned(session),
        };
      },
    );

    app.post(
      '',
      {
        schema: {
          tags: ['holder'],
          summary:
            'Start the förlängning of the card the holder logged in with (or answer the one running): the new validity, or the rule’s refusal',
          response: { 200: extensionView, ...errors },
        },
      },
      async (request) => extensions.start(await holder(request)),
    );

    app.get<{ Params: { extensionId: string } }>(
      '/:extensionId',
      {
        schema: {
          tags: ['holder'],
          summary: 'One förlängning of the holder',
          params,
          response: { 200: extensionView, ...errors },
        },
      },
      async (request) => extensions.get(await holder(request), request.params.extensionId),
    );

    app.post<{ Params: { extensionId: string } }>(
      '/:extensionId/terms',
      {
        schema: {
          tags: ['holder'],
          summary: 'The holder accepts the terms of the new certificates',
          params,
          response: { 200: extensionView, ...errors },
        },
      },
      async (request) => extensions.acceptTerms(await holder(request), request.params.extensionId),
    );

    app.post<{
      Params: { extensionId: string };
      Body: {
        cardNumber: CardNumber;
        bureauCertificate: string;
        cardSignature: string;
        keys: { auth: CardKeyFact; sign: CardKeyFact };
      };
    }>(
      '/:extensionId/keys',
      {
        schema: {
          tags: ['holder'],
          summary:
            'The new keys made on the card, with the card’s bureau-key signature over both for this extension and nonce',
          params,
          body: {
            type: 'object',
            properties: {
              cardNumber: { type: 'string', pattern: '^[0-9]{19}$' },
              bureauCertificate: base64,
              cardSignature: base64,
              keys: {
                type: 'object',
                properties: { auth: keyFact, sign: keyFact },
                required: ['auth', 'sign'],
                additionalProperties: false,
              },
            },
            required: ['cardNumber', 'bureauCertificate', 'cardSignature', 'keys'],
            additionalProperties: false,
          },
          response: { 200: extensionView, ...errors },
        },
      },
      async (request) =>
        extensions.proveKeys(await holder(request), request.params.extensionId, request.body),
    );

    app.post<{ Params: { extensionId: string }; Body: { authCsr: string; signCsr: string } }>(
      '/:extensionId/certificates',
      {
        schema: {
          tags: ['holder'],
          summary: 'The CSRs of the proven keys: both new certificates, issued once',
          params,
          body: {
            type: 'object',
            properties: {
              authCsr: { type: 'string', maxLength: 16384 },
              signCsr: { type: 'string', maxLength: 16384 },
            },
            required: ['authCsr', 'signCsr'],
            additionalProperties: false,
          },
          response: {
            200: {
              type: 'object',
              properties: { extension: extensionView, certificates: certificatesSchema },
              required: ['extension', 'certificates'],
            },
            ...errors,
          },
        },
      },
      async (request) =>
        extensions.issueCertificates(await holder(request), request.params.extensionId, {
          auth: request.body.authCsr,
          sign: request.body.signCsr,
        }),
    );

    app.get<{ Params: { extensionId: string } }>(
      '/:extensionId/certificates',
      {
        schema: {
          tags: ['holder'],
          summary: 'The issued new certificates again (base64 DER), until the extension is acknowledged',
          params,
          response: { 200: certificatesSchema, ...errors },
        },
      },
      async (request) => extensions.certificates(await holder(request), request.params.extensionId),
    );

    app.post<{ Params: { extensionId: string } }>(
      '/:extensionId/acknowledgement-challenge',
      {
        schema: {
          tags: ['holder'],
          summary: 'What the card’s new signature key signs to acknowledge the extension',
          params,
          response: {
            200: {
              type: 'object',
              properties: { challengeId: { type: 'string' }, toBeSigned: { type: 'string' } },
              required: ['challengeId', 'toBeSigned'],
            },
            ...errors,
          },
        },
      },
      async (request) =>
        extensions.acknowledgementChallenge(await holder(request), request.params.extensionId),
    );

    app.post<{ Params: { extensionId: string }; Body: { challengeId: string; signature: string } }>(
      '/:extensionId/acknowledge',
      {
        schema: {
          tags: ['holder'],
          summary:
            'Acknowledge with the new signature key (PIN 2): the extension is done and the old pair revoked as superseded',
          params,
          body: {
            type: 'object',
            properties: { challengeId: { type: 'string', maxLength: 64 }, signature: base64 },
            required: ['challengeId', 'signature'],
            additionalProperties: false,
          },
          response: { 200: extensionView, ...errors },
        },
      },
      async (request) =>
        extensions.acknowledge(await holder(request), request.params.extensionId, request.body),
    );
  };
