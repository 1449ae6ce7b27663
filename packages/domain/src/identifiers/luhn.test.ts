import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLuhnValid, luhnCheckDigit } from './luhn.js';

describe('luhnCheckDigit', () => {
  it('computes known check digits', () => {
    expect(luhnCheckDigit('7992739871')).toBe(3);
    expect(luhnCheckDigit('811228987')).toBe(4);
    expect(luhnCheckDigit('121212121')).toBe(2);
    expect(luhnCheckDigit('')).toBe(0);
  });

  it('gives NaN for anything but a digit string', () => {
    expect(luhnCheckDigit('12a4')).toBeNaN();
    expect(luhnCheckDigit(' 123')).toBeNaN();
    expect(luhnCheckDigit(1234 as unknown as string)).toBeNaN();
  });
});

describe('isLuhnValid', () => {
  it('accepts known valid numbers and rejects altered ones', () => {
    expect(isLuhnValid('79927398713')).toBe(true);
    expect(isLuhnValid('8112289874')).toBe(true);
    expect(isLuhnValid('8112289875')).toBe(false);
    expect(isLuhnValid('0')).toBe(true);
  });

  it('rejects empty, non-digit and non-string input', () => {
    expect(isLuhnValid('')).toBe(false);
    expect(isLuhnValid('81122-89874')).toBe(false);
    expect(isLuhnValid(null as unknown as string)).toBe(false);
  });

  it('appending the check digit always gives a valid number, and any single-digit change breaks it', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 30 }),
        fc.nat(),
        fc.integer({ min: 1, max: 9 }),
        (payload, at, delta) => {
          const full = `${payload}${luhnCheckDigit(payload)}`;
          expect(isLuhnValid(full)).toBe(true);
          const i = at % full.length;
          const changed = `${full.slice(0, i)}${(Number(full[i]) + delta) % 10}${full.slice(i + 1)}`;
          expect(isLuhnValid(changed)).toBe(false);
        },
      ),
    );
  });
});
