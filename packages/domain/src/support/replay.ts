import type { ErrorCode } from '../error-code.js';
import type { CardNumber } from '../identifiers/card-number.js';
import type { CardOwner, ReaderSlot } from '../issuance/flow-event.js';
import type { FlowStatus, Step, TimelineEntry, TimelineScene } from '../issuance/flow-state.js';
import type { ErrorDetails } from '../result.js';
import type { Instant } from '../time.js';

/**
 * Whose card a card in a reader was, said only as a role: the logged-in administrator's, the
 * recipient's (the order's reserve card), a previous recipient's, a staff member's, or unknown.
 * Never a name or a personal number, so a replay can be shown to anyone who may see the flow.
 */
export type CardRole = 'admin' | 'recipient' | 'previous-recipient' | 'staff' | 'unknown';

export const CARD_ROLES: readonly CardRole[] = [
  'admin',
  'recipient',
  'previous-recipient',
  'staff',
  'unknown',
];

export interface ReplayReader {
  readonly connected: boolean;
  readonly card: { readonly cardNumber: CardNumber | null; readonly role: CardRole } | null;
}

/** A timeline scene as a replay shows it: the readers' cards by role, nothing else of a person. */
export interface ReplayScene {
  readonly step: Step;
  readonly status: FlowStatus;
  readonly readers: { readonly [R in ReaderSlot]: ReplayReader };
  readonly download: TimelineScene['download'];
  readonly pending: TimelineScene['pending'];
  readonly fault: ErrorCode | null;
  readonly deadline: Instant | null;
}

/** One moment of a replay: a timeline entry and the screen right after it, or null where it was not recorded. */
export interface ReplayFrame {
  /** 1 for the first attempt of a restart chain; the last attempt is the flow or case itself. */
  readonly attempt: number;
  readonly flowId: string;
  readonly at: Instant;
  readonly event: TimelineEntry['event'];
  readonly step: Step;
  readonly codes: readonly ErrorCode[];
  readonly details?: ErrorDetails;
  readonly scene: ReplayScene | null;
}

/** One attempt's timeline, oldest attempt first. */
export interface ReplayAttempt {
  readonly flowId: string;
  readonly timeline: readonly TimelineEntry[];
}

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/**
 * The card admin 2 logged in with: a restarted flow resumes the login without a login entry of its
 * own, so the whole chain is asked.
 */
const loginCardOf = (attempts: readonly ReplayAttempt[]): string | null => {
  for (const attempt of [...attempts].reverse()) {
    const login = attempt.timeline.findLast((entry) => entry.event === 'logged-in');
    const card = text(login?.details?.cardNumber);
    if (card !== null) return card;
  }
  return null;
};

const OWNER_ROLES: { readonly [O in CardOwner]: CardRole } = {
  'own-login-card': 'admin',
  'previous-recipient': 'previous-recipient',
  'staff-card': 'staff',
  unknown: 'unknown',
};

/** The role of a card from what the flow knew: its login card and its order's card first, then the server's word. */
export const cardRoleOf = (
  card: { readonly cardNumber: CardNumber | null; readonly owner?: CardOwner },
  known: { readonly login: string | null; readonly reserve: string | null },
): CardRole => {
  if (card.cardNumber !== null && card.cardNumber === known.login) return 'admin';
  if (card.cardNumber !== null && card.cardNumber === known.reserve) return 'recipient';
  return card.owner === undefined ? 'unknown' : OWNER_ROLES[card.owner];
};

const sceneFor = (
  scene: TimelineScene,
  known: { readonly login: string | null; readonly reserve: string | null },
): ReplayScene => {
  const reader = (slot: ReaderSlot): ReplayReader => {
    const state = scene.readers[slot];
    return {
      connected: state.connected,
      card:
        state.card === null
          ? null
          : { cardNumber: state.card.cardNumber, role: cardRoleOf(state.card, known) },
    };
  };
  return {
    step: scene.step,
    status: scene.status,
    readers: { 1: reader(1), 2: reader(2) },
    download: scene.download,
    pending: scene.pending,
    fault: scene.fault,
    deadline: scene.deadline,
  };
};

/**
 * The frames of a replay in order: every entry of every attempt, each with its scene as recorded,
 * or null for entries recorded before scenes were kept (the replay says so; it never guesses).
 */
export const replayFrames = (
  attempts: readonly ReplayAttempt[],
  reserveCard: CardNumber | null,
): ReplayFrame[] => {
  const known = { login: loginCardOf(attempts), reserve: reserveCard };
  return attempts.flatMap((attempt, index) =>
    attempt.timeline.map(
      (entry): ReplayFrame => ({
        attempt: index + 1,
        flowId: attempt.flowId,
        at: entry.at,
        event: entry.event,
        step: entry.step,
        codes: entry.codes,
        ...(entry.details === undefined ? {} : { details: entry.details }),
        scene: entry.scene === undefined ? null : sceneFor(entry.scene, known),
      }),
    ),
  );
};

/** The details each code was last raised with across the frames, for its catalogue entry. */
export const frameCodeDetails = (frames: readonly ReplayFrame[], code: ErrorCode): ErrorDetails =>
  frames.findLast((frame) => frame.codes.includes(code) && frame.details !== undefined)?.details ?? {};

/** Every code the frames raised, in order of first appearance. */
export const frameCodes = (frames: readonly ReplayFrame[]): ErrorCode[] => [
  ...new Set(frames.flatMap((frame) => frame.codes)),
];
