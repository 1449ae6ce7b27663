import { createHash, randomBytes } from 'node:crypto';
import type { AssuranceLevel, CardNumber, HsaId } from '@reservkort/domain';
import {
  type Database,
  endSession,
  getSession,
  getSessionWithFlow,
  type KnownFlowState,
  type NewSession,
  type SessionRole,
  type SessionStation,
  type StoredFlow,
  type StoredSession,
  touchSession,
} from '@reservkort/store';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { ApiError } from '../http/api-error.js';

export const SESSION_COOKIE = 'rk_session';
const TOUCH_INTERVAL_MS = 60_000;
export const CSRF_HEADER = 'x-csrf-token';

export interface SessionSettings {
  /** A session unused this long ends. */
  readonly idleMs: number;
  /** A session ends this long after login, however active. */
  readonly absoluteMs: number;
  /** Cookies carry Secure when browsers reach the server over https (its own TLS or a proxy's). */
  readonly secureCookies: boolean;
}

export const DEFAULT_SESSION_SETTINGS: SessionSettings = {
  idleMs: 30 * 60_000,
  absoluteMs: 10 * 3_600_000,
  secureCookies: false,
};

/** The logged-in person as the routes see them. */
export interface CurrentSession {
  readonly id: string;
  readonly hsaId: HsaId;
  readonly cardNumber: CardNumber;
  readonly certificateSerial: string;
  readonly assuranceLevel: AssuranceLevel;
  readonly csrfToken: string;
  readonly loginCardRemovedAt: number | null;
  /** The card station that proved the login card in its reader; null for a login without one. */
  readonly station: SessionStation | null;
  readonly role: SessionRole;
}

/** The cookie holds a random token; the database only its hash, so a database leak opens no session. */
export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');
export const newToken = (): string => randomBytes(32).toString('base64url');

/** The card a login verified, as its session records it. */
interface LoginCard {
  readonly hsaId: HsaId;
  readonly serial: string;
  readonly cardNumber: CardNumber;
  readonly assuranceLevel: AssuranceLevel;
}

/**
 * A card login's new session: its cookie token and CSRF token for the page, and the row to store
 * (the token's hash, never the token) once the login card's reader is known (`station`).
 */
export const newCardSession = (
  card: LoginCard,
  now: number,
  settings: SessionSettings,
  role?: SessionRole,
): { token: string; csrfToken: string; row: (station: SessionStation | null) => NewSession } => {
  const token = newToken();
  const csrfToken = newToken();
  return {
    token,
    csrfToken,
    row: (station) => ({
      id: hashToken(token),
      adminHsaId: card.hsaId,
      certificateSerial: card.serial,
      cardNumber: card.cardNumber,
      assuranceLevel: card.assuranceLevel,
      csrfToken,
      createdAt: now,
      expiresAt: now + settings.absoluteMs,
      station,
      ...(role === undefined ? {} : { role }),
    }),
  };
};

export const setSessionCookie = (reply: FastifyReply, token: string, settings: SessionSettings): void => {
  reply.setCookie(SESSION_COOKIE, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'strict',
    secure: settings.secureCookies,
    maxAge: Math.floor(settings.absoluteMs / 1000),
  });
};

const toCurrent = (stored: StoredSession): CurrentSession => ({
  id: stored.id,
  hsaId: stored.adminHsaId,
  cardNumber: stored.cardNumber,
  certificateSerial: stored.certificateSerial,
  assuranceLevel: stored.assuranceLevel,
  csrfToken: stored.csrfToken,
  loginCardRemovedAt: stored.loginCardRemovedAt,
  station: stored.station,
  role: stored.role,
});

/**
 * The flow a request names, read in the session's own statement: handed to the first reader of
 * that flow in the request (`takeFlowReadWith`), once, so a later read in the request reads again.
 */
const flowsReadWithSessions = new WeakMap<CurrentSession, StoredFlow>();

/** The flow read with this request's session, if it has this id and was not taken yet. */
export const takeFlowReadWith = (session: CurrentSession, flowId: string): StoredFlow | null => {
  const flow = flowsReadWithSessions.get(session);
  if (flow === undefined || flow.id !== flowId) return null;
  flowsReadWithSessions.delete(session);
  return flow;
};

/** What a session as read says of a request: let through (recording activity or not), or refused. */
type SessionVerdict =
  | { readonly ok: true; readonly current: CurrentSession; readonly touch: boolean }
  | { readonly ok: false; readonly error: ApiError; readonly end: boolean };

const judgeSession = (
  request: FastifyRequest,
  stored: StoredSession | null,
  now: number,
  settings: SessionSettings,
  role: SessionRole,
): SessionVerdict => {
  if (stored === null || stored.role !== role)
    return { ok: false, error: new ApiError('NOT_LOGGED_IN'), end: false };
  // Revoking the login certificate ends the session at once, whichever process revoked it: the
  // revocation is read with the session, from the database every server shares.
  if (stored.certificateRevokedAt !== null)
    return { ok: false, error: new ApiError('LOGIN_CERTIFICATE_REVOKED'), end: stored.endedAt === null };
  if (stored.endedAt !== null) return { ok: false, error: new ApiError('NOT_LOGGED_IN'), end: false };
  if (now >= stored.expiresAt || now - stored.lastSeenAt > settings.idleMs)
    return { ok: false, error: new ApiError('NOT_LOGGED_IN', { reason: 'expired' }), end: true };
  if (
    request.method !== 'GET' &&
    request.method !== 'HEAD' &&
    request.headers[CSRF_HEADER] !== stored.csrfToken
  )
    return { ok: false, error: new ApiError('CSRF_INVALID'), end: false };
  // Recording activity is a write: once a minute is enough for an idle time-out counted in minutes.
  return { ok: true, current: toCurrent(stored), touch: now - stored.lastSeenAt >= TOUCH_INTERVAL_MS };
};

/** The id of the request's session (its cookie's hash), or null when it carries none. */
const sessionIdOf = (request: FastifyRequest): string | null => {
  const token = request.cookies[SESSION_COOKIE];
  return token ? hashToken(token) : null;
};

/**
 * Sessions this process has let through (requireSession), newest last. Only these are read with a
 * request's first writes (see sessionAsRead): a stranger's cookie never opens a transaction or
 * takes a row lock before it is refused.
 */
const passedSessions = new Set<string>();
const PASSED_SESSIONS_MAX = 10_000;

const rememberPassed = (id: string): void => {
  passedSessions.delete(id);
  if (passedSessions.size >= PASSED_SESSIONS_MAX)
    passedSessions.delete(passedSessions.values().next().value ?? '');
  passedSessions.add(id);
};

/** The id of the request's session if this process has let that session through before; else null. */
export const passedSessionIdOf = (request: FastifyRequest): string | null => {
  const id = sessionIdOf(request);
  return id !== null && passedSessions.has(id) ? id : null;
};

/** How a request's session is read with other statements and judged once its answer is in. */
export interface SessionReading {
  /** The session's id (its cookie's hash). */
  readonly id: string;
  /** The session as read, if it lets the request through with nothing to write (see sessionAsRead). */
  check(stored: StoredSession | null): CurrentSession | null;
}

/**
 * A session read beforehand (with the flow, inside a request's transaction), if it lets the request
 * through with nothing to write. Null otherwise: the request then takes requireSession, which
 * refuses it, ends the session or records its activity, as it must.
 */
export const sessionAsRead = (
  request: FastifyRequest,
  stored: StoredSession | null,
  now: number,
  settings: SessionSettings,
  role: SessionRole = 'admin',
): CurrentSession | null => {
  const verdict = judgeSession(request, stored, now, settings, role);
  return verdict.ok && !verdict.touch ? verdict.current : null;
};

/**
 * The session of a request, or NOT_LOGGED_IN. Idle and absolute time-outs end it, and so does the
 * revocation of its login certificate (LOGIN_CERTIFICATE_REVOKED); a state-changing request must
 * also carry the session's CSRF token in a header. A session of another role is no session here:
 * a holder logged in on their own pages is not logged in to the administrators' routes, nor the
 * other way round.
 */
export const requireSession = async (
  request: FastifyRequest,
  db: Kysely<Database>,
  now: number,
  settings: SessionSettings,
  role: SessionRole = 'admin',
  /** The flow the request is about: read with the session, in one statement. */
  flowId?: string,
  /** That flow's state as this process knows it: not read again while the flow is at its version. */
  known?: KnownFlowState,
): Promise<CurrentSession> => {
  const id = sessionIdOf(request);
  if (id === null) throw new ApiError('NOT_LOGGED_IN');
  let flow: StoredFlow | null = null;
  let stored: StoredSession | null;
  if (flowId === undefined) stored = await getSession(db, id);
  else ({ session: stored, flow } = await getSessionWithFlow(db, id, flowId, known));
  const verdict = judgeSession(request, stored, now, settings, role);
  if (!verdict.ok) {
    if (verdict.end && stored !== null) await endSession(db, stored.id, now);
    throw verdict.error;
  }
  if (verdict.touch) await touchSession(db, verdict.current.id, now);
  rememberPassed(id);
  if (flow !== null) flowsReadWithSessions.set(verdict.current, flow);
  return verdict.current;
};
