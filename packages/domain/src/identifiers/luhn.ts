/**
 * The Luhn (mod 10) check digit used by personnummer and organisation numbers.
 * Non-digit input yields NaN / false rather than throwing, so callers never need a try.
 */

const DIGITS = /^\d*$/;

/** The check digit that makes `digits` + check digit Luhn-valid; NaN if `digits` is not a digit string. */
export const luhnCheckDigit = (digits: string): number => {
  if (typeof digits !== 'string' || !DIGITS.test(digits)) return Number.NaN;
  let sum = 0;
  // Walk from the right: the digit next to the (future) check digit is doubled.
  for (let i = digits.length - 1, double = true; i >= 0; i--, double = !double) {
    const d = digits.charCodeAt(i) - 48;
    const v = double ? d * 2 : d;
    sum += v > 9 ? v - 9 : v;
  }
  return (10 - (sum % 10)) % 10;
};

/** Whether the last digit of `digits` is the Luhn check digit of the digits before it. */
export const isLuhnValid = (digits: string): boolean => {
  if (typeof digits !== 'string' || digits.length === 0 || !DIGITS.test(digits)) return false;
  return luhnCheckDigit(digits.slice(0, -1)) === Number(digits.slice(-1));
};
