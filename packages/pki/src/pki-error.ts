import type { ErrorCode, ErrorDetails } from '@reservkort/domain';

/** The codes the certificate authority raises; their texts live in the domain's catalogues. */
export type PkiErrorCode = Extract<
  ErrorCode,
  | 'CSR_INVALID'
  | 'CSR_SIGNATURE_INVALID'
  | 'KEY_NOT_ALLOWED'
  | 'CA_NOT_INITIALISED'
  | 'CA_ALREADY_INITIALISED'
  | 'CA_KEY_UNAVAILABLE'
  | 'CERTIFICATE_NOT_FOUND'
  | 'ALREADY_REVOKED'
  | 'REVOCATION_REASON_INVALID'
>;

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
