import type { ErrorCode } from './error-code.js';

/** Detail values carried with an error: plain data, safe to show and to log. */
export type ErrorDetails = Readonly<Record<string, string | number | boolean>>;

/** A domain error: a stable code from the catalogue and optional details for the message. */
export interface DomainError<C extends ErrorCode = ErrorCode> {
  readonly code: C;
  readonly details?: ErrorDetails;
}

export type Result<T, E = DomainError> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: E };

export const ok = <T>(value: T): { readonly ok: true; readonly value: T } => ({ ok: true, value });

export const err = <C extends ErrorCode>(
  code: C,
  details?: ErrorDetails,
): { readonly ok: false; readonly error: DomainError<C> } => ({
  ok: false,
  error: details === undefined ? { code } : { code, details },
});
