import type { ErrorCode, ErrorDetails } from '@reservkort/domain';

/** A command's refusal: a catalogue code, its details, and a message that says what to do. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
  }
}
