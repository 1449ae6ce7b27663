// What the server's routes answer, in the page's terms. Requests are typed by the generated client;
// these name the answers the OpenAPI document leaves open.
import type {
  CardNumber,
  CaseReporter,
  ErrorCode,
  ErrorResponseBody,
  FlowAnswer,
  HsaId,
  ReplayFrame,
  SupportCaseDraft,
} from '@reservkort/domain';
import type { paths } from './server-api.js';

export type PageConfig = paths['/api/config']['get']['responses'][200]['content']['application/json'];
export type Me = paths['/api/auth/me']['get']['responses'][200]['content']['application/json'];

/** The login's answer: who is logged in, and the issuance portal's first flow when the page asked for one. */
export type LoginAnswer = paths['/api/auth/login']['post']['responses'][200]['content']['application/json'];

/** A flow id reserved for the administrator, with the nonce the station signs the readers with. */
export type FlowReservation = NonNullable<LoginAnswer['flowReservation']>;

/** Step 2's answer: the flow, plus what the reviewer sees at step 3 when the search found an order. */
export interface SearchAnswer extends FlowAnswer {
  readonly review: Review | null;
}

export interface Review {
  readonly orderId: string;
  readonly cardNumber: CardNumber;
  readonly name: string;
  readonly hsaId: HsaId;
  readonly organisation: string;
  readonly validity: { readonly notBefore: number; readonly notAfter: number };
  readonly idDocument: string;
  readonly normalisedQuery: string | null;
}

export interface CertificatesAnswer extends FlowAnswer {
  readonly certificates: { readonly auth: string; readonly sign: string };
}

export interface SigningChallenge {
  readonly challengeId: string;
  readonly toBeSigned: string;
}

export type SigningPurpose = 'order' | 'acknowledge';

/** Given with the answer that brings a flow to a signature: the challenge, and its lapse in server time. */
export interface SigningChallengeOffer extends SigningChallenge {
  readonly purpose: SigningPurpose;
  readonly expiresAt: number;
}

export interface OrderView {
  readonly id: string;
  readonly state: string;
  readonly cardNumber: CardNumber;
  readonly validity: { readonly notBefore: number; readonly notAfter: number };
  readonly idDocument: string;
  readonly createdBy: HsaId;
  readonly createdAt: number;
}

export interface PersonAnswer {
  readonly person: {
    readonly hsaId: HsaId;
    readonly name: string;
    readonly organisation: string;
    readonly personalNumber: string | null;
    readonly coordinationNumber: boolean;
    readonly protectedIdentity: boolean;
  };
  readonly orders: readonly OrderView[];
}

export interface SupportCasePreview {
  readonly case: SupportCaseDraft;
  readonly catalogue: readonly ErrorResponseBody[];
}

export interface SupportCaseShown {
  readonly id: string;
  readonly flowId: string | null;
  readonly status: 'open' | 'assigned' | 'resolved';
  readonly assignee: HsaId | null;
  readonly reportedBy: CaseReporter;
  readonly codes: readonly ErrorCode[];
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly case: SupportCaseDraft;
}

/** A certificate on the card as the CA knows it now. */
export type CertificateStatusNow =
  | { readonly serial: string; readonly status: 'good' | 'expired' | 'unknown' }
  | {
      readonly serial: string;
      readonly status: 'revoked';
      readonly reason: string;
      readonly revokedAt: number;
    };

export interface SupportCaseFull extends SupportCaseShown {
  readonly comments: readonly { readonly author: HsaId; readonly at: number; readonly text: string }[];
  readonly catalogue: readonly ErrorResponseBody[];
  readonly certificateStatuses: readonly CertificateStatusNow[];
}

export interface TrainingDemo {
  readonly admins: readonly {
    readonly name: string;
    readonly hsaId: string;
    readonly cardNumber: CardNumber;
    readonly pins: { readonly pin1: string; readonly pin2: string; readonly puk: string };
    readonly assuranceLevel: 'LoA2' | 'LoA3';
    readonly roles: readonly string[];
  }[];
  readonly reserveCards: readonly {
    readonly cardNumber: CardNumber;
    readonly forPerson: string | null;
    readonly pins: { readonly pin1: string; readonly pin2: string; readonly puk: string };
  }[];
  readonly persons: readonly {
    readonly name: string;
    readonly hsaId: string;
    readonly personalNumber: string;
    readonly note: string;
  }[];
  readonly scenarios: readonly string[];
}

export interface CatalogueEntry extends ErrorResponseBody {
  readonly step: string | number;
  readonly supportCase: boolean;
}

/** The holder logged in on their own pages. */
export type HolderMe =
  paths['/api/holder/session']['get']['responses'][200]['content']['application/json'] extends {
    holder: infer H;
  }
    ? Exclude<H, null>
    : never;

/** A reserve card's e-ID: both certificates, their status at the CA now, the days left. */
export type EidView =
  paths['/api/holder/eids']['get']['responses'][200]['content']['application/json']['eids'][number];

/** What a spärr did. */
export type RevocationDone =
  paths['/api/holder/eids/revoke']['post']['responses'][200]['content']['application/json'];

/** A förlängning as the holder's pages see it. */
export type ExtensionView =
  paths['/api/holder/extension/{extensionId}']['get']['responses'][200]['content']['application/json'];

/** GET /api/insights: the figures of the insight page for one selection. */
export type InsightAnswer = paths['/api/insights']['get']['responses'][200]['content']['application/json'];
/** GET /api/insights/flows: the flows behind one number of a figure. */
export type InsightFlows =
  paths['/api/insights/flows']['get']['responses'][200]['content']['application/json'];
/** GET /api/insights/cases: the resolved cases behind the resolution times. */
export type InsightCases =
  paths['/api/insights/cases']['get']['responses'][200]['content']['application/json'];
/** "Spela upp": the frames of a case or a flow, and the catalogue entries of their codes. */
export interface ReplayAnswer {
  readonly kind: 'case' | 'flow';
  readonly id: string;
  readonly flowId: string;
  readonly reserveCard: CardNumber | null;
  readonly frames: readonly ReplayFrame[];
  readonly catalogue: readonly ErrorResponseBody[];
}
/** "Öva på det här": a support case's first error in the training's readers, cards, step and clock; or what the case lacks for it (an error at all, or the scene after it: a case filed before scenes). */
export type PracticeAnswer =
  paths['/api/training/practice/{caseId}']['get']['responses'][200]['content']['application/json'];
export type PracticePlan = Extract<PracticeAnswer, { kind: 'plan' }>;
export type PracticeMissing = Extract<PracticeAnswer, { kind: 'missing' }>;
/** A reader at the case's first error: the training card that stands in for the case's card, with whose it was. */
export type PracticeReader = PracticePlan['readers'][1];
