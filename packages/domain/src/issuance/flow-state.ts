import type { AssuranceLevel } from '../assurance-level.js';
import type { ErrorCode } from '../error-code.js';
import type { CardNumber } from '../identifiers/card-number.js';
import type { HsaId } from '../identifiers/hsa-id.js';
import type { ErrorDetails } from '../result.js';
import { type Instant, MINUTE } from '../time.js';
import type { CardOwner, FlowEventType, FlowOrder, PinDialog, ReaderSlot } from './flow-event.js';

/** 0 is the login screen; 1–7 are the seven steps of SPEC §3. */
export type Step = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

export type FlowStatus = 'active' | 'completed' | 'ack-timeout-revoked' | 'aborted';

export interface ReaderState {
  readonly connected: boolean;
  /**
   * The card in the reader; `cardNumber` null for a card whose number could not be read, `owner`
   * whose card it is where the server knows it.
   */
  readonly card: { readonly cardNumber: CardNumber | null; readonly owner?: CardOwner } | null;
}

export type Readers = { readonly [R in ReaderSlot]: ReaderState };

export interface LoginInfo {
  readonly admin: HsaId;
  readonly assuranceLevel: AssuranceLevel;
  readonly cardNumber: CardNumber;
  /** The reader holding admin 2's card; the other one takes the reserve card. */
  readonly reader: ReaderSlot;
  readonly at: Instant;
}

export type DialogState = 'waiting' | 'shown' | 'completed' | 'cancelled';

export interface DownloadState {
  /** `issuing`: the server claimed the issuance and is signing; `writing`: issued, being written. */
  readonly phase: 'key-generation' | 'dialogs' | 'issuing' | 'writing';
  /** When the current expectation started, for "the dialog never appeared". */
  readonly since: Instant;
  readonly dialogs: { readonly [D in PinDialog]: DialogState };
}

/**
 * What the administrator's screen showed right after a timeline entry: the step, both readers with
 * the card in each and whose it is, the PIN dialogs, the fault. A replay plays these back; entries
 * recorded before scenes existed lack one, and the replay says so instead of guessing.
 */
export interface TimelineScene {
  readonly step: Step;
  readonly status: FlowStatus;
  readonly readers: Readers;
  readonly download: {
    readonly phase: DownloadState['phase'];
    readonly dialogs: DownloadState['dialogs'];
  } | null;
  readonly pending: FlowState['pending'];
  readonly fault: ErrorCode | null;
  readonly deadline: Instant | null;
}

/** One line of the flow's timeline: what happened, at which step, and the codes raised. */
export interface TimelineEntry {
  readonly at: Instant;
  readonly step: Step;
  /** `station-reported`: a card station's report on the login screen, in a case filed before login. */
  readonly event: FlowEventType | 'flow-started' | 'station-reported';
  readonly codes: readonly ErrorCode[];
  readonly details?: ErrorDetails;
  /** The scene after the entry; absent in entries recorded before scenes were kept. */
  readonly scene?: TimelineScene;
}

export interface FlowState {
  readonly flowId: string;
  readonly status: FlowStatus;
  readonly step: Step;
  readonly readers: Readers;
  readonly login: LoginInfo | null;
  /** First removal of the login card since login: ends the session's right to sign. */
  readonly loginCardRemovedAt: Instant | null;
  /** The last search's hit, waiting to be selected. */
  readonly candidate: FlowOrder | null;
  readonly order: FlowOrder | null;
  readonly signFailures: number;
  readonly termsAccepted: boolean;
  /** A click waiting for the agent: the lit button that may not advance (HANDOVER_STUCK...). */
  readonly pending: { readonly action: 'handover' | 'download'; readonly since: Instant } | null;
  readonly download: DownloadState | null;
  /**
   * The server's claim to issue this flow's certificates (attempt 1 is the first), recorded before
   * anything is signed; null until claimed. Flows stored before claims existed lack it.
   */
  readonly issuance: { readonly attempt: number; readonly claimedAt: Instant } | null;
  readonly issuedSerials: readonly string[];
  readonly deadline: Instant | null;
  /** A fault that stops the flow until it is restarted, with its details. */
  readonly fault: { readonly code: ErrorCode; readonly details?: ErrorDetails } | null;
  readonly timeline: readonly TimelineEntry[];
  readonly startedAt: Instant;
  /** The flow this one restarted ("Starta om utgivningen"); absent for a first attempt. */
  readonly restartOf?: string;
}

export interface FlowConfig {
  /** Time the recipient has to acknowledge the card (default 10 minutes). */
  readonly ackWindowMs: number;
  /** How long a clicked button may wait for the agent before it counts as stuck. */
  readonly stuckAfterMs: number;
  /** How long the agent may take to show a PIN dialog it is expected to show. */
  readonly dialogTimeoutMs: number;
}

export const DEFAULT_FLOW_CONFIG: FlowConfig = {
  ackWindowMs: 10 * MINUTE,
  stuckAfterMs: 30_000,
  dialogTimeoutMs: 60_000,
};

const readerDetails = (readers: Readers): ErrorDetails => ({
  reader1: readers[1].connected,
  reader2: readers[2].connected,
  card1: readers[1].card !== null,
  card2: readers[2].card !== null,
});

/** The scene a state shows, for its newest timeline entry. */
export const sceneOf = (state: FlowState): TimelineScene => ({
  step: state.step,
  status: state.status,
  readers: state.readers,
  download: state.download === null ? null : { phase: state.download.phase, dialogs: state.download.dialogs },
  pending: state.pending,
  fault: state.fault?.code ?? null,
  deadline: state.deadline,
});

/** A new flow on the login screen, with the readers as the agent reports them now. */
export const startFlow = (flowId: string, readers: Readers, at: Instant): FlowState => {
  const state = bareFlow(flowId, readers, at);
  const first = state.timeline[0];
  return first === undefined ? state : { ...state, timeline: [{ ...first, scene: sceneOf(state) }] };
};

const bareFlow = (flowId: string, readers: Readers, at: Instant): FlowState => ({
  flowId,
  status: 'active',
  step: 0,
  readers,
  login: null,
  loginCardRemovedAt: null,
  candidate: null,
  order: null,
  signFailures: 0,
  termsAccepted: false,
  pending: null,
  download: null,
  issuance: null,
  issuedSerials: [],
  deadline: null,
  fault: null,
  timeline: [{ at, step: 0, event: 'flow-started', codes: [], details: readerDetails(readers) }],
  startedAt: at,
});

/**
 * A new flow after a restart: same readers and, unless the login card left, the same login, at step 1.
 * The old flow's timeline stays with the old flow; the new one names it, so a support case can
 * show every attempt.
 */
export const restartFlow = (previous: FlowState, flowId: string, at: Instant): FlowState => {
  const fresh = { ...startFlow(flowId, previous.readers, at), restartOf: previous.flowId };
  const login = previous.login;
  if (login === null || previous.loginCardRemovedAt !== null) return fresh;
  const card = previous.readers[login.reader].card;
  if (card?.cardNumber !== login.cardNumber) return fresh;
  const resumed: FlowState = { ...fresh, step: 1, login: { ...login, at } };
  return { ...resumed, timeline: resumed.timeline.map((entry) => ({ ...entry, scene: sceneOf(resumed) })) };
};

export const isEnded = (state: FlowState): boolean => state.status !== 'active';

export const otherReader = (reader: ReaderSlot): ReaderSlot => (reader === 1 ? 2 : 1);

/** The reader the reserve card belongs in: the one admin 2 did not log in with. */
export const reserveReader = (state: FlowState): ReaderSlot =>
  state.login ? otherReader(state.login.reader) : 2;
