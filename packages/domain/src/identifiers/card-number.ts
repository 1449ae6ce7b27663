import { err, ok, type Result } from '../result.js';

/** The number printed on a reserve card: 19 digits starting `9752`. */
export type CardNumber = string & { readonly __brand: 'CardNumber' };

export type CardNumberInvalidReason = 'length' | 'prefix' | 'characters';

export const CARD_NUMBER_LENGTH = 19;
export const CARD_NUMBER_PREFIX = '9752';

// Digits, optionally grouped by spaces or hyphens between them (as read off the card).
const GROUPED_DIGITS = /^(?:\d(?:[\s-]*\d)*)?$/;
const SEPARATORS = /[\s-]+/g;
const GROUP = 4;

const invalid = (reason: CardNumberInvalidReason) => err('CARD_NUMBER_INVALID', { reason });

export const parseCardNumber = (input: string): Result<CardNumber> => {
  if (typeof input !== 'string') return invalid('characters');
  const trimmed = input.trim();
  if (!GROUPED_DIGITS.test(trimmed)) return invalid('characters');
  const digits = trimmed.replace(SEPARATORS, '');
  if (digits.length !== CARD_NUMBER_LENGTH) return invalid('length');
  if (!digits.startsWith(CARD_NUMBER_PREFIX)) return invalid('prefix');
  return ok(digits as CardNumber);
};

/** Groups of four for people to read aloud and compare: `9752 2789 0000 0000 000`. */
export const formatCardNumber = (c: CardNumber): string => {
  const groups: string[] = [];
  for (let i = 0; i < c.length; i += GROUP) groups.push(c.slice(i, i + GROUP));
  return groups.join(' ');
};
