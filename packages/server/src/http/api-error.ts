import { CODE_INFO, type ErrorCode, type ErrorDetails, errorResponse, isErrorCode } from '@reservkort/domain';
import type { FastifyError, FastifyInstance } from 'fastify';

/** A refusal of the API: a catalogue code, details, and nothing about HTTP until it is mapped below. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly code: ErrorCode,
    readonly details: ErrorDetails = {},
  ) {
    super(code);
  }
}

const EXPLICIT: Partial<Record<ErrorCode, number>> = {
  NOT_LOGGED_IN: 401,
  LOGIN_FAILED: 401,
  SESSION_INVALID: 401,
  LOGIN_CERTIFICATE_REVOKED: 401,
  CSRF_INVALID: 403,
  ACCESS_DENIED: 403,
  LOA2_LOGIN: 403,
  NO_ROLE_IN_BRANCH: 403,
  PROTECTED_NEEDS_KUR: 403,
  REVOCATION_NOT_PERMITTED: 403,
  // The card proved who signed, but it does not open the holder's pages.
  NOT_A_RESERVE_CARD: 403,
  // A reason the actor may not give is the request's fault, as a bad field is.
  REVOCATION_REASON_NOT_OFFERED: 400,
  OWN_ORDER: 403,
  ORIGIN_FORBIDDEN: 403,
  NOT_FOUND: 404,
  PERSON_NOT_FOUND: 404,
  CERTIFICATE_NOT_FOUND: 404,
  NO_ORDER: 404,
  READER_NOT_FOUND: 404,
  ORDER_STATE_CONFLICT: 409,
  EVENT_OUT_OF_ORDER: 409,
  FLOW_ENDED: 409,
  CERTIFICATES_ALREADY_REQUESTED: 409,
  EXTENSION_ALREADY_USED: 409,
  EXTENSION_ABANDONED: 410,
  CARD_REINSERTED: 409,
  ACK_TIMEOUT: 409,
  ALREADY_REVOKED: 409,
  ORDER_EXPIRED: 410,
  ORDER_USED: 410,
  ORDER_CANCELLED: 410,
  TEXT_TOO_LONG: 413,
  RATE_LIMITED: 429,
  OPERATIONS_TOKEN_REQUIRED: 401,
  // Not yet published (or publishing stopped on an altered log): nothing to serve, not a client error
  // to retry differently, and not a server fault the request caused.
  AUDIT_CHECKPOINT_UNAVAILABLE: 404,
  STATION_NOT_REGISTERED: 403,
  STATION_REVOKED: 403,
  // A filter of the insight figures is the request's fault, as a bad field is.
  INSIGHT_FILTER_INVALID: 400,
};

/** The one place codes become HTTP statuses: always a 4xx for anything a request can cause. */
export const statusOf = (code: ErrorCode): number => {
  const explicit = EXPLICIT[code];
  if (explicit !== undefined) return explicit;
  const info = CODE_INFO[code];
  return info.step === 'input' || info.severity === 'notice' ? 400 : 422;
};

/** Maps every error to a typed answer; a 5xx never shows its cause. */
export const registerErrorHandler = (app: FastifyInstance): void => {
  app.setErrorHandler((error: FastifyError | ApiError | Error, request, reply) => {
    const typed = error as { code?: unknown; details?: ErrorDetails };
    if (
      (error instanceof ApiError || error.name === 'PkiError' || error.name === 'AgentError') &&
      isErrorCode(typed.code)
    ) {
      return reply.status(statusOf(typed.code)).send(errorResponse(typed.code, typed.details ?? {}));
    }
    const fastifyError = error as FastifyError;
    if (fastifyError.validation) {
      const field =
        fastifyError.validation[0]?.instancePath || fastifyError.validation[0]?.params?.missingProperty;
      return reply
        .status(400)
        .send(errorResponse('REQUEST_INVALID', { reason: 'schema', field: String(field ?? '') }));
    }
    const status = fastifyError.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const reason = status === 413 ? 'too-large' : status === 415 ? 'content-type' : 'http';
      return reply.status(status).send(errorResponse('REQUEST_INVALID', { reason }));
    }
    request.log.error({ err: error }, 'unexpected error');
    return reply.status(500).send(errorResponse('CARD_ERROR', { reason: 'internal' }));
  });
  app.setNotFoundHandler((_request, reply) =>
    reply.status(404).send(errorResponse('NOT_FOUND', { what: 'path' })),
  );
};
