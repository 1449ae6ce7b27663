import { describe, expect, it } from 'vitest';
import {
  addDays,
  ageOn,
  compareDates,
  DAY,
  dateOf,
  daysInMonth,
  endDateOf,
  endOfDay,
  formatDate,
  isLeapYear,
  isValidCalendarDate,
  parseDate,
  startOfDay,
} from './index.js';

describe('calendar', () => {
  it('knows leap years and month lengths', () => {
    expect([1900, 2000, 2024, 2026].map(isLeapYear)).toEqual([false, true, true, false]);
    expect([1, 2, 4, 12].map((m) => daysInMonth(2024, m))).toEqual([31, 29, 30, 31]);
  });

  it('validates dates', () => {
    expect(isValidCalendarDate({ year: 2024, month: 2, day: 29 })).toBe(true);
    expect(isValidCalendarDate({ year: 2023, month: 2, day: 29 })).toBe(false);
    expect(isValidCalendarDate({ year: 2023, month: 13, day: 1 })).toBe(false);
    expect(isValidCalendarDate({ year: 2023.5, month: 1, day: 1 })).toBe(false);
  });

  it('parses and formats ISO dates, refusing what does not exist', () => {
    expect(parseDate(' 2024-02-29 ')).toEqual({ ok: true, value: { year: 2024, month: 2, day: 29 } });
    expect(formatDate({ year: 987, month: 3, day: 4 })).toBe('0987-03-04');
    expect(parseDate('2023-02-29')).toMatchObject({ ok: false, error: { code: 'DATE_INVALID' } });
    expect(parseDate('29/02/2024')).toMatchObject({ ok: false, error: { code: 'DATE_INVALID' } });
  });

  it('counts calendar days across months, years and leap days', () => {
    expect(addDays({ year: 2026, month: 12, day: 25 }, 13)).toEqual({ year: 2027, month: 1, day: 7 });
    expect(addDays({ year: 2028, month: 2, day: 28 }, 1)).toEqual({ year: 2028, month: 2, day: 29 });
    expect(addDays({ year: 2026, month: 3, day: 1 }, -1)).toEqual({ year: 2026, month: 2, day: 28 });
  });

  it('compares dates and counts whole years of age', () => {
    const birth = { year: 2008, month: 11, day: 30 };
    expect(compareDates(birth, { year: 2008, month: 12, day: 1 })).toBeLessThan(0);
    expect(ageOn(birth, { year: 2026, month: 11, day: 29 })).toBe(17);
    expect(ageOn(birth, { year: 2026, month: 11, day: 30 })).toBe(18);
  });

  it('reads the calendar date of an instant in Swedish time', () => {
    // 23:30 UTC on 31 December is already New Year's Day in Stockholm.
    expect(dateOf(Date.UTC(2026, 11, 31, 23, 30))).toEqual({ year: 2027, month: 1, day: 1 });
    expect(dateOf(Date.UTC(2026, 11, 31, 23, 30), 'UTC')).toEqual({ year: 2026, month: 12, day: 31 });
    expect(DAY).toBe(86_400_000);
  });

  it('stores a date something is valid to as the last second of that day in Swedish time', () => {
    const iso = (at: number) => new Date(at).toISOString();
    // Winter (CET, UTC+1) and summer (CEST, UTC+2).
    expect(iso(endOfDay({ year: 2026, month: 12, day: 10 }))).toBe('2026-12-10T22:59:59.000Z');
    expect(iso(endOfDay({ year: 2026, month: 7, day: 1 }))).toBe('2026-07-01T21:59:59.000Z');
    // The days the clocks change: 2026-03-29 (02:00 → 03:00) and 2026-10-25 (03:00 → 02:00).
    expect(iso(endOfDay({ year: 2026, month: 3, day: 28 }))).toBe('2026-03-28T22:59:59.000Z');
    expect(iso(endOfDay({ year: 2026, month: 3, day: 29 }))).toBe('2026-03-29T21:59:59.000Z');
    expect(iso(endOfDay({ year: 2026, month: 10, day: 25 }))).toBe('2026-10-25T22:59:59.000Z');
    expect(iso(endOfDay({ year: 2026, month: 10, day: 24 }))).toBe('2026-10-24T21:59:59.000Z');
    expect(iso(startOfDay({ year: 2026, month: 3, day: 29 }))).toBe('2026-03-28T23:00:00.000Z');
    expect(iso(startOfDay({ year: 2026, month: 3, day: 30 }))).toBe('2026-03-29T22:00:00.000Z');
    expect(iso(startOfDay({ year: 2026, month: 10, day: 25 }))).toBe('2026-10-24T22:00:00.000Z');
    expect(iso(startOfDay({ year: 2026, month: 10, day: 26 }))).toBe('2026-10-25T23:00:00.000Z');
    // A DST day is 23 or 25 hours long.
    const length = (d: { year: number; month: number; day: number }) => endOfDay(d) + 1000 - startOfDay(d);
    expect(length({ year: 2026, month: 3, day: 29 })).toBe(DAY - 3_600_000);
    expect(length({ year: 2026, month: 10, day: 25 })).toBe(DAY + 3_600_000);
  });

  it('reads an end of validity back as the date that was entered, also one stored the earlier way', () => {
    for (const date of [
      { year: 2026, month: 12, day: 10 },
      { year: 2026, month: 3, day: 29 },
      { year: 2026, month: 10, day: 25 },
      { year: 2026, month: 12, day: 31 },
    ]) {
      expect(endDateOf(endOfDay(date))).toEqual(date);
      expect(dateOf(endOfDay(date))).toEqual(date);
      expect(dateOf(startOfDay(date))).toEqual(date);
      // Earlier, 2026-12-10 was stored as 2026-12-10T23:59:59Z: in Stockholm already the 11th.
      const earlier = Date.UTC(date.year, date.month - 1, date.day, 23, 59, 59);
      expect(dateOf(earlier)).not.toEqual(date);
      expect(endDateOf(earlier)).toEqual(date);
    }
    // Any other instant is read in Swedish time.
    expect(endDateOf(Date.UTC(2026, 11, 31, 23, 30))).toEqual({ year: 2027, month: 1, day: 1 });
  });
});
