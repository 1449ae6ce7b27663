import { type CardNumber, orderStateAt, type SupportCaseDraft } from '@reservkort/domain';
import { cardNumberUse, getAdmin, getCase, hasStaffRole } from '@reservkort/store';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { requireSession } from '../auth/session.js';
import type { ExtensionService } from '../card-life/extension.service.js';
import { ApiError } from '../http/api-error.js';
import type { IssuanceService } from '../issuance/issuance.service.js';
import type { ServerContext } from '../server-context.js';
import { practicePlan } from '../training/practice-plan.js';
import type { TrainingClock } from '../training/training-clock.js';
import type { TrainingSummary } from '../training/training-summary.js';

const caseParams = {
  type: 'object',
  properties: { caseId: { type: 'string', pattern: '^[A-Za-z0-9_-]{8,64}$' } },
  required: ['caseId'],
  additionalProperties: false,
} as const;

const errorRef = { $ref: 'ApiError#' } as const;
const code = { $ref: 'ErrorCode#' } as const;
const nullable = <S extends object>(schema: S) => ({ anyOf: [schema, { type: 'null' }] }) as const;
const practiceReader = {
  type: 'object',
  properties: {
    connected: { type: 'boolean' },
    card: nullable({
      type: 'object',
      properties: {
        role: { type: 'string', enum: ['admin', 'reserve', 'foreign'] },
        cardNumber: { type: 'string' },
      },
      required: ['role', 'cardNumber'],
    }),
  },
  required: ['connected', 'card'],
} as const;
/** Öva på det här's answer: the plan (PracticePlan), or what the case lacks for one (PracticeMissing). */
const practiceAnswer = {
  oneOf: [
    {
      type: 'object',
      properties: {
        kind: { type: 'string', enum: ['plan'] },
        caseId: { type: 'string' },
        code,
        caseCodes: { type: 'array', items: code },
        at: { type: 'number' },
        step: { type: 'integer', enum: [0, 1, 2, 3, 4, 5, 6, 7] },
        readers: {
          type: 'object',
          properties: { 1: practiceReader, 2: practiceReader },
          required: ['1', '2'],
        },
        adminCard: {
          type: 'object',
          properties: { cardNumber: { type: 'string' }, name: { type: 'string' } },
          required: ['cardNumber', 'name'],
        },
        reserveCard: nullable({ type: 'string' }),
        recipient: nullable({
          type: 'object',
          properties: { name: { type: 'string' }, personalNumber: { type: 'string' } },
          required: ['name', 'personalNumber'],
        }),
        clock: {
          type: 'object',
          properties: { sinceStartMs: { type: 'number' }, deadlineLeftMs: nullable({ type: 'number' }) },
          required: ['sinceStartMs', 'deadlineLeftMs'],
        },
        catalogue: { $ref: 'CatalogueEntry#' },
      },
      required: [
        'kind',
        'caseId',
        'code',
        'caseCodes',
        'at',
        'step',
        'readers',
        'adminCard',
        'reserveCard',
        'recipient',
        'clock',
        'catalogue',
      ],
    },
    {
      type: 'object',
      properties: {
        kind: { type: 'string', enum: ['missing'] },
        caseId: { type: 'string' },
        missing: { type: 'string', enum: ['error', 'scene'] },
        code: nullable(code),
      },
      required: ['kind', 'caseId', 'missing', 'code'],
    },
  ],
} as const;

/**
 * Training mode only: the demo data for the training panel, the clock it may jump forward, and a
 * support case's first error as a scene to practise.
 */
export const trainingRoutes =
  (
    ctx: ServerContext,
    kit: { readonly summary: TrainingSummary; readonly clock: TrainingClock },
    issuance: IssuanceService,
    extensions: ExtensionService,
  ): FastifyPluginAsync =>
  async (app) => {
    const session = (request: FastifyRequest) =>
      requireSession(request, ctx.store.db, ctx.clock.now(), ctx.sessions);

    app.get(
      '/demo',
      {
        schema: {
          tags: ['training'],
          summary: 'The demo cards with their PINs and PIN letters, and the people to search for',
        },
      },
      async () => kit.summary,
    );

    app.post<{
      Body: { advanceMs?: number; toDeadlineOf?: string; leaveMs?: number; toExtensionDeadline?: boolean };
    }>(
      '/clock',
      {
        schema: {
          tags: ['training'],
          summary:
            'Jump the clock forward, by an amount, to just past a flow’s deadline (an administrator), or to just past the deadline of the holder’s running förlängning (the holder)',
          body: {
            type: 'object',
            properties: {
              advanceMs: { type: 'integer', minimum: 0, maximum: 7 * 86_400_000 },
              toDeadlineOf: { type: 'string', pattern: '^[A-Za-z0-9_-]{8,64}$' },
              /** With toDeadlineOf: stop this long before the deadline (as a practised case had it left). */
              leaveMs: { type: 'integer', minimum: 0, maximum: 86_400_000 },
              toExtensionDeadline: { type: 'boolean', const: true },
            },
            additionalProperties: false,
          },
          response: {
            200: {
              type: 'object',
              properties: { now: { type: 'integer' }, offsetMs: { type: 'integer' } },
              required: ['now', 'offsetMs'],
            },
          },
        },
      },
      async (request) => {
        // The holder's pages have a holder's session, which no administrator's route accepts.
        if (request.body.toExtensionDeadline === true) {
          const holder = await requireSession(request, ctx.store.db, ctx.clock.now(), ctx.sessions, 'holder');
          const extension = await extensions.current(holder);
          if (extension === null || !['open', 'issuing', 'issued'].includes(extension.state))
            throw new ApiError('EVENT_OUT_OF_ORDER', { reason: 'no förlängning running' });
          kit.clock.advance(Math.max(0, extension.deadline - kit.clock.now() + 1000));
          return { now: kit.clock.now(), offsetMs: kit.clock.offset };
        }
        const me = await session(request);
        let advance = request.body.advanceMs ?? 0;
        if (request.body.toDeadlineOf !== undefined) {
          const flow = await issuance.own(request.body.toDeadlineOf, me);
          if (flow.state.deadline === null)
            throw new ApiError('EVENT_OUT_OF_ORDER', { reason: 'no deadline' });
          const leave = request.body.leaveMs;
          advance = Math.max(
            0,
            flow.state.deadline - kit.clock.now() + (leave === undefined ? 1000 : -leave),
          );
        }
        kit.clock.advance(advance);
        return { now: kit.clock.now(), offsetMs: kit.clock.offset };
      },
    );

    /** The first demo reserve card whose order can still be completed now. */
    const freeReserveCard = async (): Promise<CardNumber | null> => {
      const now = ctx.clock.now();
      for (const card of kit.summary.reserveCards) {
        if (card.forPerson === null) continue;
        const use = await cardNumberUse(ctx.store.db, card.cardNumber);
        if (use.orders.some((order) => orderStateAt(order, now) === 'registered')) return card.cardNumber;
      }
      return null;
    };

    app.get<{ Params: { caseId: string } }>(
      '/practice/:caseId',
      {
        schema: {
          tags: ['training'],
          summary:
            'Öva på det här: a support case’s first error as the training’s readers and cards, step and clock; or what the case lacks for it',
          params: caseParams,
          response: { 200: practiceAnswer, 401: errorRef, 403: errorRef, 404: errorRef },
        },
      },
      async (request) => {
        const viewer = await session(request);
        const db = ctx.store.db;
        // The cases are the service desk's: the same access as reading the case itself.
        if (!(await hasStaffRole(db, viewer.hsaId, 'service-desk')))
          throw new ApiError('ACCESS_DENIED', { reason: 'service desk only' });
        const stored = await getCase(db, request.params.caseId);
        if (stored === null) throw new ApiError('NOT_FOUND', { what: 'case' });
        const holdsKur = ((await getAdmin(db, viewer.hsaId))?.grants ?? []).some((g) => g.role === 'KUR');
        return practicePlan({
          caseId: stored.id,
          draft: stored.draft as SupportCaseDraft,
          summary: kit.summary,
          freeReserveCard: await freeReserveCard(),
          holdsKur,
        });
      },
    );
  };
