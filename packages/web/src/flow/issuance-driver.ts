// Steps 1–7 as the page drives them between the card agent and the server. Every rule is the
// server's (the domain machine); the page reports clicks, carries the card station's signed
// statements of what it sees (the page asserts no fact of readers, cards or keys), and carries out
// the card work the server asks for. Requests on one flow go one at a time, in order: each answer
// names the nonce the station's next statement must carry.
import {
  type CardKeyType,
  type CardNumber,
  classifySearchQuery,
  DEFAULT_CARD_KEY_TYPE,
  dateOf,
  type ErrorCode,
  type FlowAnswer,
  type FlowEffect,
  type FlowView,
  isErrorCode,
  MAX_STATEMENT_EVENTS,
  type SignedStatement,
} from '@reservkort/domain';
import {
  type AgentEvent,
  AgentFailure,
  type AgentOperation,
  type FlowAgentEvent,
} from '../api/agent-client.js';
import { ApiFailure, answer, client } from '../api/server-client.js';
import type {
  CertificatesAnswer,
  FlowReservation,
  Review,
  SearchAnswer,
  SigningChallenge,
  SigningChallengeOffer,
  SigningPurpose,
  SupportCasePreview,
  SupportCaseShown,
} from '../api/views.js';
import { agentFailureOf } from './portal-session.js';
import { type KeptOffer, keptOffer, usableOffer } from './signing-offer.js';
import type { Workstation } from './workstation.js';

/** An error to show: a catalogue code with its details (texts come from the catalogue). */
export interface PageError {
  readonly code: ErrorCode | 'AGENT_UNREACHABLE';
  readonly details: Readonly<Record<string, string | number | boolean>>;
}

export const pageErrorOf = (error: unknown): PageError => {
  if (error instanceof ApiFailure) return { code: error.code, details: error.body.details ?? {} };
  if (error instanceof AgentFailure) {
    if (error.code === 'AGENT_UNREACHABLE') return { code: 'AGENT_UNREACHABLE', details: {} };
    return { code: isErrorCode(error.code) ? error.code : 'CARD_ERROR', details: error.body?.details ?? {} };
  }
  return { code: 'CARD_ERROR', details: { reason: 'page' } };
};

export type Busy =
  | 'start'
  | 'search'
  | 'select'
  | 'sign'
  | 'handover'
  | 'terms'
  | 'download'
  | 'acknowledge'
  | 'restart';

/** Where step 6 is, as far as the page knows (the server's view says the rest). */
export type LocalPhase = 'issuing' | 'writing' | null;

const TICK_MS = 2000;
const POLL_STEP7_MS = 1000;
/** How long the page waits for an event of the agent's log to reach it (server-sent) after the operation ended. */
const EVENT_WAIT_MS = 3000;
/** How long a reloaded page waits for a certificate request it had sent to be answered (bound or given up). */
const ISSUING_WAIT_MS = 15_000;
/**
 * How long BEKRÄFTA ÖVERLÄMNING waits for the agent's proof of the card before the click goes to the
 * server alone: the flow's clock for a stuck handover (HANDOVER_STUCK) starts at the click.
 */
const PROOF_WAIT_MS = 2000;

/** The clicks the actions route takes without more to say (the terms carry their answer). */
type Click = 'manage-orders' | 'order-selected' | 'handover-confirmed' | 'download-requested';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Refusals of a station statement as such: each of its events on its own would be refused alike. */
const REFUSES_STATEMENT: ReadonlySet<string> = new Set([
  'STATEMENT_INVALID',
  'STATION_NOT_REGISTERED',
  'STATION_REVOKED',
]);

/** An event of the agent's log waiting for its relay, whether the flow still wants it then, and its caller. */
interface RelayEntry {
  readonly seq: number;
  readonly wanted: () => boolean;
  readonly resolve: (answer: FlowAnswer | null) => void;
  readonly reject: (error: unknown) => void;
}

/** Relays queued together: sent as one statement when their turn comes (see relay). */
interface RelayBatch {
  readonly entries: RelayEntry[];
  started: boolean;
}

/** A signature a reloaded page carries on with: the agent's operation and the challenge it signs. */
interface Resumed {
  readonly challenge: SigningChallenge;
  readonly operation: AgentOperation;
}

/** The challenge of the signature under way, kept for the tab (a reload carries the signature on). */
const CHALLENGE_KEY = 'reservkort.challenge';

interface KeptChallenge {
  readonly flowId: string;
  readonly purpose: 'order' | 'acknowledge';
  readonly challenge: SigningChallenge;
}

const keepChallenge = (kept: KeptChallenge | null): void => {
  try {
    if (kept === null) sessionStorage.removeItem(CHALLENGE_KEY);
    else sessionStorage.setItem(CHALLENGE_KEY, JSON.stringify(kept));
  } catch {
    // No storage (a private window may refuse it): a reload then asks for a new signature.
  }
};

const keptChallenge = (): KeptChallenge | null => {
  try {
    const saved = sessionStorage.getItem(CHALLENGE_KEY);
    return saved === null ? null : (JSON.parse(saved) as KeptChallenge);
  } catch {
    return null;
  }
};

/**
 * Whether the flow already took this event of the agent's log: a reloaded page relays only what the
 * flow lacks, so nothing is told to the server twice.
 */
const tookEvent = (view: FlowView, event: FlowAgentEvent): boolean => {
  const download = view.download;
  switch (event.type) {
    case 'key-generation-started':
      return view.step >= 6;
    case 'dialog-shown':
      return download !== null && event.dialog !== undefined && download.dialogs[event.dialog] !== 'waiting';
    case 'dialog-completed':
      return (
        download !== null && event.dialog !== undefined && download.dialogs[event.dialog] === 'completed'
      );
    case 'keys-generated':
      return download !== null && download.phase !== 'key-generation';
    case 'certificates-written':
      return view.step === 7;
    case 'dialog-cancelled':
    case 'dialog-not-shown':
    case 'download-failed':
      return view.fault !== null;
  }
};

export class IssuanceDriver {
  flow: FlowAnswer | null = null;
  review: Review | null = null;
  busy: Busy | null = null;
  error: PageError | null = null;
  localPhase: LocalPhase = null;
  /** The last search's query as the server normalised it, and its codes. */
  lastSearch: { readonly query: string; readonly codes: readonly ErrorCode[] } | null = null;
  /** The server's nonce for the station's next statement on this flow. */
  stationNonce: string | null = null;
  /** The key type the server wants generated on the card (every flow answer names it). */
  cardKeyType: CardKeyType = DEFAULT_CARD_KEY_TYPE;
  private queue: Promise<unknown> = Promise.resolve();
  /** The relay batch queued last, while nothing else has been queued after it. */
  private openRelay: RelayBatch | null = null;
  /** The agent refused a statement of several events: it signs one event per statement. */
  private agentSignsOneEvent = false;
  /** This flow's events of the agent's log as they arrived, by their seq there. */
  private flowLog: { readonly seq: number; readonly event: FlowAgentEvent }[] = [];
  /** Whether this flow's keys-generated statement went to the server. */
  private keysSent = false;
  /** The server's refusal of that statement, where the flow does not show it: the download stops there. */
  private keysRefused: unknown = null;
  /** The last download-failed event of the agent's log that was dealt with. */
  private reportedFailure = 0;
  /** While a reloaded page catches up with the agent's log, the live events that arrive wait here. */
  private held: { readonly seq: number; readonly event: FlowAgentEvent }[] | null = null;
  private pendingClean: CardNumber | null = null;
  /** Step 6's key generation while it runs: a clean-up waits for it, so it never pulls keys from under it. */
  private enrolling: Promise<unknown> = Promise.resolve();
  private timer: ReturnType<typeof setInterval> | null = null;
  private lastStep7Poll = 0;
  /**
   * The challenge the server gave with the answer that brought the flow to a signature, and when
   * it lapses by this page's clock: SIGNERA or KVITTERA KORT signs it without asking for one.
   */
  private offered: KeptOffer | null = null;
  private readonly listeners = new Set<() => void>();
  private readonly unsubscribe: () => void;

  constructor(private readonly ws: Workstation) {
    this.unsubscribe = ws.onAgentEvent((event) => this.onAgentEvent(event));
    this.timer = setInterval(() => this.onTimer(), TICK_MS / 2);
  }

  dispose(): void {
    this.unsubscribe();
    if (this.timer) clearInterval(this.timer);
    this.listeners.clear();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  get view(): FlowView | null {
    return this.flow?.view ?? null;
  }

  get flowId(): string {
    return this.flow?.view.flowId ?? '';
  }

  private get active(): boolean {
    return this.flow !== null && this.flow.view.status === 'active';
  }

  /** One request at a time on the flow, in the order they were asked for. */
  private serial<T>(work: () => Promise<T>, { keepRelayOpen = false } = {}): Promise<T> {
    // Work queued after a relay batch runs after it: the batch takes no more events. Only the
    // clock's tick lets later events join the batch ahead of it: they happened before it is sent.
    if (!keepRelayOpen) this.openRelay = null;
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private took(next: FlowAnswer): FlowAnswer {
    this.flow = next;
    // Every flow answer names the nonce the station's next statement for this flow must carry.
    const { stationNonce: nonce, cardKeyType } = next as FlowAnswer & {
      stationNonce?: string;
      cardKeyType?: CardKeyType;
    };
    if (nonce !== undefined) this.stationNonce = nonce;
    if (cardKeyType !== undefined) this.cardKeyType = cardKeyType;
    const offer = (next as FlowAnswer & { signingChallenge?: SigningChallengeOffer }).signingChallenge;
    if (offer !== undefined) this.offered = keptOffer(offer, next.view.flowId, next.view.now, Date.now());
    this.handleEffects(next.cardEffects);
    this.changed();
    return next;
  }

  /** Runs a person's action: shows it as busy, keeps the error to show next to it. */
  private async act(busy: Busy, work: () => Promise<unknown>): Promise<void> {
    this.busy = busy;
    this.error = null;
    this.changed();
    try {
      await work();
    } catch (error) {
      this.error = pageErrorOf(error);
    } finally {
      this.busy = null;
      this.changed();
    }
  }

  private path() {
    return { params: { path: { flowId: this.flowId } } } as const;
  }

  /**
   * A new flow: the server reserves its id and nonce, the station states its readers for it, and
   * the flow starts with the readers of that statement, bound to that station.
   */
  start(reserved: FlowReservation | null = null): Promise<void> {
    return this.act('start', () =>
      this.serial(async () => {
        this.forget();
        try {
          await this.startOn(reserved ?? (await this.reserve()));
        } catch (error) {
          // The login's reservation lapsed (the page stood still for minutes): a fresh one.
          if (reserved === null || !(error instanceof ApiFailure) || error.code !== 'NOT_FOUND') throw error;
          await this.startOn(await this.reserve());
        }
      }),
    );
  }

  private reserve(): Promise<FlowReservation> {
    return answer<FlowReservation>(client.POST('/api/flows/start'));
  }

  /** The flow on a reserved id, with the readers as the station signs them for it. */
  private async startOn(reserved: FlowReservation): Promise<void> {
    const readers = await this.ws.statement({
      flowId: reserved.flowId,
      nonce: reserved.stationNonce,
      kind: 'readers',
    });
    this.took(
      await answer<FlowAnswer>(client.POST('/api/flows/', { body: { flowId: reserved.flowId, readers } })),
    );
  }

  /** What the page kept of the previous flow. */
  private forget(): void {
    this.reportedFailure = 0;
    this.review = null;
    this.lastSearch = null;
    this.localPhase = null;
    this.flowLog = [];
    this.keysSent = false;
    this.keysRefused = null;
    this.held = null;
  }

  /**
   * The flow after a reload of the page, exactly where it is: at step 6 the card work the agent
   * still runs for it is taken up again (its PIN dialog opened), and the rest follows once.
   */
  async resume(flowId: string): Promise<void> {
    await this.act('start', () =>
      this.serial(async () => {
        this.forget();
        this.took(
          await answer<FlowAnswer>(client.GET('/api/flows/{flowId}', { params: { path: { flowId } } })),
        );
      }),
    );
    const view = this.view;
    if (this.error !== null || view === null || !this.active || view.fault !== null) return;
    if (this.ws.simulation.silentAgent) return;
    if (view.step === 6 || (view.step === 5 && view.pending?.action === 'download'))
      void this.act('download', () => this.resumeDownload());
    else if (view.step === 3 || view.step === 7)
      void this.resumeSigning(view.step === 3 ? 'order' : 'acknowledge').catch(() => undefined);
  }

  /**
   * Step 6 after a reload: the agent's events of this flow that the flow lacks are relayed in their
   * order (those it took are not told again), then the operation still running is followed on. When
   * the agent runs nothing for the flow, it says so (OPERATION_LOST) and the flow ends in a fault.
   */
  private async resumeDownload(): Promise<void> {
    const flowId = this.flowId;
    this.held = [];
    try {
      const [events, operations] = await Promise.all([
        this.ws.agent.flowEvents(flowId),
        this.ws.agent.flowOperations(flowId),
      ]);
      const view = this.view;
      if (view === null) return;
      const download = view.download;
      this.keysSent = download !== null && download.phase !== 'key-generation';
      // The download's events start with its key generation: the signature's dialogs at step 3
      // were the flow's too, and are no part of it.
      const from = events.findLastIndex((e) => e.type === 'key-generation-started');
      for (const { seq, ...event } of from < 0 ? [] : events.slice(from)) this.catchUp(seq, event, view);
      const held = this.held;
      this.held = null;
      for (const { seq, event } of held) void this.onFlowEvent(seq, event).catch((error) => this.fail(error));
      await this.flushed();
      const latest = (kind: AgentOperation['kind']) =>
        operations.filter((o) => o.kind === kind).at(-1) ?? null;
      const write = latest('write-certificates');
      const enrol = latest('enrol');
      if (!this.active || this.view?.fault) return;
      if (write !== null) return this.writeCertificates(Promise.resolve(write));
      const phase = this.view?.download?.phase;
      if (enrol !== null && phase !== 'issuing' && phase !== 'writing') return this.download(enrol);
      if (enrol === null && this.view?.step === 5) return this.download(null);
      // The certificates were being asked for when the page left: their answer went with it.
      await this.untilIssued();
      if (!this.active || this.view?.fault) return;
      const seq = await this.ws.agent.downloadLost(flowId);
      if (seq === null) return;
      if (!this.logged(seq))
        this.flowLog.push({
          seq,
          event: { type: 'download-failed', reason: 'OPERATION_LOST', at: Date.now() },
        });
      await this.relay(seq, () => !this.view?.fault);
    } finally {
      this.held = null;
    }
  }

  private logged(seq: number): boolean {
    return this.flowLog.some((e) => e.seq === seq);
  }

  /** One event of the agent's log met while catching up: relayed unless the flow took it already. */
  private catchUp(seq: number, event: FlowAgentEvent, view: FlowView): void {
    if (this.logged(seq)) return;
    this.flowLog.push({ seq, event });
    if (tookEvent(view, event)) return;
    if (event.type === 'keys-generated') void this.sendKeys().catch((error) => this.fail(error));
    else if (event.type !== 'download-failed' && event.type !== 'certificates-written')
      void this.relay(seq).catch((error) => this.fail(error));
  }

  /** An error of work no click waits on: shown next to the flow. */
  private fail(error: unknown): void {
    this.error = pageErrorOf(error);
    this.changed();
  }

  /** Waits while the server still signs certificates asked for before the reload. */
  private async untilIssued(): Promise<void> {
    const deadline = Date.now() + ISSUING_WAIT_MS;
    while (this.active && this.view?.download?.phase === 'issuing' && Date.now() < deadline) {
      await sleep(500);
      await this.refresh();
    }
  }

  refresh(): Promise<FlowAnswer> {
    return this.serial(async () =>
      this.took(await answer<FlowAnswer>(client.GET('/api/flows/{flowId}', this.path()))),
    );
  }

  private click(type: Click) {
    return this.serial(() => this.postClick(type));
  }

  /** click's request, for work already in the page's queue. */
  private async postClick(type: Click): Promise<FlowAnswer> {
    return this.took(
      await answer<FlowAnswer>(
        client.POST('/api/flows/{flowId}/actions', { ...this.path(), body: { type } }),
      ),
    );
  }

  /** The nonce the station's next statement on this flow must carry. */
  private nonce(): string {
    if (this.stationNonce === null)
      throw AgentFailure.of('STATEMENT_INVALID', { reason: 'no station nonce' });
    return this.stationNonce;
  }

  /**
   * Relays one event of the agent's log (by its seq there) as the station's signed statement, if
   * the flow still wants it when its turn comes. Events that queue up behind other work with
   * nothing else queued between them go together, in one statement (see relayBatch).
   */
  private relay(eventSeq: number, wanted: () => boolean = () => true): Promise<FlowAnswer | null> {
    return new Promise((resolve, reject) => {
      const entry: RelayEntry = { seq: eventSeq, wanted, resolve, reject };
      const open = this.openRelay;
      if (open !== null && !open.started && open.entries.length < MAX_STATEMENT_EVENTS) {
        open.entries.push(entry);
        return;
      }
      const batch: RelayBatch = { entries: [entry], started: false };
      void this.serial(async () => {
        batch.started = true;
        await this.relayBatch(batch.entries);
      });
      // After serial, which closes any open batch: later work must not overtake this one.
      this.openRelay = batch;
    });
  }

  /**
   * The queued events the flow still wants, in one statement (`events`) or, for one, on its own;
   * each relay's caller gets the answer. A batch the server refuses for what it says (an event out
   * of order, a flow that ended half-way through it), or that the agent does not sign as one
   * statement, is relayed again one event at a time: the flow keeps the events it takes, and each
   * caller gets what its own event got, as before batches. A refusal of the statement itself (a
   * spoilt signature, a revoked station) is every caller's.
   */
  private async relayBatch(entries: readonly RelayEntry[]): Promise<void> {
    // Whether the flow wants an event may turn on the events before it (a PIN dialog only once the
    // key generation has started): the wanted ones up to the first it does not want go first, and
    // the rest are asked again once their answer is in.
    let rest = entries;
    while (rest.length > 0) {
      const cut = this.active ? rest.findIndex((entry) => !entry.wanted()) : 0;
      if (cut === 0) {
        rest[0]?.resolve(this.flow);
        rest = rest.slice(1);
        continue;
      }
      await this.relayRun(cut < 0 ? rest : rest.slice(0, cut));
      rest = cut < 0 ? [] : rest.slice(cut);
    }
  }

  /** Events the flow wants now, in order: in one statement, or for one, on its own. */
  private async relayRun(wanted: readonly RelayEntry[]): Promise<void> {
    if (wanted.length === 1 || this.agentSignsOneEvent) return this.relayEach(wanted);
    const flowId = this.flowId;
    try {
      let statement: SignedStatement;
      try {
        const eventSeqs = wanted.map((entry) => entry.seq);
        statement = await this.ws.statement({ flowId, nonce: this.nonce(), kind: 'events', eventSeqs });
      } catch (error) {
        if (!(error instanceof AgentFailure) || error.code !== 'REQUEST_INVALID') throw error;
        // An agent from before statements of several events is not asked again; one that refused
        // an event of the list (unknown to it, or another flow's) says so, and each is tried alone.
        const reason = error.body?.details?.reason;
        if (reason !== 'unknown event' && reason !== 'event of another flow') this.agentSignsOneEvent = true;
        return this.relayEach(wanted);
      }
      let answered: FlowAnswer;
      try {
        answered = this.took(
          await answer<FlowAnswer>(
            client.POST('/api/flows/{flowId}/agent-events', {
              params: { path: { flowId } },
              body: { statement },
            }),
          ),
        );
      } catch (error) {
        if (!(error instanceof ApiFailure) || REFUSES_STATEMENT.has(error.code)) throw error;
        return this.relayEach(wanted);
      }
      for (const entry of wanted) entry.resolve(answered);
    } catch (error) {
      for (const entry of wanted) entry.reject(error);
    }
  }

  /** Each event on its own, in order, if the flow still wants it then; each caller gets its answer. */
  private async relayEach(entries: readonly RelayEntry[]): Promise<void> {
    for (const entry of entries) {
      if (!this.active || !entry.wanted()) {
        entry.resolve(this.flow);
        continue;
      }
      try {
        entry.resolve(await this.relayOne(entry.seq));
      } catch (error) {
        entry.reject(error);
      }
    }
  }

  private async relayOne(eventSeq: number): Promise<FlowAnswer | null> {
    const flowId = this.flowId;
    const statement = await this.ws.statement({ flowId, nonce: this.nonce(), kind: 'event', eventSeq });
    return this.took(
      await answer<FlowAnswer>(
        client.POST('/api/flows/{flowId}/agent-events', {
          params: { path: { flowId } },
          body: { statement },
        }),
      ),
    );
  }

  /** The clock's tick: the one thing the page tells the flow unsigned. */
  private tick() {
    return this.serial(
      async () => {
        if (!this.active) return this.flow;
        return this.took(
          await answer<FlowAnswer>(
            client.POST('/api/flows/{flowId}/agent-events', { ...this.path(), body: { type: 'tick' } }),
          ),
        );
      },
      { keepRelayOpen: true },
    );
  }

  /** The keys the agent generated on the card in reader 2, stated by the station and vouched for by the card. */
  private sendKeys() {
    return this.serial(async () => {
      if (!this.active || this.keysSent) return this.flow;
      const flowId = this.flowId;
      const statement = await this.ws.statement({
        flowId,
        nonce: this.nonce(),
        kind: 'keys-generated',
        reader: 2,
      });
      this.keysSent = true;
      try {
        return this.took(
          await answer<FlowAnswer>(
            client.POST('/api/flows/{flowId}/keys', { params: { path: { flowId } }, body: { statement } }),
          ),
        );
      } catch (error) {
        if (await this.recordedOnFlow(error)) return this.flow;
        this.keysRefused = error;
        throw error;
      }
    });
  }

  /**
   * Whether a refused card proof or key statement is the flow's fault now: the server records such
   * a refusal on the flow, so the flow is read again and shows it (with its restart and the card's
   * clean-up) in place of the bare error. Runs inside the flow's queue.
   */
  private async recordedOnFlow(error: unknown): Promise<boolean> {
    const code = error instanceof ApiFailure ? error.code : null;
    if (code !== 'CARD_NOT_PROVEN' && code !== 'KEYS_NOT_ON_CARD') return false;
    const now = await answer<FlowAnswer>(client.GET('/api/flows/{flowId}', this.path())).catch(() => null);
    if (now === null) return false;
    this.took(now);
    return now.view.fault?.code === code;
  }

  /** Waits until an event of this type of this flow's agent log has reached the page; its seq, or null. */
  private async flowEvent(
    type: FlowAgentEvent['type'],
    after = 0,
    dialog?: FlowAgentEvent['dialog'],
  ): Promise<number | null> {
    const deadline = Date.now() + EVENT_WAIT_MS;
    for (;;) {
      const found = this.flowLog.find(
        (e) => e.seq > after && e.event.type === type && (dialog === undefined || e.event.dialog === dialog),
      );
      if (found) return found.seq;
      if (Date.now() > deadline) return null;
      await sleep(50);
    }
  }

  /** Everything queued on the flow so far has been sent. */
  private flushed(): Promise<unknown> {
    return this.serial(async () => undefined);
  }

  manageOrders = () => this.act('start', () => this.click('manage-orders'));

  search(query: string): Promise<void> {
    return this.act('search', () =>
      this.serial(async () => {
        const found = await answer<SearchAnswer>(
          client.POST('/api/flows/{flowId}/search', { ...this.path(), body: { query } }),
        );
        this.review = found.review;
        // The number as the server normalised it, also on a miss (PNR_FORMAT names it).
        const classified = classifySearchQuery(query, dateOf(Date.now()));
        const normalised = classified.kind === 'personal-number' ? classified.normalised : query;
        this.lastSearch = { query: found.review?.normalisedQuery ?? normalised, codes: found.raised };
        this.took(found);
      }),
    );
  }

  selectOrder = () => this.act('select', () => this.click('order-selected'));

  /**
   * A server challenge signed with PIN 2 on the card in `slot`; or, after a reload, the signature
   * the agent was still asking the PIN for when the page left, with the challenge kept for it.
   */
  private async signChallenge(purpose: 'order' | 'acknowledge', slot: 1 | 2, resumed: Resumed | null) {
    if (resumed !== null) {
      const done = await this.ws.run(Promise.resolve(resumed.operation));
      return { challenge: resumed.challenge, done, readerId: resumed.operation.readerId ?? '' };
    }
    const readerId = this.ws.readerIdOf(slot);
    if (readerId === null) throw AgentFailure.of('READER_NOT_FOUND', { reader: String(slot) });
    const challenge =
      this.takeOffered(purpose) ??
      (await answer<SigningChallenge>(
        client.POST('/api/flows/{flowId}/signing-challenge', { ...this.path(), body: { purpose } }),
      ));
    keepChallenge({ flowId: this.flowId, purpose, challenge });
    await this.ws.agent.bind(readerId);
    const done = await this.ws.run(this.ws.agent.sign(readerId, challenge.toBeSigned, this.flowId));
    return { challenge, done, readerId };
  }

  /**
   * The challenge offered for this signature, once: only while it leaves the PIN dialog most of its
   * time (a challenge is used once, and a refused signature asks for a new one).
   */
  private takeOffered(purpose: SigningPurpose): SigningChallenge | null {
    const usable = usableOffer(this.offered, this.flowId, purpose, Date.now());
    this.offered = null;
    return usable;
  }

  /**
   * A signature (step 3 or 7) the agent still asks the PIN for, or has made, since before a reload:
   * with the challenge the page kept for it, it is carried on (its PIN window opened again).
   */
  private async resumeSigning(purpose: 'order' | 'acknowledge'): Promise<void> {
    const kept = keptChallenge();
    if (kept === null || kept.flowId !== this.flowId || kept.purpose !== purpose) return;
    const operation =
      (await this.ws.agent.flowOperations(this.flowId)).filter((o) => o.kind === 'sign').at(-1) ?? null;
    if (operation === null || operation.state === 'failed') return;
    const resumed = { challenge: kept.challenge, operation };
    if (purpose === 'order') return this.sign(resumed);
    return this.acknowledge(resumed);
  }

  /** SIGNERA: admin 2 signs the order with the card they logged in with. */
  sign(resumed: Resumed | null = null): Promise<void> {
    return this.act('sign', async () => {
      const { challenge, done, readerId } = await this.signChallenge('order', 1, resumed);
      keepChallenge(null);
      let certificate = '';
      let signature = '';
      if (done.state === 'done') {
        signature = (done.result as { signature: string }).signature;
        const card = await this.ws.agent.card(readerId);
        certificate = card.certificates.find((c) => c.key === 'sign')?.der ?? '';
      } else if (done.error?.code === 'CARD_REMOVED') {
        // The removal itself is reported by the agent's events (CARD_REINSERTED).
        throw agentFailureOf(done);
      }
      // A failed signature still goes to the server: it counts the failures (SIGN_FAILED). The
      // station's readers go with it: the server sees itself whether the login card stayed.
      const signed = await this.serial(async () => {
        const readers = await this.ws.statement({
          flowId: this.flowId,
          nonce: this.nonce(),
          kind: 'readers',
        });
        return this.took(
          await answer<FlowAnswer>(
            client.POST('/api/flows/{flowId}/sign', {
              ...this.path(),
              body: {
                challengeId: challenge.challengeId,
                certificate: certificate || 'AAAA',
                signature: signature || 'AAAA',
                readers,
              },
            }),
          ),
        );
      });
      // The first failure is no fault: it is shown here, with SIGNERA offered again.
      if (signed.raised.includes('SIGN_FAILED') && signed.view.fault === null) {
        this.error = { code: 'SIGN_FAILED', details: signed.view.timeline.at(-1)?.details ?? {} };
      }
      // A blocked PIN is said as such: signing again cannot help until the card is unblocked.
      if (done.state !== 'done' && done.error?.code === 'PIN_BLOCKED')
        this.error = pageErrorOf(agentFailureOf(done));
    });
  }

  /**
   * BEKRÄFTA ÖVERLÄMNING: the click and the card's proof go in one request (the click does not move
   * the nonce the proof carries). An agent that cannot prove the card says why at once, and nothing
   * reaches the flow: the button stays for another try. An agent that takes longer than
   * PROOF_WAIT_MS, or a silent one (training), gets the click sent alone, so the flow can find the
   * handover stuck; its proof follows when it comes, without holding up the page's ticks.
   */
  confirmHandover(): Promise<void> {
    return this.act('handover', async () => {
      if (this.ws.simulation.silentAgent) {
        await this.click('handover-confirmed');
        return;
      }
      const flowId = this.flowId;
      const late = await this.serial(async () => {
        const proving = this.ws.statement({ flowId, nonce: this.nonce(), kind: 'card-proof', reader: 2 });
        // Awaited below, or dropped when the click alone says what is wrong.
        proving.catch(() => undefined);
        const proof = await Promise.race([proving, sleep(PROOF_WAIT_MS).then(() => null)]);
        if (proof !== null) {
          await this.proveHandover(flowId, proof, true);
          return null;
        }
        return { proving, clicked: await this.postClick('handover-confirmed') };
      });
      if (late === null || late.clicked.raised.length > 0 || late.clicked.view.status !== 'active') return;
      const proof = await late.proving;
      // A flow restarted meanwhile is not this proof's.
      if (this.flowId !== flowId) return;
      await this.serial(() => this.proveHandover(flowId, proof, false));
    });
  }

  /** The handover's proof, with the click or after it; a refusal the flow recorded is its answer. */
  private async proveHandover(flowId: string, proof: SignedStatement, confirmed: boolean): Promise<void> {
    try {
      this.took(
        await answer<FlowAnswer>(
          client.POST('/api/flows/{flowId}/handover', {
            params: { path: { flowId } },
            body: confirmed ? { proof, confirmed } : { proof },
          }),
        ),
      );
    } catch (error) {
      if (!(await this.recordedOnFlow(error))) throw error;
    }
  }

  acceptTerms(accepted: boolean): Promise<void> {
    return this.act('terms', () =>
      this.serial(async () =>
        this.took(
          await answer<FlowAnswer>(
            client.POST('/api/flows/{flowId}/actions', {
              ...this.path(),
              body: { type: 'terms-accepted', accepted },
            }),
          ),
        ),
      ),
    );
  }

  /** STARTA NEDLADDNING: keys made on the card, both certificates issued and written to it. */
  startDownload(): Promise<void> {
    return this.act('download', async () => {
      const requested = await this.click('download-requested');
      if (requested.raised.length > 0 || requested.view.status !== 'active' || this.ws.simulation.silentAgent)
        return;
      await this.download(null);
    });
  }

  /** Step 6's card work: the keys (or the key generation a reloaded page found running), then the certificates. */
  private async download(running: AgentOperation | null): Promise<void> {
    const readerId = this.ws.readerIdOf(2);
    if (readerId === null) return;
    const flowId = this.flowId;
    await this.ws.agent.bind(readerId);
    const enrol = this.ws.run(
      running !== null ? Promise.resolve(running) : this.ws.agent.enrol(readerId, flowId, this.cardKeyType),
    );
    this.enrolling = enrol.catch(() => undefined);
    const enrolled = await enrol;
    if (enrolled.state !== 'done') return this.reportFailure();
    // The keys went to the server when the agent logged them; if that event never reached the
    // page, they go now. The dialog events before and after them are relayed in their order: the
    // PIN 2 dialog of this download, not step 3's signature, which the flow's log holds too.
    const started = this.flowLog.findLast((e) => e.event.type === 'key-generation-started')?.seq ?? 0;
    await this.flowEvent('dialog-completed', started, 'sign');
    await this.flushed();
    await this.sendKeys();
    // Keys the server did not believe are on the card get no certificate requests at all.
    if (this.keysRefused !== null) throw this.keysRefused;
    if (!this.active || this.view?.fault) return;
    const csrs = enrolled.result as { authCsr: string; signCsr: string };
    this.localPhase = 'issuing';
    this.changed();
    const issued = await this.serial(async () => {
      const result = await answer<CertificatesAnswer>(
        client.POST('/api/flows/{flowId}/certificates', {
          ...this.path(),
          body: { authCsr: csrs.authCsr, signCsr: csrs.signCsr },
        }),
      );
      this.took(result);
      return result;
    });
    await this.writeCertificates(
      this.ws.agent.writeCertificates(readerId, flowId, issued.certificates.auth, issued.certificates.sign),
    );
  }

  /** Writes the issued certificates to the card (or follows the writing a reloaded page found), then tells the flow. */
  private async writeCertificates(start: Promise<AgentOperation>): Promise<void> {
    this.localPhase = 'writing';
    this.changed();
    const written = await this.ws.run(start);
    this.localPhase = null;
    if (written.state !== 'done') return this.reportFailure();
    const seq = await this.flowEvent('certificates-written');
    if (seq !== null) await this.relay(seq, () => this.view?.step === 6);
  }

  /**
   * A failed card operation at step 6: removal and dialogs are already reported by the agent's
   * events; what is left is the agent's own word that the download failed, with its code.
   */
  private async reportFailure(): Promise<void> {
    this.localPhase = null;
    const seq = await this.flowEvent('download-failed', this.reportedFailure);
    if (seq === null) return;
    this.reportedFailure = seq;
    // The card and dialog events first (a card-removed event reaches the page after a re-read).
    await sleep(300);
    await this.flushed();
    await this.refresh();
    await this.relay(seq, () => !this.view?.fault);
  }

  /** KVITTERA KORT: the recipient signs with PIN 2 of the new card. */
  acknowledge(resumed: Resumed | null = null): Promise<void> {
    return this.act('acknowledge', async () => {
      const { challenge, done } = await this.signChallenge('acknowledge', 2, resumed);
      keepChallenge(null);
      if (done.state !== 'done') throw agentFailureOf(done);
      await this.serial(async () =>
        this.took(
          await answer<FlowAnswer>(
            client.POST('/api/flows/{flowId}/acknowledge', {
              ...this.path(),
              body: {
                challengeId: challenge.challengeId,
                signature: (done.result as { signature: string }).signature,
              },
            }),
          ),
        ),
      );
    });
  }

  /** Starta om utgivningen: a new flow, same login (unless the login card left). */
  restart(): Promise<void> {
    return this.act('restart', () =>
      this.serial(async () => {
        const next = await answer<FlowAnswer>(client.POST('/api/flows/{flowId}/restart', this.path()));
        this.forget();
        this.took(next);
      }),
    );
  }

  /** Logga ut och börja om: the flow ends; the caller logs out. */
  async abortForLogout(): Promise<void> {
    if (!this.active) return;
    await this.serial(async () =>
      this.took(
        await answer<FlowAnswer>(
          client.POST('/api/flows/{flowId}/abort', { ...this.path(), body: { reason: 'logout' } }),
        ),
      ),
    ).catch(() => undefined);
  }

  /**
   * The station's statements for a support case on this flow, with its current nonce: the agent's
   * own version, and the certificates on the order's card when it is in reader 2. None when the
   * agent is no card station. Run inside the flow's queue.
   */
  private async caseStatements(cardNumber: CardNumber | null): Promise<SignedStatement[]> {
    const flowId = this.flowId;
    const nonce = this.stationNonce;
    if (!flowId || nonce === null || !(await this.ws.isStation())) return [];
    const statements = [await this.ws.statement({ flowId, nonce, kind: 'agent-info' })];
    if (cardNumber !== null && this.ws.slot(2).card?.cardNumber === cardNumber) {
      const certificates = await this.ws
        .statement({ flowId, nonce, kind: 'card-certificates', reader: 2 })
        .catch(() => null);
      if (certificates !== null) statements.push(certificates);
    }
    return statements;
  }

  /** The code of the refusal the page shows next to the flow, for the case to name what the reporter saw. */
  private shownCodes(): string[] {
    const code = this.error?.code;
    return code === undefined || code === 'AGENT_UNREACHABLE' ? [] : [code];
  }

  /** The pre-filled support case for this flow, as it would be sent (the server keeps nothing of it). */
  previewCase(cardNumber: CardNumber | null): Promise<SupportCasePreview> {
    return this.serial(async () => {
      const flowId = this.flowId;
      const statements = await this.caseStatements(cardNumber);
      return answer<SupportCasePreview>(
        client.POST('/api/support/cases/preview', {
          body: { flowId, statements, shownCodes: this.shownCodes() },
        }),
      );
    });
  }

  /**
   * Sends the support case with fresh statements; their nonce is then spent, so the flow is read
   * again (for the next nonce) before anything else goes to the server.
   */
  sendCase(cardNumber: CardNumber | null, comment: string): Promise<SupportCaseShown> {
    return this.serial(async () => {
      const flowId = this.flowId;
      const statements = await this.caseStatements(cardNumber);
      const created = await answer<SupportCaseShown>(
        client.POST('/api/support/cases', {
          body: { flowId, statements, comment, shownCodes: this.shownCodes() },
        }),
      );
      if (statements.length > 0)
        this.took(
          await answer<FlowAnswer>(client.GET('/api/flows/{flowId}', { params: { path: { flowId } } })),
        );
      return created;
    });
  }

  dismissError(): void {
    this.error = null;
    this.changed();
  }

  /** This flow's event in the agent's log: relayed in order as it comes, the keys through their own route. */
  private onFlowEvent(seq: number, event: FlowAgentEvent): Promise<unknown> {
    if (this.logged(seq)) return Promise.resolve();
    if (this.held !== null) {
      this.held.push({ seq, event });
      return Promise.resolve();
    }
    this.flowLog.push({ seq, event });
    switch (event.type) {
      case 'keys-generated':
        return this.sendKeys();
      case 'download-failed':
      case 'certificates-written':
        // Sent by the step-6 work that waits on them, when its operation has ended.
        return Promise.resolve();
      default:
        // PIN dialogs are the flow's business only while it downloads (step 6): signing at steps 3
        // and 7, and cleaning a card after a fault, ask for PINs too, and the flow refuses those.
        return this.relay(seq, () => event.dialog === undefined || this.view?.download !== null);
    }
  }

  private onAgentEvent(event: AgentEvent): void {
    if (this.flow === null) return;
    const run = (work: Promise<unknown>) => {
      work.catch((error) => {
        this.error = pageErrorOf(error);
        this.changed();
      });
    };
    switch (event.type) {
      case 'flow':
        if (event.flowId === this.flowId) run(this.onFlowEvent(event.seq, event.event));
        return;
      case 'operation':
        return;
      case 'reader-plugged':
      case 'reader-unplugged':
      case 'card-removed': {
        if (this.ws.slotOf(event.readerId) !== null) run(this.relay(event.seq));
        return;
      }
      case 'card-inserted': {
        if (this.ws.slotOf(event.readerId) === null) return;
        run(this.relay(event.seq).then(() => this.cleanIfPending()));
        return;
      }
    }
  }

  private handleEffects(effects: readonly FlowEffect[]): void {
    for (const effect of effects) {
      if (effect.type === 'clean-card') this.pendingClean = effect.cardNumber;
    }
    if (this.pendingClean !== null) void this.cleanIfPending();
  }

  /** Removes a failed attempt's keys once the card is in reader 2, so it can be used again. */
  private async cleanIfPending(): Promise<void> {
    // A fault during key generation (keys refused) leaves its PIN 2 dialog open: that ends first.
    await this.enrolling;
    const cardNumber = this.pendingClean;
    const readerId = this.ws.readerIdOf(2);
    if (cardNumber === null || readerId === null) return;
    if (this.ws.slot(2).card?.cardNumber !== cardNumber) return;
    this.pendingClean = null;
    try {
      await this.ws.agent.bind(readerId);
      await this.ws.run(this.ws.agent.clean(readerId, this.flowId));
    } catch {
      this.pendingClean = cardNumber;
    }
  }

  /** The clock's part: stuck buttons and dialogs are noticed by ticks; step 7 watches the deadline. */
  private onTimer(): void {
    const view = this.view;
    if (view === null || this.busy === 'restart') return;
    if (view.status === 'active' && (view.pending !== null || view.download !== null)) {
      void this.tick().catch(() => undefined);
      return;
    }
    if (view.step === 7 && view.status === 'active' && Date.now() - this.lastStep7Poll >= POLL_STEP7_MS) {
      this.lastStep7Poll = Date.now();
      void this.refresh().catch(() => undefined);
    }
  }
}
