import { randomBytes } from 'node:crypto';
import {
  buildStationCase,
  buildSupportCase,
  CATALOGUES,
  CODE_INFO,
  caseCodeDetails,
  ERROR_CODES,
  type ErrorCode,
  errorResponse,
  isErrorCode,
  redactSupportCase,
  type SignedStatement,
  type SupportCaseDraft,
} from '@reservkort/domain';
import {
  addComment,
  appendAudit,
  certificateStatus,
  consumeChallenge,
  getAdmin,
  getCase,
  getStockCard,
  hasStaffRole,
  insertCase,
  insertChallenge,
  listCases,
  recordFlowAgentIfUnknown,
  type StoredSupportCase,
  SUPPORT_CASE_SORTS,
  type SupportCaseSort,
  updateCase,
} from '@reservkort/store';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { type CurrentSession, requireSession } from '../auth/session.js';
import { ApiError } from '../http/api-error.js';
import { RATE_LIMITED } from '../http/rate-limit.js';
import type { IssuanceService } from '../issuance/issuance.service.js';
import type { ServerContext } from '../server-context.js';
import { signedStatementSchema } from '../station/signed-statement.schema.js';
import { newStationNonce, verifyStatement } from '../station/station-statement.service.js';
import { earlierAttempts, explainedOrderOf } from '../support/support-attempts.js';
import {
  checkCaseStatements,
  MAX_CASE_STATEMENTS,
  type StationFacts,
  verifyCaseStatements,
} from '../support/support-statements.js';

const caseParams = {
  type: 'object',
  properties: { caseId: { type: 'string', pattern: '^[A-Za-z0-9_-]{8,64}$' } },
  required: ['caseId'],
} as const;

/** What a challenge for a case before login is stored as, and how long it may wait for its statements. */
const BEFORE_LOGIN_PURPOSE = 'case-before-login';
const BEFORE_LOGIN_TTL_MS = 5 * 60_000;

/** The nonce a challenge for a case before login holds; null for any other challenge. */
const beforeLoginNonce = (text: string): string | null => {
  try {
    const value = JSON.parse(text) as Record<string, unknown>;
    return value.purpose === BEFORE_LOGIN_PURPOSE && typeof value.stationNonce === 'string'
      ? value.stationNonce
      : null;
  } catch {
    return null;
  }
};

/** Support cases: filed from any error screen pre-filled (SPEC §5); worked by the service desk. */
export const supportRoutes =
  (ctx: ServerContext, issuance: IssuanceService): FastifyPluginAsync =>
  async (app) => {
    const db = ctx.store.db;
    const session = (request: FastifyRequest) => requireSession(request, db, ctx.clock.now(), ctx.sessions);
    const serviceDesk = async (request: FastifyRequest): Promise<CurrentSession> => {
      const current = await session(request);
      if (!(await hasStaffRole(db, current.hsaId, 'service-desk')))
        throw new ApiError('ACCESS_DENIED', { reason: 'service desk only' });
      return current;
    };
    /** A viewer without KUR never learns who a protected recipient is. */
    const holdsKur = async (hsaId: CurrentSession['hsaId']) =>
      ((await getAdmin(db, hsaId))?.grants ?? []).some((grant) => grant.role === 'KUR');
    const shown = async (stored: StoredSupportCase, viewer: CurrentSession) => ({
      id: stored.id,
      flowId: stored.flowId,
      status: stored.status,
      assignee: stored.assignee,
      reportedBy: stored.reportedBy,
      codes: stored.codes,
      createdAt: stored.createdAt,
      updatedAt: stored.updatedAt,
      case: redactSupportCase(stored.draft as SupportCaseDraft, { holdsKur: await holdsKur(viewer.hsaId) }),
    });

    type CaseBody = {
      flowId: string;
      comment?: string;
      /** `agent-info` and `card-certificates` statements for the flow, with its current station nonce. */
      statements?: SignedStatement[];
      /** The catalogue codes the portal showed the reporter when they chose to report (unknown ones are left out). */
      shownCodes?: string[];
    };
    const caseBody = {
      type: 'object',
      properties: {
        flowId: { type: 'string', maxLength: 64 },
        comment: { type: 'string', maxLength: 8000 },
        statements: { type: 'array', items: signedStatementSchema, maxItems: MAX_CASE_STATEMENTS },
        shownCodes: { type: 'array', items: { type: 'string', maxLength: 64 }, maxItems: 4 },
      },
      required: ['flowId'],
      additionalProperties: false,
    } as const;

    /** Who reports, on which of their flows. */
    const reportOf = async (request: FastifyRequest<{ Body: CaseBody }>) => {
      const reporter = await session(request);
      const flow = await issuance.own(request.body.flowId, reporter);
      // The order's earlier attempts (a restart is a new flow), and the order a miss explained.
      const attempts = await earlierAttempts(db, flow);
      const explained = await explainedOrderOf(db, flow.state);
      // The card's product and physical expiry, as its card station's stock has them.
      const cardNumber = (flow.state.order ?? flow.state.candidate ?? explained)?.cardNumber ?? null;
      const stockCard = cardNumber === null ? null : await getStockCard(db, cardNumber);
      return { reporter, flow, attempts, explained, stockCard, now: ctx.clock.now() };
    };

    /**
     * The case as it would be filed: everything the system knows, the agent and the card only as
     * a card station signed them, nothing typed by the reporter but the comment.
     */
    const draftOf = (
      report: Awaited<ReturnType<typeof reportOf>>,
      body: CaseBody,
      facts: StationFacts,
    ): SupportCaseDraft => {
      const draft = buildSupportCase({
        flow: report.flow.state,
        earlierAttempts: report.attempts,
        explainedOrder: report.explained,
        stockCard: report.stockCard,
        agent: facts.agent,
        certificatesOnCard: facts.certificatesOnCard,
        stationId: facts.stationId,
        comment: body.comment ?? '',
        reportedBy: report.reporter.hsaId,
        at: report.now,
        shownCodes: (body.shownCodes ?? []).filter(isErrorCode),
      });
      if (!draft.ok) throw new ApiError(draft.error.code, draft.error.details ?? {});
      return draft.value;
    };

    app.post<{ Body: CaseBody }>(
      '/cases/preview',
      {
        schema: {
          tags: ['support'],
          summary: 'The pre-filled support case, shown read-only before it is sent',
          body: caseBody,
        },
      },
      async (request) => {
        const report = await reportOf(request);
        // Checked, not used up: the same statements can be sent with the case itself.
        const facts = await checkCaseStatements(
          db,
          ctx.ca,
          report.flow.id,
          request.body.statements ?? [],
          report.now,
        );
        const draft = draftOf(report, request.body, facts);
        const reporter = report.reporter;
        const redacted = redactSupportCase(draft, { holdsKur: await holdsKur(reporter.hsaId) });
        return {
          case: redacted,
          catalogue: draft.codes
            .filter(isErrorCode)
            .map((code) => errorResponse(code, caseCodeDetails(redacted, code))),
        };
      },
    );

    app.post<{ Body: CaseBody }>(
      '/cases',
      {
        schema: {
          tags: ['support'],
          summary: 'Skicka felanmälan: a support case pre-filled from the flow and the card agent',
          body: caseBody,
        },
      },
      async (request, reply) => {
        const report = await reportOf(request);
        const { reporter, flow, now } = report;
        const id = randomBytes(12).toString('base64url');
        await db.transaction().execute(async (trx) => {
          const facts = await verifyCaseStatements(trx, ctx.ca, flow.id, request.body.statements ?? [], now);
          const draft = draftOf(report, request.body, facts);
          await insertCase(trx, {
            id,
            flowId: flow.id,
            reportedBy: reporter.hsaId,
            protectedIdentity: draft.protectedIdentity,
            codes: draft.codes,
            draft,
            createdAt: now,
            stationId: facts.stationId,
          });
          // A flow started by an agent that did not name itself learns it from the signed report.
          if (facts.agent !== null) await recordFlowAgentIfUnknown(trx, flow.id, facts.agent);
          await appendAudit(trx, {
            at: now,
            actor: reporter.hsaId,
            action: 'support.case-created',
            subject: id,
            details: { flowId: flow.id, station: facts.stationId },
          });
        });
        const stored = await getCase(db, id);
        if (stored === null) throw new ApiError('NOT_FOUND', { what: 'case' });
        return reply.status(201).send(await shown(stored, reporter));
      },
    );

    /**
     * READERS_MISSING on the login screen: no one is logged in and there is no flow, so the case
     * rests on a registered card station's word alone. The page asks for a challenge (a nonce the
     * station must sign, used once, five minutes), the station signs its agent's version and its
     * readers for it, and the server files a case only if the readers it signed are not both
     * there. Both routes are rate limited per client address, like the login's.
     */
    app.post(
      '/cases/before-login/challenge',
      {
        config: RATE_LIMITED,
        schema: {
          tags: ['support'],
          summary: 'A nonce for a card station to sign its report on the login screen (READERS_MISSING)',
        },
      },
      async () => {
        const now = ctx.clock.now();
        const challengeId = randomBytes(12).toString('base64url');
        const stationNonce = newStationNonce();
        await insertChallenge(db, {
          id: challengeId,
          challenge: JSON.stringify({ purpose: BEFORE_LOGIN_PURPOSE, stationNonce }),
          createdAt: now,
          expiresAt: now + BEFORE_LOGIN_TTL_MS,
        });
        return { challengeId, stationNonce };
      },
    );

    type BeforeLoginBody = { challengeId: string; comment?: string; statements: SignedStatement[] };
    app.post<{ Body: BeforeLoginBody }>(
      '/cases/before-login',
      {
        config: RATE_LIMITED,
        schema: {
          tags: ['support'],
          summary: 'Skicka felanmälan before login: the card station’s signed agent version and readers',
          body: {
            type: 'object',
            properties: {
              challengeId: { type: 'string', pattern: '^[A-Za-z0-9_-]{8,64}$' },
              comment: { type: 'string', maxLength: 8000 },
              statements: { type: 'array', items: signedStatementSchema, minItems: 2, maxItems: 2 },
            },
            required: ['challengeId', 'statements'],
            additionalProperties: false,
          },
        },
      },
      async (request, reply) => {
        const now = ctx.clock.now();
        const { challengeId, statements } = request.body;
        const id = randomBytes(12).toString('base64url');
        const stored = await db.transaction().execute(async (trx) => {
          const challenge = await consumeChallenge(trx, challengeId, now);
          const stationNonce = challenge === null ? null : beforeLoginNonce(challenge);
          if (stationNonce === null) throw new ApiError('STATEMENT_INVALID', { reason: 'nonce' });
          let stationId: string | null = null;
          let agent: { version: string; packaging: string } | null = null;
          let readers: {
            1: { connected: boolean; card: boolean };
            2: { connected: boolean; card: boolean };
          } | null = null;
          for (const signed of statements) {
            const verified = await verifyStatement(trx, ctx.ca, signed, {
              flowId: challengeId,
              nonce: stationNonce,
              kinds: ['agent-info', 'readers'],
              now,
              stationId,
            });
            stationId = verified.station.id;
            const body = verified.payload.body;
            if ('version' in body) agent = { version: body.version, packaging: body.packaging };
            else if ('readers' in body)
              readers = {
                1: { connected: body.readers[1].connected, card: body.readers[1].card !== null },
                2: { connected: body.readers[2].connected, card: body.readers[2].card !== null },
              };
          }
          if (stationId === null || agent === null || readers === null)
            throw new ApiError('STATEMENT_INVALID', { reason: 'agent-info and readers expected' });
          const draft = buildStationCase({
            stationId: stationId as `st-${string}`,
            agent,
            readers,
            comment: request.body.comment ?? '',
            at: now,
          });
          if (!draft.ok) throw new ApiError(draft.error.code, draft.error.details ?? {});
          await insertCase(trx, {
            id,
            flowId: null,
            reportedBy: draft.value.reportedBy,
            protectedIdentity: false,
            codes: draft.value.codes,
            draft: draft.value,
            createdAt: now,
            stationId,
          });
          await appendAudit(trx, {
            at: now,
            actor: stationId,
            action: 'support.case-created',
            subject: id,
            details: { flowId: null, station: stationId },
          });
          return draft.value;
        });
        // What the reporter is shown: the id to quote, and what the case holds.
        return reply.status(201).send({ id, codes: stored.codes, case: stored });
      },
    );

    app.get<{
      Querystring: {
        status?: 'open' | 'assigned' | 'resolved';
        code?: string;
        q?: string;
        sort?: SupportCaseSort;
        direction?: 'asc' | 'desc';
        limit?: number;
        offset?: number;
      };
    }>(
      '/cases',
      {
        schema: {
          tags: ['support'],
          summary: 'The service desk’s queue, filtered by status and code, searched and sorted',
          querystring: {
            type: 'object',
            properties: {
              status: { type: 'string', enum: ['open', 'assigned', 'resolved'] },
              code: { type: 'string', maxLength: 40 },
              /** Part of the case id, reporter, assignee, a code, the card number or the recipient. */
              q: { type: 'string', maxLength: 100 },
              sort: { type: 'string', enum: [...SUPPORT_CASE_SORTS] },
              direction: { type: 'string', enum: ['asc', 'desc'] },
              limit: { type: 'integer', minimum: 1, maximum: 200 },
              // A bound the databases' integers hold: beyond it SQLite refuses the query.
              offset: { type: 'integer', minimum: 0, maximum: 1_000_000 },
            },
          },
        },
      },
      async (request) => {
        const viewer = await serviceDesk(request);
        const { status, code, q, sort, direction, limit, offset } = request.query;
        if (code !== undefined && !isErrorCode(code))
          throw new ApiError('REQUEST_INVALID', { reason: 'unknown code' });
        const cases = await listCases(db, {
          ...(status ? { status } : {}),
          ...(code ? { code } : {}),
          ...(q?.trim() ? { text: q } : {}),
          // A protected recipient is searched and sorted by only for a viewer who may see it.
          protectedVisible: await holdsKur(viewer.hsaId),
          ...(sort ? { sort } : {}),
          ...(direction ? { direction } : {}),
          limit: limit ?? 50,
          ...(offset ? { offset } : {}),
        });
        return { cases: await Promise.all(cases.map((c) => shown(c, viewer))) };
      },
    );

    app.get<{ Params: { caseId: string } }>(
      '/cases/:caseId',
      {
        schema: {
          tags: ['support'],
          summary: 'One case: SPEC §5 fields, timeline, comments, catalogue entries',
          params: caseParams,
        },
      },
      async (request) => {
        const viewer = await serviceDesk(request);
        const stored = await getCase(db, request.params.caseId);
        if (stored === null) throw new ApiError('NOT_FOUND', { what: 'case' });
        const view = await shown(stored, viewer);
        const catalogue = stored.codes
          .filter(isErrorCode)
          .map((code) => errorResponse(code, caseCodeDetails(view.case, code)));
        // Each certificate on the card as the CA knows it now: good, expired, revoked (why, when) or unknown.
        const now = ctx.clock.now();
        const certificateStatuses = await Promise.all(
          view.case.certificates.map(async (certificate) => {
            const known = await certificateStatus(db, certificate.serial);
            if (known === null) return { serial: certificate.serial, status: 'unknown' as const };
            if (known.revocation !== null)
              return {
                serial: certificate.serial,
                status: 'revoked' as const,
                reason: known.revocation.reason,
                revokedAt: known.revocation.revokedAt,
              };
            return {
              serial: certificate.serial,
              status: known.notAfter < now ? ('expired' as const) : ('good' as const),
            };
          }),
        );
        return { ...view, comments: stored.comments, catalogue, certificateStatuses };
      },
    );

    const change = async (
      request: FastifyRequest<{ Params: { caseId: string } }>,
      next: { status: StoredSupportCase['status']; assignee?: string },
    ) => {
      const viewer = await serviceDesk(request);
      const stored = await getCase(db, request.params.caseId);
      if (stored === null) throw new ApiError('NOT_FOUND', { what: 'case' });
      const now = ctx.clock.now();
      const ok = await updateCase(db, {
        id: stored.id,
        expectedVersion: stored.version,
        status: next.status,
        ...(next.assignee !== undefined ? { assignee: next.assignee as CurrentSession['hsaId'] } : {}),
        updatedAt: now,
      });
      if (!ok) throw new ApiError('ORDER_STATE_CONFLICT', { state: 'case changed meanwhile' });
      await appendAudit(db, {
        at: now,
        actor: viewer.hsaId,
        action: `support.case-${next.status}`,
        subject: stored.id,
        details: {},
      });
      const updated = await getCase(db, stored.id);
      return updated === null ? null : shown(updated, viewer);
    };

    app.post<{ Params: { caseId: string } }>(
      '/cases/:caseId/assign',
      { schema: { tags: ['support'], summary: 'Take the case', params: caseParams } },
      async (request) =>
        change(request, { status: 'assigned', assignee: (await serviceDesk(request)).hsaId }),
    );

    app.post<{ Params: { caseId: string } }>(
      '/cases/:caseId/resolve',
      { schema: { tags: ['support'], summary: 'Mark the case resolved', params: caseParams } },
      async (request) => change(request, { status: 'resolved' }),
    );

    app.post<{ Params: { caseId: string }; Body: { text: string } }>(
      '/cases/:caseId/comments',
      {
        schema: {
          tags: ['support'],
          summary: 'Comment on the case',
          params: caseParams,
          body: {
            type: 'object',
            properties: { text: { type: 'string', minLength: 1, maxLength: 4000 } },
            required: ['text'],
          },
        },
      },
      async (request, reply) => {
        const viewer = await serviceDesk(request);
        const stored = await getCase(db, request.params.caseId);
        if (stored === null) throw new ApiError('NOT_FOUND', { what: 'case' });
        await addComment(db, {
          caseId: stored.id,
          author: viewer.hsaId,
          at: ctx.clock.now(),
          text: request.body.text,
        });
        return reply.status(201).send({ ok: true });
      },
    );
  };

/** The error catalogue itself, so every code can link to its entry. */
export const catalogueRoutes: FastifyPluginAsync = async (app) => {
  app.get(
    '/',
    { schema: { tags: ['support'], summary: 'Every code with its texts in Swedish and English' } },
    async () => ({
      entries: ERROR_CODES.map((code: ErrorCode) => ({
        ...errorResponse(code),
        step: CODE_INFO[code].step,
        supportCase: CODE_INFO[code].supportCase,
      })),
      languages: Object.keys(CATALOGUES),
    }),
  );
};
