// Every code's texts, filled with the details its senders really attach (the domain machine, the
// server's routes and services, the CA, the card agent, the page): no placeholder may stay unfilled
// and no dash may stand in for a value the system knows. A code whose texts name a detail must be
// listed here with every shape of details it is sent with; a sender that changes the shape must
// change this table, and the test then says whether the texts still read.
import { describe, expect, it } from 'vitest';
import {
  CATALOGUES,
  describeError,
  ERROR_CODES,
  type ErrorCode,
  type ErrorDetails,
  LANGUAGES,
  parsePersonalNumber,
} from '../index.js';
import { T0, TODAY } from '../test-support/fixtures.js';

const ORDER_CARD = '9752278900000000201';
const OTHER_CARD = '9752278900000000300';

/** The details each code is sent with, one entry per shape found at its senders. */
const SENT_DETAILS: { readonly [C in ErrorCode]?: readonly ErrorDetails[] } = {
  // The machine names the reader that left; the controls and the login screen the missing ones.
  READERS_MISSING: [{ missing: '2' }, { missing: '1,2' }, { missing: '1, 2' }],
  // The page shows the number the search was made with, normalised, on a hit and on a miss.
  PNR_FORMAT: [{ normalised: '198504129878' }],
  CARD_REINSERTED: [{ removedAt: T0 }, { removedAt: T0, reason: 'station' }],
  SIGN_FAILED: [{ attempt: 1 }, { attempt: 2, cleanedUp: true }],
  // The server names whose card it is on every WRONG_CARD (unknown when it knows nothing of it).
  WRONG_CARD: [
    { expected: ORDER_CARD, actual: OTHER_CARD, owner: 'previous-recipient' },
    { expected: ORDER_CARD, actual: OTHER_CARD, reader: 2, owner: 'unknown' },
  ],
  DOWNLOAD_FAILED: [{ reason: 'issuance-interrupted' }, { reason: 'CKR_DEVICE_ERROR', cleanedUp: true }],
  ACK_TIMEOUT: [{ deadline: T0 }],
  ORGANISATION_INVALID: [
    { reason: 'empty-id' },
    { reason: 'duplicate-id', branch: 'b1' },
    { reason: 'unknown-parent', branch: 'b1' },
    { reason: 'cycle', branch: 'b1' },
  ],
  VALIDITY_TOO_LONG: [{ maxDays: 365 }],
  RESERVE_CARD_MISSING: [{ reader: 2 }],
  FLOW_ENDED: [{ status: 'aborted' }, { status: 'completed' }, { status: 'ack-timeout-revoked' }],
  TEXT_TOO_LONG: [{ max: 2000 }],
  INSIGHT_FILTER_INVALID: [
    { field: 'from', reason: 'date' },
    { field: 'branch', reason: 'unknown' },
  ],
  // The card's life: a batch line by its number, cards by their number, dates as YYYY-MM-DD.
  STOCK_LINE_INVALID: [
    { line: 1, reason: 'card-number' },
    { line: 2, reason: 'product' },
    { line: 3, reason: 'manufactured' },
    { line: 4, reason: 'expiry' },
    { line: 5, reason: 'duplicate' },
  ],
  CARD_ALREADY_IN_STOCK: [{ line: 1, cardNumber: ORDER_CARD }],
  CARD_NOT_IN_STOCK: [{ cardNumber: ORDER_CARD }],
  CARD_AT_OTHER_STATION: [{ cardNumber: ORDER_CARD }],
  CARD_PAST_PHYSICAL_EXPIRY: [{ physicalExpiry: '2030-03-14' }],
  CARD_ALREADY_GIVEN: [{ cardNumber: ORDER_CARD }],
  CARD_DESTROYED: [{ cardNumber: ORDER_CARD }],
  CARD_STOCK_CONFLICT: [{ cardNumber: ORDER_CARD, state: 'sealed', event: 'return' }],
  EXTENSION_ALREADY_USED: [{ extendedOn: '2026-12-01' }],
  EXTENSION_TOO_LATE: [{ expiredOn: '2026-12-13' }],
  CSR_INVALID: [{ reason: 'not-pkcs10' }, { reason: 'station-id' }, { reason: 'branch-id' }],
  KEY_NOT_ALLOWED: [{ key: 'RSA 1024', allowed: 'EC P-256, RSA 2048' }],
  CA_NOT_INITIALISED: [{ ca: 'root' }, { ca: 'loa3' }],
  CA_KEY_UNAVAILABLE: [{ ca: 'loa3', reason: 'CKR_PIN_INCORRECT' }],
  CERTIFICATE_NOT_FOUND: [{ serial: '0a1b2c' }],
  // The CA names one certificate; spärr names the card's certificates.
  ALREADY_REVOKED: [{ serial: '0a1b2c' }, { serial: '0a01, 0a02' }],
  REVOCATION_REASON_INVALID: [{ reason: 'unknown' }],
  // The agent names the reader by its id; the page names reader 1 or 2.
  READER_NOT_FOUND: [{ reader: 'reader-9' }, { reader: '1' }, { reader: '2' }],
  CARD_MISSING: [{ reader: 'reader-2' }],
  PIN_INCORRECT: [{ triesLeft: 2 }, { pin: 'pin1', triesLeft: 1 }],
  PUK_INCORRECT: [{ triesLeft: 9 }],
  KEY_MISSING: [{ key: 'auth' }, { key: 'card-auth' }],
  CARD_ERROR: [{ reason: 'busy' }, { reason: 'CKR_DEVICE_ERROR' }, { reason: 'page' }],
  REQUEST_INVALID: [
    { reason: 'schema' },
    { reason: 'statement-field', field: 'kind' },
    { reason: 'unknown code' },
  ],
  STATION_KEY_UNAVAILABLE: [{ reason: 'permissions' }],
  LOGIN_FAILED: [{ reason: 'challenge' }, { reason: 'signature' }],
  ACCESS_DENIED: [{ reason: 'service desk only' }],
  NOT_FOUND: [{ what: 'flow' }, { what: 'order' }, { what: 'case' }, { what: 'path' }],
  SIGNATURE_INVALID: [{ reason: 'challenge' }, { reason: 'signature' }],
  RATE_LIMITED: [{ retryAfterSeconds: 30 }],
  OPERATIONS_TOKEN_REQUIRED: [{ reason: 'no token sent' }],
  AUDIT_CHECKPOINT_INVALID: [{ file: 'audit.checkpoint', reason: 'signature' }],
  AUDIT_LOG_TAMPERED: [{ seq: 12, file: 'audit.checkpoint', problem: 'hash' }],
  AUDIT_CHECKPOINT_UNAVAILABLE: [{ reason: 'not yet published' }],
  STATION_REVOKED: [{ reason: 'station revoked' }],
  STATEMENT_INVALID: [{ reason: 'nonce' }, { reason: 'no station nonce' }],
  CARD_NOT_PROVEN: [{ reason: 'reader' }, { reason: 'not the order’s card' }],
  KEYS_NOT_ON_CARD: [{ reason: 'no keys' }, { reason: 'attributes' }],
};

const placeholders = (text: string): string[] => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '');

const textsOf = (code: ErrorCode) =>
  LANGUAGES.flatMap((language) => {
    const { title, explanation, remedy } = CATALOGUES[language].codes[code];
    return [title, explanation, remedy];
  });

describe('every catalogue text with the details its code is sent with', () => {
  it.each(ERROR_CODES.map((code) => [code]))('%s reads without a gap in either language', (code) => {
    const named = [...new Set(textsOf(code).flatMap(placeholders))];
    const sent = SENT_DETAILS[code];
    if (named.length === 0) {
      expect(sent, `${code} names no detail: leave it out of the table`).toBeUndefined();
    } else {
      expect(sent, `${code} names ${named.join(', ')}: list the details it is sent with`).toBeDefined();
    }
    for (const details of sent ?? [{}]) {
      for (const key of named) {
        expect(details[key], `${code} is sent without ${key}: ${JSON.stringify(details)}`).toBeDefined();
        expect(String(details[key])).not.toBe('');
      }
      for (const language of LANGUAGES) {
        const described = describeError({ code, details }, language);
        for (const text of [described.title, described.explanation, described.remedy]) {
          expect(text).not.toMatch(/[{}]/);
          // A dash stands for a missing value when it is alone between spaces or in brackets.
          expect(text, `${code} (${language}): ${text}`).not.toMatch(/(\(–\)|\s–\s*[.,)]|\s–$)/);
        }
      }
    }
  });

  it('gives examples of personnummer that pass their own check', () => {
    for (const code of ERROR_CODES) {
      for (const text of textsOf(code)) {
        for (const example of text.match(/\b\d{8}-\d{4}\b/g) ?? []) {
          expect(parsePersonalNumber(example, TODAY), `${code}: ${example}`).toMatchObject({ ok: true });
        }
      }
    }
  });

  it('tells an administrator without KUR nothing of a person, a protected identity or an order', () => {
    for (const language of LANGUAGES) {
      const { title, explanation, remedy } = CATALOGUES[language].codes.PROTECTED_NEEDS_KUR;
      for (const text of [title, explanation, remedy]) {
        expect(text).not.toMatch(/skydd|protected|beställning|order|identitet|identity|person/i);
      }
    }
  });
});
