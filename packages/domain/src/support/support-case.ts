import type { ErrorCode } from '../error-code.js';
import type { CardNumber } from '../identifiers/card-number.js';
import type { HsaId } from '../identifiers/hsa-id.js';
import type { FlowState, TimelineEntry } from '../issuance/flow-state.js';
import { type TwoReadersAnswer, twoReadersThroughout } from '../issuance/reader-log.js';
import { err, ok, type Result } from '../result.js';
import type { Instant } from '../time.js';

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

export interface SupportCaseInput {
  readonly flow: FlowState;
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

/** Felanmälan: everything SPEC §5 asks for, gathered without the reporter typing it. Never a PIN or a key. */
export interface SupportCaseDraft {
  readonly flowId: string;
  readonly reportedBy: HsaId;
  readonly reportedAt: Instant;
  readonly admin1HsaId: HsaId | null;
  readonly admin2HsaId: HsaId | null;
  readonly recipientHsaId: HsaId | null;
  readonly cardNumber: CardNumber | null;
  readonly agentVersion: string | null;
  readonly agentPackaging: string | null;
  /** The card station that signed the agent's version and the certificates; null: none did. */
  readonly stationId: string | null;
  readonly certificates: readonly CertificateOnCard[];
  readonly timeline: readonly TimelineEntry[];
  /** Every code the flow raised, in order of first appearance. */
  readonly codes: readonly ErrorCode[];
  readonly readers: TwoReadersAnswer;
  readonly protectedIdentity: boolean;
  readonly comment: string;
}

export const SUPPORT_COMMENT_MAX = 4000;

export const buildSupportCase = (input: SupportCaseInput): Result<SupportCaseDraft> => {
  if (typeof input.comment !== 'string' || input.comment.length > SUPPORT_COMMENT_MAX) {
    return err('TEXT_TOO_LONG', { max: SUPPORT_COMMENT_MAX });
  }
  const { flow } = input;
  const order = flow.order ?? flow.candidate;
  const codes = [...new Set([...flow.timeline.flatMap((entry) => entry.codes), ...(input.shownCodes ?? [])])];
  return ok({
    flowId: flow.flowId,
    reportedBy: input.reportedBy,
    reportedAt: input.at,
    admin1HsaId: order?.admin1HsaId ?? null,
    admin2HsaId: flow.login?.admin ?? null,
    recipientHsaId: order?.recipientHsaId ?? null,
    cardNumber: order?.cardNumber ?? null,
    agentVersion: input.agent?.version ?? null,
    agentPackaging: input.agent?.packaging ?? null,
    stationId: input.stationId ?? null,
    certificates: input.certificatesOnCard,
    timeline: flow.timeline,
    codes,
    readers: twoReadersThroughout(flow),
    protectedIdentity: order?.protectedIdentity ?? false,
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
