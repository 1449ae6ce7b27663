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

/** The calendar date `days` after `date` (before it, for a negative number). */
export const addDays = (date: CalendarDate, days: number): CalendarDate => {
  const at = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: at.getUTCFullYear(), month: at.getUTCMonth() + 1, day: at.getUTCDate() };
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

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

/** How far the wall clock of `timeZone` is ahead of UTC at `instant`, in milliseconds. */
const zoneOffset = (instant: Instant, timeZone: string): number => {
  let formatter = offsetFormatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    offsetFormatters.set(timeZone, formatter);
  }
  const parts = formatter.formatToParts(new Date(instant));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return wall - Math.floor(instant / 1000) * 1000;
};

/** The instant the wall clock of `timeZone` shows `date` at `h:m:s` (an hour skipped by DST: after it). */
const wallClock = (date: CalendarDate, h: number, m: number, s: number, timeZone: string): Instant => {
  const asUtc = Date.UTC(date.year, date.month - 1, date.day, h, m, s);
  const first = asUtc - zoneOffset(asUtc, timeZone);
  // The offset may differ on either side of a DST change: read it again at the first guess.
  return asUtc - zoneOffset(first, timeZone);
};

/** The first second of a calendar day in `timeZone` (00:00:00 there). */
export const startOfDay = (date: CalendarDate, timeZone: string = SWEDISH_TIME_ZONE): Instant =>
  wallClock(date, 0, 0, 0, timeZone);

/**
 * The last second of a calendar day in `timeZone` (23:59:59 there): how a date that something is
 * valid "to" is stored, e.g. 2026-12-10 is 2026-12-10T22:59:59Z in winter, 21:59:59Z in summer.
 */
export const endOfDay = (date: CalendarDate, timeZone: string = SWEDISH_TIME_ZONE): Instant =>
  wallClock(date, 23, 59, 59, timeZone);

/** 23:59:59 UTC: where an end date entered as a calendar day was once stored, as if UTC were Swedish time. */
const UTC_END_OF_DAY = DAY - 1000;

/**
 * The calendar date (in Swedish time) that an end of validity stands for. Ends are stored with
 * `endOfDay`; an end stored the earlier way, at exactly 23:59:59 UTC, stands for that UTC date
 * (read in Swedish time it would fall an hour or two into the next day). No end stored with
 * `endOfDay` falls on 23:59:59 UTC, since Swedish time is always ahead of UTC.
 */
export const endDateOf = (instant: Instant, timeZone: string = SWEDISH_TIME_ZONE): CalendarDate => {
  if (((instant % DAY) + DAY) % DAY === UTC_END_OF_DAY) return dateOf(instant, 'UTC');
  return dateOf(instant, timeZone);
};

/** A stretch of time from `from` on, over which a time zone's wall clock is `offsetMs` ahead of UTC. */
export interface OffsetSegment {
  readonly from: Instant;
  readonly offsetMs: number;
}

/**
 * The stretches of [from, to) over which `timeZone`'s offset from UTC stays the same (one more per
 * daylight-saving change), so that local days and hours can be cut by arithmetic in a query.
 */
export const offsetSegments = (
  from: Instant,
  to: Instant,
  timeZone: string = SWEDISH_TIME_ZONE,
): OffsetSegment[] => {
  let offset = zoneOffset(from, timeZone);
  const segments: OffsetSegment[] = [{ from, offsetMs: offset }];
  // An offset never changes twice within a day: probe daily, bisect to the millisecond where it moved.
  for (let probe = from; probe < to; ) {
    const next = Math.min(probe + DAY, to);
    const nextOffset = zoneOffset(next, timeZone);
    if (nextOffset !== offset) {
      let lo = probe;
      let hi = next;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (zoneOffset(mid, timeZone) === offset) lo = mid;
        else hi = mid;
      }
      segments.push({ from: hi, offsetMs: nextOffset });
      offset = nextOffset;
    }
    probe = next;
  }
  return segments;
};
