// Statements a registered card station (card agent) signs about its own facts: the shapes, the
// canonical bytes that are signed, and a strict parser both the agent and the server use. No
// cryptography here: the agent signs these bytes, the server verifies them.

import type { CardNumber } from '../identifiers/card-number.js';
import { parseCardNumber } from '../identifiers/card-number.js';
import type { PinDialog, ReaderSlot } from '../issuance/flow-event.js';
import { err, ok, type Result } from '../result.js';

export const STATEMENT_KINDS = [
  'event',
  'events',
  'readers',
  'card-proof',
  'keys-generated',
  'agent-info',
  'card-certificates',
] as const;
export type StatementKind = (typeof STATEMENT_KINDS)[number];

/** The reader, card and dialog events a station may sign: its own observations, nothing the page does. */
export const AGENT_EVENT_TYPES = [
  'reader-plugged',
  'reader-unplugged',
  'card-inserted',
  'card-removed',
  'key-generation-started',
  'keys-generated',
  'dialog-shown',
  'dialog-completed',
  'dialog-cancelled',
  'dialog-not-shown',
  'certificates-written',
  'download-failed',
] as const;
export type AgentEventType = (typeof AGENT_EVENT_TYPES)[number];

/**
 * The most events one `events` statement carries: a page relays at once what its agent logged
 * while the last relay was on its way (a download's dialogs, a reload's catching up).
 */
export const MAX_STATEMENT_EVENTS = 16;

/** `^st-…$`: the id a station proposes in its CSR and the CA writes as its certificate's CN. */
export const STATION_ID_PATTERN = /^st-[A-Za-z0-9_-]{8,40}$/;

export interface StatementEvent {
  readonly type: AgentEventType;
  readonly reader?: ReaderSlot;
  readonly cardNumber?: CardNumber | null;
  readonly dialog?: PinDialog;
  /** Only for `download-failed`: the agent's error code. */
  readonly reason?: string;
}

export interface ReaderFact {
  readonly connected: boolean;
  /** `insertions` takes a new, higher value at every card insertion in that reader. */
  readonly card: null | { readonly cardNumber: CardNumber | null; readonly insertions: number };
}

export interface CardKeyFact {
  readonly spki: string;
  readonly local: boolean;
  readonly sensitive: boolean;
  readonly neverExtractable: boolean;
}

export type StatementBody =
  | { readonly event: StatementEvent }
  /** Several events of the station's log, in the order it logged them. */
  | { readonly events: readonly StatementEvent[] }
  | {
      readonly readers: { readonly 1: ReaderFact; readonly 2: ReaderFact };
      /** The agent that saw them; absent from agents older than this field. */
      readonly agent?: { readonly version: string; readonly packaging: string };
    }
  | {
      readonly reader: ReaderSlot;
      readonly cardNumber: CardNumber;
      readonly bureauCertificate: string;
      readonly cardSignature: string;
    }
  | {
      readonly reader: 2;
      readonly cardNumber: CardNumber;
      readonly bureauCertificate: string;
      readonly keys: { readonly auth: CardKeyFact; readonly sign: CardKeyFact };
      readonly cardSignature: string;
    }
  | { readonly version: string; readonly packaging: string }
  | {
      readonly reader: ReaderSlot;
      readonly cardNumber: CardNumber;
      readonly certificates: readonly string[];
    };

export interface StatementPayload {
  readonly v: 1;
  readonly station: string;
  readonly flowId: string;
  /** The server's current station nonce of that flow (hex, 32 characters). */
  readonly nonce: string;
  /** Strictly increasing per station, persisted by the agent across restarts. */
  readonly seq: number;
  /** The agent's clock in ms: informational only. */
  readonly at: number;
  readonly kind: StatementKind;
  readonly body: StatementBody;
}

/** On the wire: the canonical bytes base64url-encoded, and the station's raw ECDSA signature over them. */
export interface SignedStatement {
  readonly payload: string;
  readonly signature: string;
}

// --- canonical bytes --------------------------------------------------------------------------

const sortKeys = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === 'object' && value !== null) {
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const field = (value as Record<string, unknown>)[key];
      if (field !== undefined) sorted[key] = sortKeys(field);
    }
    return sorted;
  }
  return value;
};

const utf8 = (text: string): Uint8Array => {
  const bytes: number[] = [];
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (code < 0x80) bytes.push(code);
    else if (code < 0x800) bytes.push(0xc0 | (code >> 6), 0x80 | (code & 0x3f));
    else if (code < 0x10000)
      bytes.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f));
    else
      bytes.push(
        0xf0 | (code >> 18),
        0x80 | ((code >> 12) & 0x3f),
        0x80 | ((code >> 6) & 0x3f),
        0x80 | (code & 0x3f),
      );
  }
  return Uint8Array.from(bytes);
};

/** The canonical JSON of a statement: keys sorted at every depth, as UTF-8. These bytes are signed. */
export const canonicalStatementBytes = (payload: StatementPayload): Uint8Array =>
  utf8(JSON.stringify(sortKeys(payload)));

// --- what the card signs ----------------------------------------------------------------------

/**
 * The bytes a card's bureau key signs to prove, for one flow step, that it is the card with this
 * number: the flow (or challenge) id and the server's nonce make the proof useless anywhere else.
 */
export const cardProofBytes = (proof: {
  readonly flowId: string;
  readonly nonce: string;
  readonly cardNumber: CardNumber;
}): Uint8Array => utf8(`reservkort card-proof v1\n${proof.flowId}\n${proof.nonce}\n${proof.cardNumber}`);

/**
 * The bytes a card's bureau key signs to vouch that two public keys (SubjectPublicKeyInfo, base64
 * DER, as in the keys-generated statement) were generated on it, in this flow step.
 */
export const cardKeysBytes = (keys: {
  readonly flowId: string;
  readonly nonce: string;
  readonly cardNumber: CardNumber;
  readonly authSpki: string;
  readonly signSpki: string;
}): Uint8Array =>
  utf8(
    `reservkort card-keys v1\n${keys.flowId}\n${keys.nonce}\n${keys.cardNumber}\n${keys.authSpki}\n${keys.signSpki}`,
  );

// --- strict parsing ---------------------------------------------------------------------------

type Record_ = Record<string, unknown>;
type Check = (v: unknown) => boolean;

const isRecord = (v: unknown): v is Record_ => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCard: Check = (v) => {
  const parsed = typeof v === 'string' ? parseCardNumber(v) : null;
  return parsed?.ok === true && parsed.value === v;
};
const isReader: Check = (v) => v === 1 || v === 2;
const isBoolean: Check = (v) => typeof v === 'boolean';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const isBase64 =
  (max: number): Check =>
  (v) =>
    typeof v === 'string' && v.length <= max && v.length % 4 === 0 && BASE64.test(v);
const isCertificate = isBase64(16_384);
const isSignature = isBase64(1_024);
const isText =
  (max: number): Check =>
  (v) =>
    typeof v === 'string' && v.length >= 1 && v.length <= max;
const isCount: Check = (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** A record with exactly these fields (optional ones may be absent), each passing its check. */
const shape =
  (required: Readonly<Record<string, Check>>, optional: Readonly<Record<string, Check>> = {}): Check =>
  (v) => {
    if (!isRecord(v)) return false;
    for (const key of Object.keys(v)) if (!(key in required) && !(key in optional)) return false;
    for (const [key, check] of Object.entries(required)) if (!(key in v) || !check(v[key])) return false;
    for (const [key, check] of Object.entries(optional)) if (key in v && !check(v[key])) return false;
    return true;
  };

const readerFact = shape({
  connected: isBoolean,
  card: (v) => v === null || shape({ cardNumber: (c) => c === null || isCard(c), insertions: isCount })(v),
});

const keyFact = shape({
  spki: isBase64(4_096),
  local: isBoolean,
  sensitive: isBoolean,
  neverExtractable: isBoolean,
});

/** Which fields each agent event carries besides `type`. */
const EVENT_FIELDS: { readonly [T in AgentEventType]: Readonly<Record<string, Check>> } = {
  'reader-plugged': { reader: isReader },
  'reader-unplugged': { reader: isReader },
  'card-inserted': { reader: isReader, cardNumber: (v) => v === null || isCard(v) },
  'card-removed': { reader: isReader },
  'key-generation-started': {},
  'keys-generated': {},
  'dialog-shown': { dialog: (v) => v === 'auth' || v === 'sign' },
  'dialog-completed': { dialog: (v) => v === 'auth' || v === 'sign' },
  'dialog-cancelled': { dialog: (v) => v === 'auth' || v === 'sign' },
  'dialog-not-shown': { dialog: (v) => v === 'auth' || v === 'sign' },
  'certificates-written': {},
  'download-failed': { reason: isText(100) },
};

const isEvent: Check = (v) => {
  if (
    !isRecord(v) ||
    typeof v.type !== 'string' ||
    !(AGENT_EVENT_TYPES as readonly string[]).includes(v.type)
  )
    return false;
  const fields = EVENT_FIELDS[v.type as AgentEventType];
  return shape({ type: () => true, ...fields })(v);
};

const BODIES: { readonly [K in StatementKind]: Check } = {
  event: shape({ event: isEvent }),
  events: shape({
    events: (v) => Array.isArray(v) && v.length >= 2 && v.length <= MAX_STATEMENT_EVENTS && v.every(isEvent),
  }),
  readers: shape(
    { readers: shape({ 1: readerFact, 2: readerFact }) },
    { agent: shape({ version: isText(100), packaging: isText(100) }) },
  ),
  'card-proof': shape({
    reader: isReader,
    cardNumber: isCard,
    bureauCertificate: isCertificate,
    cardSignature: isSignature,
  }),
  'keys-generated': shape({
    reader: (v) => v === 2,
    cardNumber: isCard,
    bureauCertificate: isCertificate,
    keys: shape({ auth: keyFact, sign: keyFact }),
    cardSignature: isSignature,
  }),
  'agent-info': shape({ version: isText(100), packaging: isText(100) }),
  'card-certificates': shape({
    reader: isReader,
    cardNumber: isCard,
    certificates: (v) => Array.isArray(v) && v.length <= 10 && v.every(isCertificate),
  }),
};

const TOP: Readonly<Record<string, Check>> = {
  v: (v) => v === 1,
  station: (v) => typeof v === 'string' && STATION_ID_PATTERN.test(v),
  flowId: (v) => typeof v === 'string' && /^[A-Za-z0-9_-]{1,100}$/.test(v),
  nonce: (v) => typeof v === 'string' && /^[0-9a-f]{32}$/.test(v),
  seq: (v) => isCount(v) && (v as number) >= 1,
  at: isCount,
  kind: (v) => typeof v === 'string' && (STATEMENT_KINDS as readonly string[]).includes(v),
  body: () => true,
};

/**
 * Checks a decoded statement payload field by field: no field missing, none extra, every value of
 * its kind. The details name the first field that failed, for the refusal's `reason`.
 */
export const parseStatementPayload = (json: unknown): Result<StatementPayload> => {
  if (!isRecord(json)) return err('REQUEST_INVALID', { reason: 'statement-shape' });
  for (const key of Object.keys(json))
    if (!(key in TOP)) return err('REQUEST_INVALID', { reason: 'statement-field', field: key });
  for (const [key, check] of Object.entries(TOP)) {
    if (!(key in json) || !check(json[key]))
      return err('REQUEST_INVALID', { reason: 'statement-field', field: key });
  }
  if (!BODIES[json.kind as StatementKind](json.body))
    return err('REQUEST_INVALID', { reason: 'statement-body', field: String(json.kind) });
  // Every field has been checked against the kind's shape above.
  return ok(json as unknown as StatementPayload);
};
