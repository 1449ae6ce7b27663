import type { ErrorCode } from '../error-code.js';
import type { CalendarDate } from '../time.js';
import { HSA_ID_MAX_LENGTH, type HsaId, parseHsaId } from './hsa-id.js';
import { type PersonalNumber, parsePersonalNumber } from './personal-number.js';

/** What admin 2 typed in the step-2 search field, read as one kind of identifier. */
export type SearchQuery =
  | {
      readonly kind: 'personal-number';
      readonly personalNumber: PersonalNumber;
      readonly normalised: string;
      /** ['PNR_FORMAT'] when the input had to be normalised, else []. */
      readonly codes: readonly ErrorCode[];
    }
  | {
      readonly kind: 'hsa-id';
      readonly hsaId: HsaId;
      readonly normalised: string;
      readonly codes: readonly ErrorCode[];
    }
  | { readonly kind: 'partial-hsa-id'; readonly fragment: string; readonly codes: readonly ErrorCode[] }
  | { readonly kind: 'invalid'; readonly codes: readonly ErrorCode[] };

export const SEARCH_QUERY_MAX_LENGTH = 100;

const WHITESPACE = /\s+/g;
const DIGITS_AND_SEPARATORS = /^[\d+-]+$/;
const NON_DIGITS = /\D/g;
const SE_THEN_DIGIT = /^se\d/i;
const SE_ORGANISATION_ONLY = /^se\d+-?$/i;
const ORGANISATION_THEN_LOCAL = /^\d+-[A-Za-z0-9]+$/;
const BARE_LOCAL_PART = /^-?[A-Za-z0-9]{1,31}$/;
// Fewer digits than this cannot be a personal number; users type the last four of a HSA-id.
const MIN_PERSONAL_NUMBER_DIGITS = 6;

const invalid = (code: ErrorCode): SearchQuery => ({ kind: 'invalid', codes: [code] });

// A fragment longer than any HSA-id can match nothing; refuse it rather than cut it silently.
const partial = (fragment: string): SearchQuery =>
  fragment.length > HSA_ID_MAX_LENGTH
    ? invalid('QUERY_INVALID')
    : { kind: 'partial-hsa-id', fragment, codes: ['HSA_ID_INCOMPLETE'] };

const classifyDigits = (
  input: string,
  digitCount: number,
  trimmed: string,
  today: CalendarDate,
): SearchQuery => {
  if (digitCount === 10 || digitCount === 12) {
    const parsed = parsePersonalNumber(input, today);
    if (!parsed.ok) return invalid(parsed.error.code);
    const { personalNumber, normalised } = parsed.value;
    return {
      kind: 'personal-number',
      personalNumber,
      normalised: personalNumber.value,
      codes: normalised ? ['PNR_FORMAT'] : [],
    };
  }
  if (digitCount >= MIN_PERSONAL_NUMBER_DIGITS) return invalid('PNR_INVALID');
  // Separators alone ('-', '+') are no fragment of anything.
  return digitCount === 0 ? invalid('QUERY_INVALID') : partial(trimmed);
};

const classifySe = (trimmed: string): SearchQuery => {
  const full = parseHsaId(trimmed);
  if (full.ok) return { kind: 'hsa-id', hsaId: full.value, normalised: full.value, codes: [] };
  // The organisation part alone: valid once any local part is added (one rule, kept in hsa-id.ts).
  if (SE_ORGANISATION_ONLY.test(trimmed) && parseHsaId(`${trimmed.replace(/-$/, '')}-0`).ok)
    return partial(trimmed);
  return invalid('HSA_ID_INVALID');
};

/** Classifies the search input by its shape; never throws, whatever it is given at runtime. */
export const classifySearchQuery = (input: string, today: CalendarDate): SearchQuery => {
  if (typeof input !== 'string' || input.length > SEARCH_QUERY_MAX_LENGTH) return invalid('QUERY_INVALID');
  const trimmed = input.trim();
  if (trimmed === '') return invalid('QUERY_INVALID');

  const compact = trimmed.replace(WHITESPACE, '');
  if (DIGITS_AND_SEPARATORS.test(compact)) {
    return classifyDigits(input, compact.replace(NON_DIGITS, '').length, trimmed, today);
  }
  if (SE_THEN_DIGIT.test(trimmed)) return classifySe(trimmed);
  // Organisation number + local part without `SE`: valid once the prefix is put back.
  if (ORGANISATION_THEN_LOCAL.test(trimmed) && parseHsaId(`SE${trimmed}`).ok) return partial(trimmed);
  if (BARE_LOCAL_PART.test(trimmed)) return partial(trimmed);
  return invalid('QUERY_INVALID');
};
