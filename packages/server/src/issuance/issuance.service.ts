import { randomBytes } from 'node:crypto';
import {
  applyFlowEvent,
  type CardKeyType,
  type CardOwner,
  checkFlowEvent,
  classifySearchQuery,
  closedOrderCode,
  dateOf,
  diagnoseSearch,
  explainedOrder,
  type FlowAnswer,
  type FlowConfig,
  type FlowEffect,
  type FlowEvent,
  type FlowOrder,
  type FlowState,
  type FlowTransition,
  type HsaId,
  type Instant,
  type Order,
  orderStateAt,
  type ReaderFact,
  type Readers,
  restartFlow,
  type SignedStatement,
  type StatementKind,
  startFlow,
  transitionOrder,
  transitionStockCard,
  viewOf,
} from '@reservkort/domain';
import { type BureauRecord, type CertificateAuthority, checkCsr, type SignedCard } from '@reservkort/pki';
import {
  appendAudit,
  appendAuditWith,
  closeIntent,
  consumeChallengePending,
  type Database,
  type FlowCardKeys,
  getAdminPending,
  getFlow,
  getOrder,
  getOrderPending,
  getPersonByHsaIdPending,
  getSessionWithFlowPending,
  getStockCardPending,
  type IssuancePurpose,
  insertChallenge,
  insertChallengeQuery,
  insertFlow,
  insertFlowAndAudit,
  insertIntentsQuery,
  keepIntentsOfFlow,
  keepIntentsOfFlowPending,
  listCertificatesOfIntent,
  listFlowsForOrder,
  markLoginCardRemoved,
  moveStockCard,
  type NewAuditEntry,
  type NewLoginChallenge,
  type Pending,
  pendingAll,
  pendingValue,
  recordBoundCertificates,
  runPending,
  type SessionWithFlow,
  type StoredFlow,
  type StoredIssuanceIntent,
  type StoredOrder,
  type StoredStockCard,
  StoreError,
  settleIntent,
  updateFlow,
  updateFlowAndAuditEach,
  updateFlowWith,
  updateOrderState,
  updateOrderStatePending,
} from '@reservkort/store';
import type { CompiledQuery, Kysely, Transaction } from 'kysely';
import { type CurrentSession, type SessionReading, takeFlowReadWith } from '../auth/session.js';
import { newChallenge, statement } from '../auth/signing-challenge.js';
import { ApiError } from '../http/api-error.js';
import { cardRecordPending, verifyCardKeys, verifyCardProof } from '../station/card-proof.js';
import {
  acceptVerifiedStatement,
  newStationNonce,
  previewStatement,
  type VerifiedStatement,
  verifyStatement,
  verifyStatementWith,
} from '../station/station-statement.service.js';
import { cardOwnerForPending, cardOwnerPending } from './card-owner.js';
import { adminOf, asIdAdmin, type DirectoryCache, lookUpPending } from './directory.js';
import { FlowMetrics } from './flow-metrics.js';
import { FlowStateCache } from './flow-state-cache.js';

/**
 * Every flow answer: the domain's, the nonce the station's next statement must carry, and the key
 * type the agent is to generate on the card at the download (the LoA3 CA's setting).
 */
export type FlowReply = FlowAnswer & {
  readonly stationNonce: string;
  readonly cardKeyType: CardKeyType;
  /**
   * Given with the answer that brings the flow to a signature (step 3's SIGNERA, step 7's KVITTERA
   * KORT): what the card is to sign, so that the page need not ask for it (`signing-challenge`).
   */
  readonly signingChallenge?: SigningChallengeOffer;
};

/** What a card is to sign for SIGNERA (`order`) or KVITTERA KORT (`acknowledge`), usable once. */
export interface SigningChallengeOffer {
  readonly purpose: SigningPurpose;
  readonly challengeId: string;
  /** Base64 of the statement the card signs. */
  readonly toBeSigned: string;
  /** The server's time after which the challenge is refused. */
  readonly expiresAt: number;
}

export type SigningPurpose = 'order' | 'acknowledge';

/** How long a signing challenge may be signed and sent. */
export const SIGNING_TTL_MS = 5 * 60_000;

/**
 * The signature a change brings the flow to, if it does: the order's at step 3, the recipient's
 * acknowledgement at step 7. Only on arrival at that step, so that waiting there (ticks, reader
 * events) does not store a challenge at every answer; a page that needs another asks for it.
 */
const signatureReached = (before: FlowState, after: FlowState): SigningPurpose | null => {
  if (after.status !== 'active' || after.fault !== null || after.order === null || before.step === after.step)
    return null;
  if (after.step === 3) return 'order';
  if (after.step === 7) return 'acknowledge';
  return null;
};

/** A flow id reserved for a session (`POST /api/flows/start`) lives this long, and is used once. */
const RESERVATION_TTL_MS = 5 * 60_000;
const RESERVATION_PURPOSE = 'flow-start';

/** The timeline detail naming the order a search without a hit explained. */
export const EXPLAINED_ORDER = 'explainedOrder';

/**
 * What one request does to a flow, decided inside its transaction (a station statement is verified
 * there, so that its sequence number and the flow's new nonce commit with the change or not at all).
 */
interface Plan {
  readonly events: readonly FlowEvent[];
  /** The station whose verified statement the events come from: named on their timeline entries. */
  readonly station?: string;
  /**
   * How many of the events, first in the list, are the person's click sent with the statement (the
   * handover's BEKRÄFTA ÖVERLÄMNING with the card's proof): not the station's, so not named so.
   */
  readonly clicks?: number;
  readonly cardKeys?: FlowCardKeys;
  /** More details for the last event's timeline entry: what the server knows beside the event. */
  readonly details?: Readonly<Record<string, string>>;
}

/** Whose card a card is, once the administrator it is judged for is known (see cardOwner). */
type OwnerFor = (admin: HsaId) => CardOwner;

/** For a card-inserted event, the read that says whose card it is; nothing to read for any other. */
const ownerForPending = (trx: Transaction<Database>, stated: FlowEvent): Pending<OwnerFor | null> =>
  stated.type !== 'card-inserted' ? pendingValue(null) : cardOwnerForPending(trx, stated.cardNumber);

/** A station statement checked without accepting it, for this flow and session (see preview). */
/** A flow id reserved for an administrator, with the nonce its station signs the readers with. */
export interface FlowReservation {
  readonly flowId: string;
  readonly stationNonce: string;
  readonly cardKeyType: CardKeyType;
}

interface Previewed {
  readonly flow: StoredFlow & { state: FlowState };
  readonly session: CurrentSession;
  readonly verified: VerifiedStatement;
  readonly record: BureauRecord | undefined;
}

/** Thrown inside a transaction when a session or flow read there does not let the request through. */
const NOT_AS_READ = new Error('the session or the flow as read does not let the request through');

type Planner = (flow: StoredFlow & { state: FlowState }, trx: Transaction<Database>) => Promise<Plan> | Plan;

/**
 * The flow events an `event` or `events` statement states, in its order, as the server takes them:
 * at the server's time, never keys-generated (that is `keys`), and without an owner of a card (that
 * is the server's word, never the station's); the refusal if one of them is none.
 */
const stationEvents = (kind: StatementKind, body: unknown, at: Instant): readonly FlowEvent[] | ApiError => {
  // Any other kind is refused by the statement's check, which runs after this read.
  if (kind !== 'event' && kind !== 'events') return new ApiError('STATEMENT_INVALID', { reason: 'kind' });
  const fields = body as { event?: unknown; events?: unknown } | null;
  const listed = kind === 'event' ? [fields?.event] : fields?.events;
  if (!Array.isArray(listed)) return new ApiError('STATEMENT_INVALID', { reason: 'event' });
  const events: FlowEvent[] = [];
  for (const event of listed) {
    if (typeof event !== 'object' || event === null)
      return new ApiError('STATEMENT_INVALID', { reason: 'event' });
    const { owner: _stated, ...stated } = event as Record<string, unknown>;
    if (stated.type === 'keys-generated') return new ApiError('STATEMENT_INVALID', { reason: 'event' });
    const checked = checkFlowEvent({ ...stated, at });
    if (!checked.ok)
      return new ApiError('STATEMENT_INVALID', { reason: String(checked.error.details?.reason ?? 'event') });
    events.push(checked.value);
  }
  return events;
};

/** The domain's reader state from a station's signed fact (its insertion counter is kept apart). */
const readerState = (fact: ReaderFact): Readers[1] => ({
  connected: fact.connected,
  card: fact.card === null ? null : { cardNumber: fact.card.cardNumber },
});

/** A transition whose timeline entry names the station that proved the event. */
const byStation = (transition: FlowTransition, station: string | undefined): FlowTransition => {
  if (station === undefined || transition.entry === null) return transition;
  const entry = { ...transition.entry, details: { ...transition.entry.details, station } };
  const timeline = [...transition.state.timeline.slice(0, -1), entry];
  return { ...transition, entry, state: { ...transition.state, timeline } };
};

/** A transition whose timeline entry carries more of what the server knows (e.g. the order a search explained). */
const withDetails = (
  transition: FlowTransition,
  details: Readonly<Record<string, string>> | undefined,
): FlowTransition => {
  if (details === undefined || transition.entry === null) return transition;
  const entry = { ...transition.entry, details: { ...transition.entry.details, ...details } };
  const timeline = [...transition.state.timeline.slice(0, -1), entry];
  return { ...transition, entry, state: { ...transition.state, timeline } };
};

/** Effects the server carries out after the commit; stored with the flow until done, so none is lost. */
type PendingEffect = Extract<FlowEffect, { type: 'revoke-certificates' }>;

const newId = (): string => randomBytes(12).toString('base64url');

/** The refusal when a flow's version moved between reading and writing it. */
const FLOW_CHANGED = 'flow changed meanwhile';
const flowChanged = (): ApiError => new ApiError('ORDER_STATE_CONFLICT', { state: FLOW_CHANGED });
const isFlowChanged = (error: unknown): boolean =>
  error instanceof ApiError && error.code === 'ORDER_STATE_CONFLICT' && error.details.state === FLOW_CHANGED;

/** A flow that claimed its issuance and has nothing bound yet, and no fault: it waits on the claim. */
export const waitsOnClaim = (flow: StoredFlow & { state: FlowState }): boolean =>
  flow.status === 'active' &&
  flow.state.fault === null &&
  flow.state.issuance != null &&
  flow.state.download?.phase === 'issuing' &&
  flow.state.issuedSerials.length === 0;

/** An effect on the flow's order: started at SIGNERA, completed at KVITTERA KORT, released on abort. */
type FlowEffectOf = FlowTransition['effects'][number];
const isOrderEffect = (
  effect: FlowEffectOf,
): effect is Extract<FlowEffectOf, { type: 'start-order' | 'complete-order' | 'release-order' }> =>
  effect.type === 'start-order' || effect.type === 'complete-order' || effect.type === 'release-order';

const changesOrder = (transition: FlowTransition): boolean => transition.effects.some(isOrderEffect);

/** Who the audit log names for work nobody clicked. */
export const RECONCILER_ACTOR = 'issuance-reconciler';

/**
 * Extra writes that must commit with a flow's change, or not at all: made here, and those returned
 * as statements sent with the change (each one's failure an SQL error).
 */
type AlsoInTransaction = (
  trx: Transaction<Database>,
  transition: FlowTransition,
) => Promise<readonly CompiledQuery[]>;

interface ApplyOptions {
  /** Written in the flow's transaction (issuance intents, their binding). */
  readonly also?: AlsoInTransaction;
  /** Who the audit log names; the session's administrator, or `system`, when not given. */
  readonly actor?: string;
  /**
   * The flow as this request already read it (its owner checked): written only at that version, so
   * a change meanwhile refuses the request instead of reading the flow again.
   */
  readonly read?: StoredFlow & { state: FlowState };
  /**
   * The flow as this request read it a moment ago (its owner checked): tried first, so it is not
   * read twice; if it moved on meanwhile and the attempt failed, the request runs again on the flow
   * as it is now, as if it had only just read it.
   */
  readonly recent?: StoredFlow & { state: FlowState };
}

/** One event and what the domain made of it. */
interface AppliedStep {
  readonly event: FlowEvent;
  readonly transition: FlowTransition;
  /** The station that stated the event; none for a person's click or the server's own event. */
  readonly station?: string | undefined;
}

/** The same public key in two CSRs, compared as SubjectPublicKeyInfo bytes. */
const sameKey = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

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
    /** Counts raised codes and ended flows for /metrics; a fresh set when not shared with an app. */
    readonly metrics: FlowMetrics = new FlowMetrics(),
    /** The flows' states this process holds: a flow's request reads its state only when it changed. */
    readonly states: FlowStateCache = new FlowStateCache(),
  ) {}

  /** After a commit: the codes the flow raised and, if it ended, how. */
  private observe(
    flow: StoredFlow,
    before: FlowState['status'],
    steps: readonly { readonly transition: FlowTransition }[],
  ): void {
    this.metrics.raised(
      flow,
      steps.flatMap((step) => step.transition.raised.map((e) => e.code)),
    );
    const after = steps.at(-1)?.transition.state.status ?? before;
    if (before === 'active' && after !== 'active') this.metrics.end(flow, after);
  }

  async load(flowId: string): Promise<StoredFlow & { state: FlowState }> {
    const stored = await getFlow(this.db, flowId, this.states.get(flowId));
    if (stored === null) throw new ApiError('NOT_FOUND', { what: 'flow' });
    this.states.remember(stored.id, stored.version, stored.state);
    return stored as StoredFlow & { state: FlowState };
  }

  /** Only the administrator who started a flow works on it. */
  async own(flowId: string, session: CurrentSession): Promise<StoredFlow & { state: FlowState }> {
    const read = takeFlowReadWith(session, flowId) as (StoredFlow & { state: FlowState }) | null;
    if (read !== null) this.states.remember(read.id, read.version, read.state);
    const flow = read ?? (await this.load(flowId));
    if (flow.admin2HsaId !== session.hsaId)
      throw new ApiError('ACCESS_DENIED', { reason: 'another administrator’s flow' });
    return flow;
  }

  /**
   * Reserves a flow id for this session's administrator, with the nonce the station's readers
   * statement must carry: stored as a challenge (5 minutes, used once by `start`).
   */
  async reserve(session: CurrentSession): Promise<FlowReservation> {
    await adminOf(this.db, session.hsaId);
    const { reservation, row } = this.reservation(session.hsaId);
    await insertChallenge(this.db, row);
    return reservation;
  }

  /**
   * A flow id and nonce for an ID-administrator the caller has checked, and the row that holds them
   * for RESERVATION_TTL_MS, for the caller to store (the login stores it with the session).
   */
  reservation(admin: string): { readonly reservation: FlowReservation; readonly row: NewLoginChallenge } {
    const flowId = newId();
    const stationNonce = newStationNonce();
    const now = this.now();
    return {
      reservation: { flowId, stationNonce, cardKeyType: this.cardKeyType() },
      row: {
        id: flowId,
        challenge: JSON.stringify({ purpose: RESERVATION_PURPOSE, admin, stationNonce }),
        createdAt: now,
        expiresAt: now + RESERVATION_TTL_MS,
      },
    };
  }

  /** The key type cards of this flow get: issuance certifies at LoA3 only. */
  cardKeyType(): CardKeyType {
    return this.ca.cardKeyType('loa3');
  }

  /**
   * A new flow on a reserved id, with the readers as the station signed them for it: bound to that
   * station, logged in with the session's card from the reader that holds it, whose insertion
   * counter is recorded for SIGNERA. All in one transaction: a refused statement uses nothing up.
   */
  async start(session: CurrentSession, flowId: string, readers: SignedStatement): Promise<FlowReply> {
    const now = this.now();
    const { state, nonce, agent, station } = await this.db.transaction().execute(async (trx) => {
      // The reservation is used up with the administrator's row read beside it (one round trip on
      // PostgreSQL); a refusal below rolls the use back with the transaction.
      const [text, admin] = await runPending(
        trx,
        pendingAll(consumeChallengePending(trx, flowId, now), getAdminPending(trx, session.hsaId)),
      );
      // Only ID-administrators issue cards (the service desk works cases, not flows).
      asIdAdmin(admin);
      const reservation = text === null ? null : this.readReservation(text);
      if (reservation === null || reservation.admin !== session.hsaId) {
        // The reservation already started this administrator's flow (a parallel copy, or the page
        // sending again after a lost answer): the flow exists, so "not found" would mislead.
        const started = text === null ? await getFlow(trx, flowId) : null;
        if (started !== null && started.admin2HsaId === session.hsaId)
          throw new ApiError('EVENT_OUT_OF_ORDER', { reason: 'flow already started' });
        throw new ApiError('NOT_FOUND', { what: 'flow' });
      }
      // Whose cards are in the readers is read with the station (one round trip on PostgreSQL).
      const { verified, alongside: owners } = await verifyStatementWith(
        trx,
        this.ca,
        readers,
        { flowId, nonce: reservation.stationNonce, kinds: ['readers'], now },
        async (payload) => {
          const stated = 'readers' in payload.body ? payload.body.readers : null;
          const owner = (reader: 1 | 2) =>
            cardOwnerPending(trx, stated?.[reader]?.card?.cardNumber ?? null, session.hsaId);
          return pendingAll(owner(1), owner(2));
        },
      );
      const body = verified.payload.body as {
        readers: { 1: ReaderFact; 2: ReaderFact };
        agent?: { version: string; packaging: string };
      };
      const facts = body.readers;
      const withOwner = (reader: Readers[1], owner: CardOwner): Readers[1] =>
        reader.card === null ? reader : { ...reader, card: { ...reader.card, owner } };
      const domainReaders: Readers = {
        1: withOwner(readerState(facts[1]), owners[0]),
        2: withOwner(readerState(facts[2]), owners[1]),
      };
      const loginReader =
        ([1, 2] as const).find((r) => facts[r].card?.cardNumber === session.cardNumber) ?? 1;
      const login: FlowEvent = {
        type: 'logged-in',
        admin: session.hsaId,
        assuranceLevel: session.assuranceLevel,
        cardNumber: session.cardNumber,
        reader: loginReader,
        at: now,
      };
      const station = verified.station.id;
      const fresh = startFlow(flowId, domainReaders, now);
      const started = {
        ...fresh,
        timeline: fresh.timeline.map((e) => ({ ...e, details: { ...e.details, station } })),
      };
      const result = applyFlowEvent(started, login, this.config);
      if (!result.ok) throw new ApiError(result.error.code, result.error.details ?? {});
      const transition = byStation(result.value, station);
      const next = newStationNonce();
      // The transaction's last work: on PostgreSQL its COMMIT goes with the insert and the entry.
      await insertFlowAndAudit(
        trx,
        {
          id: flowId,
          orderId: null,
          admin2HsaId: session.hsaId,
          status: transition.state.status,
          step: transition.state.step,
          state: transition.state,
          deadline: null,
          pendingEffects: [],
          createdAt: now,
          stationId: station,
          stationNonce: next,
          loginInsertions: facts[loginReader].card?.insertions ?? null,
          agent: body.agent ?? null,
        },
        {
          at: now,
          actor: session.hsaId,
          action: 'flow.logged-in',
          subject: flowId,
          details: {
            step: transition.state.step,
            codes: transition.entry?.codes ?? [],
            status: 'active',
            station,
          },
        },
      );
      return { state: transition, nonce: next, agent: body.agent ?? null, station };
    });
    this.metrics.raised(
      { stationId: station, agent },
      state.raised.map((e) => e.code),
    );
    return {
      view: viewOf(state.state, now),
      raised: state.raised.map((e) => e.code),
      cardEffects: [],
      stationNonce: nonce,
      cardKeyType: this.cardKeyType(),
    };
  }

  private readReservation(text: string): { admin: string; stationNonce: string } | null {
    try {
      const value = JSON.parse(text) as Record<string, unknown>;
      return value.purpose === RESERVATION_PURPOSE &&
        typeof value.admin === 'string' &&
        typeof value.stationNonce === 'string'
        ? { admin: value.admin, stationNonce: value.stationNonce }
        : null;
    } catch {
      return null;
    }
  }

  /**
   * Restart after a fault or an end: a new flow on the same station with the same readers and, if
   * the card stayed, login (and its recorded insertion); a new nonce.
   */
  async restart(flowId: string, session: CurrentSession): Promise<FlowReply> {
    const flow = await this.own(flowId, session);
    if (flow.state.status === 'active')
      await this.apply(flowId, session, { type: 'aborted', reason: 'restart', at: this.now() });
    const previous = await this.load(flowId);
    const now = this.now();
    const state = restartFlow(previous.state, newId(), now);
    const stationNonce = newStationNonce();
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
      stationId: previous.stationId,
      stationNonce,
      loginInsertions: previous.loginInsertions,
      agent: previous.agent,
    });
    return {
      view: viewOf(state, now),
      raised: [],
      cardEffects: [],
      stationNonce,
      cardKeyType: this.cardKeyType(),
    };
  }

  /** What a station statement for this flow must be: its station, nonce and one of these kinds. */
  private expected(flow: StoredFlow, kinds: readonly StatementKind[]) {
    return { flowId: flow.id, nonce: flow.stationNonce, kinds, now: this.now(), stationId: flow.stationId };
  }

  /** Verifies a station statement for this flow's station and nonce, in the flow's transaction. */
  private verify(
    trx: Transaction<Database>,
    flow: StoredFlow,
    signed: SignedStatement,
    kinds: readonly StatementKind[],
  ): Promise<VerifiedStatement> {
    return verifyStatement(trx, this.ca, signed, this.expected(flow, kinds));
  }

  /** A reader, card or dialog event the station signed (never keys-generated: that is `keys`). */
  agentEvent(flowId: string, session: CurrentSession, signed: SignedStatement): Promise<FlowReply> {
    return this.run(
      flowId,
      session,
      async (flow, trx) =>
        (await this.stationEventPlan(trx, signed, pendingValue(undefined), () => ({ flow, session }))).plan,
    );
  }

  /**
   * agentEvent for a session not checked yet: the session and the flow are read in the flow's
   * transaction with the station (one round trip fewer on PostgreSQL) and checked before anything
   * the station says. Null when they do not let the request through as read, or the statement is
   * not even well formed: nothing is kept, and the caller checks the session the usual way, which
   * refuses the request or records what it must, and then calls agentEvent.
   */
  async agentEventReading(
    flowId: string,
    reading: SessionReading,
    signed: SignedStatement,
  ): Promise<FlowReply | null> {
    return this.asRead(reading, flowId, (db, judge) =>
      this.runReading((trx) => this.stationEventPlan(trx, signed, db(trx), judge)),
    );
  }

  /**
   * Runs `attempt` with the session and the flow read by its first statements (`read`, on the
   * connection it is given) and judged by `judge` before anything else is checked. Null when they
   * do not let the request through as read, or `attempt` failed before they were judged: whatever
   * it wrote has rolled back, and the caller checks the session the usual way.
   */
  private async asRead<R>(
    reading: SessionReading,
    flowId: string,
    attempt: (
      read: (db: Kysely<Database> | Transaction<Database>) => Pending<SessionWithFlow>,
      judge: (read: SessionWithFlow) => { flow: StoredFlow & { state: FlowState }; session: CurrentSession },
    ) => Promise<R>,
  ): Promise<R | null> {
    const checked = { session: false };
    try {
      return await attempt(
        (db) => getSessionWithFlowPending(db, reading.id, flowId, this.states.get(flowId)),
        (read) => {
          const judged = this.judgeAsRead(reading, read);
          checked.session = true;
          return judged;
        },
      );
    } catch (error) {
      if (!checked.session) return null;
      throw error;
    }
  }

  /**
   * A station event's plan: the statement verified in the flow's transaction, the owner of a card
   * it says was inserted read with the station, and `read` with them (one round trip on
   * PostgreSQL). `judge` says from `read`'s answer which flow and session the event is for, before
   * any check of the statement; it may refuse the request.
   */
  private async stationEventPlan<T>(
    trx: Transaction<Database>,
    signed: SignedStatement,
    read: Pending<T>,
    judge: (value: T) => { flow: StoredFlow & { state: FlowState }; session: CurrentSession },
  ): Promise<{ flow: StoredFlow & { state: FlowState }; session: CurrentSession; plan: Plan }> {
    const judged: { for?: { flow: StoredFlow & { state: FlowState }; session: CurrentSession } } = {};
    // The events are read from the payload once; they are used only once the statement is verified.
    const { verified, alongside } = await verifyStatementWith<
      [T, readonly (OwnerFor | null)[], readonly FlowEvent[] | ApiError]
    >(
      trx,
      this.ca,
      signed,
      ([value]) => {
        judged.for = judge(value);
        return this.expected(judged.for.flow, ['event', 'events']);
      },
      async (payload) => {
        const stated = stationEvents(payload.kind, payload.body, this.now());
        const owners = stated instanceof ApiError ? [] : stated.map((event) => ownerForPending(trx, event));
        return pendingAll(read, pendingAll(...owners), pendingValue(stated));
      },
    );
    const [, ownersFor, stated] = alongside;
    if (judged.for === undefined) throw new Error('the statement was verified without its flow');
    const { flow, session } = judged.for;
    if (stated instanceof ApiError) throw stated;
    const admin = flow.admin2HsaId ?? session.hsaId;
    const events = stated.map((event, i) => {
      const ownerFor = ownersFor[i] ?? null;
      return event.type === 'card-inserted' && ownerFor !== null
        ? { ...event, owner: ownerFor(admin) }
        : event;
    });
    return { flow, session, plan: { events, station: verified.station.id } };
  }

  /**
   * Checks a statement for this flow without accepting it (its sequence number stays where it was,
   * nothing is written): for checks that need the CA's own database access, which must not run
   * inside the flow's transaction (SQLite has one writer). The flow's transaction verifies it again.
   * The record of the bureau certificate the statement's body claims is read with the station.
   */
  private async preview(
    flowId: string,
    session: CurrentSession,
    signed: SignedStatement,
    kinds: readonly StatementKind[],
  ): Promise<Previewed> {
    const flow = await this.own(flowId, session);
    return this.previewWith(signed, kinds, pendingValue(undefined), () => ({ flow, session }));
  }

  /**
   * preview for a session not checked yet: the session and the flow are read with the station and
   * checked before anything the station says. Null when they do not let the request through as
   * read, or the statement is not even well formed (see agentEventReading).
   */
  private async previewReading(
    flowId: string,
    reading: SessionReading,
    signed: SignedStatement,
    kinds: readonly StatementKind[],
  ): Promise<Previewed | null> {
    return this.asRead(reading, flowId, (read, judge) =>
      this.previewWith(signed, kinds, read(this.db), judge),
    );
  }

  /** preview for a session checked already, or previewReading for one not checked yet. */
  private previewFor(
    flowId: string,
    caller: CurrentSession | SessionReading,
    signed: SignedStatement,
    kinds: readonly StatementKind[],
  ): Promise<Previewed | null> {
    return 'check' in caller
      ? this.previewReading(flowId, caller, signed, kinds)
      : this.preview(flowId, caller, signed, kinds);
  }

  /** The session and flow read with a request's first statements, if they let it through as read. */
  private judgeAsRead(
    reading: SessionReading,
    { session: stored, flow }: SessionWithFlow,
  ): { flow: StoredFlow & { state: FlowState }; session: CurrentSession } {
    const session = reading.check(stored);
    if (session === null || flow === null || flow.admin2HsaId !== session.hsaId) throw NOT_AS_READ;
    this.states.remember(flow.id, flow.version, flow.state);
    return { flow: flow as StoredFlow & { state: FlowState }, session };
  }

  /** preview, with `read` read beside the station and `judge` saying from it which flow and session. */
  private async previewWith<T>(
    signed: SignedStatement,
    kinds: readonly StatementKind[],
    read: Pending<T>,
    judge: (value: T) => { flow: StoredFlow & { state: FlowState }; session: CurrentSession },
  ): Promise<Previewed> {
    const judged: { for?: { flow: StoredFlow & { state: FlowState }; session: CurrentSession } } = {};
    const { verified, alongside } = await previewStatement<[T, BureauRecord | undefined]>(
      this.db,
      this.ca,
      signed,
      ([value]) => {
        judged.for = judge(value);
        return this.expected(judged.for.flow, kinds);
      },
      async (payload) => pendingAll(read, await cardRecordPending(this.ca, payload.body)),
    );
    if (judged.for === undefined) throw new Error('the statement was verified without its flow');
    return { ...judged.for, verified, record: alongside[1] };
  }

  /**
   * Handover (step 4): the card in reader 2 proves which card it is; the domain compares it with the
   * order. With `confirmed`, the request is also the recipient's BEKRÄFTA ÖVERLÄMNING, applied first
   * and stored in the same change (one request instead of two; the click does not move the nonce, so
   * the proof the station signed before it is the one it would sign after it).
   */
  handover(
    flowId: string,
    session: CurrentSession,
    proof: SignedStatement,
    confirmed?: boolean,
  ): Promise<FlowReply>;
  /** For a session not checked yet (see previewReading): null when it does not pass as read. */
  handover(
    flowId: string,
    reading: SessionReading,
    proof: SignedStatement,
    confirmed?: boolean,
  ): Promise<FlowReply | null>;
  async handover(
    flowId: string,
    caller: CurrentSession | SessionReading,
    proof: SignedStatement,
    confirmed = false,
  ): Promise<FlowReply | null> {
    const previewed = await this.previewFor(flowId, caller, proof, ['card-proof']);
    return previewed === null ? null : this.handoverPreviewed(previewed, proof, confirmed);
  }

  private async handoverPreviewed(
    { flow, session, verified, record }: Previewed,
    proof: SignedStatement,
    confirmed: boolean,
  ): Promise<FlowReply> {
    const body = verified.payload.body as {
      reader: 1 | 2;
      cardNumber: FlowOrder['cardNumber'];
      bureauCertificate: string;
      cardSignature: string;
    };
    const clicks: FlowEvent[] = [];
    if (confirmed) {
      // The click's own answer comes first: refused, nothing is kept and the proof stays unused; a
      // click that raises a code or ends the flow (a wrong card in reader 2) is kept alone, as it
      // would have been on its own, and the proof is not looked at.
      const click: FlowEvent = { type: 'handover-confirmed', at: this.now() };
      const clicked = applyFlowEvent(flow.state, click, this.config);
      if (!clicked.ok) throw new ApiError(clicked.error.code, clicked.error.details ?? {});
      if (clicked.value.raised.length > 0 || clicked.value.state.status !== 'active')
        return this.apply(flow.id, session, click, { recent: flow });
      clicks.push(click);
    }
    if (body.reader !== 2) throw new ApiError('CARD_NOT_PROVEN', { reason: 'reader' });
    await this.refusedOnFlow(
      flow,
      session,
      proof,
      ['card-proof'],
      () =>
        verifyCardProof(this.ca, body, {
          flowId: flow.id,
          nonce: flow.stationNonce,
          now: this.now(),
          record,
        }),
      clicks,
    );
    // Accepted only with the nonce checked above: the flow is written at the version read with it,
    // so a flow that moved on meanwhile refuses it.
    return this.run(
      flow.id,
      session,
      async (current, trx) => {
        await acceptVerifiedStatement(trx, verified, current, this.now());
        return {
          events: [...clicks, { type: 'handover-verified', cardNumber: body.cardNumber, at: this.now() }],
          station: verified.station.id,
          clicks: clicks.length,
        };
      },
      { read: flow },
    );
  }

  /**
   * Runs the checks of what a card says through a genuine station statement. When they refuse the
   * card (CARD_NOT_PROVEN) or its keys (KEYS_NOT_ON_CARD), the refusal is recorded on the flow as a
   * fault, taking the statement, before it is answered: the code is on the timeline and in a support
   * case, and the flow offers a restart rather than wait for a proof that cannot come.
   */
  private async refusedOnFlow(
    flow: StoredFlow & { state: FlowState },
    session: CurrentSession,
    signed: SignedStatement,
    kinds: readonly StatementKind[],
    check: () => Promise<void>,
    /** The person's clicks sent with the statement: recorded before the refusal. */
    clicks: readonly FlowEvent[] = [],
  ): Promise<void> {
    try {
      await check();
    } catch (error) {
      if (
        !(error instanceof ApiError) ||
        (error.code !== 'CARD_NOT_PROVEN' && error.code !== 'KEYS_NOT_ON_CARD')
      )
        throw error;
      const code = error.code;
      const reason = String(error.details.reason ?? code);
      // Best effort: a flow that moved on meanwhile keeps its state, and the refusal is still answered.
      await this.run(flow.id, session, async (current, trx) => {
        if (current.version !== flow.version) throw flowChanged();
        const verified = await this.verify(trx, current, signed, kinds);
        return {
          events: [...clicks, { type: 'card-refused', code, reason, at: this.now() }],
          station: verified.station.id,
          clicks: clicks.length,
        };
      }).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Keys generated (step 6): the station and the reserve card both vouch for the two new public
   * keys; they are recorded with the flow, and only CSRs for them are certified.
   */
  keysGenerated(flowId: string, session: CurrentSession, signed: SignedStatement): Promise<FlowReply>;
  /** For a session not checked yet (see previewReading): null when it does not pass as read. */
  keysGenerated(flowId: string, reading: SessionReading, signed: SignedStatement): Promise<FlowReply | null>;
  async keysGenerated(
    flowId: string,
    caller: CurrentSession | SessionReading,
    signed: SignedStatement,
  ): Promise<FlowReply | null> {
    const previewed = await this.previewFor(flowId, caller, signed, ['keys-generated']);
    return previewed === null ? null : this.keysPreviewed(previewed, signed);
  }

  private async keysPreviewed(
    { flow, session, verified, record }: Previewed,
    signed: SignedStatement,
  ): Promise<FlowReply> {
    const body = verified.payload.body as Parameters<typeof verifyCardKeys>[1];
    const order = flow.state.order;
    if (order === null) throw new ApiError('EVENT_OUT_OF_ORDER', { reason: 'no order' });
    await this.refusedOnFlow(flow, session, signed, ['keys-generated'], async () => {
      await verifyCardKeys(this.ca, body, {
        flowId: flow.id,
        nonce: flow.stationNonce,
        now: this.now(),
        record,
      });
      if (body.cardNumber !== order.cardNumber)
        throw new ApiError('CARD_NOT_PROVEN', { reason: 'not the order’s card' });
    });
    return this.run(
      flow.id,
      session,
      async (current, trx) => {
        await acceptVerifiedStatement(trx, verified, current, this.now());
        return {
          events: [{ type: 'keys-generated', at: this.now() }],
          station: verified.station.id,
          cardKeys: { auth: body.keys.auth.spki, sign: body.keys.sign.spki },
        };
      },
      { read: flow },
    );
  }

  /**
   * SIGNERA (step 3): the station's readers now. A login card that left its reader, or came back
   * (its insertion counter moved), is applied to the flow first, so the domain refuses the signature.
   */
  sign(
    flowId: string,
    session: CurrentSession,
    readers: SignedStatement,
    signed: Extract<FlowEvent, { type: 'signed' }>,
    recent?: StoredFlow & { state: FlowState },
  ): Promise<FlowReply> {
    return this.run(
      flowId,
      session,
      async (flow, trx) => {
        const verified = await this.verify(trx, flow, readers, ['readers']);
        const facts = (verified.payload.body as { readers: { 1: ReaderFact; 2: ReaderFact } }).readers;
        const login = flow.state.login;
        const events: FlowEvent[] = [];
        if (login !== null) {
          const fact = facts[login.reader];
          const card = fact.card;
          const same =
            card !== null &&
            card.cardNumber === login.cardNumber &&
            flow.loginInsertions !== null &&
            card.insertions === flow.loginInsertions;
          if (!same) {
            const at = this.now();
            if (!fact.connected) events.push({ type: 'reader-unplugged', reader: login.reader, at });
            else {
              events.push({ type: 'card-removed', reader: login.reader, at });
              if (card !== null)
                events.push({ type: 'card-inserted', reader: login.reader, cardNumber: card.cardNumber, at });
            }
          }
        }
        return { events: [...events, signed], station: verified.station.id };
      },
      recent === undefined ? {} : { recent },
    );
  }

  /** Step 2: the query classified, the person looked up, the diagnosis recorded on the flow. */
  async search(flowId: string, session: CurrentSession, query: string) {
    const now = this.now();
    const classified = classifySearchQuery(query, dateOf(now));
    // The person the query names and the administrator's grants: one round trip on PostgreSQL.
    const [match, admin] = await runPending(
      this.db,
      pendingAll(
        classified.kind === 'personal-number' || classified.kind === 'hsa-id'
          ? lookUpPending(this.db, classified.kind, classified.normalised)
          : pendingValue(null),
        getAdminPending(this.db, session.hsaId),
      ),
    );
    const ctx = {
      tree: await this.directory.organisation(now),
      admin: asIdAdmin(admin),
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
    const searched: FlowEvent = {
      type: 'searched',
      queryKind: classified.kind,
      hit,
      codes: outcome.codes,
      at: now,
    };
    // The order a miss explained (OWN_ORDER, a used order...) is named on the timeline, so a
    // support case can say whose order and which card it was; never past the access gate.
    const explained = outcome.kind === 'not-found' ? explainedOrder(match, ctx) : null;
    const details = explained === null ? undefined : { [EXPLAINED_ORDER]: explained.id };
    const applied = await this.run(flowId, session, () => ({
      events: [searched],
      ...(details === undefined ? {} : { details }),
    }));
    // What the reviewer sees at step 3 (Granskning av valt underlag); nothing for a miss.
    const review =
      outcome.kind === 'found'
        ? {
            orderId: outcome.order.id,
            cardNumber: outcome.order.cardNumber,
            name: `${outcome.person.givenName} ${outcome.person.surname}`,
            hsaId: outcome.person.hsaId,
            organisation: match?.branchName ?? '',
            validity: outcome.order.validity,
            idDocument: outcome.order.idDocument,
            normalisedQuery: classified.kind === 'personal-number' ? classified.normalised : null,
          }
        : null;
    return { ...applied, review };
  }

  /**
   * Step 6, exactly once (Boulder's order: intent, issue, bind). The flow's claim and the intent for
   * each certificate are committed in one transaction before anything is signed; a parallel or
   * repeated request fails there on the flow's version or the intents' unique key and issues
   * nothing. Each certificate is recorded under its intent, then the serials are bound to the flow.
   * Whatever is issued and not bound is revoked here, or by the reconciler after a crash.
   */
  async issueCertificates(flowId: string, session: CurrentSession, csrs: { auth: string; sign: string }) {
    const flow = await this.own(flowId, session);
    const order = flow.state.order;
    if (order === null) throw new ApiError('EVENT_OUT_OF_ORDER', { reason: 'no order' });
    // Ask the machine first, so a flow that cannot claim its issuance now records nothing.
    const dryRun = applyFlowEvent(flow.state, { type: 'issuance-claimed', at: this.now() }, this.config);
    if (!dryRun.ok) throw new ApiError(dryRun.error.code, dryRun.error.details ?? {});
    // Both requests are checked before the claim: a bad one costs the flow nothing.
    // Keys of exactly the LoA3 CA's card key type: the type the page asked the agent for.
    const keyType = this.cardKeyType();
    const [authCsr, signCsr] = await Promise.all([
      checkCsr(csrs.auth, keyType),
      checkCsr(csrs.sign, keyType),
    ]);
    if (sameKey(authCsr.spki, signCsr.spki)) throw new ApiError('CSR_SAME_KEY');
    // Only the keys the card vouched for in this flow: a key made anywhere else is not certified.
    const keys = flow.cardKeys;
    if (keys === null) throw new ApiError('KEYS_NOT_ON_CARD', { reason: 'no keys' });
    for (const [purpose, csr] of [
      ['auth', authCsr],
      ['sign', signCsr],
    ] as const) {
      if (Buffer.from(csr.spki).toString('base64') !== keys[purpose])
        throw new ApiError('KEYS_NOT_ON_CARD', { reason: purpose });
    }
    const [stored, person] = await runPending(
      this.db,
      pendingAll(
        getOrderPending(this.db, order.orderId),
        getPersonByHsaIdPending(this.db, order.recipientHsaId),
      ),
    );
    if (stored === null || person === null) throw new ApiError('NOT_FOUND', { what: 'order' });
    const place = await this.directory.placeOf(person.branchId, this.now());
    const common = {
      caId: 'loa3' as const,
      holder: {
        hsaId: person.hsaId,
        givenName: person.givenName,
        surname: person.surname,
        ...place,
        upn: person.upn ?? null,
        email: person.email ?? null,
      },
      cardNumber: stored.cardNumber,
      validity: stored.validity,
      orderId: stored.id,
      actor: session.hsaId,
    };
    const intents: Record<IssuancePurpose, string> = { 'card-auth': newId(), 'card-sign': newId() };
    await this.claim(flowId, session, intents, flow);

    // Signed here, recorded below in the binding's transaction: certificates the flow does not
    // hold are never recorded, and bytes never recorded were never handed to anyone.
    let signed: SignedCard[];
    try {
      signed = await Promise.all(
        (
          [
            ['card-auth', csrs.auth, authCsr],
            ['card-sign', csrs.sign, signCsr],
          ] as const
        ).map(([purpose, csr, checked]) =>
          this.ca.signCard({ ...common, profile: purpose, csr, intentId: intents[purpose] }, checked),
        ),
      );
    } catch (error) {
      await this.abandonClaim(flowId, Object.values(intents), 'issuance-failed');
      throw error;
    }
    const [auth, sign] = signed;
    if (auth === undefined || sign === undefined) throw new Error('two certificates were signed');
    let applied: FlowReply;
    try {
      applied = await this.bind(flowId, session, signed);
    } catch (error) {
      await this.abandonClaim(flowId, Object.values(intents), 'binding-failed');
      throw error;
    }
    return {
      ...applied,
      certificates: {
        auth: Buffer.from(auth.certificate.rawData).toString('base64'),
        sign: Buffer.from(sign.certificate.rawData).toString('base64'),
      },
    };
  }

  /** The claim and its intents, in the transaction that moves the flow's version. */
  private async claim(
    flowId: string,
    session: CurrentSession,
    intents: Record<IssuancePurpose, string>,
    recent: StoredFlow & { state: FlowState },
  ): Promise<void> {
    try {
      await this.apply(
        flowId,
        session,
        { type: 'issuance-claimed', at: this.now() },
        {
          recent,
          // The intents go out with the flow's change (one round trip on PostgreSQL).
          also: async (trx, transition) => {
            const attempt = transition.state.issuance?.attempt ?? 1;
            return [
              insertIntentsQuery(
                trx,
                (Object.entries(intents) as [IssuancePurpose, string][]).map(([purpose, id]) => ({
                  id,
                  flowId,
                  attempt,
                  purpose,
                  createdAt: this.now(),
                })),
              ),
            ];
          },
        },
      );
    } catch (error) {
      // Lost the race: the other request's claim, or its intents' unique key, came first.
      if (error instanceof StoreError && error.code === 'CONFLICT')
        throw new ApiError('CERTIFICATES_ALREADY_REQUESTED');
      if (isFlowChanged(error) && (await this.load(flowId)).state.issuance != null)
        throw new ApiError('CERTIFICATES_ALREADY_REQUESTED');
      throw error;
    }
  }

  /**
   * Records the certificates under their intents, binds them, and moves the flow, in one
   * transaction. A tick or a card event that moved the flow's version meanwhile is no reason to
   * give up: read it again and retry.
   */
  private async bind(
    flowId: string,
    session: CurrentSession,
    signed: readonly SignedCard[],
  ): Promise<FlowReply> {
    for (let attempt = 1; ; attempt++) {
      const at = this.now();
      try {
        return await this.apply(
          flowId,
          session,
          { type: 'certificates-issued', serials: signed.map((c) => c.serial), at },
          {
            also: async (trx) => {
              const bound = signed.map((card) => {
                const { certificate, entry } = this.ca.cardRecord(card);
                const intentId = certificate.intentId;
                if (intentId == null) throw new Error('a card certificate is issued under an intent');
                return { certificate: { ...certificate, intentId }, entry, boundAt: at };
              });
              // A closed or bound intent refuses the record (the reconciler gave up on this claim
              // meanwhile, or a parallel request bound it).
              await recordBoundCertificates(trx, bound).catch((error: unknown) => {
                if (error instanceof StoreError && error.code === 'CONFLICT')
                  throw new ApiError('DOWNLOAD_FAILED', { reason: 'issuance-interrupted' });
                throw error;
              });
              return [];
            },
          },
        );
      } catch (error) {
        if (!isFlowChanged(error) || attempt >= 5) throw error;
      }
    }
  }

  /**
   * A claim that will not be bound: the flow ends with DOWNLOAD_FAILED (restart offered) if it still
   * waits on the claim, and whatever was issued under it is revoked. The reconciler repeats it after
   * a crash, so a failure here is only logged by the caller's error.
   */
  private async abandonClaim(flowId: string, intentIds: readonly string[], reason: string): Promise<void> {
    await this.failWaitingClaim(flowId, reason, null).catch(() => false);
    await this.retireIntents(flowId, intentIds, 'issuance').catch(() => 0);
  }

  /**
   * Ends a flow that still waits for the certificates of its claim (claimed, nothing bound, no
   * fault) with DOWNLOAD_FAILED; false if it does not wait (any more).
   */
  async failWaitingClaim(flowId: string, reason: string, actor: string | null): Promise<boolean> {
    if (!waitsOnClaim(await this.load(flowId))) return false;
    await this.apply(
      flowId,
      null,
      { type: 'download-failed', reason, at: this.now() },
      actor === null ? {} : { actor },
    );
    return true;
  }

  /**
   * Closes intents (no certificate can be recorded under them any more) and revokes what was issued
   * under them; idempotent. Returns the serials revoked now.
   */
  async retireIntents(flowId: string, intentIds: readonly string[], actor: string): Promise<string[]> {
    const revoked: string[] = [];
    for (const intentId of intentIds) {
      // Closing and reading in one transaction: a certificate committing meanwhile is either seen
      // here or refused (its transaction writes the same intent row).
      const certificates = await this.db.transaction().execute(async (trx) => {
        await closeIntent(trx, intentId, this.now());
        return listCertificatesOfIntent(trx, intentId);
      });
      for (const certificate of certificates) {
        if (certificate.revocation !== null) continue;
        await this.ca.revoke(certificate.serial, 'cessationOfOperation', actor).then(
          () => revoked.push(certificate.serial),
          (error: { code?: string }) => {
            if (error.code !== 'ALREADY_REVOKED') throw error;
          },
        );
      }
      await settleIntent(this.db, intentId, 'revoked', this.now());
    }
    if (revoked.length > 0) {
      await appendAudit(this.db, {
        at: this.now(),
        actor,
        action: 'issuance.unbound-revoked',
        subject: flowId,
        details: { serials: revoked.join(',') },
      });
    }
    return revoked;
  }

  /** Settles the intents of a completed flow whose certificates it holds: nothing more to watch. */
  async keepIntents(intents: readonly StoredIssuanceIntent[]): Promise<void> {
    for (const intent of intents) {
      await this.db.transaction().execute(async (trx) => {
        await closeIntent(trx, intent.id, this.now());
        await settleIntent(trx, intent.id, 'kept', this.now());
      });
    }
  }

  /**
   * Cancels (makulerar) an order. Every flow running on it is aborted in the same transaction, with
   * its clean-up (certificates revoked, card clean offered), instead of being left at its step.
   */
  async cancelOrder(orderId: string, actor: HsaId): Promise<Order> {
    for (let attempt = 1; ; attempt++) {
      const order = await getOrder(this.db, orderId);
      if (order === null) throw new ApiError('NOT_FOUND', { what: 'order' });
      const now = this.now();
      const next = transitionOrder(order, { type: 'cancel', at: now });
      if (!next.ok) throw new ApiError(next.error.code, next.error.details ?? {});
      const running = (await listFlowsForOrder(this.db, orderId)).filter((f) => f.status === 'active');
      const event: FlowEvent = { type: 'aborted', reason: 'order-cancelled', at: now };
      const aborts = running.map((flow) => {
        const result = applyFlowEvent(flow.state as FlowState, event, this.config);
        if (!result.ok) throw new ApiError(result.error.code, result.error.details ?? {});
        return { flow: flow as StoredFlow & { state: FlowState }, transition: result.value };
      });
      try {
        await this.db.transaction().execute(async (trx) => {
          for (const { flow, transition } of aborts) {
            await this.commit(trx, flow, [{ event, transition }], { session: null, actor });
          }
          const changed = await updateOrderState(trx, {
            id: order.id,
            expectedVersion: order.version,
            state: next.value.state,
            stateChangedAt: now,
          });
          if (!changed) throw flowChanged();
          await appendAudit(trx, {
            at: now,
            actor,
            action: 'order.cancelled',
            subject: order.id,
            details: { flows: aborts.map((a) => a.flow.id).join(',') },
          });
        });
      } catch (error) {
        // A flow or the order moved meanwhile: look again (a completed order then refuses the cancel).
        if (isFlowChanged(error) && attempt < 5) continue;
        throw error;
      }
      for (const { flow, transition } of aborts) this.observe(flow, flow.state.status, [{ transition }]);
      for (const { flow } of aborts) await this.settle(flow.id).catch(() => undefined);
      return next.value;
    }
  }

  /**
   * Runs one event through the domain machine and stores the result in one transaction with the
   * order's change; a concurrent change (another server, another admin) makes it fail cleanly.
   */
  apply(
    flowId: string,
    session: CurrentSession | null,
    event: FlowEvent,
    options: ApplyOptions = {},
  ): Promise<FlowReply> {
    return this.run(flowId, session, () => ({ events: [event] }), options);
  }

  /**
   * Runs the events a plan decides (inside the transaction) through the domain machine, one after
   * the other, and stores the result once: the flow's version, the order's changes, the audit, and
   * with a station's statement its raised sequence number and the flow's next nonce.
   */
  private async run(
    flowId: string,
    session: CurrentSession | null,
    planner: Planner,
    options: ApplyOptions = {},
  ): Promise<FlowReply> {
    if (options.recent !== undefined) {
      const { recent, ...rest } = options;
      try {
        return await this.run(flowId, session, planner, { ...rest, read: recent });
      } catch (error) {
        // Everything the attempt wrote rolled back with it. A flow that moved on since it was read
        // is read again and the request runs on it; otherwise the refusal stands.
        const current = await this.load(flowId).catch(() => null);
        if (current === null || current.version === recent.version) throw error;
        return this.run(flowId, session, planner, rest);
      }
    }
    const flow =
      options.read ?? (session === null ? await this.load(flowId) : await this.own(flowId, session));
    return this.runReading(async (trx) => ({ flow, session, plan: await planner(flow, trx) }), options);
  }

  /**
   * `run`, for a flow and session read by the plan itself, in the transaction: what `first` reads
   * and decides, applied and stored as `run` does.
   */
  private async runReading(
    first: (trx: Transaction<Database>) => Promise<{
      readonly flow: StoredFlow & { state: FlowState };
      readonly session: CurrentSession | null;
      readonly plan: Plan;
    }>,
    options: Omit<ApplyOptions, 'recent' | 'read'> = {},
  ): Promise<FlowReply> {
    const { flow, steps, pending, nonce, offer } = await this.db.transaction().execute(async (trx) => {
      const { flow, session, plan } = await first(trx);
      const steps: AppliedStep[] = [];
      let state = flow.state;
      for (const [i, event] of plan.events.entries()) {
        const result = applyFlowEvent(state, event, this.config);
        if (!result.ok) throw new ApiError(result.error.code, result.error.details ?? {});
        const last = plan.details !== undefined && event === plan.events.at(-1);
        const station = i < (plan.clicks ?? 0) ? undefined : plan.station;
        const transition = withDetails(byStation(result.value, station), last ? plan.details : undefined);
        steps.push({ event, transition, station });
        state = transition.state;
      }
      const last = steps.at(-1);
      if (last === undefined) throw new Error('a plan has at least one event');
      // The extra writes first (here, or the first statements sent with the change): the flow's own
      // write takes the audit log's lock, held to the commit.
      const also = options.also === undefined ? [] : await options.also(trx, last.transition);
      const purpose = session === null ? null : signatureReached(flow.state, last.transition.state);
      const signing = purpose === null ? undefined : this.signingOffer(last.transition.state, purpose);
      // Every accepted statement moves the nonce on: the same statement cannot be used twice.
      const nonce = plan.station === undefined ? flow.stationNonce : newStationNonce();
      const stored = await this.commit(
        trx,
        flow,
        steps,
        { session, actor: options.actor ?? session?.hsaId ?? 'system' },
        {
          ...(plan.station === undefined ? {} : { stationNonce: nonce }),
          ...(plan.cardKeys === undefined ? {} : { cardKeys: plan.cardKeys }),
        },
        // The transaction's last work: nothing below writes. The challenge goes out with the change.
        {
          last: true,
          before: signing === undefined ? also : [...also, insertChallengeQuery(trx, signing.challenge)],
        },
      );
      return { flow, steps, pending: stored, nonce, offer: signing?.offer };
    });
    // Committed: the flow is now at the next version, with this state.
    this.states.remember(flow.id, flow.version + 1, steps.at(-1)?.transition.state ?? flow.state);
    this.observe(flow, flow.state.status, steps);
    // The change is committed and its revocations stored: if carrying them out fails now, the
    // sweeper retries; the caller's action still succeeded.
    if (pending.length > 0) await this.settle(flow.id).catch(() => undefined);
    const last = steps.at(-1)?.transition;
    return {
      view: viewOf(last?.state ?? flow.state, this.now()),
      raised: steps.flatMap((step) => step.transition.raised.map((e) => e.code)),
      cardEffects: steps.flatMap((step) => step.transition.effects.filter((e) => e.type === 'clean-card')),
      stationNonce: nonce,
      cardKeyType: this.cardKeyType(),
      ...(offer === undefined ? {} : { signingChallenge: offer }),
    };
  }

  /**
   * What the card must sign for SIGNERA (`order`) or KVITTERA KORT (`acknowledge`) on this flow as
   * it is: its id, order and card, with a fresh nonce; stored for one use within SIGNING_TTL_MS.
   */
  async signingChallenge(
    db: Kysely<Database>,
    state: FlowState,
    purpose: SigningPurpose,
  ): Promise<SigningChallengeOffer> {
    const { offer, challenge } = this.signingOffer(state, purpose);
    await insertChallenge(db, challenge);
    return offer;
  }

  /** signingChallenge's offer and the challenge row it stores, for the caller to store. */
  private signingOffer(
    state: FlowState,
    purpose: SigningPurpose,
  ): { readonly offer: SigningChallengeOffer; readonly challenge: NewLoginChallenge } {
    const now = this.now();
    const toBeSigned = statement({
      purpose,
      flowId: state.flowId,
      orderId: state.order?.orderId ?? null,
      cardNumber: state.order?.cardNumber ?? null,
      nonce: randomBytes(16).toString('hex'),
    });
    const challenge = newChallenge(toBeSigned, now, SIGNING_TTL_MS);
    return {
      offer: { purpose, challengeId: challenge.id, toBeSigned, expiresAt: challenge.expiresAt },
      challenge,
    };
  }

  /** Stores the transitions of a flow read at `flow.version`; returns the revocations it now owes. */
  private async commit(
    trx: Transaction<Database>,
    flow: StoredFlow & { state: FlowState },
    steps: readonly AppliedStep[],
    by: { readonly session: CurrentSession | null; readonly actor: string },
    extra: { readonly stationNonce?: string; readonly cardKeys?: FlowCardKeys } = {},
    /**
     * `last`: the caller writes nothing more in the transaction, which may then commit here.
     * `before`: writes to make first, sent with the change where they can be.
     */
    options: { readonly last?: boolean; readonly before?: readonly CompiledQuery[] } = {},
  ): Promise<PendingEffect[]> {
    const before = options.before ?? [];
    const final = steps.at(-1)?.transition.state ?? flow.state;
    const pending = [
      ...(flow.pendingEffects as PendingEffect[]),
      ...steps.flatMap((step) =>
        step.transition.effects.filter((e): e is PendingEffect => e.type === 'revoke-certificates'),
      ),
    ];
    const at = steps.at(-1)?.event.at ?? this.now();
    const change = {
      id: flow.id,
      expectedVersion: flow.version,
      status: final.status,
      step: final.step,
      state: final,
      deadline: final.status === 'active' ? final.deadline : null,
      pendingEffects: pending,
      orderId: final.order?.orderId ?? null,
      updatedAt: at,
      previous: flow,
      ...extra,
    };
    const entryOf = ({ event, transition, station }: AppliedStep): NewAuditEntry | null =>
      transition.entry === null
        ? null
        : {
            at: event.at,
            actor: by.actor,
            action: `flow.${event.type}`,
            subject: flow.id,
            details: {
              step: transition.entry.step,
              codes: transition.entry.codes,
              status: transition.state.status,
              ...(station === undefined ? {} : { station }),
            },
          };
    // The usual request: no order to change. Its steps' entries are written with the flow's update
    // (one round trip on PostgreSQL); otherwise each step's order changes come before its entry.
    const entries = steps.some((step) => changesOrder(step.transition))
      ? []
      : steps.flatMap((step) => entryOf(step) ?? []);
    // Acknowledged: the certificates are the holder's for good, their intents need no more watching.
    const completes = final.status === 'completed' && flow.state.status !== 'completed';
    const session = by.session;
    const loginCardRemoved =
      session !== null && final.loginCardRemovedAt !== null && flow.state.loginCardRemovedAt === null;
    if (entries.length > 0) {
      // With nothing written after it, the COMMIT goes out with the flow's update (PostgreSQL).
      const last = options.last === true && !completes && !loginCardRemoved;
      if ((await updateFlowAndAuditEach(trx, change, entries, { last, before })) === null)
        throw flowChanged();
    } else {
      // The orders the steps move are read with the flow's update (one round trip on PostgreSQL).
      const orderIds = steps.flatMap((step) =>
        step.transition.effects.flatMap((effect) => (isOrderEffect(effect) ? [effect.orderId] : [])),
      );
      const { updated, alongside: orders } = await updateFlowWith(
        trx,
        change,
        pendingAll(...orderIds.map((id) => getOrderPending(trx, id))),
        before,
      );
      if (!updated) throw flowChanged();
      // Each order as read serves its first effect; a later effect on it reads what that one wrote.
      const read = new Map<string, StoredOrder | null>();
      orderIds.forEach((id, i) => {
        if (!read.has(id)) read.set(id, orders[i] ?? null);
      });
      // Each step's last order write goes out with its entry; the last step's with the intents kept.
      for (const [i, step] of steps.entries()) {
        const unsent = await this.applyOrderEffects(trx, step.transition, step.event.at, read);
        const closing =
          completes && i === steps.length - 1
            ? keepIntentsOfFlowPending(trx, flow.id, final.issuedSerials, at)
            : pendingValue(0);
        const stepEntry = entryOf(step);
        const writes = pendingAll(unsent, closing);
        if (stepEntry === null) await runPending(trx, writes);
        else await appendAuditWith(trx, stepEntry, writes);
      }
    }
    if (completes && entries.length > 0) await keepIntentsOfFlow(trx, flow.id, final.issuedSerials, at);
    if (session !== null && loginCardRemoved) {
      await markLoginCardRemoved(trx, session.id, final.loginCardRemovedAt);
    }
    return pending;
  }

  /**
   * Moves the orders the transition's effects name. The last move is not sent but given back, to go
   * out with what the caller writes next (its answer refuses a conflict then); a completed order's
   * move goes out with the read of its card in stock.
   */
  private async applyOrderEffects(
    trx: Transaction<Database>,
    transition: FlowTransition,
    at: number,
    read: Map<string, StoredOrder | null> = new Map(),
  ): Promise<Pending<void>> {
    let unsent: Pending<void> = pendingValue(undefined);
    for (const effect of transition.effects) {
      if (!isOrderEffect(effect)) continue;
      await runPending(trx, unsent);
      unsent = pendingValue(undefined);
      const known = read.has(effect.orderId);
      const order = known ? (read.get(effect.orderId) ?? null) : await getOrder(trx, effect.orderId);
      read.delete(effect.orderId);
      if (order === null) throw new ApiError('NOT_FOUND', { what: 'order' });
      // An order cancelled (or otherwise closed) under its flow has nothing to release: the flow
      // still ends. Flows stored before a cancel aborted them need this to time out at all.
      if (effect.type === 'release-order' && orderStateAt(order, at) !== 'in_progress') continue;
      const type =
        effect.type === 'start-order' ? 'start' : effect.type === 'complete-order' ? 'complete' : 'release';
      const next = transitionOrder(order, { type, at });
      if (!next.ok) {
        // KVITTERA on an order cancelled meanwhile says so, not just "conflict".
        const closed = type === 'complete' ? closedOrderCode(orderStateAt(order, at)) : null;
        throw new ApiError(closed ?? next.error.code, next.error.details ?? {});
      }
      const update = updateOrderStatePending(trx, {
        id: order.id,
        expectedVersion: order.version,
        state: next.value.state,
        stateChangedAt: at,
      });
      const moved: Pending<void> = {
        queries: update.queries,
        answer: (results) => {
          // Two admins signing the same order at once: the order's version lets exactly one through.
          if (!update.answer(results))
            throw new ApiError('ORDER_STATE_CONFLICT', { state: 'order changed meanwhile' });
        },
      };
      if (type !== 'complete') {
        unsent = moved;
        continue;
      }
      const [, card] = await runPending(trx, pendingAll(moved, getStockCardPending(trx, order.cardNumber)));
      await this.issueStockCard(trx, order, at, card);
    }
    return unsent;
  }

  /**
   * The acknowledged card leaves its station's stock as issued to the holder, in the transaction
   * that ends the flow. An order registered before card stock existed has no card in stock: nothing
   * to record then.
   */
  private async issueStockCard(
    trx: Transaction<Database>,
    order: StoredOrder,
    at: number,
    card: StoredStockCard | null,
  ): Promise<void> {
    if (card === null) return;
    const issued = transitionStockCard(card, { type: 'issue', at, holder: order.recipient.hsaId });
    if (!issued.ok) throw new ApiError(issued.error.code, issued.error.details ?? {});
    if (!(await moveStockCard(trx, { card: issued.value, expectedVersion: card.version })))
      throw new ApiError('CARD_STOCK_CONFLICT', {
        cardNumber: card.cardNumber,
        state: 'changed meanwhile',
        event: 'issue',
      });
    await appendAudit(trx, {
      at,
      actor: 'issuance',
      action: 'stock.card-issued',
      subject: card.cardNumber,
      details: { station: card.stationId, order: order.id },
    });
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
      previous: flow,
    });
  }
}
