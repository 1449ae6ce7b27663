import { holderCardProblem } from '@reservkort/domain';
import { endSession, getCertificate, getPersonByHsaId, insertSession } from '@reservkort/store';
import type { FastifyPluginAsync } from 'fastify';
import { verifySignedLogin } from '../auth/card-login.js';
import {
  type CurrentSession,
  newCardSession,
  requireSession,
  SESSION_COOKIE,
  setSessionCookie,
} from '../auth/session.js';
import type { RevocationService } from '../card-life/revocation.service.js';
import { ApiError } from '../http/api-error.js';
import { RATE_LIMITED } from '../http/rate-limit.js';
import type { ServerContext } from '../server-context.js';

const base64 = { type: 'string', pattern: '^[A-Za-z0-9+/]*={0,2}$', minLength: 4, maxLength: 16384 } as const;
const errorRef = { $ref: 'ApiError#' } as const;

export const holderWhoAmI = {
  type: 'object',
  properties: {
    hsaId: { type: 'string' },
    name: { type: 'string' },
    cardNumber: { type: 'string' },
    assuranceLevel: { type: 'string', enum: ['LoA2', 'LoA3'] },
    csrfToken: { type: 'string' },
    /** The login certificate's serial: the e-ID a förlängning started now would extend. */
    certificateSerial: { type: 'string' },
  },
  required: ['hsaId', 'name', 'cardNumber', 'assuranceLevel', 'csrfToken', 'certificateSerial'],
} as const;

/**
 * The reserve card holder's own pages: login with the reserve card itself. The card's
 * authentication certificate must be one this product issued for a reserve-card order, at LoA3 by
 * its issuing CA's policy; the session it opens is a holder's, which no administrator's route
 * accepts. The challenge is the administrators' (`POST /api/auth/challenge`).
 */
/** A reserve card's e-ID as the holder's pages and the administrators' person page show it. */
export const eidSchema = {
  type: 'object',
  properties: {
    cardNumber: { type: 'string' },
    orderId: { type: 'string' },
    status: { type: 'string', enum: ['good', 'expired', 'revoked'] },
    daysLeft: { type: 'integer' },
    certificates: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          serial: { type: 'string' },
          use: { type: 'string', enum: ['authentication', 'signature'] },
          subject: { type: 'string' },
          issuer: { type: 'string' },
          notBefore: { type: 'integer' },
          notAfter: { type: 'integer' },
          status: { type: 'string', enum: ['good', 'expired', 'revoked'] },
          revocation: {
            anyOf: [
              {
                type: 'object',
                properties: { reason: { type: 'string' }, revokedAt: { type: 'integer' } },
                required: ['reason', 'revokedAt'],
              },
              { type: 'null' },
            ],
          },
        },
        required: ['serial', 'use', 'subject', 'issuer', 'notBefore', 'notAfter', 'status', 'revocation'],
      },
    },
  },
  required: ['cardNumber', 'orderId', 'status', 'daysLeft', 'certificates'],
} as const;

/** What a spärr did: the certificates revoked, when, and the RFC 5280 reason the CA recorded. */
export const revocationDoneSchema = {
  type: 'object',
  properties: {
    serials: { type: 'array', items: { type: 'string' } },
    revokedAt: { type: 'integer' },
    reason: { type: 'string' },
  },
  required: ['serials', 'revokedAt', 'reason'],
} as const;

export const holderRoutes =
  (ctx: ServerContext, revocation: RevocationService): FastifyPluginAsync =>
  async (app) => {
    const db = ctx.store.db;

    const whoIs = async (
      session: Pick<
        CurrentSession,
        'hsaId' | 'cardNumber' | 'assuranceLevel' | 'csrfToken' | 'certificateSerial'
      >,
    ) => {
      const person = await getPersonByHsaId(db, session.hsaId);
      return {
        hsaId: session.hsaId,
        name: person === null ? '' : `${person.givenName} ${person.surname}`,
        cardNumber: session.cardNumber,
        assuranceLevel: session.assuranceLevel,
        csrfToken: session.csrfToken,
        certificateSerial: session.certificateSerial,
      };
    };

    app.post<{ Body: { challengeId: string; certificate: string; signature: string } }>(
      '/login',
      {
        config: RATE_LIMITED,
        schema: {
          tags: ['holder'],
          summary:
            'Log in to the holder’s own pages with the reserve card: the signed challenge and its authentication certificate',
          body: {
            type: 'object',
            properties: {
              challengeId: { type: 'string', maxLength: 64 },
              certificate: base64,
              signature: base64,
            },
            required: ['challengeId', 'certificate', 'signature'],
            additionalProperties: false,
          },
          response: { 200: holderWhoAmI, 400: errorRef, 401: errorRef, 403: errorRef, 429: errorRef },
        },
      },
      async (request, reply) => {
        const now = ctx.clock.now();
        const { card } = await verifySignedLogin(ctx, request.body, now);
        // A staff card or an administrator's login card is not a reserve card: only a card
        // certificate issued for an order opens the holder's pages.
        const stored = await getCertificate(db, card.serial);
        const problem = holderCardProblem({
          issuedForOrder: stored !== null && stored.orderId !== null && stored.profile === 'card-auth',
          assuranceLevel: card.assuranceLevel,
        });
        if (!problem.ok) throw new ApiError(problem.error.code, problem.error.details ?? {});
        const { token, csrfToken, row } = newCardSession(card, now, ctx.sessions, 'holder');
        await insertSession(db, row(null));
        setSessionCookie(reply, token, ctx.sessions);
        return whoIs({ ...card, csrfToken, certificateSerial: card.serial });
      },
    );

    app.get(
      '/session',
      {
        schema: {
          tags: ['holder'],
          summary: 'The holder logged in, if any: `holder` is null when no holder’s session is',
          response: {
            200: {
              type: 'object',
              properties: { holder: { anyOf: [holderWhoAmI, { type: 'null' }] } },
              required: ['holder'],
            },
          },
        },
      },
      async (request) => {
        const session = await requireSession(request, db, ctx.clock.now(), ctx.sessions, 'holder').catch(
          (error: unknown) => {
            if (
              error instanceof ApiError &&
              (error.code === 'NOT_LOGGED_IN' || error.code === 'LOGIN_CERTIFICATE_REVOKED')
            )
              return null;
            throw error;
          },
        );
        return { holder: session === null ? null : await whoIs(session) };
      },
    );

    app.get(
      '/eids',
      {
        schema: {
          tags: ['holder'],
          summary:
            'The holder’s own e-IDs on the reserve card they logged in with: both certificates, their status at the CA now, the days left',
          response: {
            200: {
              type: 'object',
              properties: { eids: { type: 'array', items: eidSchema } },
              required: ['eids'],
            },
            401: errorRef,
          },
        },
      },
      async (request) => {
        const session = await requireSession(request, db, ctx.clock.now(), ctx.sessions, 'holder');
        // Only the card the holder proved at login, and only as theirs: no parameter names anyone else.
        return { eids: await revocation.eids(session.hsaId, session.cardNumber) };
      },
    );

    app.post<{ Body: { reason: string } }>(
      '/eids/revoke',
      {
        config: RATE_LIMITED,
        schema: {
          tags: ['holder'],
          summary:
            'Spärra: the holder revokes the e-ID on their reserve card (lost card, suspected misuse, damaged card); the session ends with it',
          body: {
            type: 'object',
            properties: { reason: { type: 'string', maxLength: 40 } },
            required: ['reason'],
            additionalProperties: false,
          },
          response: { 200: revocationDoneSchema, 400: errorRef, 401: errorRef, 403: errorRef, 409: errorRef },
        },
      },
      async (request, reply) => {
        const session = await requireSession(request, db, ctx.clock.now(), ctx.sessions, 'holder');
        const done = await revocation.revoke(
          { kind: 'holder', hsaId: session.hsaId },
          { hsaId: session.hsaId, cardNumber: session.cardNumber },
          request.body.reason,
        );
        // The login certificate is revoked with the rest: the session it opened ends now.
        await endSession(db, session.id, ctx.clock.now());
        reply.clearCookie(SESSION_COOKIE, { path: '/' });
        return done;
      },
    );

    app.post(
      '/logout',
      { schema: { tags: ['holder'], summary: 'End the holder’s session' } },
      async (request, reply) => {
        const session = await requireSession(request, db, ctx.clock.now(), ctx.sessions, 'holder');
        await endSession(db, session.id, ctx.clock.now());
        reply.clearCookie(SESSION_COOKIE, { path: '/' });
        return { ok: true };
      },
    );
  };
