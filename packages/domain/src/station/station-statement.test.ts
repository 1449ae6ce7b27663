import { describe, expect, it } from 'vitest';
import {
  canonicalStatementBytes,
  parseStatementPayload,
  type StatementPayload,
} from './station-statement.js';

const payload: StatementPayload = {
  v: 1,
  station: 'st-abcdefgh12',
  flowId: 'flow-1',
  nonce: '0123456789abcdef0123456789abcdef',
  seq: 3,
  at: 1_700_000_000_000,
  kind: 'readers',
  body: {
    readers: {
      1: { connected: true, card: { cardNumber: '9752278900000000002', insertions: 2 } },
      2: { connected: true, card: null },
    },
  },
};

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('station statements', () => {
  it('sign the same bytes whatever the order of the keys, as UTF-8', () => {
    // The same fields inserted in reverse order.
    const shuffled = Object.fromEntries(Object.entries(payload).reverse()) as unknown as StatementPayload;
    expect(decode(canonicalStatementBytes(shuffled))).toBe(decode(canonicalStatementBytes(payload)));
    expect(decode(canonicalStatementBytes(payload)).startsWith('{"at":1700000000000,"body":{"readers"')).toBe(
      true,
    );
    const info = { ...payload, kind: 'agent-info' as const, body: { version: 'å €𝄞', packaging: 'msi' } };
    expect(canonicalStatementBytes(info)).toEqual(
      new TextEncoder().encode(JSON.stringify(JSON.parse(decode(canonicalStatementBytes(info))))),
    );
  });

  it('accept a well-formed payload', () => {
    expect(parseStatementPayload(JSON.parse(JSON.stringify(payload)))).toEqual({ ok: true, value: payload });
    const event = {
      ...payload,
      kind: 'event',
      body: { event: { type: 'card-inserted', reader: 2, cardNumber: null } },
    };
    expect(parseStatementPayload(event).ok).toBe(true);
  });

  it.each([
    ['an extra field', { ...payload, page: 'said so' }, 'shape'],
    ['another version', { ...payload, v: 2 }, 'shape'],
    ['a bad station id', { ...payload, station: 'station-1' }, 'shape'],
    ['a short nonce', { ...payload, nonce: 'abc' }, 'shape'],
    ['seq zero', { ...payload, seq: 0 }, 'shape'],
    ['an unknown kind', { ...payload, kind: 'tick' }, 'shape'],
    ['a body of another kind', { ...payload, kind: 'agent-info' }, 'body'],
    ['an extra body field', { ...payload, body: { ...payload.body, forged: true } }, 'body'],
    [
      'a relayed handover',
      { ...payload, kind: 'event', body: { event: { type: 'handover-verified', cardNumber: '1' } } },
      'body',
    ],
    ['not an object', 'readers', 'shape'],
  ])('refuse %s', (_what, value, reason) => {
    expect(parseStatementPayload(value)).toEqual({
      ok: false,
      error: { code: 'STATEMENT_INVALID', details: { reason } },
    });
  });
});
