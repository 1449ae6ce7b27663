export {
  CARD_NUMBER_LENGTH,
  CARD_NUMBER_PREFIX,
  type CardNumber,
  type CardNumberInvalidReason,
  formatCardNumber,
  parseCardNumber,
} from './card-number.js';
export {
  HSA_ID_MAX_LENGTH,
  type HsaId,
  type HsaIdInvalidReason,
  hsaIdParts,
  parseHsaId,
} from './hsa-id.js';
export { isLuhnValid, luhnCheckDigit } from './luhn.js';
export {
  formatPersonalNumber,
  type ParsedPersonalNumber,
  type PersonalNumber,
  type PersonalNumberKind,
  type PersonalNumberStyle,
  parsePersonalNumber,
  personalNumberAge,
} from './personal-number.js';
export { classifySearchQuery, SEARCH_QUERY_MAX_LENGTH, type SearchQuery } from './search-query.js';
