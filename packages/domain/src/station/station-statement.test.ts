import { describe, expect, it } from 'vitest';
import {
  canonicalStatementBytes,
  cardKeysBytes,
  cardProofBytes,
  MAX_STATEMENT_EVENTS,
  parseStatementPayload,
  type StatementBody,
  type StatementKind,
  type StatementPayload,
} from './station-statement.js';

const CARD = '9752278900000000100';
const B64 = 'MIIBAA==';
const base = {
  v: 1,
  station: 'st-abcdefgh12',
  flowId: 'flow-1',
  nonce: '0123456789abcdef0123456789abcdef',
  seq: 7,
  at: 1_700_000_000_000,
} as const;
const key = { spki: B64, local: true, sensitive: true, neverExtractable: true };

const BODIES: Record<StatementKind, StatementBody> = {
  event: { event: { type: 'card-inserted', reader: 2, cardNumber: CARD as never } },
  events: {
    events: [
      { type: 'key-generation-started' },
      { type: 'dialog-shown', dialog: 'auth' },
      { type: 'dialog-completed', dialog: 'auth' },
    ],
  },
  readers: {
    readers: {
      1: { connected: true, card: { cardNumber: null, insertions: 3 } },
      2: { connected: false, card: null },
    },
  },
  'card-proof': { reader: 2, cardNumber: CARD as never, bureauCertificate: B64, cardSignature: B64 },
  'keys-generated': {
    reader: 2,
    cardNumber: CARD as never,
    bureauCertificate: B64,
    keys: { auth: key, sign: key },
    cardSignature: B64,
  },
  'agent-info': { version: '0.1.0', packaging: 'npm' },
  'card-certificates': { reader: 1, cardNumber: CARD as never, certificates: [B64, B64] },
};

const payload = (kind: StatementKind, body: unknown = BODIES[kind]): Record<string, unknown> => ({
  ...base,
  kind,
  body,
});

const decode = (bytes: Uint8Array): string => String.fromCharCode(...bytes);

describe('station statements', () => {
  it.each(Object.keys(BODIES) as StatementKind[])('accepts a well-formed %s statement', (kind) => {
    const parsed = parseStatementPayload(payload(kind));
    expect(parsed).toEqual({ ok: true, value: payload(kind) });
  });

  it('accepts each agent event with exactly its fields', () => {
    const events = [
      { type: 'reader-plugged', reader: 1 },
      { type: 'reader-unplugged', reader: 2 },
      { type: 'card-inserted', reader: 1, cardNumber: null },
      { type: 'card-removed', reader: 1 },
      { type: 'key-generation-started' },
      { type: 'keys-generated' },
      { type: 'dialog-shown', dialog: 'auth' },
      { type: 'dialog-completed', dialog: 'sign' },
      { type: 'dialog-cancelled', dialog: 'auth' },
      { type: 'dialog-not-shown', dialog: 'sign' },
      { type: 'certificates-written' },
      { type: 'download-failed', reason: 'CARD_REMOVED' },
    ];
    for (const event of events) expect(parseStatementPayload(payload('event', { event })).ok).toBe(true);
    // Several of them in one statement, up to the most one carries, in the order given.
    const all = { events: [...events, ...events.slice(0, MAX_STATEMENT_EVENTS - events.length)] };
    expect(parseStatementPayload(payload('events', all))).toEqual({
      ok: true,
      value: payload('events', all),
    });
  });

  it.each([
    ['not an object', null, 'statement-shape'],
    ['an array', [], 'statement-shape'],
    ['an extra field', { ...payload('agent-info'), extra: 1 }, 'statement-field'],
    ['a missing field', { ...payload('agent-info'), seq: undefined }, 'statement-field'],
    ['another version', { ...payload('agent-info'), v: 2 }, 'statement-field'],
    ['a bad station id', { ...payload('agent-info'), station: 'station-1' }, 'statement-field'],
    ['a bad flow id', { ...payload('agent-info'), flowId: 'a/b' }, 'statement-field'],
    ['an upper-case nonce', { ...payload('agent-info'), nonce: 'A'.repeat(32) }, 'statement-field'],
    ['seq zero', { ...payload('agent-info'), seq: 0 }, 'statement-field'],
    ['a fractional seq', { ...payload('agent-info'), seq: 1.5 }, 'statement-field'],
    ['an unknown kind', { ...payload('agent-info'), kind: 'tick' }, 'statement-field'],
  ])('refuses %s', (_what, value, reason) => {
    const parsed = parseStatementPayload(value);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatchObject({ code: 'REQUEST_INVALID', details: { reason } });
  });

  it.each([
    ['a page event', 'event', { event: { type: 'handover-verified', cardNumber: CARD } }],
    ['a tick', 'event', { event: { type: 'tick' } }],
    ['an event field too many', 'event', { event: { type: 'keys-generated', reader: 2 } }],
    ['an event without its reader', 'event', { event: { type: 'card-removed' } }],
    ['reader 3', 'event', { event: { type: 'card-removed', reader: 3 } }],
    [
      'an unnormalised card number',
      'event',
      { event: { type: 'card-inserted', reader: 1, cardNumber: ' 9752' } },
    ],
    ['a missing reader', 'readers', { readers: { 1: { connected: true, card: null } } }],
    [
      'a negative insertion count',
      'readers',
      {
        readers: {
          1: { connected: true, card: { cardNumber: null, insertions: -1 } },
          2: { connected: false, card: null },
        },
      },
    ],
    ['keys from reader 1', 'keys-generated', { ...BODIES['keys-generated'], reader: 1 }],
    [
      'a key fact without a flag',
      'keys-generated',
      { ...BODIES['keys-generated'], keys: { auth: key, sign: { spki: B64, local: true } } },
    ],
    ['a signature not in base64', 'card-proof', { ...BODIES['card-proof'], cardSignature: 'a b' }],
    [
      'certificates that are not a list',
      'card-certificates',
      { ...BODIES['card-certificates'], certificates: B64 },
    ],
    ['one event as a list', 'events', { events: [{ type: 'keys-generated' }] }],
    [
      'more events than one statement carries',
      'events',
      { events: Array.from({ length: MAX_STATEMENT_EVENTS + 1 }, () => ({ type: 'keys-generated' })) },
    ],
    ['a list with a page event', 'events', { events: [{ type: 'keys-generated' }, { type: 'tick' }] }],
    [
      'a list with an event field too many',
      'events',
      { events: [{ type: 'keys-generated' }, { type: 'card-removed', reader: 1, cardNumber: CARD }] },
    ],
    ['events that are not a list', 'events', { events: { type: 'keys-generated' } }],
    ['one event under events', 'events', { event: { type: 'keys-generated' } }],
    ['an empty version', 'agent-info', { version: '', packaging: 'npm' }],
    ['a body that is a list', 'agent-info', []],
  ] as const)('refuses a body with %s', (_what, kind, body) => {
    const parsed = parseStatementPayload(payload(kind, body));
    expect(parsed).toMatchObject({
      ok: false,
      error: { code: 'REQUEST_INVALID', details: { reason: 'statement-body', field: kind } },
    });
  });

  it('signs the same bytes whatever the key order, in UTF-8', () => {
    const one = payload('agent-info', { version: 'åäö €', packaging: '𝄞' }) as unknown as StatementPayload;
    const reordered = Object.fromEntries(Object.entries(one).reverse()) as unknown as StatementPayload;
    const bytes = canonicalStatementBytes(one);
    expect(bytes).toEqual(canonicalStatementBytes(reordered));
    const text = decode(bytes);
    expect(text.startsWith('{"at":1700000000000,"body":{"packaging":"')).toBe(true);
    // Two bytes for å, three for €, four for the clef.
    expect([...bytes.slice(text.indexOf('version') + 10, text.indexOf('version') + 12)]).toEqual([
      0xc3, 0xa5,
    ]);
    expect(new TextDecoder().decode(bytes)).toBe(
      JSON.stringify({
        at: base.at,
        body: { packaging: '𝄞', version: 'åäö €' },
        flowId: base.flowId,
        kind: 'agent-info',
        nonce: base.nonce,
        seq: base.seq,
        station: base.station,
        v: 1,
      }),
    );
  });

  it('sorts nested keys and keeps the order of lists', () => {
    const text = new TextDecoder().decode(canonicalStatementBytes(payload('readers') as never));
    expect(text).toContain('"readers":{"1":{"card":{"cardNumber":null,"insertions":3},"connected":true}');
    const certs = new TextDecoder().decode(
      canonicalStatementBytes(
        payload('card-certificates', { ...BODIES['card-certificates'], certificates: ['b', 'a'] }) as never,
      ),
    );
    expect(certs).toContain('"certificates":["b","a"]');
  });
});

describe('what the card signs', () => {
  const card = CARD as StatementPayload['flowId'] as never;
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

  it('names the flow, the nonce and the card, one per line after a versioned label', () => {
    expect(text(cardProofBytes({ flowId: 'flow-1', nonce: 'ab'.repeat(16), cardNumber: card }))).toBe(
      `reservkort card-proof v1\nflow-1\n${'ab'.repeat(16)}\n${CARD}`,
    );
  });

  it('binds both public keys, in order, so swapping them is another text', () => {
    const keys = {
      flowId: 'flow-1',
      nonce: 'cd'.repeat(16),
      cardNumber: card,
      authSpki: 'QQ==',
      signSpki: 'Qg==',
    };
    const swapped = { ...keys, authSpki: keys.signSpki, signSpki: keys.authSpki };
    expect(text(cardKeysBytes(keys)).split('\n')).toEqual([
      'reservkort card-keys v1',
      'flow-1',
      'cd'.repeat(16),
      CARD,
      'QQ==',
      'Qg==',
    ]);
    expect(text(cardKeysBytes(swapped))).not.toBe(text(cardKeysBytes(keys)));
  });
});
