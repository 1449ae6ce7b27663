import {
  caseCodeDetails,
  errorResponse,
  type FlowState,
  frameCodeDetails,
  frameCodes,
  grantsIn,
  holdsKurIn,
  isErrorCode,
  type ReplayFrame,
  ROLES,
  redactSupportCase,
  replayFrames,
  type SupportCaseDraft,
} from '@reservkort/domain';
import { getAdmin, getCase, getPersonByHsaId, hasStaffRole } from '@reservkort/store';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { type CurrentSession, requireSession } from '../auth/session.js';
import { ApiError } from '../http/api-error.js';
import { adminOf, type DirectoryCache } from '../issuance/directory.js';
import type { IssuanceService } from '../issuance/issuance.service.js';
import type { ServerContext } from '../server-context.js';

const id = { type: 'string', pattern: '^[A-Za-z0-9_-]{8,64}$' } as const;

/**
 * "Spela upp": a case's or a flow's timeline as frames, each with the screen as it stood after the
 * entry. Read-only: nothing is changed, no card is asked. Cards are named only by role, so a replay
 * says nothing of a person that the case or the flow would not.
 */
export const replayRoutes =
  (ctx: ServerContext, directory: DirectoryCache, issuance: IssuanceService): FastifyPluginAsync =>
  async (app) => {
    const db = ctx.store.db;
    const session = (request: FastifyRequest) => requireSession(request, db, ctx.clock.now(), ctx.sessions);

    app.get<{ Params: { caseId: string } }>(
      '/support/cases/:caseId/replay',
      {
        schema: {
          tags: ['support'],
          summary: 'Spela upp: the case’s timelines as frames with the screen after each entry',
          params: { type: 'object', properties: { caseId: id }, required: ['caseId'] },
        },
      },
      async (request) => {
        // Whoever may read the case today: the service desk.
        const viewer = await session(request);
        if (!(await hasStaffRole(db, viewer.hsaId, 'service-desk')))
          throw new ApiError('ACCESS_DENIED', { reason: 'service desk only' });
        const stored = await getCase(db, request.params.caseId);
        if (stored === null) throw new ApiError('NOT_FOUND', { what: 'case' });
        const holdsKur = ((await getAdmin(db, viewer.hsaId))?.grants ?? []).some((g) => g.role === 'KUR');
        const draft = redactSupportCase(stored.draft as SupportCaseDraft, { holdsKur });
        const frames = replayFrames(
          [
            ...(draft.attempts ?? []).map((attempt) => ({
              flowId: attempt.flowId,
              timeline: attempt.timeline,
            })),
            { flowId: draft.flowId, timeline: draft.timeline },
          ],
          draft.cardNumber,
        );
        return {
          kind: 'case' as const,
          id: stored.id,
          flowId: draft.flowId,
          reserveCard: draft.cardNumber,
          frames,
          catalogue: stored.codes
            .filter(isErrorCode)
            .map((code) => errorResponse(code, caseCodeDetails(draft, code))),
        };
      },
    );

    /**
     * Who may replay a flow: its own administrator, and an administrator with a role in the branch
     * of the flow's recipient (KUR there too for a protected identity), as for the order itself.
     */
    const mayReplay = async (
      viewer: CurrentSession,
      flow: { admin2HsaId: string | null; state: FlowState },
    ) => {
      if (flow.admin2HsaId === viewer.hsaId) return;
      const admin = await adminOf(db, viewer.hsaId);
      const order = flow.state.order ?? flow.state.candidate;
      // The same answer for every refusal, so it tells nothing of whose flow or which branch.
      const denied = new ApiError('ACCESS_DENIED', { reason: 'not a flow you may see' });
      if (order === null) throw denied;
      const person = await getPersonByHsaId(db, order.recipientHsaId);
      if (person === null) throw denied;
      const tree = await directory.organisation(ctx.clock.now());
      const held = grantsIn(tree, admin, person.branchId);
      if (!ROLES.some((role) => held.has(role))) throw denied;
      if (order.protectedIdentity && !holdsKurIn(tree, admin, person.branchId)) throw denied;
    };

    app.get<{ Params: { flowId: string } }>(
      '/flows/:flowId/replay',
      {
        schema: {
          tags: ['issuance'],
          summary: 'Spela upp: the flow’s timeline as frames with the screen after each entry',
          params: { type: 'object', properties: { flowId: id }, required: ['flowId'] },
        },
      },
      async (request) => {
        const viewer = await session(request);
        const flow = await issuance.load(request.params.flowId);
        await mayReplay(viewer, flow);
        const reserveCard = (flow.state.order ?? flow.state.candidate)?.cardNumber ?? null;
        const frames: ReplayFrame[] = replayFrames(
          [{ flowId: flow.id, timeline: flow.state.timeline }],
          reserveCard,
        );
        return {
          kind: 'flow' as const,
          id: flow.id,
          flowId: flow.id,
          reserveCard,
          frames,
          catalogue: frameCodes(frames).map((code) => errorResponse(code, frameCodeDetails(frames, code))),
        };
      },
    );
  };
