import { type CalendarDate, DAY, dateOf, endDateOf, type Instant } from '../time.js';

const dayNumber = (d: CalendarDate): number => Math.round(Date.UTC(d.year, d.month - 1, d.day) / DAY);

/**
 * The days an e-ID still works, counting today: its certificates' last valid day (in Swedish
 * time) minus today, plus one. An e-ID valid through today has one day left; an expired one none.
 */
export const eidDaysLeft = (notAfter: Instant, now: Instant): number =>
  now >= notAfter ? 0 : dayNumber(endDateOf(notAfter)) - dayNumber(dateOf(now)) + 1;
