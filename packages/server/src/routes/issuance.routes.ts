import {
  cleanUpOffered,
  endedRefusal,
  type FlowEvent,
  jsonWithTimeline,
  type SignedStatement,
  viewOf,
} from '@reservkort/domain';
import {
  certificateStatusPending,
  consumeChallengePending,
  getCertificatePending,
  type Pending,
  pendingAll,
  pendingValue,
  runPending,
} from '@reservkort/store';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import {
  cardCertificateClaims,
  publicKeyOfPem,
  verifyCardCertificate,
  verifyCardSignature,
} from '../auth/card-certificate.js';
import {
  type CurrentSession,
  passedSessionIdOf,
  requireSession,
  type SessionReading,
  sessionAsRead,
} from '../auth/session.js';
import { readStatement } from '../auth/signing-challenge.js';
import { ApiError } from '../http/api-error.js';
import type { IssuanceService } from '../issuance/issuance.service.js';
import type { ServerContext } from '../server-context.js';

const base64 = { type: 'string', pattern: '^[A-Za-z0-9+/]*={0,2}$', minLength: 4, maxLength: 32768 } as const;
const flowParams = {
  type: 'object',
  properties: { flowId: { type: 'string', pattern: '^[A-Za-z0-9_-]{8,64}$' } },
  required: ['flowId'],
} as const;
/** A card station's statement as the page carries it: canonical payload and signature, base64url. */
export const signedStatementSchema = {
  type: 'object',
  properties: {
    payload: { type: 'string', pattern: '^[A-Za-z0-9_-]+$', minLength: 1, maxLength: 131072 },
    signature: { type: 'string', pattern: '^[A-Za-z0-9_-]+$', minLength: 1, maxLength: 200 },
  },
  required: ['payload', 'signature'],
  additionalProperties: false,
} as const;

/** Clicks the page reports for the person at the screen; their controls are checked by the machine. */
const ACTIONS = [
  'manage-orders',
  'order-selected',
  'handover-confirmed',
  'terms-accepted',
  'download-requested',
] as const;

/** Steps 1–7 over HTTP: every rule is the domain's; the server checks, stores and signs. */
export const issuanceRoutes =
  (ctx: ServerContext, issuance: IssuanceService): FastifyPluginAsync =>
  async (app) => {
    const db = ctx.store.db;
    // Nearly every answer here carries the flow's timeline, whose entries' JSON is made once.
    app.setReplySerializer((payload) => jsonWithTimeline(payload, ['view', 'timeline']));
    // A flow's routes read the flow with the session, in one statement (see takeFlowReadWith).
    const session = (request: FastifyRequest) => {
      const flowId = (request.params as { flowId?: unknown } | undefined)?.flowId;
      if (typeof flowId !== 'string') return requireSession(request, db, ctx.clock.now(), ctx.sessions);
      return requireSession(
        request,
        db,
        ctx.clock.now(),
        ctx.sessions,
        'admin',
        flowId,
        issuance.states.get(flowId),
      );
    };

    /**
     * For the routes that read a station: the session and the flow are read with the station's
     * first statement when they let the request through as read (`reading`); otherwise, or for a
     * session this process has not let through before, the session is checked first, as for every
     * other route (`checked`).
     */
    const readingFirst = async <R>(
      request: FastifyRequest,
      reading: (session: SessionReading) => Promise<R | null>,
      checked: (session: CurrentSession) => Promise<R>,
    ): Promise<R> => {
      const id = passedSessionIdOf(request);
      const done =
        id === null
          ? null
          : await reading({
              id,
              check: (stored) => sessionAsRead(request, stored, ctx.clock.now(), ctx.sessions),
            });
      return done ?? checked(await session(request));
    };

    app.post(
      '/start',
      {
        schema: {
          tags: ['issuance'],
          summary: 'Reserve a flow id and the nonce the card station signs its readers with',
        },
      },
      async (request) => issuance.reserve(await session(request)),
    );

    app.post<{ Body: { flowId: string; readers: SignedStatement } }>(
      '/',
      {
        schema: {
          tags: ['issuance'],
          summary: 'Start an issuance flow (step 1) with the readers as the card station signed them',
          body: {
            type: 'object',
            properties: { flowId: flowParams.properties.flowId, readers: signedStatementSchema },
            required: ['flowId', 'readers'],
            additionalProperties: false,
          },
        },
      },
      async (request) => issuance.start(await session(request), request.body.flowId, request.body.readers),
    );

    app.get<{ Params: { flowId: string } }>(
      '/:flowId',
      {
        schema: {
          tags: ['issuance'],
          summary: 'The flow: step, controls with reasons, timeline',
          params: flowParams,
        },
      },
      async (request) => {
        const flow = await issuance.own(request.params.flowId, await session(request));
        // A flow the server ended (sweeper, cancelled order) still offers its card clean-up here.
        return {
          view: viewOf(flow.state, ctx.clock.now()),
          raised: [],
          cardEffects: cleanUpOffered(flow.state),
          stationNonce: flow.stationNonce,
          cardKeyType: issuance.cardKeyType(),
        };
      },
    );

    app.post<{ Params: { flowId: string }; Body: { type: (typeof ACTIONS)[number]; accepted?: boolean } }>(
      '/:flowId/actions',
      {
        schema: {
          tags: ['issuance'],
          summary:
            'A click: Hantera beställningar, select order, BEKRÄFTA ÖVERLÄMNING, terms, STARTA NEDLADDNING',
          params: flowParams,
          body: {
            type: 'object',
            properties: { type: { type: 'string', enum: [...ACTIONS] }, accepted: { type: 'boolean' } },
            required: ['type'],
            additionalProperties: false,
          },
        },
      },
      async (request) => {
        const at = ctx.clock.now();
        const body = request.body;
        const event: FlowEvent =
          body.type === 'terms-accepted'
            ? { type: 'terms-accepted', accepted: body.accepted === true, at }
            : ({ type: body.type, at } as FlowEvent);
        return issuance.apply(request.params.flowId, await session(request), event);
      },
    );

    app.post<{ Params: { flowId: string }; Body: { statement?: SignedStatement; type?: string } }>(
      '/:flowId/agent-events',
      {
        schema: {
          tags: ['issuance'],
          summary: 'A reader, card or dialog event the card station signed, or the page’s tick',
          params: flowParams,
          body: {
            type: 'object',
            properties: {
              statement: signedStatementSchema,
              type: { type: 'string', maxLength: 40 },
            },
            additionalProperties: false,
          },
        },
      },
      async (request) => {
        const { statement: signed, type } = request.body;
        const flowId = request.params.flowId;
        if (signed !== undefined && type === undefined)
          return readingFirst(
            request,
            (reading) => issuance.agentEventReading(flowId, reading, signed),
            (me) => issuance.agentEvent(flowId, me, signed),
          );
        const me = await session(request);
        // The clock's heartbeat is the only fact a page may state; every other event is the station's.
        if (signed === undefined && type === 'tick')
          return issuance.apply(flowId, me, { type: 'tick', at: ctx.clock.now() });
        throw new ApiError('STATEMENT_INVALID', { reason: 'unsigned' });
      },
    );

    app.post<{ Params: { flowId: string }; Body: { proof: SignedStatement; confirmed?: boolean } }>(
      '/:flowId/handover',
      {
        schema: {
          tags: ['issuance'],
          summary: 'Handover (step 4): the card in reader 2 proves its number, signed by card and station',
          description:
            'With `confirmed`, the request is also the click BEKRÄFTA ÖVERLÄMNING, applied first in the same change: refused, nothing is kept; raising a code (a wrong card), it is kept alone and the proof is not used.',
          params: flowParams,
          body: {
            type: 'object',
            properties: { proof: signedStatementSchema, confirmed: { type: 'boolean' } },
            required: ['proof'],
            additionalProperties: false,
          },
        },
      },
      async (request) => {
        const { flowId } = request.params;
        const { proof, confirmed = false } = request.body;
        return readingFirst(
          request,
          (reading) => issuance.handover(flowId, reading, proof, confirmed),
          (me) => issuance.handover(flowId, me, proof, confirmed),
        );
      },
    );

    app.post<{ Params: { flowId: string }; Body: { statement: SignedStatement } }>(
      '/:flowId/keys',
      {
        schema: {
          tags: ['issuance'],
          summary: 'Step 6: the keys generated on the reserve card, vouched for by the card and the station',
          params: flowParams,
          body: {
            type: 'object',
            properties: { statement: signedStatementSchema },
            required: ['statement'],
            additionalProperties: false,
          },
        },
      },
      async (request) =>
        readingFirst(
          request,
          (reading) => issuance.keysGenerated(request.params.flowId, reading, request.body.statement),
          (me) => issuance.keysGenerated(request.params.flowId, me, request.body.statement),
        ),
    );

    app.post<{ Params: { flowId: string }; Body: { query: string } }>(
      '/:flowId/search',
      {
        schema: {
          tags: ['issuance'],
          summary: 'Step 2: search by personnummer or HSA-id',
          params: flowParams,
          body: {
            type: 'object',
            properties: { query: { type: 'string', maxLength: 200 } },
            required: ['query'],
          },
        },
      },
      async (request) => issuance.search(request.params.flowId, await session(request), request.body.query),
    );

    app.post<{ Params: { flowId: string }; Body: { purpose: 'order' | 'acknowledge' } }>(
      '/:flowId/signing-challenge',
      {
        schema: {
          tags: ['issuance'],
          summary: 'What the card must sign for SIGNERA (order) or KVITTERA KORT (acknowledge)',
          params: flowParams,
          body: {
            type: 'object',
            properties: { purpose: { type: 'string', enum: ['order', 'acknowledge'] } },
            required: ['purpose'],
          },
        },
      },
      async (request) => {
        const flow = await issuance.own(request.params.flowId, await session(request));
        return issuance.signingChallenge(db, flow.state, request.body.purpose);
      },
    );

    /**
     * Uses up the challenge, with `alongside` (what the signature's check reads) in the same round
     * trip; the challenge's bytes to be signed, and what was read alongside, once it is this flow's.
     */
    const takeChallenge = async <T>(
      challengeId: string,
      flowId: string,
      purpose: 'order' | 'acknowledge',
      alongside: Pending<T>,
    ): Promise<{ readonly data: Buffer; readonly alongside: T }> => {
      const [text, read] = await runPending(
        db,
        pendingAll(consumeChallengePending(db, challengeId, ctx.clock.now()), alongside),
      );
      // A login challenge, or a statement for another flow or purpose, is no challenge here.
      const challenge = text === null ? null : readStatement(text, purpose);
      if (challenge === null || challenge.fields.flowId !== flowId)
        throw new ApiError('SIGNATURE_INVALID', { reason: 'challenge' });
      return { data: challenge.data, alongside: read };
    };

    app.post<{
      Params: { flowId: string };
      Body: { challengeId: string; certificate: string; signature: string; readers: SignedStatement };
    }>(
      '/:flowId/sign',
      {
        schema: {
          tags: ['issuance'],
          summary: 'SIGNERA (step 3): admin 2 signs the order with the card the session logged in with',
          params: flowParams,
          body: {
            type: 'object',
            properties: {
              challengeId: { type: 'string', maxLength: 64 },
              certificate: base64,
              signature: base64,
              readers: signedStatementSchema,
            },
            required: ['challengeId', 'certificate', 'signature', 'readers'],
          },
        },
      },
      async (request) => {
        const me = await session(request);
        const flowId = request.params.flowId;
        // Ownership first: another admin's refused call must not use up the owner's challenge.
        const flow = await issuance.own(flowId, me);
        const der = Buffer.from(request.body.certificate, 'base64');
        const claims = await cardCertificateClaims(ctx.ca, der);
        const { data, alongside: status } = await takeChallenge(
          request.body.challengeId,
          flowId,
          'order',
          claims === null ? pendingValue(null) : certificateStatusPending(db, claims.serial),
        );
        const at = ctx.clock.now();
        // Signing re-proves the card: a certificate from another card, or of someone else, is caught here.
        const card = await verifyCardCertificate(
          der,
          'sign',
          { ca: ctx.ca, db, now: at, status },
          (reason) => new ApiError('SIGNATURE_INVALID', { reason }),
        ).catch(() => null);
        const valid =
          card !== null &&
          card.hsaId === me.hsaId &&
          verifyCardSignature(card.publicKey, data, Buffer.from(request.body.signature, 'base64'));
        return issuance.sign(
          flowId,
          me,
          request.body.readers,
          { type: 'signed', outcome: valid ? 'ok' : 'failed', cardNumber: card?.cardNumber ?? null, at },
          flow,
        );
      },
    );

    app.post<{ Params: { flowId: string }; Body: { authCsr: string; signCsr: string } }>(
      '/:flowId/certificates',
      {
        schema: {
          tags: ['issuance'],
          summary: 'Step 6: the CSRs made on the card; the answer carries both issued certificates',
          params: flowParams,
          body: {
            type: 'object',
            properties: {
              authCsr: { type: 'string', maxLength: 16384 },
              signCsr: { type: 'string', maxLength: 16384 },
            },
            required: ['authCsr', 'signCsr'],
          },
        },
      },
      async (request) =>
        issuance.issueCertificates(request.params.flowId, await session(request), {
          auth: request.body.authCsr,
          sign: request.body.signCsr,
        }),
    );

    app.post<{ Params: { flowId: string }; Body: { challengeId: string; signature: string } }>(
      '/:flowId/acknowledge',
      {
        schema: {
          tags: ['issuance'],
          summary: 'KVITTERA KORT (step 7): signed with the new signature key before the deadline',
          params: flowParams,
          body: {
            type: 'object',
            properties: { challengeId: { type: 'string', maxLength: 64 }, signature: base64 },
            required: ['challengeId', 'signature'],
          },
        },
      },
      async (request) => {
        const me = await session(request);
        const flow = await issuance.own(request.params.flowId, me);
        // An ended flow says why (FLOW_ENDED, ORDER_CANCELLED) before its certificates are looked for.
        const ended = endedRefusal(flow.state);
        if (ended !== null) throw new ApiError(ended.code, ended.details ?? {});
        const signSerial = flow.state.issuedSerials[1];
        const { data, alongside: stored } = await takeChallenge(
          request.body.challengeId,
          flow.id,
          'acknowledge',
          signSerial ? getCertificatePending(db, signSerial) : pendingValue(null),
        );
        if (stored === null || flow.state.order === null)
          throw new ApiError('EVENT_OUT_OF_ORDER', { reason: 'no certificate' });
        const valid = verifyCardSignature(
          publicKeyOfPem(stored.certificatePem),
          data,
          Buffer.from(request.body.signature, 'base64'),
        );
        if (!valid) throw new ApiError('SIGNATURE_INVALID', { reason: 'not the new signature key' });
        return issuance.apply(
          flow.id,
          me,
          { type: 'acknowledged', cardNumber: flow.state.order.cardNumber, at: ctx.clock.now() },
          { recent: flow },
        );
      },
    );

    app.post<{ Params: { flowId: string }; Body: { reason: 'restart' | 'logout' } }>(
      '/:flowId/abort',
      {
        schema: {
          tags: ['issuance'],
          summary: 'End the flow (log out and start again, or restart)',
          params: flowParams,
          body: {
            type: 'object',
            properties: { reason: { type: 'string', enum: ['restart', 'logout'] } },
            required: ['reason'],
          },
        },
      },
      async (request) =>
        issuance.apply(request.params.flowId, await session(request), {
          type: 'aborted',
          reason: request.body.reason,
          at: ctx.clock.now(),
        }),
    );

    app.post<{ Params: { flowId: string } }>(
      '/:flowId/restart',
      {
        schema: {
          tags: ['issuance'],
          summary: 'Starta om utgivningen: a new flow after a fault',
          params: flowParams,
        },
      },
      async (request) => issuance.restart(request.params.flowId, await session(request)),
    );
  };
