import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HSA_ID_MAX_LENGTH, type HsaId, hsaIdParts, parseHsaId } from './hsa-id.js';

const digits = (length: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: length, maxLength: length });
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

const organisationNumberArb = fc.oneof(
  digits(10),
  digits(10).map((d) => `16${d}`),
);

/** Valid HSA-ids: every organisation number form and every local part that fits in 31 characters. */
const hsaIdArb = organisationNumberArb.chain((org) =>
  fc
    .string({ unit: fc.constantFrom(...ALNUM), minLength: 1, maxLength: HSA_ID_MAX_LENGTH - 3 - org.length })
    .map((local) => ({ org, local, id: `SE${org}-${local}` })),
);

const reasonOf = (input: unknown): unknown => {
  const r = parseHsaId(input as string);
  return r.ok ? null : r.error.details?.reason;
};

describe('parseHsaId', () => {
  it('accepts the documented examples', () => {
    expect(parseHsaId('SE2321000016-abc1')).toEqual({ ok: true, value: 'SE2321000016-abc1' });
    expect(parseHsaId('SE162321000016-X9')).toEqual({ ok: true, value: 'SE162321000016-X9' });
  });

  it('round-trips every valid id, and normalises the prefix case and surrounding space', () => {
    fc.assert(
      fc.property(
        hsaIdArb,
        fc.constantFrom('SE', 'se', 'Se', 'sE'),
        fc.constantFrom('', ' ', '\t', ' \u00a0'),
        ({ org, local, id }, prefix, space) => {
          expect(parseHsaId(id)).toEqual({ ok: true, value: id });
          expect(parseHsaId(`${space}${prefix}${org}-${local}${space}`)).toEqual({ ok: true, value: id });
          expect(hsaIdParts(id as HsaId)).toEqual({ organisationNumber: org, localPart: local });
        },
      ),
    );
  });

  it('keeps the case of the local part', () => {
    expect(parseHsaId('se2321000016-AbC')).toEqual({ ok: true, value: 'SE2321000016-AbC' });
  });

  it('accepts exactly 31 characters and refuses 32', () => {
    const at31 = `SE2321000016-${'a'.repeat(18)}`;
    expect(at31).toHaveLength(31);
    expect(parseHsaId(at31).ok).toBe(true);
    expect(reasonOf(`${at31}b`)).toBe('length');
    expect(reasonOf(`SE162321000016-${'a'.repeat(17)}`)).toBe('length');
  });

  it.each([
    ['', 'prefix'],
    ['2321000016-abc1', 'prefix'],
    ['SX2321000016-abc1', 'prefix'],
    ['S E2321000016-abc1', 'prefix'],
    ['SE-abc1', 'organisation-number'],
    ['SE232100001-abc1', 'organisation-number'],
    ['SE23210000161-abc1', 'organisation-number'],
    ['SE232321000016-abc1', 'organisation-number'],
    ['SE16232100001-abc1', 'organisation-number'],
    ['SE2321000016x-abc1', 'organisation-number'],
    ['SE 2321000016-abc1', 'organisation-number'],
    ['SE2321000016', 'local-part'],
    ['SE2321000016-', 'local-part'],
    ['SE2321000016-abc-1', 'local-part'],
    ['SE2321000016-ab c', 'local-part'],
    ['SE2321000016-åäö', 'local-part'],
    ['SE2321000016-abc_1', 'local-part'],
  ])('rejects %j (%s)', (input, reason) => {
    expect(parseHsaId(input)).toEqual({ ok: false, error: { code: 'HSA_ID_INVALID', details: { reason } } });
  });

  it.each([null, undefined, 42, {}])('never throws on %j at runtime', (input) => {
    expect(reasonOf(input)).toBe('prefix');
  });

  it('refuses any other organisation number length', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 0, max: 16 })
          .filter((n) => n !== 10 && n !== 12)
          .chain(digits),
        (org) => {
          expect(reasonOf(`SE${org}-a`)).toBe('organisation-number');
        },
      ),
    );
  });
});
