import { randomBytes } from 'node:crypto';
import { CARD_KEY_TYPES, type ErrorCode, type SignedStatement } from '@reservkort/domain';
import {
  type Database,
  endSession,
  getAdmin,
  getAdminPending,
  hasStaffRole,
  hasStaffRolePending,
  insertChallengeQuery,
  insertSession,
  markLoginCardRemoved,
  pendingAll,
  type SessionStation,
} from '@reservkort/store';
import type { FastifyPluginAsync } from 'fastify';
import type { Kysely } from 'kysely';
import { verifySignedLogin } from '../auth/card-login.js';
import { loginCardAt, verifyChallengeReaders } from '../auth/login-station.js';
import {
  type CurrentSession,
  newCardSession,
  requireSession,
  SESSION_COOKIE,
  setSessionCookie,
} from '../auth/session.js';
import { issueChallenge, statement } from '../auth/signing-challenge.js';
import { ApiError } from '../http/api-error.js';
import { RATE_LIMITED } from '../http/rate-limit.js';
import type { IssuanceService } from '../issuance/issuance.service.js';
import type { ServerContext } from '../server-context.js';
import { signedStatementSchema } from '../station/signed-statement.schema.js';
import { newStationNonce } from '../station/station-statement.service.js';

const CHALLENGE_TTL_MS = 2 * 60_000;
const base64 = { type: 'string', pattern: '^[A-Za-z0-9+/]*={0,2}$', minLength: 4, maxLength: 16384 } as const;
const errorRef = { $ref: 'ApiError#' } as const;
/** The refusals of a session that mean no one is logged in (a revoked login certificate ends its session). */
const LOGGED_OUT: ReadonlySet<ErrorCode> = new Set(['NOT_LOGGED_IN', 'LOGIN_CERTIFICATE_REVOKED']);

export const whoAmI = {
  type: 'object',
  properties: {
    hsaId: { type: 'string' },
    name: { type: 'string' },
    cardNumber: { type: 'string' },
    assuranceLevel: { type: 'string', enum: ['LoA2', 'LoA3'] },
    serviceDesk: { type: 'boolean' },
    csrfToken: { type: 'string' },
  },
  required: ['hsaId', 'name', 'cardNumber', 'assuranceLevel', 'serviceDesk', 'csrfToken'],
} as const;

/** The login's answer: who is logged in, and the flow reserved with the login when the page asked for one. */
const loginAnswer = {
  ...whoAmI,
  properties: {
    ...whoAmI.properties,
    flowReservation: {
      type: 'object',
      properties: {
        flowId: { type: 'string' },
        stationNonce: { type: 'string' },
        cardKeyType: { type: 'string', enum: [...CARD_KEY_TYPES] },
      },
      required: ['flowId', 'stationNonce', 'cardKeyType'],
    },
  },
} as const;

/**
 * Card login: a one-time challenge, signed by the card's authentication key through the agent; the
 * certificate chain, revocation and assurance level checked; the session bound to that card.
 */
export const authRoutes =
  (ctx: ServerContext, issuance: IssuanceService): FastifyPluginAsync =>
  async (app) => {
    const db = ctx.store.db;

    // Anyone may call these two: each client address has a budget per minute (429 RATE_LIMITED).
    app.post(
      '/challenge',
      {
        config: RATE_LIMITED,
        schema: {
          tags: ['auth'],
          summary:
            'A one-time login challenge for the card to sign, and the nonce for the card station’s statement of its readers',
          response: {
            200: {
              type: 'object',
              properties: {
                challengeId: { type: 'string' },
                challenge: { type: 'string' },
                stationNonce: { type: 'string' },
              },
              required: ['challengeId', 'challenge', 'stationNonce'],
            },
            429: errorRef,
          },
        },
      },
      async () => {
        const stationNonce = newStationNonce();
        // Random bytes make every login signature new; the purpose keeps the signed challenge from
        // passing for a statement of any other route.
        const { challengeId, toBeSigned } = await issueChallenge(
          db,
          statement({ purpose: 'login', random: randomBytes(32).toString('base64'), stationNonce }),
          ctx.clock.now(),
          CHALLENGE_TTL_MS,
        );
        return { challengeId, challenge: toBeSigned, stationNonce };
      },
    );

    app.post<{
      Body: {
        challengeId: string;
        certificate: string;
        signature: string;
        readers?: SignedStatement;
        reserveFlow?: boolean;
      };
    }>(
      '/login',
      {
        config: RATE_LIMITED,
        schema: {
          tags: ['auth'],
          summary:
            'Log in with a card: the signed challenge and the authentication certificate; at a card station, its statement of the readers holding the card',
          body: {
            type: 'object',
            properties: {
              challengeId: { type: 'string', maxLength: 64 },
              certificate: base64,
              signature: base64,
              // A `readers` statement for this challenge (its id as flowId, its stationNonce).
              readers: signedStatementSchema,
              // The issuance portal's first flow, reserved with the login (POST /api/flows/start's answer).
              reserveFlow: { type: 'boolean' },
            },
            required: ['challengeId', 'certificate', 'signature'],
            additionalProperties: false,
          },
          response: {
            200: loginAnswer,
            400: errorRef,
            401: errorRef,
            403: errorRef,
            422: errorRef,
            429: errorRef,
          },
        },
      },
      async (request, reply) => {
        const now = ctx.clock.now();
        // Who the card's holder is here goes with the challenge and the certificate's status.
        const {
          card,
          stationNonce,
          alongside: [admin, serviceDesk],
        } = await verifySignedLogin(ctx, request.body, now, (holder) =>
          pendingAll(getAdminPending(db, holder), hasStaffRolePending(db, holder, 'service-desk')),
        );
        if (admin === null && !serviceDesk)
          throw new ApiError('LOGIN_FAILED', { reason: 'not an administrator' });
        const { token, csrfToken, row } = newCardSession(card, now, ctx.sessions);
        const readers = request.body.readers;
        // Only an ID-administrator issues cards; the service desk's login reserves nothing.
        const reserved =
          request.body.reserveFlow === true && admin !== null ? issuance.reservation(card.hsaId) : null;
        const store = (into: Kysely<Database>, station: SessionStation | null) =>
          insertSession(
            into,
            row(station),
            // The reservation first: a login cut short leaves at most a reservation that lapses.
            reserved === null ? [] : [insertChallengeQuery(into, reserved.row)],
          );
        if (readers === undefined) {
          // One round trip on PostgreSQL, nothing to keep in step with it: no transaction needed.
          await store(db, null);
        } else {
          await db.transaction().execute(async (trx) => {
            // At a card station the session remembers where the station saw the login card, so later
            // signatures can ask the same station whether it is still there, never taken out.
            const seen = await verifyChallengeReaders(trx, ctx.ca, readers, {
              challengeId: request.body.challengeId,
              nonce: stationNonce,
              now,
            });
            const station = loginCardAt(seen, card.cardNumber);
            if (station === null)
              throw new ApiError('CARD_NOT_PROVEN', { reason: 'login card in no reader of the station' });
            await store(trx, station);
          });
        }
        setSessionCookie(reply, token, ctx.sessions);
        const name = admin
          ? `${admin.givenName} ${admin.surname}`
          : (card.certificate.subjectName.getField('2.5.4.3')[0] ?? '');
        return {
          hsaId: card.hsaId,
          name,
          cardNumber: card.cardNumber,
          assuranceLevel: card.assuranceLevel,
          serviceDesk,
          csrfToken,
          ...(reserved === null ? {} : { flowReservation: reserved.reservation }),
        };
      },
    );

    app.post<{ Body: { cardNumber: string | null } }>(
      '/card-removed',
      {
        schema: {
          tags: ['auth'],
          summary:
            'The page saw a card leave its reader; if it is the login card, the session may no longer sign',
          body: {
            type: 'object',
            properties: { cardNumber: { type: ['string', 'null'], maxLength: 40 } },
            required: ['cardNumber'],
          },
        },
      },
      async (request) => {
        const current = await requireSession(request, db, ctx.clock.now(), ctx.sessions);
        if (request.body.cardNumber !== current.cardNumber)
          return { loginCardRemovedAt: current.loginCardRemovedAt };
        return { loginCardRemovedAt: await markLoginCardRemoved(db, current.id, ctx.clock.now()) };
      },
    );

    app.post(
      '/logout',
      { schema: { tags: ['auth'], summary: 'End the session' } },
      async (request, reply) => {
        const session = await requireSession(request, db, ctx.clock.now(), ctx.sessions);
        await endSession(db, session.id, ctx.clock.now());
        reply.clearCookie(SESSION_COOKIE, { path: '/' });
        return { ok: true };
      },
    );

    const whoIs = async (session: CurrentSession) => {
      const admin = await getAdmin(db, session.hsaId);
      return {
        hsaId: session.hsaId,
        name: admin ? `${admin.givenName} ${admin.surname}` : '',
        cardNumber: session.cardNumber,
        assuranceLevel: session.assuranceLevel,
        serviceDesk: await hasStaffRole(db, session.hsaId, 'service-desk'),
        csrfToken: session.csrfToken,
      };
    };

    app.get(
      '/me',
      { schema: { tags: ['auth'], summary: 'Who is logged in', response: { 200: whoAmI, 401: errorRef } } },
      async (request) => whoIs(await requireSession(request, db, ctx.clock.now(), ctx.sessions)),
    );

    // The page's first question on every load: being logged out is an answer here, not an error.
    app.get(
      '/session',
      {
        schema: {
          tags: ['auth'],
          summary: 'Who is logged in, if anyone: `user` is null when no session is (ended, expired or none)',
          response: {
            200: {
              type: 'object',
              properties: { user: { anyOf: [whoAmI, { type: 'null' }] } },
              required: ['user'],
            },
          },
        },
      },
      async (request) => {
        const session = await requireSession(request, db, ctx.clock.now(), ctx.sessions).catch(
          (error: unknown) => {
            if (error instanceof ApiError && LOGGED_OUT.has(error.code)) return null;
            throw error;
          },
        );
        return { user: session === null ? null : await whoIs(session) };
      },
    );
  };
