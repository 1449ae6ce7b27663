import { type BranchId, mayIssueLoa3In, STATION_ID_PATTERN } from '@reservkort/domain';
import { listStations } from '@reservkort/store';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { requireSession } from '../auth/session.js';
import { ApiError } from '../http/api-error.js';
import { adminOf, type DirectoryCache } from '../issuance/directory.js';
import type { ServerContext } from '../server-context.js';
import {
  registerStation,
  requireBranch,
  requireStation,
  revokeStation,
  stationView,
} from './station.service.js';

const stationSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    branchId: { type: 'string' },
    certificateSerial: { type: 'string' },
    status: { type: 'string', enum: ['active', 'revoked', 'expired'] },
    certificateNotAfter: { type: 'integer' },
    registeredBy: { type: 'string' },
    registeredAt: { type: 'integer' },
    lastSeq: { type: 'integer' },
  },
  required: [
    'id',
    'name',
    'branchId',
    'certificateSerial',
    'status',
    'certificateNotAfter',
    'registeredBy',
    'registeredAt',
    'lastSeq',
  ],
} as const;

const errors = {
  400: { $ref: 'ApiError#' },
  401: { $ref: 'ApiError#' },
  403: { $ref: 'ApiError#' },
} as const;

/**
 * Card stations: registered, listed and revoked by administrators with KRA or RA in the station's
 * branch or above it. Every change is audited (by the station service) and needs the CSRF token.
 */
export const stationRoutes =
  (ctx: ServerContext, directory: DirectoryCache): FastifyPluginAsync =>
  async (app) => {
    const db = ctx.store.db;
    const deps = { db, ca: ctx.ca, now: () => ctx.clock.now() };

    /** An LoA3 administrator's session, and whether they hold KRA/RA over a branch. */
    const administrator = async (request: FastifyRequest) => {
      const current = await requireSession(request, db, ctx.clock.now(), ctx.sessions);
      if (current.assuranceLevel !== 'LoA3') throw new ApiError('LOA2_LOGIN');
      const admin = await adminOf(db, current.hsaId);
      const tree = await directory.organisation(ctx.clock.now());
      return { current, mayManage: (branchId: BranchId) => mayIssueLoa3In(tree, admin, branchId), tree };
    };

    app.post<{ Body: { csr: string; name: string; branchId: string } }>(
      '/',
      {
        schema: {
          tags: ['stations'],
          summary: 'Register a card station (or renew one with the same key): its station certificate',
          body: {
            type: 'object',
            properties: {
              csr: { type: 'string', pattern: '^[A-Za-z0-9+/]*={0,2}$', minLength: 4, maxLength: 16384 },
              name: { type: 'string', minLength: 1, maxLength: 100 },
              branchId: { type: 'string', minLength: 1, maxLength: 64 },
            },
            required: ['csr', 'name', 'branchId'],
            additionalProperties: false,
          },
          response: {
            201: {
              type: 'object',
              properties: {
                stationId: { type: 'string' },
                certificate: { type: 'string' },
                chain: { type: 'string' },
                renewed: { type: 'boolean' },
              },
              required: ['stationId', 'certificate', 'chain', 'renewed'],
            },
            ...errors,
          },
        },
      },
      async (request, reply) => {
        const { current, mayManage } = await administrator(request);
        const branchId = await requireBranch(db, request.body.branchId);
        if (!mayManage(branchId)) throw new ApiError('NO_ROLE_IN_BRANCH', { branch: branchId });
        const registered = await registerStation(deps, {
          csr: Buffer.from(request.body.csr, 'base64'),
          name: request.body.name,
          branchId,
          actor: current.hsaId,
        });
        return reply.status(201).send({
          stationId: registered.stationId,
          certificate: registered.certificate,
          chain: registered.chain,
          renewed: registered.renewed,
        });
      },
    );

    app.get(
      '/',
      {
        schema: {
          tags: ['stations'],
          summary:
            'The card stations of the branches where the administrator holds KRA or RA, and those branches (where a station may be registered)',
          response: {
            200: {
              type: 'object',
              properties: {
                stations: { type: 'array', items: stationSchema },
                branches: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: { id: { type: 'string' }, name: { type: 'string' } },
                    required: ['id', 'name'],
                  },
                },
              },
              required: ['stations', 'branches'],
            },
            ...errors,
          },
        },
      },
      async (request) => {
        const { mayManage, tree } = await administrator(request);
        const branchIds = [...tree.branches.keys()].filter(mayManage);
        const now = ctx.clock.now();
        return {
          stations: (await listStations(db, { branchIds })).map((s) => stationView(s, now)),
          branches: branchIds.map((id) => ({ id, name: tree.branches.get(id)?.name ?? id })),
        };
      },
    );

    app.post<{ Params: { stationId: string } }>(
      '/:stationId/revoke',
      {
        schema: {
          tags: ['stations'],
          summary: 'Revoke a card station and its certificate',
          params: {
            type: 'object',
            properties: { stationId: { type: 'string', pattern: STATION_ID_PATTERN.source } },
            required: ['stationId'],
          },
          response: { 200: stationSchema, ...errors, 404: { $ref: 'ApiError#' } },
        },
      },
      async (request) => {
        const { current, mayManage } = await administrator(request);
        const station = await requireStation(db, request.params.stationId);
        if (!mayManage(station.branchId))
          throw new ApiError('NO_ROLE_IN_BRANCH', { branch: station.branchId });
        return stationView(await revokeStation(deps, station.id, current.hsaId), ctx.clock.now());
      },
    );
  };
