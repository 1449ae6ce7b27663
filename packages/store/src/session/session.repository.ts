import type { AssuranceLevel, CardNumber, HsaId, Instant } from '@reservkort/domain';
import type { CompiledQuery, Kysely, Selectable, Transaction } from 'kysely';
import type { Database } from '../database.js';
import {
  FLOW_COLUMNS,
  flowColumnsKnowing,
  type KnownFlowState,
  knownVersionOf,
  type StoredFlow,
  toFlow,
} from '../flow/flow.repository.js';
import type { FlowsTable } from '../flow/flow.table.js';
import { type Pending, pendingRows, runPending } from '../pending.js';
import { preparedQuery } from '../prepared-query.js';
import { runTogether } from '../run-together.js';
import { translateWriteErrors } from '../store-error.js';
import type { SessionRole, SessionsTable } from './session.table.js';

type Db = Kysely<Database> | Transaction<Database>;

export interface NewSession {
  /** A hash of the cookie's token (SHA-256), never the token itself. */
  readonly id: string;
  readonly adminHsaId: HsaId;
  readonly certificateSerial: string;
  readonly cardNumber: CardNumber;
  readonly assuranceLevel: AssuranceLevel;
  readonly csrfToken: string;
  readonly createdAt: Instant;
  /** The absolute end, however active the session. */
  readonly expiresAt: Instant;
  /** Where the login card was when a card station proved it; null for a login without a station. */
  readonly station: SessionStation | null;
  /** An administrator's session unless said otherwise. */
  readonly role?: SessionRole;
}

/** The card station that showed the login card at login: its id, the reader and that reader's insertion counter. */
export interface SessionStation {
  readonly stationId: string;
  readonly reader: 1 | 2;
  readonly insertions: number;
}

/** A session as stored, ended or expired included: judging it is the caller's. */
export interface StoredSession extends NewSession {
  readonly role: SessionRole;
  readonly lastSeenAt: Instant;
  readonly loginCardRemovedAt: Instant | null;
  readonly endedAt: Instant | null;
  /** When the certificate the session logged in with was revoked, if it was. */
  readonly certificateRevokedAt: Instant | null;
}

const toSession = (
  row: Selectable<SessionsTable> & { readonly certificate_revoked_at: Instant | null },
): StoredSession => ({
  id: row.id,
  adminHsaId: row.admin_hsa_id,
  certificateSerial: row.certificate_serial,
  cardNumber: row.card_number,
  assuranceLevel: row.assurance_level,
  csrfToken: row.csrf_token,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  lastSeenAt: row.last_seen_at,
  loginCardRemovedAt: row.login_card_removed_at,
  endedAt: row.ended_at,
  certificateRevokedAt: row.certificate_revoked_at,
  role: row.role,
  station:
    row.station_id === null || row.login_reader === null || row.login_insertions === null
      ? null
      : { stationId: row.station_id, reader: row.login_reader, insertions: row.login_insertions },
});

const sessionRow = (db: Db, session: NewSession) =>
  db.insertInto('sessions').values({
    id: session.id,
    admin_hsa_id: session.adminHsaId,
    certificate_serial: session.certificateSerial,
    card_number: session.cardNumber,
    assurance_level: session.assuranceLevel,
    csrf_token: session.csrfToken,
    created_at: session.createdAt,
    last_seen_at: session.createdAt,
    expires_at: session.expiresAt,
    station_id: session.station?.stationId ?? null,
    login_reader: session.station?.reader ?? null,
    login_insertions: session.station?.insertions ?? null,
    role: session.role ?? 'admin',
  });

/**
 * Stores a new session, last seen at its creation; `before`, statements sent ahead of it without
 * waiting (one round trip on PostgreSQL; see runTogether), e.g. a flow reserved with the login.
 */
export async function insertSession(
  db: Db,
  session: NewSession,
  before: readonly CompiledQuery[] = [],
): Promise<void> {
  await translateWriteErrors('Session', async () => {
    if (before.length === 0) await sessionRow(db, session).execute();
    else await runTogether(db, [...before, sessionRow(db, session).compile()]);
  });
}

/** A session with the revocation of its login certificate, in one primary-key lookup per table. */
const sessionById = preparedQuery((db: Kysely<Database>, id: string) =>
  db
    .selectFrom('sessions as s')
    .leftJoin('revocations as r', 'r.serial', 's.certificate_serial')
    .selectAll('s')
    .select('r.revoked_at as certificate_revoked_at')
    .where('s.id', '=', id),
);

export async function getSession(db: Db, id: string): Promise<StoredSession | null> {
  const row = (await sessionById(db, id)).rows[0];
  return row === undefined ? null : toSession(row);
}

/** A flow's columns beside a session's, prefixed so that no name is shared. */
const FLOW_PREFIX = 'flow__';

const sessionWithFlow = preparedQuery(
  (db: Kysely<Database>, id: string, flowId: string, knownVersion: number) =>
    db
      .selectFrom('sessions as s')
      .leftJoin('revocations as r', 'r.serial', 's.certificate_serial')
      .leftJoin('flows as f', (join) => join.on('f.id', '=', flowId))
      .selectAll('s')
      .select('r.revoked_at as certificate_revoked_at')
      .select(flowColumnsKnowing('f', knownVersion, FLOW_PREFIX))
      .where('s.id', '=', id),
);

/**
 * The session, and the flow with this id read in the same statement (one round trip instead of
 * two on every flow request); the flow is null when there is no such flow, or no such session. The
 * flow's state is not read again if `known` holds it at the flow's current version.
 */
export async function getSessionWithFlow(
  db: Db,
  id: string,
  flowId: string,
  known?: KnownFlowState,
): Promise<SessionWithFlow> {
  return runPending(db, getSessionWithFlowPending(db, id, flowId, known));
}

export interface SessionWithFlow {
  readonly session: StoredSession | null;
  readonly flow: StoredFlow | null;
}

/** getSessionWithFlow, to be sent with other statements (see runPending). */
export const getSessionWithFlowPending = (
  db: Db,
  id: string,
  flowId: string,
  known?: KnownFlowState,
): Pending<SessionWithFlow> =>
  pendingRows(sessionWithFlow.compile(db, id, flowId, knownVersionOf(known)), (rows) => {
    const row = rows[0] as
      | (Selectable<SessionsTable> & { certificate_revoked_at: Instant | null } & Record<string, unknown>)
      | undefined;
    if (row === undefined) return { session: null, flow: null };
    const flowRow: Record<string, unknown> = {};
    for (const column of FLOW_COLUMNS) flowRow[column] = row[`${FLOW_PREFIX}${column}`];
    return {
      session: toSession(row),
      flow:
        flowRow.id === null || flowRow.id === undefined
          ? null
          : toFlow(flowRow as Selectable<FlowsTable>, known),
    };
  });

/**
 * Records activity; never moves last_seen_at back, since concurrent requests finish in any order.
 * False if the session does not exist or has ended.
 */
export async function touchSession(db: Db, id: string, at: Instant): Promise<boolean> {
  const result = await db
    .updateTable('sessions')
    .set((eb) => ({
      last_seen_at: eb.case().when('last_seen_at', '<', at).then(at).else(eb.ref('last_seen_at')).end(),
    }))
    .where('id', '=', id)
    .where('ended_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Records the first removal of the login card; a later removal keeps the first time. Returns the
 * time stored, or null if the session does not exist.
 */
export async function markLoginCardRemoved(db: Db, id: string, at: Instant): Promise<Instant | null> {
  const row = await db
    .updateTable('sessions')
    .set((eb) => ({ login_card_removed_at: eb.fn.coalesce('login_card_removed_at', eb.val(at)) }))
    .where('id', '=', id)
    .returning('login_card_removed_at')
    .executeTakeFirst();
  return row?.login_card_removed_at ?? null;
}

/** Ends a session (logout); false if it does not exist or had already ended, keeping that time. */
export async function endSession(db: Db, id: string, at: Instant): Promise<boolean> {
  const result = await db
    .updateTable('sessions')
    .set({ ended_at: at })
    .where('id', '=', id)
    .where('ended_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Ends every session still open whose login certificate has been revoked, at `at`; returns how
 * many. Idempotent, so every server may run it whenever it notices a revocation.
 */
export async function endSessionsOfRevokedCertificates(db: Db, at: Instant): Promise<number> {
  const result = await db
    .updateTable('sessions')
    .set({ ended_at: at })
    .where('ended_at', 'is', null)
    .where('certificate_serial', 'in', (eb) => eb.selectFrom('revocations').select('serial'))
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Deletes the sessions past their absolute end or ended by now; returns how many. */
export async function purgeExpiredSessions(db: Db, now: Instant): Promise<number> {
  const result = await db
    .deleteFrom('sessions')
    .where((eb) => eb.or([eb('expires_at', '<=', now), eb('ended_at', '<=', now)]))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
