import { describe, expect, it } from 'vitest';
import {
  ageOn,
  compareDates,
  DAY,
  dateOf,
  daysInMonth,
  formatDate,
  isLeapYear,
  isValidCalendarDate,
  parseDate,
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
});
