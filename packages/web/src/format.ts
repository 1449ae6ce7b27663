import {
  type CalendarDate,
  type CardNumber,
  dateOf,
  endDateOf,
  formatCardNumber,
  type Language,
  parseCardNumber,
} from '@reservkort/domain';

const TIME_ZONE = 'Europe/Stockholm';

export const formatTime = (at: number, language: Language): string =>
  new Intl.DateTimeFormat(language === 'sv' ? 'sv-SE' : 'en-GB', {
    timeZone: TIME_ZONE,
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).format(new Date(at));

/** A calendar date as the language writes it (2026-12-10, 10/12/2026): no time zone involved. */
export const formatCalendarDate = (date: CalendarDate, language: Language): string =>
  new Intl.DateTimeFormat(language === 'sv' ? 'sv-SE' : 'en-GB', {
    timeZone: 'UTC',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(new Date(Date.UTC(date.year, date.month - 1, date.day)));

/** The date of an instant in Swedish time. */
export const formatDate = (at: number, language: Language): string =>
  formatCalendarDate(dateOf(at, TIME_ZONE), language);

/** The date an end of validity stands for ("giltig till"): the last day it is valid, in Swedish time. */
export const formatEndDate = (at: number, language: Language): string =>
  formatCalendarDate(endDateOf(at, TIME_ZONE), language);

/** A card number in groups, as printed on the card; anything unparsable as it came. */
export const formatCard = (cardNumber: string | null | undefined): string => {
  if (!cardNumber) return '–';
  const parsed = parseCardNumber(cardNumber);
  return parsed.ok ? formatCardNumber(parsed.value as CardNumber) : cardNumber;
};

/** mm:ss, never negative. */
export const formatRemaining = (ms: number): string => {
  const total = Math.max(0, Math.ceil(ms / 1000));
  return `${String(Math.floor(total / 60)).padStart(2, '0')}:${String(total % 60).padStart(2, '0')}`;
};
