import type { ErrorDetails, PkiCode } from '@reservkort/domain';

/** The codes the certificate authority raises; their texts live in the domain's catalogues. */
export type PkiErrorCode = PkiCode;

/** A typed failure of the CA: a stable code, plain details, and an English message for logs. */
export class PkiError extends Error {
  override readonly name = 'PkiError';
  constructor(
    readonly code: PkiErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export const isPkiError = (value: unknown): value is PkiError => value instanceof PkiError;
