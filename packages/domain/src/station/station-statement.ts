// What a registered card station states to the server, signed with its station key: the payload's
// types, the canonical bytes both sides sign and verify, and a strict check of a payload's shape.
// Pure: the signature itself is checked by the server, made by the agent.
import { err, ok, type Result } from '../result.js';

export const STATEMENT_KINDS = [
  'event',
  'readers',
  'card-proof',
  'keys-generated',
  'agent-info',
  'card-certificates',
] as const;
export type StatementKind = (typeof STATEMENT_KINDS)[number];

/** A station's id as the station certificate's CN carries it. */
export const STATION_ID_PATTERN = /^st-[A-Za-z0-9_-]{8,40}$/;

/** The agent's own events a statement may carry (the relayable ones of today, less tick and handover). */
export const STATEMENT_EVENT_TYPES = [
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
export type AgentEventType = (typeof STATEMENT_EVENT_TYPES)[number];

export type StatementReader = 1 | 2;

export interface StatementEvent {
  readonly type: AgentEventType;
  readonly reader?: StatementReader;
  readonly cardNumber?: string | null;
  readonly dialog?: 'auth' | 'sign';
  readonly reason?: string;
}

export interface ReaderFact {
  readonly connected: boolean;
  readonly card: null | { readonly cardNumber: string | null; readonly insertions: number };
}

export interface StatementKeyFacts {
  readonly spki: string;
  readonly local: boolean;
  readonly sensitive: boolean;
  readonly neverExtractable: boolean;
}

export interface StatementBodies {
  readonly event: { readonly event: StatementEvent };
  readonly readers: { readonly readers: { readonly 1: ReaderFact; readonly 2: ReaderFact } };
  readonly 'card-proof': {
    readonly reader: StatementReader;
    readonly cardNumber: string;
    readonly bureauCertificate: string;
    readonly cardSignature: string;
  };
  readonly 'keys-generated': {
    readonly reader: 2;
    readonly cardNumber: string;
    readonly bureauCertificate: string;
    readonly keys: { readonly auth: StatementKeyFacts; readonly sign: StatementKeyFacts };
    readonly cardSignature: string;
  };
  readonly 'agent-info': { readonly version: string; readonly packaging: string };
  readonly 'card-certificates': {
    readonly reader: StatementReader;
    readonly cardNumber: string;
    readonly certificates: readonly string[];
  };
}

export type StatementBody = StatementBodies[StatementKind];

export interface StatementPayload {
  readonly v: 1;
  readonly station: string;
  readonly flowId: string;
  readonly nonce: string;
  readonly seq: number;
  readonly at: number;
  readonly kind: StatementKind;
  readonly body: StatementBody;
}

/** On the wire: base64url of the canonical payload bytes, and base64url of the raw (r‖s) ECDSA signature. */
export interface SignedStatement {
  readonly payload: string;
  readonly signature: string;
}

type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

const sorted = (value: unknown): Json => {
  if (Array.isArray(value)) return value.map(sorted);
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries.map(([k, v]) => [k, sorted(v)]));
  }
  return value as Json;
};

/** UTF-8 by hand: the domain has no TextEncoder (no DOM or Node typings). */
const utf8 = (text: string): Uint8Array => {
  const bytes: number[] = [];
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (code < 0x80) bytes.push(code);
    else if (code < 0x800) bytes.push(0xc0 | (code >> 6), 0x80 | (code & 63));
    else if (code < 0x10000) bytes.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
    else
      bytes.push(
        0xf0 | (code >> 18),
        0x80 | ((code >> 12) & 63),
        0x80 | ((code >> 6) & 63),
        0x80 | (code & 63),
      );
  }
  return Uint8Array.from(bytes);
};

/** The bytes a station signs: JSON with keys sorted at every level, UTF-8. */
export const canonicalStatementBytes = (payload: StatementPayload): Uint8Array =>
  utf8(JSON.stringify(sorted(payload)));

// --- the strict shape check -------------------------------------------------------------------

type Check = (value: unknown) => boolean;
const MAX_TEXT = 200;
const MAX_BASE64 = 16_384;
const MAX_CERTIFICATES = 16;

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
const text =
  (max = MAX_TEXT): Check =>
  (v) =>
    typeof v === 'string' && v.length > 0 && v.length <= max;
const base64: Check = (v) =>
  typeof v === 'string' && v.length >= 4 && v.length <= MAX_BASE64 && /^[A-Za-z0-9+/]+={0,2}$/.test(v);
const bool: Check = (v) => typeof v === 'boolean';
const count: Check = (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const oneOf =
  (...values: readonly unknown[]): Check =>
  (v) =>
    values.includes(v);
const nullable =
  (check: Check): Check =>
  (v) =>
    v === null || check(v);

/** Exactly these fields: required ones present, optional ones valid when present, nothing else. */
const shape =
  (required: Readonly<Record<string, Check>>, optional: Readonly<Record<string, Check>> = {}): Check =>
  (value) => {
    if (!isObject(value)) return false;
    for (const key of Object.keys(value)) if (!(key in required) && !(key in optional)) return false;
    for (const [key, check] of Object.entries(required))
      if (!(key in value) || !check(value[key])) return false;
    for (const [key, check] of Object.entries(optional)) if (key in value && !check(value[key])) return false;
    return true;
  };

const reader = oneOf(1, 2);
const readerFact = shape({
  connected: bool,
  card: nullable(shape({ cardNumber: nullable(text(40)), insertions: count })),
});
const keyFacts = shape({ spki: base64, local: bool, sensitive: bool, neverExtractable: bool });

const BODY_CHECKS: { readonly [K in StatementKind]: Check } = {
  event: shape({
    event: shape(
      { type: oneOf(...STATEMENT_EVENT_TYPES) },
      { reader, cardNumber: nullable(text(40)), dialog: oneOf('auth', 'sign'), reason: text(1000) },
    ),
  }),
  readers: shape({ readers: shape({ 1: readerFact, 2: readerFact }) }),
  'card-proof': shape({ reader, cardNumber: text(40), bureauCertificate: base64, cardSignature: base64 }),
  'keys-generated': shape({
    reader: oneOf(2),
    cardNumber: text(40),
    bureauCertificate: base64,
    keys: shape({ auth: keyFacts, sign: keyFacts }),
    cardSignature: base64,
  }),
  'agent-info': shape({ version: text(), packaging: text() }),
  'card-certificates': shape({
    reader,
    cardNumber: text(40),
    certificates: (v) => Array.isArray(v) && v.length <= MAX_CERTIFICATES && v.every(base64),
  }),
};

const isKind = (value: unknown): value is StatementKind =>
  typeof value === 'string' && (STATEMENT_KINDS as readonly string[]).includes(value);

const ENVELOPE = shape({
  v: oneOf(1),
  station: (v) => typeof v === 'string' && STATION_ID_PATTERN.test(v),
  flowId: text(100),
  nonce: (v) => typeof v === 'string' && /^[0-9a-f]{32}$/.test(v),
  seq: (v) => count(v) && (v as number) > 0,
  at: count,
  kind: isKind,
  body: isObject,
});

/** A parsed JSON value as a statement payload, or STATEMENT_INVALID naming what is wrong. */
export const parseStatementPayload = (json: unknown): Result<StatementPayload> => {
  if (!ENVELOPE(json)) return err('STATEMENT_INVALID', { reason: 'shape' });
  const payload = json as unknown as StatementPayload;
  if (!BODY_CHECKS[payload.kind](payload.body)) return err('STATEMENT_INVALID', { reason: 'body' });
  return ok(payload);
};
