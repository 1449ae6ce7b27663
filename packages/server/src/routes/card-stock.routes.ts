import {
  type BranchId,
  errorResponse,
  formatDate,
  parseCardNumber,
  RETURN_REVOCATION_REASONS,
  type ReturnCause,
  recordReturn,
  type StockCard,
  type StockLine,
  type StockState,
} from '@reservkort/domain';
import {
  countStockCards,
  getStockCard,
  hasStaffRole,
  listStockCards,
  unrevokedCertificatesOfCard,
} from '@reservkort/store';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { type CurrentSession, requireSession } from '../auth/session.js';
import {
  type CardStockDeps,
  destroySealed,
  finishReturn,
  hasRoleAtStation,
  importBatch,
  parseStockCsv,
  StockBatchRefused,
  StockRefused,
  startReturn,
} from '../card-stock/card-stock.service.js';
import { ApiError, statusOf } from '../http/api-error.js';
import { adminOf, type DirectoryCache } from '../issuance/directory.js';
import type { ServerContext } from '../server-context.js';

const STATES = ['sealed', 'issued', 'returned', 'destroyed'] as const;
const CAUSES = ['ordinary-card-back', 'no-longer-needed'] as const;
const DESTROY_WHY = ['damaged', 'past-physical-expiry'] as const;

const stationParams = {
  type: 'object',
  properties: { stationId: { type: 'string', minLength: 1, maxLength: 64 } },
  required: ['stationId'],
} as const;
const cardParams = {
  type: 'object',
  properties: { cardNumber: { type: 'string', minLength: 1, maxLength: 40 } },
  required: ['cardNumber'],
} as const;

const cardSchema = {
  type: 'object',
  properties: {
    cardNumber: { type: 'string' },
    product: { type: 'string', enum: ['473', '573'] },
    manufactured: { type: 'string' },
    physicalExpiry: { type: 'string' },
    stationId: { type: 'string' },
    state: { type: 'string', enum: STATES },
    stateChangedAt: { type: 'integer' },
  },
  required: [
    'cardNumber',
    'product',
    'manufactured',
    'physicalExpiry',
    'stationId',
    'state',
    'stateChangedAt',
  ],
} as const;

const countsSchema = {
  type: 'object',
  properties: Object.fromEntries(STATES.map((s) => [s, { type: 'integer' }])),
  required: [...STATES],
} as const;

/** A card as the stock page shows it. The holder is left out: a protected identity must not show. */
const cardView = (card: StockCard) => ({
  cardNumber: card.cardNumber,
  product: card.product,
  manufactured: formatDate(card.manufactured),
  physicalExpiry: formatDate(card.physicalExpiry),
  stationId: card.stationId,
  state: card.state,
  stateChangedAt: card.stateChangedAt,
});

/** The service's refusals as the API's. */
const asApiError = (error: unknown): unknown =>
  error instanceof StockRefused ? new ApiError(error.error.code, error.error.details ?? {}) : error;

/** Card stock per card station: list, import a batch, record a return, destroy a sealed card. */
export const cardStockRoutes =
  (ctx: ServerContext, directory: DirectoryCache): FastifyPluginAsync =>
  async (app) => {
    const db = ctx.store.db;
    const deps: CardStockDeps = { db, ca: ctx.ca, now: () => ctx.clock.now() };

    /** An administrator with a role at the station, logged in at LoA3: who may change its stock. */
    const stationAdmin = async (request: FastifyRequest, stationId: BranchId): Promise<CurrentSession> => {
      const current = await requireSession(request, db, ctx.clock.now(), ctx.sessions);
      if (current.assuranceLevel !== 'LoA3') throw new ApiError('LOA2_LOGIN');
      const admin = await adminOf(db, current.hsaId);
      const tree = await directory.organisation(ctx.clock.now());
      if (!hasRoleAtStation(tree, admin, stationId)) throw new ApiError('NO_ROLE_IN_BRANCH');
      return current;
    };

    /** The station's administrators, and the service desk, may read its stock. */
    const stationReader = async (request: FastifyRequest, stationId: BranchId): Promise<CurrentSession> => {
      const current = await requireSession(request, db, ctx.clock.now(), ctx.sessions);
      if (await hasStaffRole(db, current.hsaId, 'service-desk')) return current;
      return stationAdmin(request, stationId);
    };

    const cardOf = async (text: string) => {
      const parsed = parseCardNumber(text);
      if (!parsed.ok) throw new ApiError(parsed.error.code, parsed.error.details ?? {});
      const card = await getStockCard(db, parsed.value);
      if (card === null) throw new ApiError('CARD_NOT_IN_STOCK', { cardNumber: parsed.value });
      return card;
    };

    app.get<{ Params: { stationId: string }; Querystring: { state?: StockState } }>(
      '/:stationId',
      {
        schema: {
          tags: ['stock'],
          summary: 'A card station’s stock, of one state if asked, with the count of every state',
          params: stationParams,
          querystring: {
            type: 'object',
            properties: { state: { type: 'string', enum: STATES } },
            additionalProperties: false,
          },
          response: {
            200: {
              type: 'object',
              properties: {
                station: {
                  type: 'object',
                  properties: { id: { type: 'string' }, name: { type: 'string' } },
                  required: ['id', 'name'],
                },
                counts: countsSchema,
                cards: { type: 'array', items: cardSchema },
              },
              required: ['station', 'counts', 'cards'],
            },
          },
        },
      },
      async (request) => {
        const { stationId } = request.params;
        await stationReader(request, stationId);
        const name = await directory.branchName(stationId, ctx.clock.now());
        if (name === '') throw new ApiError('BRANCH_UNKNOWN');
        const query =
          request.query.state === undefined ? { stationId } : { stationId, state: request.query.state };
        return {
          station: { id: stationId, name },
          counts: await countStockCards(db, stationId),
          cards: (await listStockCards(db, query)).map(cardView),
        };
      },
    );

    app.post<{ Params: { stationId: string }; Body: { csv?: string; lines?: StockLine[] } }>(
      '/:stationId/batches',
      {
        schema: {
          tags: ['stock'],
          summary:
            'Register a batch of sealed cards to the station: all or none, every problem with its line',
          params: stationParams,
          body: {
            type: 'object',
            properties: {
              csv: { type: 'string', maxLength: 500_000 },
              lines: {
                type: 'array',
                maxItems: 10_000,
                items: {
                  type: 'object',
                  properties: {
                    cardNumber: { type: 'string', maxLength: 40 },
                    product: { type: 'string', maxLength: 10 },
                    manufactured: { type: 'string', maxLength: 20 },
                    physicalExpiry: { type: 'string', maxLength: 20 },
                  },
                  required: ['cardNumber', 'product', 'manufactured'],
                  additionalProperties: false,
                },
              },
            },
            additionalProperties: false,
          },
          response: {
            201: {
              type: 'object',
              properties: { batchId: { type: 'string' }, imported: { type: 'integer' } },
              required: ['batchId', 'imported'],
            },
          },
        },
      },
      async (request, reply) => {
        const { stationId } = request.params;
        const current = await stationAdmin(request, stationId);
        const { csv, lines } = request.body;
        if ((csv === undefined) === (lines === undefined))
          throw new ApiError('REQUEST_INVALID', { reason: 'schema', field: 'csv or lines' });
        try {
          const imported = await importBatch(deps, {
            stationId,
            lines: lines ?? parseStockCsv(csv ?? ''),
            tree: await directory.organisation(ctx.clock.now()),
            actor: current.hsaId,
            source: 'portal',
          });
          return reply.status(201).send({ batchId: imported.batchId, imported: imported.cards.length });
        } catch (error) {
          if (!(error instanceof StockBatchRefused)) throw error;
          // Every problem at once, each in both languages, so the whole file can be put right.
          const [first] = error.problems;
          const code = first?.code ?? 'STOCK_LINE_INVALID';
          return reply.status(statusOf(code)).send({
            ...errorResponse(code, first?.details ?? {}),
            problems: error.problems.map((p) => ({
              ...errorResponse(p.code, p.details ?? {}),
              details: p.details ?? {},
            })),
          });
        }
      },
    );

    app.post<{ Params: { cardNumber: string }; Body: { cause: ReturnCause } }>(
      '/cards/:cardNumber/return',
      {
        schema: {
          tags: ['stock'],
          summary:
            'Record a card’s return: its e-ID revoked (superseded or cessationOfOperation), the card destroyed',
          params: cardParams,
          body: {
            type: 'object',
            properties: { cause: { type: 'string', enum: CAUSES } },
            required: ['cause'],
            additionalProperties: false,
          },
          response: { 200: cardSchema },
        },
      },
      async (request) => {
        const card = await cardOf(request.params.cardNumber);
        const current = await stationAdmin(request, card.stationId);
        const now = ctx.clock.now();
        const decided = recordReturn({
          tree: await directory.organisation(now),
          admin: await adminOf(db, current.hsaId),
          assuranceLevel: current.assuranceLevel,
          card,
          cause: request.body.cause,
          unrevokedSerials: await unrevokedCertificatesOfCard(db, card.cardNumber),
          now,
        });
        if (!decided.ok) throw new ApiError(decided.error.code, decided.error.details ?? {});
        try {
          await startReturn(deps, {
            card,
            returned: decided.value.returned,
            reason: RETURN_REVOCATION_REASONS[request.body.cause],
            cause: request.body.cause,
            actor: current.hsaId,
          });
        } catch (error) {
          throw asApiError(error);
        }
        const finished = await finishReturn(deps, card.cardNumber, current.hsaId);
        return cardView(finished ?? decided.value.destroyed);
      },
    );

    app.post<{ Params: { cardNumber: string }; Body: { why: (typeof DESTROY_WHY)[number] } }>(
      '/cards/:cardNumber/destroy',
      {
        schema: {
          tags: ['stock'],
          summary: 'Destroy a sealed card never given out (damaged, or past its physical expiry)',
          params: cardParams,
          body: {
            type: 'object',
            properties: { why: { type: 'string', enum: DESTROY_WHY } },
            required: ['why'],
            additionalProperties: false,
          },
          response: { 200: cardSchema },
        },
      },
      async (request) => {
        const card = await cardOf(request.params.cardNumber);
        const current = await stationAdmin(request, card.stationId);
        try {
          return cardView(await destroySealed(deps, { card, actor: current.hsaId, why: request.body.why }));
        } catch (error) {
          throw asApiError(error);
        }
      },
    );
  };
