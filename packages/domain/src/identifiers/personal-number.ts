import { err, ok, type Result } from '../result.js';
import { ageOn, type CalendarDate, compareDates, isValidCalendarDate } from '../time.js';
import { isLuhnValid } from './luhn.js';

export type PersonalNumberKind = 'personnummer' | 'samordningsnummer';

export interface PersonalNumber {
  /** Normalised: 12 digits YYYYMMDDNNNC; a samordningsnummer keeps its day + 60. */
  readonly value: string;
  readonly kind: PersonalNumberKind;
  /** For a samordningsnummer: the day minus 60. */
  readonly birthDate: CalendarDate;
}

export interface ParsedPersonalNumber {
  readonly personalNumber: PersonalNumber;
  /** True when the input was not already exactly 12 plain digits (the PNR_FORMAT notice). */
  readonly normalised: boolean;
}

/** 198001019804 | 19800101-9804 | 800101-9804 (800101+9804 when 100 or older). */
export type PersonalNumberStyle = 'twelve' | 'twelve-hyphen' | 'ten';

const SHAPE = /^(\d{6}|\d{8})([-+]?)(\d{4})$/;
const WHITESPACE = /\s+/g;
const TWELVE_PLAIN = /^\d{12}$/;
const SAMORDNING_OFFSET = 60;
const CENTURY = 100;

const mod = (n: number, m: number): number => ((n % m) + m) % m;

/**
 * The full year for a 10-digit number: the latest year ending in `yy` whose birthday is not after
 * `today` (age 0–99); the `+` separator marks the century before that (age 100+).
 */
const fullYear = (yy: number, month: number, day: number, plus: boolean, today: CalendarDate): number => {
  let year = today.year - mod(today.year - yy, CENTURY);
  if (compareDates({ year, month, day }, today) > 0) year -= CENTURY;
  return plus ? year - CENTURY : year;
};

/** Whole years on `on`, from the birth date (a samordningsnummer's day minus 60). */
export const personalNumberAge = (p: PersonalNumber, on: CalendarDate): number => ageOn(p.birthDate, on);

/**
 * Parses a personnummer or samordningsnummer in any of the usual written forms. The check digit
 * is verified before the date so that any single mistyped digit reads as PNR_CHECK_DIGIT.
 */
export const parsePersonalNumber = (input: string, today: CalendarDate): Result<ParsedPersonalNumber> => {
  if (typeof input !== 'string') return err('PNR_INVALID');
  const trimmed = input.trim();
  const match = SHAPE.exec(trimmed.replace(WHITESPACE, ''));
  if (match === null) return err('PNR_INVALID');
  const [, datePart = '', separator, tail = ''] = match;
  const short = datePart.slice(-6);
  if (!isLuhnValid(short + tail)) return err('PNR_CHECK_DIGIT');

  const month = Number(short.slice(2, 4));
  const rawDay = Number(short.slice(4, 6));
  const samordning = rawDay > SAMORDNING_OFFSET;
  const day = samordning ? rawDay - SAMORDNING_OFFSET : rawDay;
  // With a century given, the separator carries no information and is ignored.
  const year =
    datePart.length === 8
      ? Number(datePart.slice(0, 4))
      : fullYear(Number(short.slice(0, 2)), month, day, separator === '+', today);
  const birthDate: CalendarDate = { year, month, day };
  if (!isValidCalendarDate(birthDate) || compareDates(birthDate, today) > 0) return err('PNR_DATE');

  return ok({
    personalNumber: {
      value: `${String(year).padStart(4, '0')}${short.slice(2)}${tail}`,
      kind: samordning ? 'samordningsnummer' : 'personnummer',
      birthDate,
    },
    normalised: !TWELVE_PLAIN.test(input),
  });
};

/** Writes a personal number for people or systems; `today` decides `-` or `+` in the 10-digit form. */
export const formatPersonalNumber = (
  p: PersonalNumber,
  style: PersonalNumberStyle,
  today: CalendarDate,
): string => {
  if (style === 'ten') {
    const separator = personalNumberAge(p, today) >= CENTURY ? '+' : '-';
    return `${p.value.slice(2, 8)}${separator}${p.value.slice(8)}`;
  }
  if (style === 'twelve-hyphen') return `${p.value.slice(0, 8)}-${p.value.slice(8)}`;
  return p.value;
};
