import type { CardProductCode, StockCard } from '../card-life/card-stock.js';
import type { ErrorCode } from '../error-code.js';
import type { CardNumber } from '../identifiers/card-number.js';
import type { HsaId } from '../identifiers/hsa-id.js';
import type { FlowOrder, ReaderSlot } from '../issuance/flow-event.js';
import type { FlowState, FlowStatus, Step, TimelineEntry } from '../issuance/flow-state.js';
import { type TwoReadersAnswer, twoReadersThroughout } from '../issuance/reader-log.js';
import { type ErrorDetails, err, ok, type Result } from '../result.js';
import { formatDate, type Instant } from '../time.js';

/** A certificate as the card agent reads it from the card. */
export interface CertificateOnCard {
  readonly subject: string;
  readonly issuer: string;
  readonly serial: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly keyUsage: readonly string[];
  readonly policies: readonly string[];
}

/** The card agent's own report (Net iD version and packaging in the source world). */
export interface AgentInfo {
  readonly version: string;
  readonly packaging: string;
}

/** An earlier attempt on the same order or restart chain, as a case shows it beside the last one. */
export interface SupportCaseAttempt {
  readonly flowId: string;
  readonly startedAt: Instant;
  readonly status: FlowStatus;
  /** The step the attempt had reached when it ended (or reached so far). */
  readonly step: Step;
  readonly admin2HsaId: HsaId | null;
  /** The codes the attempt raised, in order of first appearance. */
  readonly codes: readonly ErrorCode[];
  readonly timeline: readonly TimelineEntry[];
}

/** At most this many earlier attempts go with a case: the newest of them. */
export const MAX_CASE_ATTEMPTS = 10;

export interface SupportCaseInput {
  readonly flow: FlowState;
  /** The order's card as its card station's stock has it, if the card is in stock. */
  readonly stockCard?: Pick<StockCard, 'cardNumber' | 'product' | 'physicalExpiry'> | null;
  /**
   * Earlier attempts at the same order (or before the restarts that led to this flow), any order;
   * the flow itself is left out if present.
   */
  readonly earlierAttempts?: readonly FlowState[];
  /**
   * The order the flow's search explained without selecting it (OWN_ORDER, a closed order...):
   * used when the flow has no order of its own. The search only explains an order to an admin
   * allowed to see its person.
   */
  readonly explainedOrder?: FlowOrder | null;
  /** As a registered card station signed it; null when no station vouched for it (unknown). */
  readonly agent: AgentInfo | null;
  /** As read off the card by a registered card station. */
  readonly certificatesOnCard: readonly CertificateOnCard[];
  /** The card station whose signed statements supplied the agent and the certificates. */
  readonly stationId?: string | null;
  readonly comment: string;
  readonly reportedBy: HsaId;
  readonly at: Instant;
  /**
   * The codes the portal showed the reporter that the flow did not record (a refused action, such
   * as EVENT_OUT_OF_ORDER, is answered without a timeline entry): the case names what was seen.
   */
  readonly shownCodes?: readonly ErrorCode[];
}

/**
 * Who filed a case: the administrator logged in, or, for a case filed on the login screen before
 * anyone logged in (READERS_MISSING), the registered card station that signed what it reported.
 */
export type CaseReporter = HsaId | `st-${string}`;

/** Felanmälan: everything SPEC §5 asks for, gathered without the reporter typing it. Never a PIN or a key. */
export interface SupportCaseDraft {
  /** '' for a case filed before login: there is no flow yet. */
  readonly flowId: string;
  readonly reportedBy: CaseReporter;
  readonly reportedAt: Instant;
  readonly admin1HsaId: HsaId | null;
  readonly admin2HsaId: HsaId | null;
  readonly recipientHsaId: HsaId | null;
  readonly cardNumber: CardNumber | null;
  /**
   * The card's product (473/573) and last physical day (`YYYY-MM-DD`) from the card station's
   * stock; null when the card is in no stock (absent in older cases).
   */
  readonly cardStock?: { readonly product: CardProductCode; readonly physicalExpiry: string } | null;
  readonly agentVersion: string | null;
  readonly agentPackaging: string | null;
  /** The card station that signed the agent's version and the certificates; null: none did. */
  readonly stationId: string | null;
  readonly certificates: readonly CertificateOnCard[];
  readonly timeline: readonly TimelineEntry[];
  /** Earlier attempts on the same order or restart chain, oldest first (absent in older cases). */
  readonly attempts?: readonly SupportCaseAttempt[];
  /** Every code the earlier attempts and the flow raised, in order of first appearance. */
  readonly codes: readonly ErrorCode[];
  readonly readers: TwoReadersAnswer;
  readonly protectedIdentity: boolean;
  readonly comment: string;
}

export const SUPPORT_COMMENT_MAX = 4000;

const codesOf = (flow: FlowState): ErrorCode[] => [...new Set(flow.timeline.flatMap((entry) => entry.codes))];

const attemptOf = (flow: FlowState): SupportCaseAttempt => ({
  flowId: flow.flowId,
  startedAt: flow.startedAt,
  status: flow.status,
  step: flow.step,
  admin2HsaId: flow.login?.admin ?? null,
  codes: codesOf(flow),
  timeline: flow.timeline,
});

export const buildSupportCase = (input: SupportCaseInput): Result<SupportCaseDraft> => {
  if (typeof input.comment !== 'string' || input.comment.length > SUPPORT_COMMENT_MAX) {
    return err('TEXT_TOO_LONG', { max: SUPPORT_COMMENT_MAX });
  }
  const { flow } = input;
  const order = flow.order ?? flow.candidate ?? input.explainedOrder ?? null;
  const attempts = (input.earlierAttempts ?? [])
    .filter((earlier) => earlier.flowId !== flow.flowId && earlier.startedAt <= flow.startedAt)
    .sort((a, b) => a.startedAt - b.startedAt)
    .slice(-MAX_CASE_ATTEMPTS)
    .map(attemptOf);
  const codes = [
    ...new Set([...attempts.flatMap((a) => a.codes), ...codesOf(flow), ...(input.shownCodes ?? [])]),
  ];
  return ok({
    flowId: flow.flowId,
    reportedBy: input.reportedBy,
    reportedAt: input.at,
    admin1HsaId: order?.admin1HsaId ?? null,
    admin2HsaId: flow.login?.admin ?? null,
    recipientHsaId: order?.recipientHsaId ?? null,
    cardNumber: order?.cardNumber ?? null,
    // Only the stock of the case's own card: a lookup of another number says nothing of this one.
    cardStock:
      input.stockCard != null && order?.cardNumber === input.stockCard.cardNumber
        ? { product: input.stockCard.product, physicalExpiry: formatDate(input.stockCard.physicalExpiry) }
        : null,
    agentVersion: input.agent?.version ?? null,
    agentPackaging: input.agent?.packaging ?? null,
    stationId: input.stationId ?? null,
    certificates: input.certificatesOnCard,
    timeline: flow.timeline,
    attempts,
    codes,
    readers: twoReadersThroughout(flow),
    protectedIdentity: order?.protectedIdentity ?? false,
    comment: input.comment.trim(),
  });
};

/** What a card station reported on the login screen, signed, when the readers were not both there. */
export interface StationCaseInput {
  readonly stationId: `st-${string}`;
  readonly agent: AgentInfo;
  readonly readers: { readonly [R in ReaderSlot]: { readonly connected: boolean; readonly card: boolean } };
  readonly comment: string;
  readonly at: Instant;
}

/**
 * READERS_MISSING on the login screen: a case without a flow and without anyone logged in, holding
 * only the station's own word (its agent's version, its readers) and the reporter's comment.
 */
export const buildStationCase = (input: StationCaseInput): Result<SupportCaseDraft> => {
  if (typeof input.comment !== 'string' || input.comment.length > SUPPORT_COMMENT_MAX) {
    return err('TEXT_TOO_LONG', { max: SUPPORT_COMMENT_MAX });
  }
  const missing = ([1, 2] as const).filter((reader) => !input.readers[reader].connected);
  if (missing.length === 0) return err('REQUEST_INVALID', { reason: 'both readers connected' });
  const details = {
    reader1: input.readers[1].connected,
    reader2: input.readers[2].connected,
    card1: input.readers[1].card,
    card2: input.readers[2].card,
    missing: missing.join(','),
  };
  return ok({
    flowId: '',
    reportedBy: input.stationId,
    reportedAt: input.at,
    admin1HsaId: null,
    admin2HsaId: null,
    recipientHsaId: null,
    cardNumber: null,
    agentVersion: input.agent.version,
    agentPackaging: input.agent.packaging,
    stationId: input.stationId,
    certificates: [],
    timeline: [{ at: input.at, step: 0, event: 'station-reported', codes: ['READERS_MISSING'], details }],
    attempts: [],
    codes: ['READERS_MISSING'],
    readers: {
      throughout: false,
      since: input.at,
      gaps: missing.map((reader) => ({ reader, from: input.at, to: null })),
    },
    protectedIdentity: false,
    comment: input.comment.trim(),
  });
};

/** The SPEC §5 fields still unknown in a draft, so the form can say what is missing and why. */
export const missingSupportFields = (draft: SupportCaseDraft): readonly string[] => {
  const fields = {
    admin1HsaId: draft.admin1HsaId,
    admin2HsaId: draft.admin2HsaId,
    recipientHsaId: draft.recipientHsaId,
    cardNumber: draft.cardNumber,
    agentVersion: draft.agentVersion,
    agentPackaging: draft.agentPackaging,
  };
  return Object.entries(fields)
    .filter(([, value]) => value === null)
    .map(([key]) => key);
};

/** Who looks at a case; a viewer without KUR must not learn who a protected recipient is. */
export interface CaseViewer {
  readonly holdsKur: boolean;
}

export const PROTECTED_PLACEHOLDER = '(skyddad identitet)';

/** The case as a viewer may see it: a protected recipient's identity and certificates are withheld. */
export const redactSupportCase = (draft: SupportCaseDraft, viewer: CaseViewer): SupportCaseDraft => {
  if (!draft.protectedIdentity || viewer.holdsKur) return draft;
  return {
    ...draft,
    recipientHsaId: null,
    certificates: draft.certificates.map((c) => ({ ...c, subject: PROTECTED_PLACEHOLDER })),
  };
};

/**
 * The details a code was last raised with in a case (this attempt or an earlier one), so that its
 * catalogue entry reads with the values the reporter saw (the deadline of an ACK_TIMEOUT, say).
 */
export const caseCodeDetails = (
  draft: Pick<SupportCaseDraft, 'timeline' | 'attempts'>,
  code: ErrorCode,
): ErrorDetails => {
  const entries = [...(draft.attempts ?? []).flatMap((attempt) => attempt.timeline), ...draft.timeline];
  return (
    entries.findLast((entry) => entry.codes.includes(code) && entry.details !== undefined)?.details ?? {}
  );
};
