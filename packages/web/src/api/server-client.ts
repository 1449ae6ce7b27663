// The server's API, through a client generated from its OpenAPI document (server-api.ts). Requests
// are typed by the document; answers by the domain's types where the document leaves them open.
import type { ErrorCode, ErrorResponseBody } from '@reservkort/domain';
import createClient from 'openapi-fetch';
import type { paths } from './server-api.js';

/** An error answer from the server: the catalogue's code and texts in both languages. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorResponseBody,
  ) {
    super(body.code);
  }
  get code(): ErrorCode {
    return this.body.code;
  }
}

export const client = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });

let csrfToken = '';
/** State-changing requests carry the session's CSRF token; it arrives with login and /me. */
export const setCsrfToken = (token: string): void => {
  csrfToken = token;
};
client.use({
  onRequest: ({ request }) => {
    if (request.method !== 'GET' && csrfToken) request.headers.set('x-csrf-token', csrfToken);
    return request;
  },
});

const unreachable = (status: number): ErrorResponseBody => ({
  code: 'REQUEST_INVALID',
  message: { sv: 'Servern svarar inte.', en: 'The server does not answer.' },
  explanation: {
    sv: `Anropet misslyckades (${status || 'inget svar'}).`,
    en: `The request failed (${status || 'no answer'}).`,
  },
  remedy: { sv: 'Försök igen om en stund.', en: 'Try again in a moment.' },
  details: { status },
});

/**
 * The answer's body as `T`, or an ApiFailure. The generated paths type the request; `T` names what
 * the route returns (the domain's FlowAnswer, the page's own view types).
 */
export const answer = async <T>(
  call: Promise<{ data?: unknown; error?: unknown; response: Response }>,
): Promise<T> => {
  let result: { data?: unknown; error?: unknown; response: Response };
  try {
    result = await call;
  } catch {
    throw new ApiFailure(0, unreachable(0));
  }
  if (!result.response.ok) {
    const body = result.error as Partial<ErrorResponseBody> | undefined;
    throw new ApiFailure(
      result.response.status,
      body?.code && body.message ? (body as ErrorResponseBody) : unreachable(result.response.status),
    );
  }
  return result.data as T;
};
