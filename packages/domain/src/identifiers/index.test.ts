import { describe, expect, it } from 'vitest';
import * as identifiers from './index.js';

describe('identifiers index', () => {
  it('exposes the public API', () => {
    expect(Object.keys(identifiers).sort()).toEqual([
      'CARD_NUMBER_LENGTH',
      'CARD_NUMBER_PREFIX',
      'HSA_ID_MAX_LENGTH',
      'SEARCH_QUERY_MAX_LENGTH',
      'classifySearchQuery',
      'formatCardNumber',
      'formatPersonalNumber',
      'hsaIdParts',
      'isLuhnValid',
      'luhnCheckDigit',
      'parseCardNumber',
      'parseHsaId',
      'parsePersonalNumber',
      'personalNumberAge',
    ]);
  });
});
