// "Öva på det här": a support case's situation at its first error, put in terms of the training's
// own virtual cards, so that a trainee can stand where the reporter stood. Pure: the caller looks
// up which demo reserve card is free and whether the viewer may see the recipient.
import {
  type CardNumber,
  type ErrorCode,
  type ErrorResponseBody,
  errorResponse,
  type Instant,
  type ReaderSlot,
  type Step,
  type SupportCaseDraft,
  type TimelineEntry,
  type TimelineScene,
} from '@reservkort/domain';
import type { TrainingSummary } from './training-summary.js';

/** Whose card lay in a reader at the moment: the administrator's, the order's reserve card, or another. */
export type PracticeCardRole = 'admin' | 'reserve' | 'foreign';

export interface PracticeReader {
  readonly connected: boolean;
  /** The training's card that stands in for the case's card; null for an empty reader. */
  readonly card: { readonly role: PracticeCardRole; readonly cardNumber: CardNumber } | null;
}

export interface PracticePlan {
  readonly kind: 'plan';
  readonly caseId: string;
  /** The first code of the first entry that raised one (or the fault of the first faulted scene). */
  readonly code: ErrorCode;
  /** Every code of the case, for the page to show beside the one practised. */
  readonly caseCodes: readonly ErrorCode[];
  readonly at: Instant;
  /** The step the flow had reached at the error. */
  readonly step: Step;
  readonly readers: { readonly [R in ReaderSlot]: PracticeReader };
  /** The training cards to use: the administrator's (with the demo name) and the reserve card. */
  readonly adminCard: { readonly cardNumber: CardNumber; readonly name: string };
  readonly reserveCard: CardNumber | null;
  /**
   * Whom to search for at step 2, from the demo data; null when the case's recipient has a
   * protected identity the viewer may not see, or the reserve card is on no demo order.
   */
  readonly recipient: { readonly name: string; readonly personalNumber: string } | null;
  /** How far into the attempt the error came, and how long the acknowledgement deadline had left. */
  readonly clock: { readonly sinceStartMs: number; readonly deadlineLeftMs: number | null };
  readonly catalogue: ErrorResponseBody;
}

/** What a case lacks for a plan: an entry with an error at all, or the scene after it (older cases). */
export interface PracticeMissing {
  readonly kind: 'missing';
  readonly caseId: string;
  readonly missing: 'error' | 'scene';
  /** The code of the first error, when there was one (its scene is what is missing). */
  readonly code: ErrorCode | null;
}

export type PracticeAnswer = PracticePlan | PracticeMissing;

export interface PracticeInput {
  readonly caseId: string;
  readonly draft: SupportCaseDraft;
  readonly summary: TrainingSummary;
  /** A demo reserve card whose order can still be completed, for a case whose card is no demo card. */
  readonly freeReserveCard: CardNumber | null;
  /** Whether the viewer may see a protected recipient (KUR). */
  readonly holdsKur: boolean;
}

/** The first error of the case: its earlier attempts first, oldest first, then the flow itself. */
export const firstError = (
  draft: Pick<SupportCaseDraft, 'timeline' | 'attempts'>,
): { readonly entry: TimelineEntry; readonly code: ErrorCode; readonly startedAt: Instant } | null => {
  const timelines = [...(draft.attempts ?? []).map((attempt) => attempt.timeline), draft.timeline];
  for (const timeline of timelines) {
    const entry = timeline.find((e) => e.codes.length > 0 || (e.scene?.fault ?? null) !== null);
    const code = entry?.codes[0] ?? entry?.scene?.fault ?? null;
    if (entry !== undefined && code !== null) return { entry, code, startedAt: timeline[0]?.at ?? entry.at };
  }
  return null;
};

const cardRole = (
  card: NonNullable<TimelineScene['readers'][ReaderSlot]['card']>,
  draft: SupportCaseDraft,
  summary: TrainingSummary,
): PracticeCardRole => {
  if (card.cardNumber !== null && card.cardNumber === draft.cardNumber) return 'reserve';
  if (card.owner === 'own-login-card') return 'admin';
  // Scenes recorded before owners were known: a demo administrator's card is the admin's.
  if (card.owner === undefined && summary.admins.some((a) => a.cardNumber === card.cardNumber))
    return 'admin';
  return 'foreign';
};

/** The case's situation at its first error, in the training's cards, or what the case lacks for it. */
export const practicePlan = (input: PracticeInput): PracticeAnswer => {
  const { caseId, draft, summary } = input;
  const first = firstError(draft);
  if (first === null) return { kind: 'missing', caseId, missing: 'error', code: null };
  const scene = first.entry.scene;
  if (scene === undefined) return { kind: 'missing', caseId, missing: 'scene', code: first.code };

  const issuers = summary.admins.filter(
    (a) => a.assuranceLevel === 'LoA3' && a.roles.length > 0 && !a.roles.includes('service-desk'),
  );
  const loginCard = ([1, 2] as const)
    .map((n) => scene.readers[n].card)
    .find((card) => card !== null && cardRole(card, draft, summary) === 'admin');
  // The very demo card the case's administrator used; else that administrator's demo card; else
  // any demo administrator who did not register the order (dual control).
  const admin =
    summary.admins.find((a) => loginCard != null && a.cardNumber === loginCard.cardNumber) ??
    summary.admins.find((a) => a.hsaId === draft.admin2HsaId) ??
    issuers.find((a) => a.hsaId !== draft.admin1HsaId) ??
    issuers[0] ??
    summary.admins[0];
  // Training data always has administrators; without any there is nothing to practise with.
  if (admin === undefined) return { kind: 'missing', caseId, missing: 'error', code: first.code };

  const ownDemo = summary.reserveCards.find((c) => c.forPerson !== null && c.cardNumber === draft.cardNumber);
  const reserve = ownDemo ?? summary.reserveCards.find((c) => c.cardNumber === input.freeReserveCard) ?? null;
  const nobodys = summary.reserveCards.find((c) => c.forPerson === null)?.cardNumber ?? null;
  const stand = (role: PracticeCardRole): CardNumber | null =>
    role === 'admin' ? admin.cardNumber : role === 'reserve' ? (reserve?.cardNumber ?? null) : nobodys;
  const reader = (n: ReaderSlot): PracticeReader => {
    const there = scene.readers[n];
    const card = there.card;
    if (card === null) return { connected: there.connected, card: null };
    const role = cardRole(card, draft, summary);
    const cardNumber = stand(role);
    return { connected: there.connected, card: cardNumber === null ? null : { role, cardNumber } };
  };

  // The case's own recipient stays hidden from a viewer without KUR; a stand-in order's is demo data.
  const hidden = ownDemo !== undefined && draft.protectedIdentity && !input.holdsKur;
  const person = hidden ? undefined : summary.persons.find((p) => p.name === reserve?.forPerson);
  return {
    kind: 'plan',
    caseId,
    code: first.code,
    caseCodes: draft.codes,
    at: first.entry.at,
    step: scene.step,
    readers: { 1: reader(1), 2: reader(2) },
    adminCard: { cardNumber: admin.cardNumber, name: admin.name },
    reserveCard: reserve?.cardNumber ?? null,
    recipient: person === undefined ? null : { name: person.name, personalNumber: person.personalNumber },
    clock: {
      sinceStartMs: Math.max(0, first.entry.at - first.startedAt),
      deadlineLeftMs: scene.deadline === null ? null : scene.deadline - first.entry.at,
    },
    catalogue: errorResponse(first.code, first.entry.details ?? {}),
  };
};
