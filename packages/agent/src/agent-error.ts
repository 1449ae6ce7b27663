import type { AgentCode, ErrorDetails } from '@reservkort/domain';

/**
 * The agent's own codes, and the rules' WRONG_CARD: a card whose label, card-number object and
 * certificates name different cards is the wrong card wherever it is put in.
 */
export type AgentErrorCode = AgentCode | 'WRONG_CARD';

/** A typed failure of the card agent: a stable code, plain details, an English message for logs. */
export class AgentError extends Error {
  override readonly name = 'AgentError';
  constructor(
    readonly code: AgentErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export const isAgentError = (value: unknown): value is AgentError => value instanceof AgentError;
