import { err, ok, type Result } from './result.js';

/** A moment in time as milliseconds since the Unix epoch (UTC). Passed in, never read from a clock here. */
export type Instant = number;

/** A date on the calendar, without time or zone: birth dates, ages, order validity days. */
export interface CalendarDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

/** The source of "now", injected wherever the rules depend on time. */
export interface Clock {
  now(): Instant;
}

/** The time zone the rules of a Swedish issuer are read in (ages, validity days). */
export const SWEDISH_TIME_ZONE = 'Europe/Stockholm';

export const isLeapYear = (year: number): boolean => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

export const daysInMonth = (year: number, month: number): number => {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
};

export const isValidCalendarDate = (d: CalendarDate): boolean =>
  Number.isInteger(d.year) &&
  Number.isInteger(d.month) &&
  Number.isInteger(d.day) &&
  d.year >= 1 &&
  d.year <= 9999 &&
  d.month >= 1 &&
  d.month <= 12 &&
  d.day >= 1 &&
  d.day <= daysInMonth(d.year, d.month);

export const compareDates = (a: CalendarDate, b: CalendarDate): number =>
  a.year - b.year || a.month - b.month || a.day - b.day;

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

export const formatDate = (d: CalendarDate): string =>
  `${pad(d.year, 4)}-${pad(d.month, 2)}-${pad(d.day, 2)}`;

/** Parses `YYYY-MM-DD` into a real calendar date. */
export const parseDate = (input: string): Result<CalendarDate> => {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(input.trim());
  if (!m) return err('DATE_INVALID', { input: input.slice(0, 40) });
  const date = { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
  return isValidCalendarDate(date) ? ok(date) : err('DATE_INVALID', { input: input.slice(0, 40) });
};

/** Whole years completed between `birth` and `on` (the birthday counts on the day itself; 29 Feb turns on 1 Mar). */
export const ageOn = (birth: CalendarDate, on: CalendarDate): number => {
  const years = on.year - birth.year;
  const beforeBirthday = on.month < birth.month || (on.month === birth.month && on.day < birth.day);
  return beforeBirthday ? years - 1 : years;
};

/** The calendar date of an instant in a time zone (Intl is computation, not I/O). */
/** Building a formatter costs far more than using one: keep one per time zone. */
const formatters = new Map<string, Intl.DateTimeFormat>();

export const dateOf = (instant: Instant, timeZone: string = SWEDISH_TIME_ZONE): CalendarDate => {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  const parts = formatter.formatToParts(new Date(instant));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value);
  return { year: get('year'), month: get('month'), day: get('day') };
};

export const MINUTE = 60_000;
export const DAY = 86_400_000;
