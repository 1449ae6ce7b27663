import { CODE_INFO, type ErrorCode, type Severity } from '../error-code.js';
import { formatCardNumber, parseCardNumber } from '../identifiers/card-number.js';
import type { ControlId } from '../issuance/flow-controls.js';
import type { CardOwner } from '../issuance/flow-event.js';
import type { Step } from '../issuance/flow-state.js';
import type { DomainError, ErrorDetails } from '../result.js';
import { SWEDISH_TIME_ZONE } from '../time.js';
import { en } from './catalogue.en.js';
import { sv } from './catalogue.sv.js';
import type { Language, LanguageCatalogue } from './language-catalogue.js';

export const CATALOGUES: { readonly [L in Language]: LanguageCatalogue } = { sv, en };

/** The remedy as an action: the control that carries it out, where there is one. */
export const REMEDY_ACTIONS: Partial<Record<ErrorCode, ControlId>> = {
  CARD_REINSERTED: 'logout-restart',
  LOA2_LOGIN: 'logout-restart',
  SIGN_FAILED: 'sign',
  ONE_READER_USED: 'restart',
  HANDOVER_STUCK: 'restart',
  DOWNLOAD_START_STUCK: 'restart',
  CARD_REMOVED_DURING_DOWNLOAD: 'restart',
  AUTH_DIALOG_NOT_SHOWN: 'restart',
  SIGN_DIALOG_NOT_SHOWN: 'restart',
  DOWNLOAD_FAILED: 'restart',
  PIN_DIALOG_CANCELLED: 'restart',
  PIN_BLOCKED: 'restart',
  ACK_TIMEOUT: 'restart',
  // The flow cannot go on with a card that did not prove itself or its keys: starting over can.
  CARD_NOT_PROVEN: 'restart',
  KEYS_NOT_ON_CARD: 'restart',
};

/** An error as the user reads it. */
export interface DescribedError {
  readonly code: ErrorCode;
  readonly severity: Severity;
  readonly title: string;
  readonly explanation: string;
  readonly remedy: string;
  readonly action: ControlId | null;
  readonly supportCase: boolean;
}

/** Detail keys that hold instants, shown as a time of day in Sweden. */
const INSTANT_KEYS: ReadonlySet<string> = new Set(['removedAt', 'deadline']);

/** Detail keys that may hold a card number, shown in groups of four as printed on the card. */
const CARD_NUMBER_KEYS: ReadonlySet<string> = new Set(['expected', 'actual', 'cardNumber']);

const formatValue = (key: string, value: string | number | boolean, language: Language): string => {
  if (CARD_NUMBER_KEYS.has(key) && typeof value === 'string') {
    const card = parseCardNumber(value);
    if (card.ok) return formatCardNumber(card.value);
  }
  if (INSTANT_KEYS.has(key) && typeof value === 'number') {
    return new Intl.DateTimeFormat(language === 'sv' ? 'sv-SE' : 'en-GB', {
      timeZone: SWEDISH_TIME_ZONE,
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    }).format(new Date(value));
  }
  return String(value);
};

const cardOwnerText = (value: unknown, language: Language): string => {
  const owners = CATALOGUES[language].cardOwners;
  return typeof value === 'string' && value in owners ? owners[value as CardOwner] : owners.unknown;
};

/** Fills `{key}` placeholders from the error's details; a missing detail shows as a dash. */
export const fillPlaceholders = (
  text: string,
  details: ErrorDetails | undefined,
  language: Language,
): string =>
  text.replace(/\{(\w+)\}/g, (_match, key: string) => {
    const value = details?.[key];
    // Whose card: in the catalogue's words; a card nobody is known for is named as such.
    if (key === 'owner') return cardOwnerText(value, language);
    // A reason is a token from the server or the agent: in words where the catalogue has them.
    if (key === 'reason' && typeof value === 'string') {
      const reasons = CATALOGUES[language].reasons;
      if (Object.hasOwn(reasons, value)) return reasons[value] ?? value;
    }
    return value === undefined || value === '' ? '–' : formatValue(key, value, language);
  });

export const describeError = (error: DomainError, language: Language): DescribedError => {
  const texts = CATALOGUES[language].codes[error.code];
  const info = CODE_INFO[error.code];
  return {
    code: error.code,
    severity: info.severity,
    title: fillPlaceholders(texts.title, error.details, language),
    explanation: fillPlaceholders(texts.explanation, error.details, language),
    remedy: fillPlaceholders(texts.remedy, error.details, language),
    action: REMEDY_ACTIONS[error.code] ?? null,
    supportCase: info.supportCase,
  };
};

export const stepTitle = (step: Step, language: Language): string => CATALOGUES[language].steps[step];

export const controlLabel = (control: ControlId, language: Language): string =>
  CATALOGUES[language].controls[control];

/** Only plain detail values travel in an answer; anything else is dropped rather than echoed. */
const plainDetails = (
  details: Readonly<Record<string, unknown>>,
): Record<string, string | number | boolean> =>
  Object.fromEntries(
    Object.entries(details).filter((entry): entry is [string, string | number | boolean] =>
      ['string', 'number', 'boolean'].includes(typeof entry[1]),
    ),
  );

/** What every API error answer carries: the code, and the catalogue's words in both languages. */
export interface ErrorResponseBody {
  readonly code: ErrorCode;
  readonly message: { readonly [L in Language]: string };
  readonly explanation: { readonly [L in Language]: string };
  readonly remedy: { readonly [L in Language]: string };
  readonly details: Readonly<Record<string, string | number | boolean>>;
}

export const errorResponse = (
  code: ErrorCode,
  details: Readonly<Record<string, unknown>> = {},
): ErrorResponseBody => {
  const plain = plainDetails(details);
  const [sv, en] = [
    describeError({ code, details: plain }, 'sv'),
    describeError({ code, details: plain }, 'en'),
  ];
  return {
    code,
    message: { sv: sv.title, en: en.title },
    explanation: { sv: sv.explanation, en: en.explanation },
    remedy: { sv: sv.remedy, en: en.remedy },
    details: plain,
  };
};
