import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CardNumber, formatCardNumber, parseCardNumber } from './card-number.js';

const digits = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });

const cardNumberArb = digits(15, 15).map((rest) => `9752${rest}` as CardNumber);

const reasonOf = (input: unknown): unknown => {
  const r = parseCardNumber(input as string);
  return r.ok ? null : r.error.details?.reason;
};

describe('parseCardNumber', () => {
  it.each([
    '9752278900000000000',
    '9752 2789 0000 0000 000',
    '9752-2789-0000-0000-000',
    '  9752 2789 0000 0000 000  ',
    '9752  2789 - 0000 0000 000',
    '9752\u00a02789\t0000 0000 000',
  ])('accepts %j', (input) => {
    expect(parseCardNumber(input)).toEqual({ ok: true, value: '9752278900000000000' });
  });

  it.each([
    ['', 'length'],
    ['9752 2789', 'length'],
    ['97522789000000000000', 'length'],
    ['1234278900000000000', 'prefix'],
    ['9753278900000000000', 'prefix'],
    ['9752 2789 0000 0000 00x', 'characters'],
    ['-9752278900000000000', 'characters'],
    ['9752278900000000000-', 'characters'],
    ['9752_2789_0000_0000_000', 'characters'],
    ['９７５２２７８９００００００００００', 'characters'],
  ])('rejects %j (%s)', (input, reason) => {
    expect(parseCardNumber(input)).toEqual({
      ok: false,
      error: { code: 'CARD_NUMBER_INVALID', details: { reason } },
    });
  });

  it.each([null, undefined, 9752278900000000000, {}])('never throws on %j at runtime', (input) => {
    expect(reasonOf(input)).toBe('characters');
  });

  it('round-trips through the grouped form', () => {
    fc.assert(
      fc.property(cardNumberArb, (c) => {
        expect(parseCardNumber(c)).toEqual({ ok: true, value: c });
        expect(parseCardNumber(formatCardNumber(c))).toEqual({ ok: true, value: c });
      }),
    );
  });

  it('refuses any other length', () => {
    fc.assert(
      fc.property(
        digits(0, 30).filter((d) => d.length !== 15),
        (rest) => {
          expect(reasonOf(`9752${rest}`)).toBe('length');
        },
      ),
    );
  });

  it('refuses any other prefix', () => {
    fc.assert(
      fc.property(
        digits(4, 4).filter((p) => p !== '9752'),
        digits(15, 15),
        (prefix, rest) => {
          expect(reasonOf(`${prefix}${rest}`)).toBe('prefix');
        },
      ),
    );
  });
});

describe('formatCardNumber', () => {
  it('groups by four', () => {
    expect(formatCardNumber('9752278900000000000' as CardNumber)).toBe('9752 2789 0000 0000 000');
  });
});
