import type { ErrorCode } from '../error-code.js';
import type { DomainError } from '../result.js';
import type { Instant } from '../time.js';
import type { ReaderSlot } from './flow-event.js';
import { type FlowState, reserveReader } from './flow-state.js';
import { twoReadersThroughout } from './reader-log.js';

/** Every control the flow's screens have; labels live in the language catalogues. */
export const CONTROL_IDS = [
  'login',
  'manage-orders',
  'search',
  'select-order',
  'sign',
  'logout-restart',
  'confirm-handover',
  'accept-terms',
  'start-download',
  'acknowledge',
  'restart',
  'send-support-case',
] as const;

export type ControlId = (typeof CONTROL_IDS)[number];

/** A control on the current screen: enabled, or disabled with the reason to show next to it. */
export type Control =
  | { readonly id: ControlId; readonly enabled: true }
  | { readonly id: ControlId; readonly enabled: false; readonly reason: DomainError };

const enabled = (id: ControlId): Control => ({ id, enabled: true });

/** The first reason that applies wins: the order of checks is the order of explanations. */
const control = (id: ControlId, ...checks: (() => DomainError | null)[]): Control => {
  for (const check of checks) {
    const reason = check();
    if (reason !== null) return { id, enabled: false, reason };
  }
  return enabled(id);
};

const readersMissing = (state: FlowState): DomainError | null => {
  const missing = ([1, 2] as const).filter((r) => !state.readers[r].connected);
  return missing.length === 0 ? null : { code: 'READERS_MISSING', details: { missing: missing.join(',') } };
};

/** The login card left its reader: the session may no longer act. Then: readers missing. */
const sessionBroken = (state: FlowState): DomainError | null =>
  state.loginCardRemovedAt !== null
    ? { code: 'CARD_REINSERTED', details: { removedAt: state.loginCardRemovedAt } }
    : readersMissing(state);

const oneReaderUsed = (state: FlowState): DomainError | null => {
  const answer = twoReadersThroughout(state);
  if (answer.throughout) return null;
  const first = answer.gaps[0];
  return { code: 'ONE_READER_USED', details: { gaps: answer.gaps.length, reader: first?.reader ?? 0 } };
};

const reserveCardProblem = (state: FlowState): DomainError | null => {
  const slot: ReaderSlot = reserveReader(state);
  const card = state.readers[slot].card;
  if (card === null) return { code: 'RESERVE_CARD_MISSING', details: { reader: slot } };
  const expected = state.order?.cardNumber;
  if (expected !== undefined && card.cardNumber !== expected) {
    const owner = card.owner === undefined ? {} : { owner: card.owner };
    return {
      code: 'WRONG_CARD',
      details: { expected, actual: card.cardNumber ?? '', reader: slot, ...owner },
    };
  }
  return null;
};

const pending = (state: FlowState): DomainError | null =>
  state.pending === null ? null : { code: 'ACTION_PENDING', details: { action: state.pending.action } };

const lastSearchReason = (state: FlowState): DomainError => {
  const last = [...state.timeline].reverse().find((entry) => entry.event === 'searched');
  const code: ErrorCode = last?.codes.find((c) => c !== 'PNR_FORMAT') ?? 'NO_ORDER';
  return { code };
};

const stepControls = (state: FlowState, at: Instant): Control[] => {
  const session = () => sessionBroken(state);
  switch (state.step) {
    case 0:
      return [control('login', () => readersMissing(state))];
    case 1:
      return [
        control('manage-orders', session, () =>
          state.login?.assuranceLevel === 'LoA3' ? null : { code: 'LOA2_LOGIN' },
        ),
      ];
    case 2:
      return [
        control('search', session),
        control('select-order', session, () => (state.candidate === null ? lastSearchReason(state) : null)),
      ];
    case 3:
      return [control('sign', session), enabled('logout-restart')];
    case 4:
      return [
        control(
          'confirm-handover',
          session,
          () => oneReaderUsed(state),
          () => reserveCardProblem(state),
          () => pending(state),
        ),
      ];
    case 5:
      return [
        control('accept-terms', session, () => pending(state)),
        control(
          'start-download',
          session,
          () => oneReaderUsed(state),
          () => reserveCardProblem(state),
          () => (state.termsAccepted ? null : { code: 'TERMS_NOT_ACCEPTED' }),
          () => pending(state),
        ),
      ];
    case 6:
      return [];
    case 7:
      return [
        control(
          'acknowledge',
          () =>
            state.deadline !== null && at >= state.deadline
              ? { code: 'ACK_TIMEOUT', details: { deadline: state.deadline } }
              : null,
          session,
          () => reserveCardProblem(state),
        ),
      ];
  }
};

/**
 * Every control on the current screen at `at`, enabled or disabled with its reason. The server
 * refuses any click whose control this says is disabled; the page only draws what this says.
 */
export const flowControls = (state: FlowState, at: Instant): readonly Control[] => {
  switch (state.status) {
    case 'completed':
      return [enabled('send-support-case')];
    case 'aborted':
      return [enabled('restart')];
    case 'ack-timeout-revoked':
      return [enabled('restart'), enabled('send-support-case')];
    case 'active':
      break;
  }
  const controls = stepControls(state, at);
  const fault = state.fault;
  if (fault === null) return controls;
  const blocked: Control[] = controls.map((c) => ({ id: c.id, enabled: false, reason: fault }));
  return [...blocked, enabled('restart'), enabled('send-support-case')];
};

export const findControl = (state: FlowState, id: ControlId, at: Instant): Control | undefined =>
  flowControls(state, at).find((c) => c.id === id);
