import type { ErrorCode } from '../error-code.js';
import type { CardNumber } from '../identifiers/card-number.js';
import { type DomainError, type ErrorDetails, err, ok, type Result } from '../result.js';
import type { Instant } from '../time.js';
import { type ControlId, findControl } from './flow-controls.js';
import type { FlowEvent, FlowEventType, ReaderSlot } from './flow-event.js';
import { checkFlowEvent } from './flow-event-check.js';
import {
  DEFAULT_FLOW_CONFIG,
  type FlowConfig,
  type FlowState,
  isEnded,
  type ReaderState,
  reserveReader,
  sceneOf,
  type TimelineEntry,
} from './flow-state.js';
import { twoReadersThroughout } from './reader-log.js';

/** RFC 5280 reasons the flow asks for. */
export type FlowRevocationReason = 'cessationOfOperation' | 'keyCompromise';

/** Work the flow asks of the server and the agent; the state already assumes it is done. */
export type FlowEffect =
  | { readonly type: 'start-order'; readonly orderId: string }
  | { readonly type: 'complete-order'; readonly orderId: string }
  | { readonly type: 'release-order'; readonly orderId: string }
  | {
      readonly type: 'revoke-certificates';
      readonly serials: readonly string[];
      readonly reason: FlowRevocationReason;
    }
  /** Remove the keys and objects of a failed attempt so the reserve card can be used again. */
  | { readonly type: 'clean-card'; readonly cardNumber: CardNumber };

export interface FlowTransition {
  readonly state: FlowState;
  readonly raised: readonly DomainError[];
  /** The timeline entry this event added; null for a tick where nothing happened. */
  readonly entry: TimelineEntry | null;
  readonly effects: readonly FlowEffect[];
}

/** What a handler decides, before the timeline entry is written. */
interface Outcome {
  readonly state: FlowState;
  readonly raised?: readonly DomainError[];
  readonly effects?: readonly FlowEffect[];
  readonly details?: ErrorDetails;
  /** Nothing happened (a quiet tick): no timeline entry. */
  readonly quiet?: boolean;
}

type EventOf<T extends FlowEventType> = Extract<FlowEvent, { type: T }>;

/** Clicks and the control that must be enabled for them. */
const CLICK_CONTROLS: Partial<Record<FlowEventType, ControlId>> = {
  'logged-in': 'login',
  'manage-orders': 'manage-orders',
  searched: 'search',
  'order-selected': 'select-order',
  signed: 'sign',
  'handover-confirmed': 'confirm-handover',
  'terms-accepted': 'accept-terms',
  'download-requested': 'start-download',
  acknowledged: 'acknowledge',
};

const outOfOrder = (state: FlowState, event: FlowEvent) =>
  err('EVENT_OUT_OF_ORDER', { event: event.type, step: state.step });

/** Revoke what was issued and clean the card: the tidy-up after any failure from step 6 on. */
const cleanup = (state: FlowState, reason: FlowRevocationReason = 'cessationOfOperation'): FlowEffect[] => {
  const effects: FlowEffect[] = [];
  if (state.issuedSerials.length > 0) {
    effects.push({ type: 'revoke-certificates', serials: state.issuedSerials, reason });
  }
  if (state.order !== null && (state.step >= 6 || state.download !== null)) {
    effects.push({ type: 'clean-card', cardNumber: state.order.cardNumber });
  }
  return effects;
};

/**
 * The card clean-up a flow that stopped from step 6 on still offers, for a page that did not see
 * the answer which ended it (the sweeper, a cancelled order, another window).
 */
export const cleanUpOffered = (state: FlowState): FlowEffect[] => {
  const stopped =
    state.status === 'aborted' || state.status === 'ack-timeout-revoked' || state.fault !== null;
  if (!stopped || state.order === null || state.step < 6) return [];
  return [{ type: 'clean-card', cardNumber: state.order.cardNumber }];
};

/** A fault stops the flow until restart; from step 6 on it also tidies up. */
const fault = (state: FlowState, code: ErrorCode, details?: ErrorDetails): Outcome => {
  const error: DomainError = details === undefined ? { code } : { code, details };
  const effects = cleanup(state);
  return {
    state: { ...state, fault: error, pending: null, download: null, issuedSerials: [] },
    raised: [error],
    effects,
    details: effects.length > 0 ? { cleanedUp: true } : {},
  };
};

const ackTimeout = (state: FlowState): Outcome => {
  const effects = cleanup(state);
  if (state.order !== null) effects.push({ type: 'release-order', orderId: state.order.orderId });
  return {
    state: { ...state, status: 'ack-timeout-revoked', issuedSerials: [] },
    raised: [{ code: 'ACK_TIMEOUT', details: { deadline: state.deadline ?? 0 } }],
    effects,
  };
};

/** Consequences of a card leaving a reader (removed, or its reader unplugged). */
const cardLeft = (state: FlowState, reader: ReaderSlot, at: Instant): Outcome => {
  const hadCard = state.readers[reader].card !== null;
  const login = state.login;
  if (hadCard && login !== null && reader === login.reader && state.loginCardRemovedAt === null) {
    const next = { ...state, loginCardRemovedAt: at };
    return { state: next, raised: [{ code: 'CARD_REINSERTED', details: { removedAt: at } }] };
  }
  if (hadCard && state.step === 6 && state.fault === null && reader === reserveReader(state)) {
    return fault(state, 'CARD_REMOVED_DURING_DOWNLOAD', { reader });
  }
  return { state };
};

const withReader = (state: FlowState, reader: ReaderSlot, patch: Partial<ReaderState>): FlowState => ({
  ...state,
  readers: { ...state.readers, [reader]: { ...state.readers[reader], ...patch } },
});

const onReaderUnplugged = (state: FlowState, e: EventOf<'reader-unplugged'>): Outcome => {
  const left = cardLeft(state, e.reader, e.at);
  const next = withReader(left.state, e.reader, { connected: false, card: null });
  return {
    ...left,
    state: next,
    raised: [{ code: 'READERS_MISSING', details: { missing: String(e.reader) } }, ...(left.raised ?? [])],
    details: { reader: e.reader, ...left.details },
  };
};

const onCardInserted = (state: FlowState, e: EventOf<'card-inserted'>): Result<Outcome> => {
  if (!state.readers[e.reader].connected)
    return err('EVENT_OUT_OF_ORDER', { reason: 'reader-not-connected' });
  const owner = e.owner === undefined ? {} : { owner: e.owner };
  const next = withReader(state, e.reader, { card: { cardNumber: e.cardNumber, ...owner } });
  const details = { reader: e.reader, cardNumber: e.cardNumber ?? '', ...owner };
  const raised: DomainError[] = [];
  const login = state.login;
  if (login !== null && e.reader === login.reader && state.loginCardRemovedAt !== null) {
    raised.push({ code: 'CARD_REINSERTED', details: { removedAt: state.loginCardRemovedAt } });
  }
  const order = state.order;
  if (
    order !== null &&
    state.step >= 4 &&
    e.reader === reserveReader(state) &&
    e.cardNumber !== order.cardNumber
  ) {
    raised.push({
      code: 'WRONG_CARD',
      details: { expected: order.cardNumber, actual: e.cardNumber ?? '', ...owner },
    });
  }
  return ok({ state: next, raised, details });
};

const onLoggedIn = (state: FlowState, e: EventOf<'logged-in'>): Result<Outcome> => {
  if (state.readers[e.reader].card?.cardNumber !== e.cardNumber) {
    return err('EVENT_OUT_OF_ORDER', { reason: 'login-card-not-in-reader' });
  }
  const login = {
    admin: e.admin,
    assuranceLevel: e.assuranceLevel,
    cardNumber: e.cardNumber,
    reader: e.reader,
    at: e.at,
  };
  const raised: DomainError[] = e.assuranceLevel === 'LoA3' ? [] : [{ code: 'LOA2_LOGIN' }];
  return ok({
    state: { ...state, step: 1, login },
    raised,
    details: { admin: e.admin, assuranceLevel: e.assuranceLevel, reader: e.reader, cardNumber: e.cardNumber },
  });
};

const onSigned = (state: FlowState, e: EventOf<'signed'>): Outcome => {
  const login = state.login;
  if (e.outcome === 'ok' && e.cardNumber !== login?.cardNumber) {
    // The page claims a signature from another card than the one the session logged in with.
    return {
      state,
      raised: [{ code: 'CARD_REINSERTED', details: { removedAt: state.loginCardRemovedAt ?? e.at } }],
    };
  }
  if (e.outcome === 'failed') {
    const failures = state.signFailures + 1;
    const next = { ...state, signFailures: failures };
    if (failures >= 2) return fault(next, 'SIGN_FAILED', { attempt: failures });
    return { state: next, raised: [{ code: 'SIGN_FAILED', details: { attempt: failures } }] };
  }
  const order = state.order;
  if (order === null) return { state };
  // Step 4 opens with a card already in the reserve reader (the previous recipient's, left there):
  // a wrong one is recorded now, as if it had been inserted at this step.
  const reader = reserveReader(state);
  const card = state.readers[reader].card;
  const raised: DomainError[] =
    card !== null && card.cardNumber !== order.cardNumber
      ? [
          {
            code: 'WRONG_CARD',
            details: {
              expected: order.cardNumber,
              actual: card.cardNumber ?? '',
              reader,
              ...(card.owner === undefined ? {} : { owner: card.owner }),
            },
          },
        ]
      : [];
  return {
    state: { ...state, step: 4 },
    raised,
    effects: [{ type: 'start-order', orderId: order.orderId }],
    details: { outcome: e.outcome },
  };
};

const onHandoverVerified = (state: FlowState, e: EventOf<'handover-verified'>): Outcome => {
  const expected = state.order?.cardNumber;
  const cleared = { ...state, pending: null };
  if (e.cardNumber !== expected) {
    return {
      state: cleared,
      raised: [{ code: 'WRONG_CARD', details: { expected: expected ?? '', actual: e.cardNumber } }],
    };
  }
  return { state: { ...cleared, step: 5 }, details: { cardNumber: e.cardNumber } };
};

const dialogCode = (dialog: 'auth' | 'sign'): ErrorCode =>
  dialog === 'auth' ? 'AUTH_DIALOG_NOT_SHOWN' : 'SIGN_DIALOG_NOT_SHOWN';

/** Timeouts a clock tick can find: the deadline, a stuck button, a PIN dialog that never came. */
const onTick = (state: FlowState, at: Instant, config: FlowConfig): Outcome => {
  if (state.fault !== null) return { state, quiet: true };
  if (state.step === 7 && state.deadline !== null && at >= state.deadline) return ackTimeout(state);
  const pending = state.pending;
  if (pending !== null && at - pending.since >= config.stuckAfterMs) {
    const readers = twoReadersThroughout(state);
    return fault(state, pending.action === 'handover' ? 'HANDOVER_STUCK' : 'DOWNLOAD_START_STUCK', {
      twoReadersThroughout: readers.throughout,
      waitedMs: at - pending.since,
    });
  }
  const download = state.download;
  const waiting = download !== null && (download.phase === 'dialogs' || download.phase === 'key-generation');
  if (waiting && at - download.since >= config.dialogTimeoutMs) {
    if (download.dialogs.auth === 'waiting') {
      return fault(state, 'AUTH_DIALOG_NOT_SHOWN', { waitedMs: at - download.since });
    }
    // Key generation itself may take long on a real card: only once keys exist is PIN 2 overdue.
    if (
      download.phase === 'dialogs' &&
      download.dialogs.auth === 'completed' &&
      download.dialogs.sign === 'waiting'
    ) {
      return fault(state, 'SIGN_DIALOG_NOT_SHOWN', { waitedMs: at - download.since });
    }
  }
  return { state, quiet: true };
};

const onAborted = (state: FlowState, e: EventOf<'aborted'>): Outcome => {
  const effects = cleanup(state);
  const cancelled = e.reason === 'order-cancelled';
  // A cancelled order is not put back: the cancel changes it in the same breath.
  if (state.order !== null && state.step >= 4 && !cancelled)
    effects.push({ type: 'release-order', orderId: state.order.orderId });
  const cleaned = effects.some((effect) => effect.type === 'clean-card');
  return {
    state: { ...state, status: 'aborted', issuedSerials: [], pending: null, download: null },
    raised: cancelled ? [{ code: 'ORDER_CANCELLED' }] : [],
    effects,
    details: { reason: e.reason, ...(cleaned ? { cleanedUp: true } : {}) },
  };
};

/** A second claim in one flow: its certificates are issued once, whoever asks again. */
const onIssuanceClaimed = (state: FlowState, e: EventOf<'issuance-claimed'>): Result<Outcome> => {
  if (state.issuance != null) {
    return err('CERTIFICATES_ALREADY_REQUESTED', { attempt: state.issuance.attempt });
  }
  const download = state.download;
  if (
    download?.phase !== 'dialogs' ||
    download.dialogs.auth !== 'completed' ||
    download.dialogs.sign !== 'completed'
  ) {
    return outOfOrder(state, e);
  }
  // A flow claims once; a new attempt is a new flow (restart). The number keeps the claim's key.
  const attempt = 1;
  return ok({
    state: {
      ...state,
      issuance: { attempt, claimedAt: e.at },
      download: { ...download, phase: 'issuing', since: e.at },
    },
    details: { attempt },
  });
};

/** The step-specific part: the event is known to be allowed in this state. */
const handle = (state: FlowState, event: FlowEvent, config: FlowConfig): Result<Outcome> => {
  const download = state.download;
  switch (event.type) {
    case 'reader-plugged': {
      const next = withReader(state, event.reader, { connected: true });
      // A reader back after a gap during the card's part (steps 4–6): the flow ran with one reader
      // and cannot be trusted further. Recorded now, on the timeline, not at the next click.
      const readers = twoReadersThroughout(next);
      if (next.step >= 4 && next.step <= 6 && next.fault === null && !readers.throughout) {
        const gap = { gaps: readers.gaps.length, reader: readers.gaps[0]?.reader ?? event.reader };
        const failed = fault(next, 'ONE_READER_USED', gap);
        return ok({ ...failed, details: { reader: event.reader, ...failed.details } });
      }
      return ok({ state: next, details: { reader: event.reader } });
    }
    case 'reader-unplugged':
      return ok(onReaderUnplugged(state, event));
    case 'card-inserted':
      return onCardInserted(state, event);
    case 'card-removed': {
      const left = cardLeft(state, event.reader, event.at);
      return ok({
        ...left,
        state: withReader(left.state, event.reader, { card: null }),
        details: { reader: event.reader, ...left.details },
      });
    }
    case 'logged-in':
      return state.step === 0 ? onLoggedIn(state, event) : outOfOrder(state, event);
    case 'manage-orders':
      return ok({ state: { ...state, step: 2 } });
    case 'searched': {
      const details = { queryKind: event.queryKind, hit: event.hit !== null };
      const raised = event.codes.map((code): DomainError => ({ code }));
      return ok({ state: { ...state, candidate: event.hit }, raised, details });
    }
    case 'order-selected':
      return ok({
        state: { ...state, step: 3, order: state.candidate },
        details: { orderId: state.candidate?.orderId ?? '' },
      });
    case 'signed':
      return ok(onSigned(state, event));
    case 'handover-confirmed':
      return ok({ state: { ...state, pending: { action: 'handover', since: event.at } } });
    case 'handover-verified':
      return state.pending?.action === 'handover'
        ? ok(onHandoverVerified(state, event))
        : outOfOrder(state, event);
    case 'terms-accepted':
      return ok({
        state: { ...state, termsAccepted: event.accepted },
        details: { accepted: event.accepted },
      });
    case 'download-requested':
      return ok({ state: { ...state, pending: { action: 'download', since: event.at } } });
    case 'key-generation-started':
      if (state.pending?.action !== 'download') return outOfOrder(state, event);
      return ok({
        state: {
          ...state,
          step: 6,
          pending: null,
          download: {
            phase: 'key-generation',
            since: event.at,
            dialogs: { auth: 'waiting', sign: 'waiting' },
          },
        },
      });
    case 'keys-generated':
      if (download?.phase !== 'key-generation') return outOfOrder(state, event);
      return ok({ state: { ...state, download: { ...download, phase: 'dialogs', since: event.at } } });
    case 'card-refused':
      // Only where a card proves itself: at the handover it confirmed, or during its download.
      if (state.pending?.action !== 'handover' && download === null) return outOfOrder(state, event);
      return ok(fault(state, event.code, { reason: event.reason.slice(0, 200) }));
    case 'dialog-shown':
    case 'dialog-completed': {
      // A card asks for PIN 1 before it generates keys, so dialogs may come before keys-generated.
      if (download?.phase !== 'dialogs' && download?.phase !== 'key-generation')
        return outOfOrder(state, event);
      const value = event.type === 'dialog-shown' ? 'shown' : 'completed';
      const dialogs = { ...download.dialogs, [event.dialog]: value };
      return ok({
        state: { ...state, download: { ...download, dialogs, since: event.at } },
        details: { dialog: event.dialog },
      });
    }
    case 'dialog-cancelled':
      if (download === null) return outOfOrder(state, event);
      return ok(fault(state, 'PIN_DIALOG_CANCELLED', { dialog: event.dialog }));
    case 'dialog-not-shown':
      if (download === null) return outOfOrder(state, event);
      return ok(fault(state, dialogCode(event.dialog), { dialog: event.dialog }));
    case 'issuance-claimed':
      return onIssuanceClaimed(state, event);
    case 'certificates-issued':
      // Only under the flow's claim, and only once: the serials bind what the claim issued.
      if (download?.phase !== 'issuing' || state.issuance == null || state.issuedSerials.length > 0) {
        return outOfOrder(state, event);
      }
      return ok({
        state: {
          ...state,
          issuedSerials: event.serials,
          download: { ...download, phase: 'writing', since: event.at },
        },
        details: { serials: event.serials.join(',') },
      });
    case 'certificates-written':
      // A flow stored before claims existed waits in `issuing` with its serials already bound.
      if (download?.phase !== 'writing' && !(download?.phase === 'issuing' && state.issuedSerials.length > 0))
        return outOfOrder(state, event);
      return ok({
        state: { ...state, step: 7, download: null, deadline: event.at + config.ackWindowMs },
        details: { deadline: event.at + config.ackWindowMs },
      });
    case 'download-failed':
      if (state.step !== 6 && state.pending?.action !== 'download') return outOfOrder(state, event);
      // A PIN blocked in the dialog is said as such: the card needs its PUK before anything else.
      return ok(
        fault(state, event.reason === 'PIN_BLOCKED' ? 'PIN_BLOCKED' : 'DOWNLOAD_FAILED', {
          reason: event.reason.slice(0, 200),
        }),
      );
    case 'acknowledged': {
      const order = state.order;
      if (event.cardNumber !== order?.cardNumber) {
        return ok({
          state,
          raised: [
            { code: 'WRONG_CARD', details: { expected: order?.cardNumber ?? '', actual: event.cardNumber } },
          ],
        });
      }
      return ok({
        state: { ...state, status: 'completed' },
        effects: [{ type: 'complete-order', orderId: order.orderId }],
      });
    }
    case 'deadline-passed':
      if (state.step !== 7 || state.deadline === null || event.at < state.deadline)
        return outOfOrder(state, event);
      return ok(ackTimeout(state));
    case 'tick':
      return ok(onTick(state, event.at, config));
    case 'aborted':
      return ok(onAborted(state, event));
  }
};

/**
 * What an ended flow answers every event but a tick with: ORDER_CANCELLED when its order was
 * cancelled under it, FLOW_ENDED otherwise; null while it runs.
 */
export const endedRefusal = (state: FlowState): DomainError | null => {
  if (!isEnded(state)) return null;
  const cancelled = state.status === 'aborted' && state.timeline.at(-1)?.codes.includes('ORDER_CANCELLED');
  return { code: cancelled ? 'ORDER_CANCELLED' : 'FLOW_ENDED', details: { status: state.status } };
};

/** Checks a click against its control; a disabled control refuses it with its reason. */
const gateClick = (state: FlowState, event: FlowEvent): Result<Outcome | null> => {
  const controlId = CLICK_CONTROLS[event.type];
  if (controlId === undefined) return ok(null);
  const found = findControl(state, controlId, event.at);
  if (found === undefined) return state.login === null ? err('NOT_LOGGED_IN') : outOfOrder(state, event);
  if (found.enabled) return ok(null);
  const reason = found.reason;
  if (reason.code === 'ACK_TIMEOUT') return ok(ackTimeout(state));
  // A flow that lost a reader on the way cannot be trusted further: it must start again.
  if (reason.code === 'ONE_READER_USED' && state.fault === null)
    return ok(fault(state, 'ONE_READER_USED', reason.details));
  return ok({ state, raised: [reason], details: { refused: controlId } });
};

/**
 * The issuance flow's one transition function: the new state, the codes raised, the timeline
 * entry, and the effects for the server and agent. An event that makes no sense in the current
 * state is refused with EVENT_OUT_OF_ORDER (or FLOW_ENDED) and changes nothing.
 */
export const applyFlowEvent = (
  state: FlowState,
  input: FlowEvent,
  config: FlowConfig = DEFAULT_FLOW_CONFIG,
): Result<FlowTransition> => {
  // Events may arrive as data from the page or the agent: check the shape before trusting it.
  const checked = checkFlowEvent(input);
  if (!checked.ok) return checked;
  const event = checked.value;
  const ended = endedRefusal(state);
  if (ended !== null) {
    if (event.type === 'tick') return ok({ state, raised: [], entry: null, effects: [] });
    return { ok: false, error: ended };
  }
  const gated = gateClick(state, event);
  if (!gated.ok) return gated;
  let outcome: Outcome;
  if (gated.value !== null) {
    outcome = gated.value;
  } else {
    const handled = handle(state, event, config);
    if (!handled.ok) return handled;
    outcome = handled.value;
  }
  if (outcome.quiet) return ok({ state: outcome.state, raised: [], entry: null, effects: [] });
  const raised = outcome.raised ?? [];
  const details: Record<string, string | number | boolean> = { ...outcome.details };
  for (const error of raised) Object.assign(details, error.details);
  const entry: TimelineEntry = {
    at: event.at,
    step: state.step,
    event: event.type,
    codes: raised.map((e) => e.code),
    ...(Object.keys(details).length > 0 ? { details } : {}),
  };
  const scened: TimelineEntry = { ...entry, scene: sceneOf(outcome.state) };
  return ok({
    state: { ...outcome.state, timeline: [...outcome.state.timeline, scened] },
    raised,
    entry: scened,
    effects: outcome.effects ?? [],
  });
};
