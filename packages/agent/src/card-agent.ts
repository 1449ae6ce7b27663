import { randomBytes } from 'node:crypto';
import {
  type CardNumber,
  cardKeysBytes,
  type SignedStatement,
  type StatementEvent,
} from '@reservkort/domain';
import { AgentError, isAgentError } from './agent-error.js';
import {
  type BackendEvent,
  type CardBackend,
  type CardKeySpec,
  type GeneratedKey,
  type KeySlot,
  PIN_OF,
  PIN_PATTERN,
  type PinId,
  type PinStatus,
  type ReaderId,
} from './backend/card-backend.js';
import { PinChannel } from './dialog/pin-channel.js';
import { buildCsr } from './enrolment/csr-builder.js';
import { ReaderSlots } from './station/reader-slots.js';
import type { StationIdentity, StationView } from './station/station-identity.js';
import {
  type LoggedFact,
  type StatementRequest,
  type StationSimulation,
  StationStatements,
} from './station/station-statements.js';

/** What the agent tells the server about itself (the support case's "Net iD version and packaging"). */
export interface AgentInfo {
  readonly version: string;
  readonly packaging: string;
}

export interface CardAgentOptions {
  readonly backend: CardBackend;
  readonly info: AgentInfo;
  readonly now?: () => number;
  /** The dialog page must be opened within this time, or the dialog counts as never shown. */
  readonly dialogShowTimeoutMs?: number;
  /** A shown dialog must be answered within this time. */
  readonly dialogAnswerTimeoutMs?: number;
  /** Sessions unused for this long are forgotten. */
  readonly sessionIdleMs?: number;
  /** The station identity (key, certificate, counters); without it the agent signs no statements. */
  readonly station?: StationIdentity;
}

/** Events the agent records per issuance flow: the answers to the guide's step-6 questions. */
export type FlowAgentEventType =
  | 'key-generation-started'
  | 'keys-generated'
  | 'dialog-shown'
  | 'dialog-completed'
  | 'dialog-cancelled'
  | 'dialog-not-shown'
  | 'certificates-written'
  | 'download-failed';

export interface FlowAgentEvent {
  readonly type: FlowAgentEventType;
  readonly dialog?: 'auth' | 'sign';
  /** For 'download-failed': the error code the card work ended with. */
  readonly reason?: string;
  readonly at: number;
}

/** A flow event with its seq in the agent's log (as its SSE id, and as a statement names it). */
export type LoggedFlowEvent = FlowAgentEvent & { readonly seq: number };

/** Everything pushed to the page: reader and card events, flow events, operation ends. */
export type AgentEvent =
  | (BackendEvent & { readonly seq: number })
  | { readonly seq: number; readonly type: 'flow'; readonly flowId: string; readonly event: FlowAgentEvent }
  | {
      readonly seq: number;
      readonly type: 'operation';
      readonly operationId: string;
      readonly state: OperationState;
    };

export type DialogState = 'waiting' | 'shown' | 'completed' | 'cancelled' | 'not-shown' | 'aborted';
export type OperationKind =
  | 'authenticate'
  | 'sign'
  | 'enrol'
  | 'write-certificates'
  | 'clean'
  | 'change-pin'
  | 'unblock-pin'
  | 'renew-keys'
  | 'renew-certificates';
/**
 * What a dialog asks for: a PIN; the current PIN and a new one typed twice (a PIN change); or the
 * PUK and a new PIN typed twice (an unblock).
 */
export type DialogEntry = 'pin' | 'change' | 'unblock';
export type OperationState = 'pending' | 'done' | 'failed';

export interface DialogView {
  readonly id: string;
  readonly pin: PinId;
  readonly entry: DialogEntry;
  readonly purpose: OperationKind;
  readonly readerId: ReaderId;
  readonly cardNumber: CardNumber;
  readonly state: DialogState;
  /** The last attempt's error, for the page: e.g. PIN_INCORRECT with tries left. */
  readonly lastError: { readonly code: string; readonly details: Record<string, unknown> } | null;
}

export interface OperationView {
  readonly id: string;
  readonly kind: OperationKind;
  readonly readerId: ReaderId;
  readonly cardNumber: CardNumber;
  readonly flowId: string | null;
  readonly state: OperationState;
  readonly result: unknown;
  readonly error: { readonly code: string; readonly details: Record<string, unknown> } | null;
  /** The PIN dialog the operation is waiting on, if any. */
  readonly dialog: DialogView | null;
}

interface Dialog {
  readonly id: string;
  readonly pin: PinId;
  readonly entry: DialogEntry;
  readonly purpose: OperationKind;
  readonly readerId: ReaderId;
  readonly cardNumber: CardNumber;
  readonly flowId: string | null;
  state: DialogState;
  lastError: DialogView['lastError'];
  readonly channel: PinChannel;
  timer: NodeJS.Timeout | null;
}

interface Operation {
  readonly id: string;
  readonly kind: OperationKind;
  readonly readerId: ReaderId;
  readonly cardNumber: CardNumber;
  readonly flowId: string | null;
  state: OperationState;
  result: unknown;
  error: OperationView['error'];
  dialog: Dialog | null;
  readonly finished: Promise<void>;
  finish: () => void;
}

interface Binding {
  readonly cardNumber: CardNumber;
  readonly boundAt: number;
  removedAt: number | null;
}

interface Session {
  readonly token: string;
  lastSeen: number;
  readonly bindings: Map<ReaderId, Binding>;
}

/** Keys generated in an enrolment, kept until their certificates are written or the card leaves. */
interface Enrolment {
  readonly cardNumber: CardNumber;
  readonly readerId: ReaderId;
  readonly pin1: string;
  readonly expiresAt: number;
  /** The keys as generated, with their attributes read back: what a keys-generated statement states. */
  readonly auth: GeneratedKey;
  readonly sign: GeneratedKey;
}

const errorView = (error: unknown): { code: string; details: Record<string, unknown> } =>
  isAgentError(error)
    ? { code: error.code, details: { ...error.details } }
    : {
        code: 'CARD_ERROR',
        details: { reason: error instanceof Error ? error.message.slice(0, 120) : 'unknown' },
      };

const id = (): string => randomBytes(16).toString('base64url');

/** A generated key as a card's keys statement states it (see `cardKeysBytes`). */
const keyFact = (key: GeneratedKey) => ({
  spki: Buffer.from(key.spki).toString('base64'),
  local: key.attributes.local,
  sensitive: key.attributes.sensitive,
  neverExtractable: key.attributes.neverExtractable,
});

const MAX_EVENTS = 500;
const MAX_SESSIONS = 200;
const ENROLMENT_TTL_MS = 15 * 60_000;

/**
 * The agent's core, without HTTP: page sessions bound to cards, operations that wait on PIN
 * dialogs, the events of readers, cards and flows. A removed card invalidates what depended on it
 * at once: its sessions' bindings, its pending operations, its enrolment.
 */
export class CardAgent {
  private readonly backend: CardBackend;
  private readonly now: () => number;
  private readonly showTimeoutMs: number;
  private readonly answerTimeoutMs: number;
  private readonly sessionIdleMs: number;
  private readonly sessions = new Map<string, Session>();
  private readonly operations = new Map<string, Operation>();
  private readonly dialogs = new Map<string, Dialog>();
  private readonly flows = new Map<string, LoggedFlowEvent[]>();
  private readonly enrolments = new Map<CardNumber, Enrolment>();
  /** PIN 1 of a förlängning's key generation, kept until its certificates are written or the card leaves. */
  private readonly renewals = new Map<
    CardNumber,
    { readonly readerId: ReaderId; readonly pin1: string; readonly expiresAt: number }
  >();
  private readonly events: AgentEvent[] = [];
  private readonly listeners = new Set<(event: AgentEvent) => void>();
  private seq = 0;
  private readonly unsubscribe: () => void;
  private readonly station: StationIdentity | null;
  private readonly slots = new ReaderSlots();
  /** The events of the log as statements state them, by seq; trimmed with the log. */
  private readonly facts = new Map<number, LoggedFact>();
  /** Readers whose card insertion has been counted since this agent started. */
  private readonly counted = new Set<string>();
  private readonly statements: StationStatements;
  private readonly ready: Promise<void>;

  readonly info: AgentInfo;

  constructor(options: CardAgentOptions) {
    this.info = options.info;
    this.backend = options.backend;
    this.now = options.now ?? Date.now;
    this.showTimeoutMs = options.dialogShowTimeoutMs ?? 20_000;
    this.answerTimeoutMs = options.dialogAnswerTimeoutMs ?? 120_000;
    this.sessionIdleMs = options.sessionIdleMs ?? 12 * 3_600_000;
    this.station = options.station ?? null;
    this.statements = new StationStatements({
      station: this.station,
      backend: this.backend,
      slots: this.slots,
      info: this.info,
      factOf: (seq) => this.facts.get(seq),
      enrolmentOf: (cardNumber) => {
        const enrolment = this.enrolments.get(cardNumber);
        return enrolment === undefined || enrolment.expiresAt <= this.now() ? undefined : enrolment;
      },
      now: this.now,
    });
    this.unsubscribe = this.backend.subscribe((event) => this.onBackendEvent(event));
    this.ready = this.observeReaders();
  }

  /**
   * Numbers the readers there at start, and counts a card already in one as an insertion: the
   * agent cannot know whether it was taken out while it was not running, so it assumes it was.
   */
  private async observeReaders(): Promise<void> {
    try {
      const readers = await this.backend.readers();
      this.slots.observe(readers.map((r) => r.id));
      for (const reader of readers) {
        if (reader.card !== null && !this.counted.has(reader.id)) this.countInsertion(reader.id);
      }
    } catch {
      // A backend that cannot list its readers yet: its events will number them.
    }
  }

  private countInsertion(readerId: string): void {
    this.counted.add(readerId);
    const slot = this.slots.slotOf(readerId);
    if (slot !== null) this.station?.countInsertion(slot);
  }

  get cardBackend(): CardBackend {
    return this.backend;
  }

  // --- events ---------------------------------------------------------------------------------

  private publish(event: AgentEvent): void {
    this.events.push(event);
    if (this.events.length > MAX_EVENTS) {
      const dropped = this.events.shift();
      if (dropped) this.facts.delete(dropped.seq);
    }
    for (const listener of this.listeners) listener(event);
  }

  /** Live events; `afterSeq` replays what a reconnecting page missed. */
  subscribe(listener: (event: AgentEvent) => void, afterSeq?: number): () => void {
    if (afterSeq !== undefined) for (const event of this.events) if (event.seq > afterSeq) listener(event);
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private onBackendEvent(event: BackendEvent): void {
    const seq = ++this.seq;
    if (event.type === 'reader-plugged' || event.type === 'card-inserted') this.slots.plugged(event.readerId);
    if (event.type === 'card-inserted') this.countInsertion(event.readerId);
    const slot = this.slots.slotOf(event.readerId);
    if (event.type === 'reader-unplugged') this.slots.unplugged(event.readerId);
    if (event.type === 'card-removed') this.counted.delete(event.readerId);
    if (slot !== null) {
      const fact: StatementEvent =
        event.type === 'card-inserted'
          ? { type: event.type, reader: slot, cardNumber: event.cardNumber ?? null }
          : { type: event.type, reader: slot };
      this.facts.set(seq, { event: fact, flowId: null });
    }
    this.publish({ ...event, seq });
    if (event.type !== 'card-removed' && event.type !== 'reader-unplugged') return;
    const removed = new AgentError('CARD_REMOVED', `the card left reader ${event.readerId}`, {
      reader: event.readerId,
      removedAt: event.at,
    });
    for (const session of this.sessions.values()) {
      const binding = session.bindings.get(event.readerId);
      if (binding && binding.removedAt === null) binding.removedAt = event.at;
    }
    for (const operation of this.operations.values()) {
      if (operation.readerId === event.readerId && operation.state === 'pending')
        this.fail(operation, removed);
    }
    for (const [cardNumber, enrolment] of this.enrolments) {
      if (enrolment.readerId === event.readerId) this.enrolments.delete(cardNumber);
    }
    for (const [cardNumber, renewal] of this.renewals) {
      if (renewal.readerId === event.readerId) this.renewals.delete(cardNumber);
    }
  }

  private recordFlow(flowId: string | null, event: FlowAgentEvent): number | null {
    if (flowId === null) return null;
    const seq = ++this.seq;
    const list = this.flows.get(flowId) ?? [];
    list.push({ ...event, seq });
    this.flows.set(flowId, list);
    const fact: StatementEvent =
      event.dialog !== undefined
        ? { type: event.type, dialog: event.dialog }
        : event.reason !== undefined
          ? { type: event.type, reason: event.reason }
          : { type: event.type };
    this.facts.set(seq, { event: fact, flowId });
    this.publish({ seq, type: 'flow', flowId, event });
    return seq;
  }

  /** A flow's events in the order they happened, each with its seq in the log. */
  flowEvents(flowId: string): readonly LoggedFlowEvent[] {
    return this.flows.get(flowId) ?? [];
  }

  /**
   * A flow's card operations in the order they started: a page that was reloaded finds here the
   * step-6 work still running for its flow, and the PIN dialog it waits on.
   */
  flowOperations(token: string, flowId: string): readonly OperationView[] {
    this.session(token);
    return [...this.operations.values()].filter((o) => o.flowId === flowId).map((o) => this.view(o));
  }

  /**
   * The agent's own word that no step-6 card work for this flow runs here (an agent restarted since,
   * or a page that lost the work it was doing between two operations): the download failed, with
   * reason OPERATION_LOST. Returns that event's seq, or null while such work still runs.
   */
  downloadLost(token: string, flowId: string): { readonly seq: number | null } {
    this.session(token);
    const running = [...this.operations.values()].some(
      (o) =>
        o.flowId === flowId &&
        o.state === 'pending' &&
        (o.kind === 'enrol' || o.kind === 'write-certificates'),
    );
    if (running) return { seq: null };
    return {
      seq: this.recordFlow(flowId, { type: 'download-failed', reason: 'OPERATION_LOST', at: this.now() }),
    };
  }

  // --- sessions -------------------------------------------------------------------------------

  createSession(): { token: string } {
    const now = this.now();
    for (const [token, session] of this.sessions) {
      if (now - session.lastSeen > this.sessionIdleMs) this.sessions.delete(token);
    }
    if (this.sessions.size >= MAX_SESSIONS) {
      const oldest = [...this.sessions.values()].sort((a, b) => a.lastSeen - b.lastSeen)[0];
      if (oldest) this.sessions.delete(oldest.token);
    }
    const token = id();
    this.sessions.set(token, { token, lastSeen: now, bindings: new Map() });
    return { token };
  }

  session(token: string | undefined): Session {
    const session = token === undefined ? undefined : this.sessions.get(token);
    if (session === undefined || this.now() - session.lastSeen > this.sessionIdleMs) {
      throw new AgentError('SESSION_INVALID', 'unknown or expired agent session', {});
    }
    session.lastSeen = this.now();
    return session;
  }

  /** The card now in a reader, or CARD_MISSING / READER_NOT_FOUND. */
  private async currentCard(readerId: ReaderId): Promise<CardNumber> {
    const reader = (await this.backend.readers()).find((r) => r.id === readerId);
    if (reader === undefined)
      throw new AgentError('READER_NOT_FOUND', `no reader ${readerId}`, { reader: readerId });
    if (reader.card === null)
      throw new AgentError('CARD_MISSING', `no card in ${readerId}`, { reader: readerId });
    if (reader.card.cardNumber === null) {
      throw new AgentError('CARD_ERROR', 'the card number could not be read', { reason: 'no card number' });
    }
    return reader.card.cardNumber;
  }

  /** Binds the session to the card now in the reader (a page does this when a new card is inserted). */
  async bind(token: string, readerId: ReaderId): Promise<CardNumber> {
    const session = this.session(token);
    const cardNumber = await this.currentCard(readerId);
    // Reading the card checks that its label, number object and certificates agree (WRONG_CARD).
    await this.backend.cardInfo(readerId);
    session.bindings.set(readerId, { cardNumber, boundAt: this.now(), removedAt: null });
    return cardNumber;
  }

  /** The card the session works with in a reader; CARD_REMOVED once it has left, even if it came back. */
  private async boundCard(token: string, readerId: ReaderId): Promise<CardNumber> {
    const session = this.session(token);
    const binding = session.bindings.get(readerId);
    if (binding === undefined) return this.bind(token, readerId);
    if (binding.removedAt !== null) {
      throw new AgentError('CARD_REMOVED', 'the card was removed since this page connected to it', {
        reader: readerId,
        removedAt: binding.removedAt,
      });
    }
    const current = await this.currentCard(readerId);
    if (current !== binding.cardNumber) {
      throw new AgentError('CARD_REMOVED', 'another card is in the reader', { reader: readerId });
    }
    return current;
  }

  // --- operations and dialogs -----------------------------------------------------------------

  operation(operationId: string): OperationView {
    const operation = this.operations.get(operationId);
    if (operation === undefined) throw new AgentError('SESSION_INVALID', 'unknown operation', {});
    return this.view(operation);
  }

  /** Waits until the operation ends or `ms` pass, then returns its view. */
  async waitFor(operationId: string, ms: number): Promise<OperationView> {
    const operation = this.operations.get(operationId);
    if (operation === undefined) throw new AgentError('SESSION_INVALID', 'unknown operation', {});
    if (operation.state === 'pending') {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        operation.finished,
        new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
      ]);
      clearTimeout(timer);
    }
    return this.view(operation);
  }

  private view(operation: Operation): OperationView {
    const dialog = operation.dialog;
    return {
      id: operation.id,
      kind: operation.kind,
      readerId: operation.readerId,
      cardNumber: operation.cardNumber,
      flowId: operation.flowId,
      state: operation.state,
      result: operation.result,
      error: operation.error,
      dialog: dialog === null ? null : this.dialogView(dialog),
    };
  }

  private dialogView(dialog: Dialog): DialogView {
    return {
      id: dialog.id,
      pin: dialog.pin,
      entry: dialog.entry,
      purpose: dialog.purpose,
      readerId: dialog.readerId,
      cardNumber: dialog.cardNumber,
      state: dialog.state,
      lastError: dialog.lastError,
    };
  }

  dialog(dialogId: string): DialogView {
    const dialog = this.dialogs.get(dialogId);
    if (dialog === undefined) throw new AgentError('SESSION_INVALID', 'unknown dialog', {});
    return this.dialogView(dialog);
  }

  /** The dialog page was opened: the PIN dialog has been shown. */
  dialogShown(dialogId: string): DialogView {
    const dialog = this.dialogs.get(dialogId);
    if (dialog === undefined) throw new AgentError('SESSION_INVALID', 'unknown dialog', {});
    if (dialog.state === 'waiting') {
      dialog.state = 'shown';
      this.recordFlow(dialog.flowId, {
        type: 'dialog-shown',
        dialog: dialog.pin === 'pin1' ? 'auth' : 'sign',
        at: this.now(),
      });
      this.armTimer(dialog, this.answerTimeoutMs, 'shown');
    }
    return this.dialogView(dialog);
  }

  /**
   * An attempt typed in the dialog. A PIN change or unblock also brings the new PIN twice: a new
   * PIN of the wrong form, or two that differ, goes back to the dialog (PIN_FORMAT) without
   * reaching the card, so it costs no try.
   */
  async submitPin(dialogId: string, pin: string, newPin?: string, repeat?: string): Promise<DialogView> {
    const dialog = this.dialogs.get(dialogId);
    if (dialog === undefined) throw new AgentError('SESSION_INVALID', 'unknown dialog', {});
    if (dialog.state === 'waiting') this.dialogShown(dialogId);
    if (dialog.entry !== 'pin') {
      if (newPin === undefined || !PIN_PATTERN.test(newPin)) {
        dialog.lastError = { code: 'PIN_FORMAT', details: { pin: dialog.pin, field: 'new' } };
        return this.dialogView(dialog);
      }
      if (repeat !== newPin) {
        dialog.lastError = { code: 'PIN_FORMAT', details: { pin: dialog.pin, field: 'repeat' } };
        return this.dialogView(dialog);
      }
    }
    const result = await dialog.channel.submit(pin, dialog.entry === 'pin' ? undefined : newPin);
    if (!result.ok) dialog.lastError = errorView(result.error);
    return this.dialogView(dialog);
  }

  cancelDialog(dialogId: string): DialogView {
    const dialog = this.dialogs.get(dialogId);
    if (dialog === undefined) throw new AgentError('SESSION_INVALID', 'unknown dialog', {});
    this.endDialog(
      dialog,
      'cancelled',
      new AgentError('DIALOG_CANCELLED', 'the PIN dialog was cancelled', {}),
    );
    return this.dialogView(dialog);
  }

  private armTimer(dialog: Dialog, ms: number, expected: DialogState): void {
    if (dialog.timer) clearTimeout(dialog.timer);
    dialog.timer = setTimeout(() => {
      if (dialog.state !== expected) return;
      const neverShown = expected === 'waiting';
      this.endDialog(
        dialog,
        neverShown ? 'not-shown' : 'cancelled',
        new AgentError(
          'DIALOG_TIMEOUT',
          neverShown ? 'the PIN dialog was never shown' : 'no PIN was entered in time',
          {
            dialog: dialog.pin === 'pin1' ? 'auth' : 'sign',
          },
        ),
      );
    }, ms);
    dialog.timer.unref();
  }

  private endDialog(dialog: Dialog, state: DialogState, error: AgentError | null): void {
    if (dialog.timer) clearTimeout(dialog.timer);
    dialog.timer = null;
    if (
      dialog.state === 'completed' ||
      dialog.state === 'cancelled' ||
      dialog.state === 'not-shown' ||
      dialog.state === 'aborted'
    ) {
      return;
    }
    dialog.state = state;
    const which = dialog.pin === 'pin1' ? 'auth' : 'sign';
    if (state === 'completed')
      this.recordFlow(dialog.flowId, { type: 'dialog-completed', dialog: which, at: this.now() });
    if (state === 'cancelled')
      this.recordFlow(dialog.flowId, { type: 'dialog-cancelled', dialog: which, at: this.now() });
    if (state === 'not-shown')
      this.recordFlow(dialog.flowId, { type: 'dialog-not-shown', dialog: which, at: this.now() });
    if (error) dialog.channel.close(error);
  }

  /**
   * Opens a PIN dialog and runs `attempt` with each PIN typed until one works; wrong PINs are
   * reported back to the dialog, a blocked PIN or a removed card ends it.
   */
  private async withPin<T>(
    operation: Operation,
    pin: PinId,
    attempt: (pin: string, newPin: string) => Promise<T>,
    pins: PinStatus | null,
    entry: DialogEntry = 'pin',
  ): Promise<T> {
    // A locked card takes nothing; a blocked PIN cannot be typed right, only unblocked with the
    // PUK: no dialog asks for what cannot work, the operation fails at once.
    if (pins?.puk.locked === true)
      throw new AgentError('CARD_LOCKED', 'the card is locked: too many wrong PUK entries', {});
    if (entry !== 'unblock' && pins?.[pin].blocked === true)
      throw new AgentError('PIN_BLOCKED', `${pin} is blocked`, { pin, triesLeft: 0 });
    const dialog: Dialog = {
      id: id(),
      pin,
      entry,
      purpose: operation.kind,
      readerId: operation.readerId,
      cardNumber: operation.cardNumber,
      flowId: operation.flowId,
      state: 'waiting',
      lastError: null,
      channel: new PinChannel(),
      timer: null,
    };
    this.dialogs.set(dialog.id, dialog);
    operation.dialog = dialog;
    this.armTimer(dialog, this.showTimeoutMs, 'waiting');
    try {
      for (;;) {
        const { pin: typed, newPin, report } = await dialog.channel.next();
        try {
          const value = await attempt(typed, newPin ?? '');
          report({ ok: true });
          this.endDialog(dialog, 'completed', null);
          return value;
        } catch (error) {
          const agentError = isAgentError(error)
            ? error
            : new AgentError('CARD_ERROR', String(error), { reason: 'card' });
          const retry =
            agentError.code === 'PIN_INCORRECT' ||
            agentError.code === 'PIN_FORMAT' ||
            agentError.code === 'PUK_INCORRECT';
          report({ ok: false, error: agentError, final: !retry });
          if (!retry) {
            this.endDialog(dialog, 'aborted', agentError);
            throw agentError;
          }
        }
      }
    } finally {
      if (dialog.timer) clearTimeout(dialog.timer);
    }
  }

  private start(
    kind: OperationKind,
    readerId: ReaderId,
    cardNumber: CardNumber,
    flowId: string | null,
    run: (operation: Operation) => Promise<unknown>,
  ): OperationView {
    let finish: () => void = () => {};
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const operation: Operation = {
      id: id(),
      kind,
      readerId,
      cardNumber,
      flowId,
      state: 'pending',
      result: null,
      error: null,
      dialog: null,
      finished,
      finish,
    };
    this.operations.set(operation.id, operation);
    run(operation).then(
      (result) => {
        if (operation.state !== 'pending') return;
        operation.state = 'done';
        operation.result = result;
        operation.finish();
        this.publish({ seq: ++this.seq, type: 'operation', operationId: operation.id, state: 'done' });
      },
      (error: unknown) => this.fail(operation, error),
    );
    return this.view(operation);
  }

  private fail(operation: Operation, error: unknown): void {
    if (operation.state !== 'pending') return;
    operation.state = 'failed';
    operation.error = errorView(error);
    // Step 6's card work that failed is a fact of the flow the station may state (download-failed).
    if (operation.kind === 'enrol' || operation.kind === 'write-certificates') {
      this.recordFlow(operation.flowId, {
        type: 'download-failed',
        reason: operation.error.code.slice(0, 100),
        at: this.now(),
      });
    }
    if (operation.dialog) this.endDialog(operation.dialog, 'aborted', isAgentError(error) ? error : null);
    operation.finish();
    this.publish({ seq: ++this.seq, type: 'operation', operationId: operation.id, state: 'failed' });
  }

  /** Signs a login challenge with the authentication key after PIN 1; returns signature and certificate. */
  async authenticate(
    token: string,
    readerId: ReaderId,
    challenge: Uint8Array,
    flowId: string | null,
  ): Promise<OperationView> {
    return this.signOperation('authenticate', 'auth', token, readerId, challenge, flowId);
  }

  /** Signs data with the signature key after PIN 2. */
  async sign(
    token: string,
    readerId: ReaderId,
    data: Uint8Array,
    flowId: string | null,
  ): Promise<OperationView> {
    return this.signOperation('sign', 'sign', token, readerId, data, flowId);
  }

  private async signOperation(
    kind: 'authenticate' | 'sign',
    key: KeySlot,
    token: string,
    readerId: ReaderId,
    data: Uint8Array,
    flowId: string | null,
  ): Promise<OperationView> {
    const cardNumber = await this.boundCard(token, readerId);
    const info = await this.backend.cardInfo(readerId);
    if (!info.keys[key]) throw new AgentError('KEY_MISSING', `no ${key} key on the card`, { key });
    return this.start(kind, readerId, cardNumber, flowId, async (operation) => {
      const signature = await this.withPin(
        operation,
        PIN_OF[key],
        (pin) => this.backend.sign(readerId, cardNumber, key, pin, data),
        info.pins,
      );
      const certificate = info.certificates.find((c) => c.key === key);
      return {
        cardNumber,
        signature: Buffer.from(signature).toString('base64'),
        certificate: certificate ? Buffer.from(certificate.der).toString('base64') : null,
      };
    });
  }

  /**
   * Step 6: generates the authentication and signature keys on the card after PIN 1, and a CSR for
   * each signed by its own key (PIN 1, then PIN 2). Records the dialog events on the flow.
   */
  async enrol(
    token: string,
    readerId: ReaderId,
    flowId: string | null,
    spec: CardKeySpec = 'ecdsa-p256',
  ): Promise<OperationView> {
    const cardNumber = await this.boundCard(token, readerId);
    const pins = await this.pinStatus(readerId);
    return this.start('enrol', readerId, cardNumber, flowId, async (operation) => {
      this.recordFlow(flowId, { type: 'key-generation-started', at: this.now() });
      const { pin1, auth, sign } = await this.withPin(
        operation,
        'pin1',
        async (pin) => {
          const authKey = await this.backend.generateKey(readerId, cardNumber, 'auth', pin, spec);
          const signKey = await this.backend.generateKey(readerId, cardNumber, 'sign', pin, spec);
          return { pin1: pin, auth: authKey, sign: signKey };
        },
        pins,
      );
      this.enrolments.set(cardNumber, {
        cardNumber,
        readerId,
        pin1,
        expiresAt: this.now() + ENROLMENT_TTL_MS,
        auth,
        sign,
      });
      this.recordFlow(flowId, { type: 'keys-generated', at: this.now() });
      const subject = `CN=${cardNumber}`;
      const authCsr = await buildCsr(auth.spki, spec, subject, (tbs) =>
        this.backend.sign(readerId, cardNumber, 'auth', pin1, tbs),
      );
      const signCsr = await this.withPin(
        operation,
        'pin2',
        (pin2) =>
          buildCsr(sign.spki, spec, subject, (tbs) =>
            this.backend.sign(readerId, cardNumber, 'sign', pin2, tbs),
          ),
        pins,
      );
      return { cardNumber, authCsr: authCsr.toString('pem'), signCsr: signCsr.toString('pem') };
    });
  }

  /**
   * Förlängning, on the holder's own computer: a next authentication and signature key generated on
   * the card beside the current ones (PIN 1), the card's bureau key's signature over both public
   * keys bound to the extension's id and nonce (`cardKeysBytes`: the proof the server acts on), and
   * a CSR for each signed by its own new key (PIN 1, then PIN 2). The current keys stay usable
   * until the new certificates are written.
   */
  async renewKeys(
    token: string,
    readerId: ReaderId,
    extension: { readonly id: string; readonly nonce: string },
    spec: CardKeySpec = 'ecdsa-p256',
  ): Promise<OperationView> {
    const cardNumber = await this.bind(token, readerId);
    const pins = await this.pinStatus(readerId);
    return this.start('renew-keys', readerId, cardNumber, null, async (operation) => {
      const { pin1, auth, sign } = await this.withPin(
        operation,
        'pin1',
        async (pin) => {
          const authKey = await this.backend.generateKey(readerId, cardNumber, 'auth', pin, spec, 'next');
          const signKey = await this.backend.generateKey(readerId, cardNumber, 'sign', pin, spec, 'next');
          return { pin1: pin, auth: authKey, sign: signKey };
        },
        pins,
      );
      this.renewals.set(cardNumber, { readerId, pin1, expiresAt: this.now() + ENROLMENT_TTL_MS });
      const keys = { auth: keyFact(auth), sign: keyFact(sign) };
      const proof = await this.backend.proveCard(
        readerId,
        cardNumber,
        cardKeysBytes({
          flowId: extension.id,
          nonce: extension.nonce,
          cardNumber,
          authSpki: keys.auth.spki,
          signSpki: keys.sign.spki,
        }),
      );
      const subject = `CN=${cardNumber}`;
      const authCsr = await buildCsr(auth.spki, spec, subject, (tbs) =>
        this.backend.sign(readerId, cardNumber, 'auth', pin1, tbs, 'next'),
      );
      const signCsr = await this.withPin(
        operation,
        'pin2',
        (pin2) =>
          buildCsr(sign.spki, spec, subject, (tbs) =>
            this.backend.sign(readerId, cardNumber, 'sign', pin2, tbs, 'next'),
          ),
        pins,
      );
      return {
        cardNumber,
        keys,
        bureauCertificate: Buffer.from(proof.certificate).toString('base64'),
        cardSignature: Buffer.from(proof.signature).toString('base64'),
        authCsr: authCsr.toString('pem'),
        signCsr: signCsr.toString('pem'),
      };
    });
  }

  /**
   * Förlängning's card work after the certificates: the new certificates written next to the new
   * keys, then the old keys and certificates removed and the new ones made the card's. Within the
   * renewal that made the keys no PIN is asked again.
   */
  async renewCertificates(
    token: string,
    readerId: ReaderId,
    certificates: { readonly auth: Uint8Array; readonly sign: Uint8Array },
  ): Promise<OperationView> {
    const cardNumber = await this.bind(token, readerId);
    const pins = await this.pinStatus(readerId);
    return this.start('renew-certificates', readerId, cardNumber, null, async (operation) => {
      const renewal = this.renewals.get(cardNumber);
      const run = async (pin1: string) => {
        await this.backend.writeCertificate(readerId, cardNumber, 'auth', pin1, certificates.auth, 'next');
        await this.backend.writeCertificate(readerId, cardNumber, 'sign', pin1, certificates.sign, 'next');
        await this.backend.promoteNextKeys(readerId, cardNumber, pin1);
        this.renewals.delete(cardNumber);
        return { cardNumber };
      };
      if (renewal && renewal.readerId === readerId && renewal.expiresAt > this.now())
        return run(renewal.pin1);
      return this.withPin(operation, 'pin1', run, pins);
    });
  }

  /** The card's PIN counters, read before an operation starts (null when the card cannot say). */
  private pinStatus(readerId: ReaderId): Promise<PinStatus | null> {
    return this.backend.cardInfo(readerId).then(
      (info) => info.pins,
      () => null,
    );
  }

  private async withEnrolmentPin<T>(
    operation: Operation,
    run: (pin1: string) => Promise<T>,
    pins: PinStatus | null,
  ): Promise<T> {
    const enrolment = this.enrolments.get(operation.cardNumber);
    if (enrolment && enrolment.readerId === operation.readerId && enrolment.expiresAt > this.now()) {
      return run(enrolment.pin1);
    }
    return this.withPin(operation, 'pin1', run, pins);
  }

  /** Writes the issued certificates next to their keys; within an enrolment, no new PIN is asked. */
  async writeCertificates(
    token: string,
    readerId: ReaderId,
    certificates: { readonly auth: Uint8Array; readonly sign: Uint8Array },
    flowId: string | null,
  ): Promise<OperationView> {
    const cardNumber = await this.boundCard(token, readerId);
    const pins = await this.pinStatus(readerId);
    return this.start('write-certificates', readerId, cardNumber, flowId, (operation) =>
      this.withEnrolmentPin(
        operation,
        async (pin1) => {
          await this.backend.writeCertificate(readerId, cardNumber, 'auth', pin1, certificates.auth);
          await this.backend.writeCertificate(readerId, cardNumber, 'sign', pin1, certificates.sign);
          this.enrolments.delete(cardNumber);
          this.recordFlow(flowId, { type: 'certificates-written', at: this.now() });
          return { cardNumber };
        },
        pins,
      ),
    );
  }

  /** Removes the keys and certificates of a failed attempt so the card can be issued again. */
  async clean(token: string, readerId: ReaderId, flowId: string | null): Promise<OperationView> {
    const cardNumber = await this.bind(token, readerId);
    const pins = await this.pinStatus(readerId);
    return this.start('clean', readerId, cardNumber, flowId, (operation) =>
      this.withEnrolmentPin(
        operation,
        async (pin1) => {
          await this.backend.clean(readerId, cardNumber, pin1);
          this.enrolments.delete(cardNumber);
          return { cardNumber };
        },
        pins,
      ),
    );
  }

  /**
   * Changes PIN 1 or PIN 2 of the card in the reader. The agent's own dialog asks for the current
   * PIN and the new one twice; none of them leaves the agent. The result gives the card's PIN
   * state after the change (tries left).
   */
  async changePin(token: string, readerId: ReaderId, pin: PinId): Promise<OperationView> {
    const cardNumber = await this.bind(token, readerId);
    const pins = await this.pinStatus(readerId);
    return this.start('change-pin', readerId, cardNumber, null, async (operation) => {
      await this.withPin(
        operation,
        pin,
        (current, newPin) => this.backend.changePin(readerId, cardNumber, pin, current, newPin),
        pins,
        'change',
      );
      return { cardNumber, pin, pins: await this.pinStatus(readerId) };
    });
  }

  /**
   * Unblocks PIN 1 or PIN 2 with the PUK (a PIN that is not blocked may be reset the same way).
   * The dialog asks for the PUK and the new PIN twice; a wrong PUK counts down in the dialog
   * (PUK_INCORRECT with tries left), and more than ten wrong ones lock the card (CARD_LOCKED).
   */
  async unblockPin(token: string, readerId: ReaderId, pin: PinId): Promise<OperationView> {
    const cardNumber = await this.bind(token, readerId);
    const pins = await this.pinStatus(readerId);
    return this.start('unblock-pin', readerId, cardNumber, null, async (operation) => {
      await this.withPin(
        operation,
        pin,
        (puk, newPin) => this.backend.unblockPin(readerId, cardNumber, pin, puk, newPin),
        pins,
        'unblock',
      );
      return { cardNumber, pin, pins: await this.pinStatus(readerId) };
    });
  }

  // --- the station -----------------------------------------------------------------------------

  stationView(token: string): StationView {
    this.session(token);
    return this.requireStation().describe();
  }

  async stationCsr(token: string, name: string): Promise<{ csr: string; proposedId: string }> {
    this.session(token);
    return this.requireStation().csr(name);
  }

  installStationCertificate(token: string, pem: string): StationView {
    this.session(token);
    return this.requireStation().installCertificate(pem);
  }

  private requireStation(): StationIdentity {
    if (this.station === null) {
      throw new AgentError('STATION_NOT_REGISTERED', 'this card agent keeps no station identity', {
        reason: 'no station folder',
      });
    }
    return this.station;
  }

  /** A statement of one of the agent's own facts, signed by the station key. */
  async statement(token: string, request: StatementRequest): Promise<SignedStatement> {
    this.session(token);
    await this.ready;
    return this.statements.statement(request);
  }

  /** Training mode: sign with an unregistered key, or spoil the next signature. */
  simulateStation(change: Partial<StationSimulation>): StationSimulation {
    return this.statements.simulate(change);
  }

  async close(): Promise<void> {
    this.unsubscribe();
    for (const operation of this.operations.values()) {
      this.fail(operation, new AgentError('CARD_ERROR', 'the agent is stopping', { reason: 'stopping' }));
    }
    this.listeners.clear();
    await this.backend.close();
  }
}
