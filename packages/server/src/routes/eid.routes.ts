import {
  type CardNumber,
  classifySearchQuery,
  dateOf,
  type HsaId,
  parseCardNumber,
  parseHsaId,
  SPARR_REASONS_FOR,
} from '@reservkort/domain';
import { getAdmin, hasStaffRole } from '@reservkort/store';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { type CurrentSession, requireSession } from '../auth/session.js';
import type { RevocationActor, RevocationService } from '../card-life/revocation.service.js';
import { ApiError } from '../http/api-error.js';
import { RATE_LIMITED } from '../http/rate-limit.js';
import { adminOf, type DirectoryCache, lookUp } from '../issuance/directory.js';
import type { ServerContext } from '../server-context.js';
import { eidSchema, revocationDoneSchema } from './holder.routes.js';

const errorRef = { $ref: 'ApiError#' } as const;
const hsaIdParams = {
  type: 'object',
  properties: { hsaId: { type: 'string', pattern: '^[A-Za-z0-9-]{3,31}$' } },
  required: ['hsaId'],
} as const;
const revokeBody = {
  type: 'object',
  properties: {
    cardNumber: { type: 'string', pattern: '^[0-9]{19}$' },
    reason: { type: 'string', maxLength: 40 },
  },
  required: ['cardNumber', 'reason'],
  additionalProperties: false,
} as const;
const eidsAnswer = {
  type: 'object',
  properties: {
    eids: { type: 'array', items: eidSchema },
    /** The reasons this reader may give for a spärr. */
    reasons: { type: 'array', items: { type: 'string' } },
  },
  required: ['eids', 'reasons'],
} as const;

const hsaIdOf = (text: string): HsaId => {
  const parsed = parseHsaId(text);
  if (!parsed.ok) throw new ApiError('PERSON_NOT_FOUND');
  return parsed.value;
};
const cardNumberOf = (text: string): CardNumber => {
  const parsed = parseCardNumber(text);
  if (!parsed.ok) throw new ApiError(parsed.error.code, parsed.error.details ?? {});
  return parsed.value;
};

/**
 * A person's reserve-card e-IDs on the administrators' person page, and their spärr. Who may is the
 * domain's rule (`decideSparr`): a role in the person's branch, KUR too for a protected identity,
 * a LoA3 login.
 */
export const adminEidRoutes =
  (ctx: ServerContext, revocation: RevocationService): FastifyPluginAsync =>
  async (app) => {
    const db = ctx.store.db;
    const actorOf = async (request: FastifyRequest): Promise<RevocationActor> => {
      const session = await requireSession(request, db, ctx.clock.now(), ctx.sessions);
      // Administrators only, checked before any lookup, so others cannot probe the directory.
      const admin = await adminOf(db, session.hsaId);
      return { kind: 'admin', admin, assuranceLevel: session.assuranceLevel };
    };

    app.get<{ Params: { hsaId: string } }>(
      '/persons/:hsaId/eids',
      {
        schema: {
          tags: ['admin'],
          summary:
            'A person’s reserve-card e-IDs with their status at the CA, for an administrator with a role in their branch',
          params: hsaIdParams,
          response: { 200: eidsAnswer, 400: errorRef, 401: errorRef, 403: errorRef, 404: errorRef },
        },
      },
      async (request) => {
        const actor = await actorOf(request);
        const hsaId = hsaIdOf(request.params.hsaId);
        await revocation.mayHandle(actor, hsaId);
        return { eids: await revocation.eids(hsaId), reasons: [...SPARR_REASONS_FOR.admin] };
      },
    );

    app.post<{ Params: { hsaId: string }; Body: { cardNumber: string; reason: string } }>(
      '/persons/:hsaId/eids/revoke',
      {
        config: RATE_LIMITED,
        schema: {
          tags: ['admin'],
          summary: 'Spärra a person’s reserve-card e-ID from the person’s page, with a reason',
          params: hsaIdParams,
          body: revokeBody,
          response: {
            200: revocationDoneSchema,
            400: errorRef,
            401: errorRef,
            403: errorRef,
            404: errorRef,
            409: errorRef,
          },
        },
      },
      async (request) => {
        const actor = await actorOf(request);
        return revocation.revoke(
          actor,
          { hsaId: hsaIdOf(request.params.hsaId), cardNumber: cardNumberOf(request.body.cardNumber) },
          request.body.reason,
        );
      },
    );
  };

/**
 * The service desk's person search with the person's reserve-card e-IDs, and their spärr. The desk
 * may revoke any e-ID; a protected identity is found, and revoked, only by a desk member with KUR:
 * to anyone else it is as unknown as a person who does not exist.
 */
export const deskEidRoutes =
  (ctx: ServerContext, directory: DirectoryCache, revocation: RevocationService): FastifyPluginAsync =>
  async (app) => {
    const db = ctx.store.db;
    const desk = async (request: FastifyRequest): Promise<CurrentSession> => {
      const current = await requireSession(request, db, ctx.clock.now(), ctx.sessions);
      if (!(await hasStaffRole(db, current.hsaId, 'service-desk')))
        throw new ApiError('ACCESS_DENIED', { reason: 'service desk only' });
      return current;
    };
    const holdsKur = async (hsaId: HsaId) =>
      ((await getAdmin(db, hsaId))?.grants ?? []).some((grant) => grant.role === 'KUR');

    app.get<{ Querystring: { query: string } }>(
      '/persons',
      {
        schema: {
          tags: ['support'],
          summary: 'The service desk finds a person by personnummer or HSA-id, with their reserve-card e-IDs',
          querystring: {
            type: 'object',
            properties: { query: { type: 'string', maxLength: 200 } },
            required: ['query'],
          },
          response: {
            200: {
              type: 'object',
              properties: {
                person: {
                  type: 'object',
                  properties: {
                    hsaId: { type: 'string' },
                    name: { type: 'string' },
                    organisation: { type: 'string' },
                    protectedIdentity: { type: 'boolean' },
                  },
                  required: ['hsaId', 'name', 'organisation', 'protectedIdentity'],
                },
                ...eidsAnswer.properties,
              },
              required: ['person', 'eids', 'reasons'],
            },
            400: errorRef,
            401: errorRef,
            403: errorRef,
            404: errorRef,
          },
        },
      },
      async (request) => {
        const viewer = await desk(request);
        const now = ctx.clock.now();
        const classified = classifySearchQuery(request.query.query, dateOf(now));
        if (classified.kind === 'invalid' || classified.kind === 'partial-hsa-id')
          throw new ApiError(classified.codes[0] ?? 'QUERY_INVALID');
        const found = await lookUp(db, classified.kind, classified.normalised);
        if (found === null || (found.person.protectedIdentity && !(await holdsKur(viewer.hsaId))))
          throw new ApiError('PERSON_NOT_FOUND');
        const { person } = found;
        return {
          person: {
            hsaId: person.hsaId,
            name: `${person.givenName} ${person.surname}`,
            organisation: await directory.branchName(person.branchId, now),
            protectedIdentity: person.protectedIdentity,
          },
          eids: await revocation.eids(person.hsaId),
          reasons: [...SPARR_REASONS_FOR['service-desk']],
        };
      },
    );

    app.post<{ Params: { hsaId: string }; Body: { cardNumber: string; reason: string } }>(
      '/persons/:hsaId/eids/revoke',
      {
        config: RATE_LIMITED,
        schema: {
          tags: ['support'],
          summary: 'The service desk spärrar a person’s reserve-card e-ID, with a reason',
          params: hsaIdParams,
          body: revokeBody,
          response: {
            200: revocationDoneSchema,
            400: errorRef,
            401: errorRef,
            403: errorRef,
            404: errorRef,
            409: errorRef,
          },
        },
      },
      async (request) => {
        const viewer = await desk(request);
        const hsaId = hsaIdOf(request.params.hsaId);
        const person = await lookUp(db, 'hsa-id', hsaId);
        if (person === null || (person.person.protectedIdentity && !(await holdsKur(viewer.hsaId))))
          throw new ApiError('PERSON_NOT_FOUND');
        return revocation.revoke(
          { kind: 'service-desk', hsaId: viewer.hsaId },
          { hsaId, cardNumber: cardNumberOf(request.body.cardNumber) },
          request.body.reason,
        );
      },
    );
  };
