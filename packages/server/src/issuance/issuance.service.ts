import { randomBytes } from 'node:crypto';
import {
  applyFlowEvent,
  classifySearchQuery,
  dateOf,
  diagnoseSearch,
  type FlowAnswer,
  type FlowConfig,
  type FlowEffect,
  type FlowEvent,
  type FlowOrder,
  type FlowState,
  type FlowTransition,
  type Readers,
  restartFlow,
  startFlow,
  transitionOrder,
  viewOf,
} from '@reservkort/domain';
import type { CertificateAuthority } from '@reservkort/pki';
import {
  appendAudit,
  type Database,
  getFlow,
  getOrder,
  getPersonByHsaId,
  insertFlow,
  markLoginCardRemoved,
  type StoredFlow,
  updateFlow,
  updateOrderState,
} from '@reservkort/store';
import type { Kysely, Transaction } from 'kysely';
import type { CurrentSession } from '../auth/session.js';
import { ApiError } from '../http/api-error.js';
import { adminOf, type DirectoryCache, lookUp } from './directory.js';

/** Effects the server carries out after the commit; stored with the flow until done, so none is lost. */
type PendingEffect = Extract<FlowEffect, { type: 'revoke-certificates' }>;

const newId = (): string => randomBytes(12).toString('base64url');

/**
 * The issuance portal's engine: flows stored with a version, every event run through the domain's
 * state machine, order changes in the same transaction, and revocations recorded as pending effects
 * that are carried out after the commit (and again after a crash) until done.
 */
export class IssuanceService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly ca: CertificateAuthority,
    private readonly directory: DirectoryCache,
    private readonly config: FlowConfig,
    private readonly now: () => number,
  ) {}

  async load(flowId: string): Promise<StoredFlow & { state: FlowState }> {
    const stored = await getFlow(this.db, flowId);
    if (stored === null) throw new ApiError('NOT_FOUND', { what: 'flow' });
    return stored as StoredFlow & { state: FlowState };
  }

  /** Only the administrator who started a flow works on it. */
  async own(flowId: string, session: CurrentSession): Promise<StoredFlow & { state: FlowState }> {
    const flow = await this.load(flowId);
    if (flow.admin2HsaId !== session.hsaId)
      throw new ApiError('ACCESS_DENIED', { reason: 'another administrator’s flow' });
    return flow;
  }

  private async insertNew(state: FlowState, session: CurrentSession, now: number): Promise<FlowState> {
    await insertFlow(this.db, {
      id: state.flowId,
      orderId: null,
      admin2HsaId: session.hsaId,
      status: state.status,
      step: state.step,
      state,
      deadline: null,
      pendingEffects: [],
      createdAt: now,
    });
    return state;
  }

  /** A new flow for a logged-in administrator, with the readers as the agent reports them now. */
  async start(session: CurrentSession, readers: Readers): Promise<FlowAnswer> {
    // Only ID-administrators issue cards (the service desk works cases, not flows).
    await adminOf(this.db, session.hsaId);
    const now = this.now();
    const fresh = startFlow(newId(), readers, now);
    const loginReader =
      ([1, 2] as const).find((r) => readers[r].card?.cardNumber === session.cardNumber) ?? 1;
    const login: FlowEvent = {
      type: 'logged-in',
      admin: session.hsaId,
      assuranceLevel: session.assuranceLevel,
      cardNumber: session.cardNumber,
      reader: loginReader,
      at: now,
    };
    // Ask the machine before storing anything, so a refused start leaves no flow behind.
    const checked = applyFlowEvent(fresh, login, this.config);
    if (!checked.ok) throw new ApiError(checked.error.code, checked.error.details ?? {});
    const state = await this.insertNew(fresh, session, now);
    return this.apply(state.flowId, session, login);
  }

  /** Restart after a fault or an end: a new flow with the same readers and, if the card stayed, login. */
  async restart(flowId: string, session: CurrentSession): Promise<FlowAnswer> {
    const flow = await this.own(flowId, session);
    if (flow.state.status === 'active')
      await this.apply(flowId, session, { type: 'aborted', reason: 'restart', at: this.now() });
    const previous = (await this.load(flowId)).state;
    const now = this.now();
    const state = await this.insertNew(restartFlow(previous, newId(), now), session, now);
    return { view: viewOf(state, now), raised: [], cardEffects: [] };
  }

  /** Step 2: the query classified, the person looked up, the diagnosis recorded on the flow. */
  async search(flowId: string, session: CurrentSession, query: string) {
    const now = this.now();
    const classified = classifySearchQuery(query, dateOf(now));
    const match =
      classified.kind === 'personal-number'
        ? await lookUp(this.db, 'personal-number', classified.normalised)
        : classified.kind === 'hsa-id'
          ? await lookUp(this.db, 'hsa-id', classified.normalised)
          : null;
    const ctx = {
      tree: await this.directory.organisation(now),
      admin: await adminOf(this.db, session.hsaId),
      assuranceLevel: session.assuranceLevel,
      now,
    };
    const outcome = diagnoseSearch(classified, match, ctx);
    const hit: FlowOrder | null =
      outcome.kind === 'found'
        ? {
            orderId: outcome.order.id,
            cardNumber: outcome.order.cardNumber,
            recipientHsaId: outcome.order.recipient.hsaId,
            admin1HsaId: outcome.order.createdBy,
            protectedIdentity: outcome.order.recipient.protectedIdentity,
          }
        : null;
    const applied = await this.apply(flowId, session, {
      type: 'searched',
      queryKind: classified.kind,
      hit,
      codes: outcome.codes,
      at: now,
    });
    // What the reviewer sees at step 3 (Granskning av valt underlag); nothing for a miss.
    const review =
      outcome.kind === 'found'
        ? {
            orderId: outcome.order.id,
            cardNumber: outcome.order.cardNumber,
            name: `${outcome.person.givenName} ${outcome.person.surname}`,
            hsaId: outcome.person.hsaId,
            organisation: await this.directory.branchName(outcome.person.branchId, now),
            validity: outcome.order.validity,
            idDocument: outcome.order.idDocument,
            normalisedQuery: classified.kind === 'personal-number' ? classified.normalised : null,
          }
        : null;
    return { ...applied, review };
  }

  /** Issues both certificates for the CSRs the card made (step 6), then records them on the flow. */
  async issueCertificates(flowId: string, session: CurrentSession, csrs: { auth: string; sign: string }) {
    const flow = await this.own(flowId, session);
    const order = flow.state.order;
    if (order === null) throw new ApiError('EVENT_OUT_OF_ORDER', { reason: 'no order' });
    const now = this.now();
    // Ask the machine first, so no certificate is issued for a flow that cannot take it.
    const dryRun = applyFlowEvent(
      flow.state,
      { type: 'certificates-issued', serials: ['00'], at: now },
      this.config,
    );
    if (!dryRun.ok) throw new ApiError(dryRun.error.code, dryRun.error.details ?? {});
    const stored = await getOrder(this.db, order.orderId);
    const person = await getPersonByHsaId(this.db, order.recipientHsaId);
    if (stored === null || person === null) throw new ApiError('NOT_FOUND', { what: 'order' });
    const organisation = await this.directory.branchName(person.branchId, now);
    const holder = {
      hsaId: person.hsaId,
      givenName: person.givenName,
      surname: person.surname,
      organisation,
    };
    const common = {
      caId: 'loa3' as const,
      holder,
      cardNumber: stored.cardNumber,
      validity: stored.validity,
      orderId: stored.id,
      actor: session.hsaId,
    };
    const auth = await this.ca.issue({ ...common, profile: 'card-auth', csr: csrs.auth });
    let sign: Awaited<ReturnType<CertificateAuthority['issue']>>;
    try {
      sign = await this.ca.issue({ ...common, profile: 'card-sign', csr: csrs.sign });
    } catch (error) {
      await this.ca.revoke(auth.serial, 'cessationOfOperation', session.hsaId).catch(() => undefined);
      throw error;
    }
    const applied = await this.apply(flowId, session, {
      type: 'certificates-issued',
      serials: [auth.serial, sign.serial],
      at: this.now(),
    });
    return {
      ...applied,
      certificates: {
        auth: Buffer.from(auth.certificate.rawData).toString('base64'),
        sign: Buffer.from(sign.certificate.rawData).toString('base64'),
      },
    };
  }

  /**
   * Runs one event through the domain machine and stores the result in one transaction with the
   * order's change; a concurrent change (another server, another admin) makes it fail cleanly.
   */
  async apply(flowId: string, session: CurrentSession | null, event: FlowEvent): Promise<FlowAnswer> {
    const flow = session === null ? await this.load(flowId) : await this.own(flowId, session);
    const result = applyFlowEvent(flow.state, event, this.config);
    if (!result.ok) throw new ApiError(result.error.code, result.error.details ?? {});
    const transition = result.value;
    const pending = [
      ...(flow.pendingEffects as PendingEffect[]),
      ...transition.effects.filter((e): e is PendingEffect => e.type === 'revoke-certificates'),
    ];
    await this.db.transaction().execute(async (trx) => {
      const stored = await updateFlow(trx, {
        id: flowId,
        expectedVersion: flow.version,
        status: transition.state.status,
        step: transition.state.step,
        state: transition.state,
        deadline: transition.state.status === 'active' ? transition.state.deadline : null,
        pendingEffects: pending,
        orderId: transition.state.order?.orderId ?? null,
        updatedAt: event.at,
      });
      if (!stored) throw new ApiError('ORDER_STATE_CONFLICT', { state: 'flow changed meanwhile' });
      await this.applyOrderEffects(trx, transition, event.at);
      if (
        session !== null &&
        transition.state.loginCardRemovedAt !== null &&
        flow.state.loginCardRemovedAt === null
      ) {
        await markLoginCardRemoved(trx, session.id, transition.state.loginCardRemovedAt);
      }
      if (transition.entry !== null) {
        await appendAudit(trx, {
          at: event.at,
          actor: session?.hsaId ?? 'system',
          action: `flow.${event.type}`,
          subject: flowId,
          details: {
            step: transition.entry.step,
            codes: transition.entry.codes,
            status: transition.state.status,
          },
        });
      }
    });
    // The change is committed and its revocations stored: if carrying them out fails now, the
    // sweeper retries; the caller's action still succeeded.
    if (pending.length > 0) await this.settle(flowId).catch(() => undefined);
    return {
      view: viewOf(transition.state, this.now()),
      raised: transition.raised.map((e) => e.code),
      cardEffects: transition.effects.filter((e) => e.type === 'clean-card'),
    };
  }

  private async applyOrderEffects(
    trx: Transaction<Database>,
    transition: FlowTransition,
    at: number,
  ): Promise<void> {
    for (const effect of transition.effects) {
      if (
        effect.type !== 'start-order' &&
        effect.type !== 'complete-order' &&
        effect.type !== 'release-order'
      )
        continue;
      const order = await getOrder(trx, effect.orderId);
      if (order === null) throw new ApiError('NOT_FOUND', { what: 'order' });
      const type =
        effect.type === 'start-order' ? 'start' : effect.type === 'complete-order' ? 'complete' : 'release';
      const next = transitionOrder(order, { type, at });
      if (!next.ok) throw new ApiError(next.error.code, next.error.details ?? {});
      const changed = await updateOrderState(trx, {
        id: order.id,
        expectedVersion: order.version,
        state: next.value.state,
        stateChangedAt: at,
      });
      // Two admins signing the same order at once: the order's version lets exactly one through.
      if (!changed) throw new ApiError('ORDER_STATE_CONFLICT', { state: 'order changed meanwhile' });
    }
  }

  /** Carries out a flow's pending revocations (idempotent), then clears them. */
  async settle(flowId: string): Promise<void> {
    const flow = await this.load(flowId);
    const pending = flow.pendingEffects as PendingEffect[];
    if (pending.length === 0) return;
    for (const effect of pending) {
      for (const serial of effect.serials) {
        await this.ca.revoke(serial, effect.reason, 'issuance').catch((error: { code?: string }) => {
          if (error.code !== 'ALREADY_REVOKED') throw error;
        });
      }
    }
    await updateFlow(this.db, {
      id: flowId,
      expectedVersion: flow.version,
      status: flow.status,
      step: flow.step,
      state: flow.state,
      deadline: flow.deadline,
      pendingEffects: [],
      updatedAt: this.now(),
    });
  }
}
