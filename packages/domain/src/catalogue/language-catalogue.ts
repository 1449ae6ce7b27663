import type { ErrorCode } from '../error-code.js';
import type { ControlId } from '../issuance/flow-controls.js';
import type { CardOwner } from '../issuance/flow-event.js';
import type { Step } from '../issuance/flow-state.js';

export const LANGUAGES = ['sv', 'en'] as const;
/** Swedish is the default: the users are Swedish ID-administrators. */
export type Language = (typeof LANGUAGES)[number];
export const DEFAULT_LANGUAGE: Language = 'sv';

/**
 * What the user is told about a code: what happened, why, and what to do. Texts may name
 * details of the error in braces, e.g. `{expected}`.
 */
export interface CodeTexts {
  readonly title: string;
  readonly explanation: string;
  readonly remedy: string;
}

/** One language's texts. Every code, step and control must be present: a gap is a compile error. */
export interface LanguageCatalogue {
  readonly codes: { readonly [C in ErrorCode]: CodeTexts };
  readonly steps: { readonly [S in Step]: string };
  readonly controls: { readonly [C in ControlId]: string };
  /** Whose card a card is, as the `{owner}` placeholder reads (e.g. "förra mottagarens kort"). */
  readonly cardOwners: { readonly [O in CardOwner]: string };
  /**
   * The `{reason}` placeholder in words: a reason is a short token the server or agent gives with a
   * code (`issuance-interrupted`, `station revoked`). One not listed here reads as given.
   */
  readonly reasons: { readonly [reason: string]: string };
}
