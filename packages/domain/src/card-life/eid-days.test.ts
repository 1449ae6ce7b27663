import { describe, expect, it } from 'vitest';
import { endOfDay } from '../time.js';
import { eidDaysLeft } from './eid-days.js';

const at = (iso: string) => Date.parse(iso);

describe('eidDaysLeft', () => {
  it('counts today and the last valid day, in Swedish time', () => {
    const notAfter = endOfDay({ year: 2026, month: 12, day: 18 });
    expect(eidDaysLeft(notAfter, at('2026-12-04T10:00:00Z'))).toBe(15);
    expect(eidDaysLeft(notAfter, at('2026-12-18T22:00:00Z'))).toBe(1);
    // 00:30 in Stockholm on the 5th is still the 4th in UTC.
    expect(eidDaysLeft(notAfter, at('2026-12-04T23:30:00Z'))).toBe(14);
  });

  it('has none left at or after the end', () => {
    const notAfter = at('2026-12-18T10:00:00Z');
    expect(eidDaysLeft(notAfter, notAfter)).toBe(0);
    expect(eidDaysLeft(notAfter, notAfter + 1)).toBe(0);
  });

  it('ends on the day the last instant belongs to, across the change to summer time', () => {
    const notAfter = endOfDay({ year: 2027, month: 4, day: 1 });
    expect(eidDaysLeft(notAfter, at('2027-03-25T12:00:00Z'))).toBe(8);
  });
});
