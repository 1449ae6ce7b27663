/**
 * The rules' own codes: the catalogue of SPEC §4 first, then those the rules need beyond it (bad
 * identifiers, order registration, flow bookkeeping). Adding a code anywhere below makes every
 * language catalogue, and the test that must reach it, fail to compile until it is described.
 */
const DOMAIN_CODES = [
  // SPEC §4
  'READERS_MISSING',
  'LOA2_LOGIN',
  'NO_ROLE_IN_BRANCH',
  'HSA_ID_INCOMPLETE',
  'PNR_FORMAT',
  'NO_ORDER',
  'OWN_ORDER',
  'PROTECTED_NEEDS_KUR',
  'NOT_ELIGIBLE',
  'ORDER_EXPIRED',
  'ORDER_USED',
  'CARD_REINSERTED',
  'SIGN_FAILED',
  'WRONG_CARD',
  'ONE_READER_USED',
  'HANDOVER_STUCK',
  'DOWNLOAD_START_STUCK',
  'CARD_REMOVED_DURING_DOWNLOAD',
  'AUTH_DIALOG_NOT_SHOWN',
  'SIGN_DIALOG_NOT_SHOWN',
  'DOWNLOAD_FAILED',
  'ACK_TIMEOUT',
  // Identifiers and input
  'PNR_INVALID',
  'PNR_CHECK_DIGIT',
  'PNR_DATE',
  'HSA_ID_INVALID',
  'CARD_NUMBER_INVALID',
  'QUERY_INVALID',
  'DATE_INVALID',
  // Organisation
  'ORGANISATION_INVALID',
  'BRANCH_UNKNOWN',
  // Orders (admin portal)
  'RECIPIENT_UNDERAGE',
  'ID_DOCUMENT_NOT_LOA3',
  'CARD_NUMBER_TAKEN',
  'VALIDITY_INVALID',
  'VALIDITY_TOO_LONG',
  'ORDER_NOT_SIGNED',
  'ORDER_CANCELLED',
  'ORDER_STATE_CONFLICT',
  'CARD_ALREADY_ISSUED',
  'CARD_ALREADY_ORDERED',
  // Issuance flow
  'NOT_LOGGED_IN',
  'RESERVE_CARD_MISSING',
  'TERMS_NOT_ACCEPTED',
  'ACTION_PENDING',
  'PIN_DIALOG_CANCELLED',
  'EVENT_OUT_OF_ORDER',
  'FLOW_ENDED',
  'CERTIFICATES_ALREADY_REQUESTED',
  // Support cases
  'TEXT_TOO_LONG',
  // The card's life: stock, förlängning, spärr, return
  'STOCK_LINE_INVALID',
  'CARD_ALREADY_IN_STOCK',
  'CARD_NOT_IN_STOCK',
  'CARD_AT_OTHER_STATION',
  'CARD_PAST_PHYSICAL_EXPIRY',
  'CARD_ALREADY_GIVEN',
  'CARD_DESTROYED',
  'CARD_STOCK_CONFLICT',
  'EXTENSION_ALREADY_USED',
  'EXTENSION_TOO_LATE',
  'EXTENSION_CARD_REVOKED',
  'REVOCATION_NOT_PERMITTED',
  'REVOCATION_REASON_NOT_OFFERED',
  'NOT_A_RESERVE_CARD',
] as const;

/** The codes the certificate authority raises: described here, reached by the pki package's tests. */
export const PKI_CODES = [
  'CSR_INVALID',
  'CSR_SIGNATURE_INVALID',
  'KEY_NOT_ALLOWED',
  'CA_NOT_INITIALISED',
  'CA_ALREADY_INITIALISED',
  'CA_KEY_UNAVAILABLE',
  'CERTIFICATE_NOT_FOUND',
  'ALREADY_REVOKED',
  'REVOCATION_REASON_INVALID',
] as const;

export type PkiCode = (typeof PKI_CODES)[number];

/** The codes the card agent raises: described here, reached by the agent package's tests. */
export const AGENT_CODES = [
  'READER_NOT_FOUND',
  'CARD_MISSING',
  'CARD_REMOVED',
  'PIN_INCORRECT',
  'PIN_BLOCKED',
  'PIN_FORMAT',
  'PUK_INCORRECT',
  'CARD_LOCKED',
  'KEY_MISSING',
  'CARD_ERROR',
  'ORIGIN_FORBIDDEN',
  'SESSION_INVALID',
  'DIALOG_CANCELLED',
  'DIALOG_TIMEOUT',
  'REQUEST_INVALID',
  'STATION_NOT_REGISTERED',
  'STATION_KEY_UNAVAILABLE',
] as const;

export type AgentCode = (typeof AGENT_CODES)[number];

/** The codes only the server raises: described here, reached by the server package's tests. */
export const SERVER_CODES = [
  'LOGIN_FAILED',
  'CSRF_INVALID',
  'ACCESS_DENIED',
  'NOT_FOUND',
  'SIGNATURE_INVALID',
  'PERSON_NOT_FOUND',
  'LOGIN_CERTIFICATE_REVOKED',
  'CSR_SAME_KEY',
  'RATE_LIMITED',
  'OPERATIONS_TOKEN_REQUIRED',
  'AUDIT_CHECKPOINT_INVALID',
  'AUDIT_LOG_TAMPERED',
  'AUDIT_CHECKPOINT_UNAVAILABLE',
  'STATION_REVOKED',
  'STATEMENT_INVALID',
  'CARD_NOT_PROVEN',
  'KEYS_NOT_ON_CARD',
  'EXTENSION_KEYS_NOT_PROVEN',
  'EXTENSION_ABANDONED',
  'INSIGHT_FILTER_INVALID',
] as const;

export type ServerCode = (typeof SERVER_CODES)[number];

/** Every code the product can raise: the rules' own, then those of the CA, the card agent and the server. */
export const ERROR_CODES = [...DOMAIN_CODES, ...PKI_CODES, ...AGENT_CODES, ...SERVER_CODES] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const codeSet: ReadonlySet<string> = new Set(ERROR_CODES);

export const isErrorCode = (value: unknown): value is ErrorCode =>
  typeof value === 'string' && codeSet.has(value);

/**
 * Where in the product a code arises: a step of the seven, before step 1, outside the flow (the
 * admin portal; `card-life`: the card after issuance, its stock, förlängning, spärr, return), or in
 * the certificate authority (`pki`: raised and tested by that package, not by the domain).
 */
export type CodeStep =
  | 'before-1'
  | 1
  | 2
  | 3
  | 4
  | 5
  | 6
  | 7
  | 'admin-portal'
  | 'card-life'
  | 'input'
  | 'any'
  | 'pki'
  | 'agent'
  | 'server';

/**
 * How a code is handled: `blocking` stops the action and explains; `notice` informs while the
 * action goes on (e.g. a normalised personnummer); `fault` ends the attempt and offers restart and a
 * support case.
 */
export type Severity = 'notice' | 'blocking' | 'fault';

export interface CodeInfo {
  readonly step: CodeStep;
  readonly severity: Severity;
  /** Whether the error screen offers "Skicka felanmälan" for this code. */
  readonly supportCase: boolean;
}

export const CODE_INFO: { readonly [C in ErrorCode]: CodeInfo } = {
  // Every error of the guide's catalogue (SPEC §4) offers "Skicka felanmälan" where it is shown: the
  // guide's own remedy may not help, and then the case must hold everything already known. Before
  // login there is no flow: READERS_MISSING's case there holds what the card station signs.
  READERS_MISSING: { step: 'before-1', severity: 'blocking', supportCase: true },
  LOA2_LOGIN: { step: 1, severity: 'blocking', supportCase: true },
  NO_ROLE_IN_BRANCH: { step: 2, severity: 'blocking', supportCase: true },
  HSA_ID_INCOMPLETE: { step: 2, severity: 'blocking', supportCase: true },
  PNR_FORMAT: { step: 2, severity: 'notice', supportCase: true },
  NO_ORDER: { step: 2, severity: 'blocking', supportCase: true },
  OWN_ORDER: { step: 2, severity: 'blocking', supportCase: true },
  PROTECTED_NEEDS_KUR: { step: 2, severity: 'blocking', supportCase: true },
  NOT_ELIGIBLE: { step: 2, severity: 'blocking', supportCase: true },
  ORDER_EXPIRED: { step: 2, severity: 'blocking', supportCase: true },
  ORDER_USED: { step: 2, severity: 'blocking', supportCase: true },
  CARD_REINSERTED: { step: 3, severity: 'blocking', supportCase: true },
  SIGN_FAILED: { step: 3, severity: 'fault', supportCase: true },
  WRONG_CARD: { step: 4, severity: 'blocking', supportCase: true },
  ONE_READER_USED: { step: 4, severity: 'fault', supportCase: true },
  HANDOVER_STUCK: { step: 4, severity: 'fault', supportCase: true },
  DOWNLOAD_START_STUCK: { step: 5, severity: 'fault', supportCase: true },
  CARD_REMOVED_DURING_DOWNLOAD: { step: 6, severity: 'fault', supportCase: true },
  AUTH_DIALOG_NOT_SHOWN: { step: 6, severity: 'fault', supportCase: true },
  SIGN_DIALOG_NOT_SHOWN: { step: 6, severity: 'fault', supportCase: true },
  DOWNLOAD_FAILED: { step: 6, severity: 'fault', supportCase: true },
  ACK_TIMEOUT: { step: 7, severity: 'fault', supportCase: true },
  PNR_INVALID: { step: 'input', severity: 'blocking', supportCase: false },
  PNR_CHECK_DIGIT: { step: 'input', severity: 'blocking', supportCase: false },
  PNR_DATE: { step: 'input', severity: 'blocking', supportCase: false },
  HSA_ID_INVALID: { step: 'input', severity: 'blocking', supportCase: false },
  CARD_NUMBER_INVALID: { step: 'input', severity: 'blocking', supportCase: false },
  QUERY_INVALID: { step: 2, severity: 'blocking', supportCase: false },
  DATE_INVALID: { step: 'input', severity: 'blocking', supportCase: false },
  ORGANISATION_INVALID: { step: 'admin-portal', severity: 'blocking', supportCase: false },
  BRANCH_UNKNOWN: { step: 'admin-portal', severity: 'blocking', supportCase: false },
  RECIPIENT_UNDERAGE: { step: 'admin-portal', severity: 'blocking', supportCase: false },
  ID_DOCUMENT_NOT_LOA3: { step: 'admin-portal', severity: 'blocking', supportCase: false },
  CARD_NUMBER_TAKEN: { step: 'admin-portal', severity: 'blocking', supportCase: false },
  VALIDITY_INVALID: { step: 'admin-portal', severity: 'blocking', supportCase: false },
  VALIDITY_TOO_LONG: { step: 'admin-portal', severity: 'blocking', supportCase: false },
  ORDER_NOT_SIGNED: { step: 'admin-portal', severity: 'blocking', supportCase: false },
  ORDER_CANCELLED: { step: 2, severity: 'blocking', supportCase: false },
  ORDER_STATE_CONFLICT: { step: 'any', severity: 'blocking', supportCase: false },
  CARD_ALREADY_ISSUED: { step: 'admin-portal', severity: 'blocking', supportCase: false },
  CARD_ALREADY_ORDERED: { step: 'admin-portal', severity: 'blocking', supportCase: false },
  NOT_LOGGED_IN: { step: 'any', severity: 'blocking', supportCase: false },
  RESERVE_CARD_MISSING: { step: 4, severity: 'blocking', supportCase: false },
  TERMS_NOT_ACCEPTED: { step: 5, severity: 'blocking', supportCase: false },
  ACTION_PENDING: { step: 'any', severity: 'notice', supportCase: false },
  PIN_DIALOG_CANCELLED: { step: 6, severity: 'fault', supportCase: false },
  EVENT_OUT_OF_ORDER: { step: 'any', severity: 'blocking', supportCase: false },
  FLOW_ENDED: { step: 'any', severity: 'blocking', supportCase: false },
  CERTIFICATES_ALREADY_REQUESTED: { step: 'any', severity: 'blocking', supportCase: false },
  TEXT_TOO_LONG: { step: 'input', severity: 'blocking', supportCase: false },
  STOCK_LINE_INVALID: { step: 'card-life', severity: 'blocking', supportCase: false },
  CARD_ALREADY_IN_STOCK: { step: 'card-life', severity: 'blocking', supportCase: false },
  CARD_NOT_IN_STOCK: { step: 'admin-portal', severity: 'blocking', supportCase: false },
  CARD_AT_OTHER_STATION: { step: 'admin-portal', severity: 'blocking', supportCase: false },
  CARD_PAST_PHYSICAL_EXPIRY: { step: 'card-life', severity: 'blocking', supportCase: false },
  CARD_ALREADY_GIVEN: { step: 'admin-portal', severity: 'blocking', supportCase: false },
  CARD_DESTROYED: { step: 'card-life', severity: 'blocking', supportCase: false },
  CARD_STOCK_CONFLICT: { step: 'card-life', severity: 'blocking', supportCase: false },
  EXTENSION_ALREADY_USED: { step: 'card-life', severity: 'blocking', supportCase: false },
  EXTENSION_TOO_LATE: { step: 'card-life', severity: 'blocking', supportCase: false },
  EXTENSION_CARD_REVOKED: { step: 'card-life', severity: 'blocking', supportCase: false },
  REVOCATION_NOT_PERMITTED: { step: 'card-life', severity: 'blocking', supportCase: false },
  REVOCATION_REASON_NOT_OFFERED: { step: 'card-life', severity: 'blocking', supportCase: false },
  NOT_A_RESERVE_CARD: { step: 'card-life', severity: 'blocking', supportCase: false },
  CSR_INVALID: { step: 'pki', severity: 'blocking', supportCase: false },
  CSR_SIGNATURE_INVALID: { step: 'pki', severity: 'blocking', supportCase: false },
  KEY_NOT_ALLOWED: { step: 'pki', severity: 'blocking', supportCase: false },
  CA_NOT_INITIALISED: { step: 'pki', severity: 'blocking', supportCase: false },
  CA_ALREADY_INITIALISED: { step: 'pki', severity: 'blocking', supportCase: false },
  CA_KEY_UNAVAILABLE: { step: 'pki', severity: 'fault', supportCase: true },
  CERTIFICATE_NOT_FOUND: { step: 'pki', severity: 'blocking', supportCase: false },
  ALREADY_REVOKED: { step: 'pki', severity: 'notice', supportCase: false },
  REVOCATION_REASON_INVALID: { step: 'pki', severity: 'blocking', supportCase: false },
  READER_NOT_FOUND: { step: 'agent', severity: 'blocking', supportCase: false },
  CARD_MISSING: { step: 'agent', severity: 'blocking', supportCase: false },
  CARD_REMOVED: { step: 'agent', severity: 'blocking', supportCase: false },
  PIN_INCORRECT: { step: 'agent', severity: 'blocking', supportCase: false },
  // A blocked PIN ends the attempt (step 6 records it as the flow's fault) and needs the service desk.
  PIN_BLOCKED: { step: 'agent', severity: 'fault', supportCase: true },
  PIN_FORMAT: { step: 'agent', severity: 'blocking', supportCase: false },
  PUK_INCORRECT: { step: 'agent', severity: 'blocking', supportCase: false },
  CARD_LOCKED: { step: 'agent', severity: 'fault', supportCase: true },
  KEY_MISSING: { step: 'agent', severity: 'blocking', supportCase: false },
  CARD_ERROR: { step: 'agent', severity: 'fault', supportCase: true },
  ORIGIN_FORBIDDEN: { step: 'agent', severity: 'blocking', supportCase: false },
  SESSION_INVALID: { step: 'agent', severity: 'blocking', supportCase: false },
  DIALOG_CANCELLED: { step: 'agent', severity: 'blocking', supportCase: false },
  DIALOG_TIMEOUT: { step: 'agent', severity: 'blocking', supportCase: false },
  REQUEST_INVALID: { step: 'agent', severity: 'blocking', supportCase: false },
  STATION_NOT_REGISTERED: { step: 'agent', severity: 'blocking', supportCase: true },
  // The station's token is missing or locked, or its key moved: the station cannot sign at all.
  STATION_KEY_UNAVAILABLE: { step: 'agent', severity: 'fault', supportCase: true },
  LOGIN_FAILED: { step: 'server', severity: 'blocking', supportCase: false },
  CSRF_INVALID: { step: 'server', severity: 'blocking', supportCase: false },
  ACCESS_DENIED: { step: 'server', severity: 'blocking', supportCase: false },
  NOT_FOUND: { step: 'server', severity: 'blocking', supportCase: false },
  SIGNATURE_INVALID: { step: 'server', severity: 'blocking', supportCase: false },
  PERSON_NOT_FOUND: { step: 'server', severity: 'blocking', supportCase: false },
  LOGIN_CERTIFICATE_REVOKED: { step: 'server', severity: 'blocking', supportCase: false },
  CSR_SAME_KEY: { step: 'server', severity: 'blocking', supportCase: true },
  RATE_LIMITED: { step: 'server', severity: 'blocking', supportCase: false },
  OPERATIONS_TOKEN_REQUIRED: { step: 'server', severity: 'blocking', supportCase: false },
  AUDIT_CHECKPOINT_INVALID: { step: 'server', severity: 'blocking', supportCase: false },
  AUDIT_LOG_TAMPERED: { step: 'server', severity: 'blocking', supportCase: false },
  AUDIT_CHECKPOINT_UNAVAILABLE: { step: 'server', severity: 'blocking', supportCase: false },
  // A station that cannot prove itself is a matter for the administrators and the service desk.
  STATION_REVOKED: { step: 'server', severity: 'blocking', supportCase: true },
  STATEMENT_INVALID: { step: 'server', severity: 'blocking', supportCase: true },
  // The card did not prove itself, or the keys are not proven to be on it: nothing is issued.
  CARD_NOT_PROVEN: { step: 'server', severity: 'blocking', supportCase: true },
  KEYS_NOT_ON_CARD: { step: 'server', severity: 'blocking', supportCase: true },
  // Förlängning on the holder's computer: nothing is issued for keys the card did not prove.
  EXTENSION_KEYS_NOT_PROVEN: { step: 'server', severity: 'blocking', supportCase: true },
  EXTENSION_ABANDONED: { step: 'server', severity: 'blocking', supportCase: false },
  // A filter of the insight figures (period, branch, station, code, figure) the viewer cannot use.
  INSIGHT_FILTER_INVALID: { step: 'server', severity: 'blocking', supportCase: false },
};
