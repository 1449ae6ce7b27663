import type { AgentCode, ErrorDetails } from '@reservkort/domain';

/** A typed failure of the card agent: a stable code, plain details, an English message for logs. */
export class AgentError extends Error {
  override readonly name = 'AgentError';
  constructor(
    readonly code: AgentCode,
    message: string,
    readonly details: ErrorDetails = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export const isAgentError = (value: unknown): value is AgentError => value instanceof AgentError;
