import { INSIGHT_FIGURES, INSIGHT_OUTCOMES } from '@reservkort/store';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { requireSession } from '../auth/session.js';
import type { InsightFlowsQuery, InsightQuery, InsightService } from '../insight/insight.service.js';
import type { ServerContext } from '../server-context.js';

const text = (maxLength: number) => ({ type: 'string', maxLength }) as const;
const count = { type: 'integer', minimum: 0 } as const;
const nullableRate = { type: ['number', 'null'] } as const;
const nullableText = { type: ['string', 'null'] } as const;

/** The filters every insight route takes; checked for meaning (dates, scope, codes) by the service. */
const filterProperties = {
  /** First local day (Europe/Stockholm), YYYY-MM-DD; default 30 days before `to`. */
  from: text(10),
  /** Last local day, included; default today. */
  to: text(10),
  /** A branch the viewer has a role in; its sub-branches are included. */
  branch: text(100),
  station: text(100),
  /** A catalogue code: only it counts as a failure. */
  code: text(64),
} as const;

const filtersQuery = { type: 'object', properties: filterProperties, additionalProperties: false } as const;

const flowsQuery = {
  type: 'object',
  properties: {
    ...filterProperties,
    figure: { type: 'string', enum: [...INSIGHT_FIGURES] },
    /** day | code | step | stationId | version/packaging | hour, as the figure's rows name it. */
    key: text(200),
    outcome: { type: 'string', enum: [...INSIGHT_OUTCOMES] },
  },
  required: ['figure'],
  additionalProperties: false,
} as const;

const idName = {
  type: 'object',
  properties: { id: { type: 'string' }, name: { type: 'string' } },
  required: ['id', 'name'],
} as const;

const figuresResponse = {
  type: 'object',
  properties: {
    filters: {
      type: 'object',
      properties: {
        from: { type: 'string' },
        to: { type: 'string' },
        branch: nullableText,
        station: nullableText,
        code: nullableText,
      },
      required: ['from', 'to', 'branch', 'station', 'code'],
    },
    branches: { type: 'array', items: idName },
    stations: { type: 'array', items: idName },
    perDay: {
      type: 'array',
      items: {
        type: 'object',
        properties: { day: { type: 'string' }, started: count, completed: count, failed: count },
        required: ['day', 'started', 'completed', 'failed'],
      },
    },
    byCode: {
      type: 'array',
      items: {
        type: 'object',
        properties: { code: { type: 'string' }, flows: count },
        required: ['code', 'flows'],
      },
    },
    byStep: {
      type: 'array',
      items: { type: 'object', properties: { step: count, flows: count }, required: ['step', 'flows'] },
    },
    byStation: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          stationId: { type: 'string' },
          stationName: { type: 'string' },
          flows: count,
          failed: count,
          rate: nullableRate,
        },
        required: ['stationId', 'stationName', 'flows', 'failed', 'rate'],
      },
    },
    byAgent: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          version: { type: 'string' },
          packaging: { type: 'string' },
          flows: count,
          failed: count,
          rate: nullableRate,
        },
        required: ['version', 'packaging', 'flows', 'failed', 'rate'],
      },
    },
    ackTimeout: {
      type: 'object',
      properties: { reachedStep7: count, ackTimeouts: count, rate: nullableRate },
      required: ['reachedStep7', 'ackTimeouts', 'rate'],
    },
    caseResolution: {
      type: 'object',
      properties: { resolved: count, medianMs: nullableRate, p90Ms: nullableRate },
      required: ['resolved', 'medianMs', 'p90Ms'],
    },
    busiestHours: {
      type: 'array',
      items: { type: 'object', properties: { hour: count, started: count }, required: ['hour', 'started'] },
    },
  },
  required: [
    'filters',
    'branches',
    'stations',
    'perDay',
    'byCode',
    'byStep',
    'byStation',
    'byAgent',
    'ackTimeout',
    'caseResolution',
    'busiestHours',
  ],
} as const;

const flowsResponse = {
  type: 'object',
  properties: {
    flows: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          flowId: { type: 'string' },
          startedAt: count,
          status: { type: 'string' },
          step: count,
          codes: { type: 'array', items: { type: 'string' } },
          stationId: nullableText,
          caseId: nullableText,
        },
        required: ['flowId', 'startedAt', 'status', 'step', 'codes', 'stationId', 'caseId'],
      },
    },
    truncated: { type: 'boolean' },
  },
  required: ['flows', 'truncated'],
} as const;

const casesResponse = {
  type: 'object',
  properties: {
    cases: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          caseId: { type: 'string' },
          filedAt: count,
          resolvedAt: count,
          codes: { type: 'array', items: { type: 'string' } },
        },
        required: ['caseId', 'filedAt', 'resolvedAt', 'codes'],
      },
    },
  },
  required: ['cases'],
} as const;

/**
 * "Insikter": figures over issuance flows and support cases, the flows and cases behind them, and
 * the figures as CSV. Administrators see their branches' flows, the service desk all of them.
 */
export const insightRoutes =
  (ctx: ServerContext, insights: InsightService): FastifyPluginAsync =>
  async (app) => {
    const session = (request: FastifyRequest) =>
      requireSession(request, ctx.store.db, ctx.clock.now(), ctx.sessions);

    app.get<{ Querystring: InsightQuery }>(
      '/insights',
      {
        schema: {
          tags: ['insights'],
          summary: 'Figures over flows and support cases, for a period, branch, station and code',
          querystring: filtersQuery,
          response: { 200: figuresResponse },
        },
      },
      async (request) => insights.figures(await session(request), request.query),
    );

    app.get<{ Querystring: InsightFlowsQuery }>(
      '/insights/flows',
      {
        schema: {
          tags: ['insights'],
          summary: 'The flows behind one figure (at most 500, newest first): ids, times, codes, no persons',
          querystring: flowsQuery,
          response: { 200: flowsResponse },
        },
      },
      async (request) => insights.flows(await session(request), request.query),
    );

    app.get<{ Querystring: InsightQuery }>(
      '/insights/cases',
      {
        schema: {
          tags: ['insights'],
          summary: 'The support cases resolved in the period, behind caseResolution',
          querystring: filtersQuery,
          response: { 200: casesResponse },
        },
      },
      async (request) => insights.cases(await session(request), request.query),
    );

    app.get<{ Querystring: InsightQuery }>(
      '/insights.csv',
      {
        schema: {
          tags: ['insights'],
          summary: 'The figures as CSV: one table, a `figure` column naming each row’s figure',
          querystring: filtersQuery,
          produces: ['text/csv'],
        },
      },
      async (request, reply) => {
        const csv = await insights.csv(await session(request), request.query);
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', 'attachment; filename="insikter.csv"')
          .send(csv);
      },
    );
  };
