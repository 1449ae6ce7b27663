import type { Instant } from '@reservkort/domain';
import type { CompiledQuery, Kysely, Selectable, Transaction } from 'kysely';
import type { Database } from '../database.js';
import { type Pending, pendingValue, runPending } from '../pending.js';
import { translateWriteErrors } from '../store-error.js';
import type { IntentOutcome, IssuanceIntentsTable, IssuancePurpose } from './issuance-intent.table.js';

type Db = Kysely<Database> | Transaction<Database>;

export interface NewIssuanceIntent {
  readonly id: string;
  readonly flowId: string;
  readonly attempt: number;
  readonly purpose: IssuancePurpose;
  readonly createdAt: Instant;
}

export interface StoredIssuanceIntent extends NewIssuanceIntent {
  readonly issuedAt: Instant | null;
  readonly serial: string | null;
  readonly boundAt: Instant | null;
  readonly closedAt: Instant | null;
  readonly settledAt: Instant | null;
  readonly outcome: IntentOutcome | null;
}

const toIntent = (row: Selectable<IssuanceIntentsTable>): StoredIssuanceIntent => ({
  id: row.id,
  flowId: row.flow_id,
  attempt: row.attempt,
  purpose: row.purpose,
  createdAt: row.created_at,
  issuedAt: row.issued_at,
  serial: row.serial,
  boundAt: row.bound_at,
  closedAt: row.closed_at,
  settledAt: row.settled_at,
  outcome: row.outcome,
});

/** Records intents to issue; a second intent for the same (flow, attempt, purpose) is a CONFLICT. */
export async function insertIntents(db: Db, intents: readonly NewIssuanceIntent[]): Promise<void> {
  if (intents.length === 0) return;
  const query = insertIntentsQuery(db, intents);
  await translateWriteErrors(`Issuance intent of flow ${intents[0]?.flowId}`, () => db.executeQuery(query));
}

/** insertIntents as a statement to send with others (see runTogether); a taken key fails in SQL. */
export const insertIntentsQuery = (db: Db, intents: readonly NewIssuanceIntent[]): CompiledQuery =>
  db
    .insertInto('issuance_intents')
    .values(
      intents.map((i) => ({
        id: i.id,
        flow_id: i.flowId,
        attempt: i.attempt,
        purpose: i.purpose,
        created_at: i.createdAt,
      })),
    )
    .compile();

export async function getIntent(db: Db, id: string): Promise<StoredIssuanceIntent | null> {
  const row = await db.selectFrom('issuance_intents').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? null : toIntent(row);
}

/** A flow's intents, oldest first. */
export async function listIntentsOfFlow(db: Db, flowId: string): Promise<StoredIssuanceIntent[]> {
  const rows = await db
    .selectFrom('issuance_intents')
    .selectAll()
    .where('flow_id', '=', flowId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(toIntent);
}

/**
 * Marks that a certificate is being recorded under an intent, in the transaction that records it;
 * false once the intent is closed. The row it writes also serialises issuing against closing.
 */
export async function recordIssuedUnderIntent(db: Db, id: string, at: Instant): Promise<boolean> {
  const result = await recordIssuedUnderIntentQuery(db, id, at).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** recordIssuedUnderIntent's statement: it changes one row exactly when the intent is open. */
export const recordIssuedUnderIntentQuery = (db: Db, id: string, at: Instant) =>
  db
    .updateTable('issuance_intents')
    .set({ issued_at: at })
    .where('id', '=', id)
    .where('closed_at', 'is', null);

/** Binds the certificate issued under an open intent; false if it is closed or already bound. */
export async function bindIntent(db: Db, id: string, serial: string, at: Instant): Promise<boolean> {
  const result = await bindIntentQuery(db, id, serial, at).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** bindIntent's statement: it changes one row exactly when the intent is open and unbound. */
export const bindIntentQuery = (db: Db, id: string, serial: string, at: Instant) =>
  db
    .updateTable('issuance_intents')
    .set({ serial, bound_at: at })
    .where('id', '=', id)
    .where('serial', 'is', null)
    .where('closed_at', 'is', null);

/** Closes an intent: no certificate may be recorded under it afterwards. Closing twice keeps the first. */
export async function closeIntent(db: Db, id: string, at: Instant): Promise<void> {
  await db
    .updateTable('issuance_intents')
    .set({ closed_at: at })
    .where('id', '=', id)
    .where('closed_at', 'is', null)
    .execute();
}

/** Settles a closed intent: the reconciler has nothing more to do for it. */
export async function settleIntent(db: Db, id: string, outcome: IntentOutcome, at: Instant): Promise<void> {
  await db
    .updateTable('issuance_intents')
    .set({ settled_at: at, outcome })
    .where('id', '=', id)
    .where('settled_at', 'is', null)
    .execute();
}

/**
 * Settles, as kept, the bound intents of a flow whose certificates it now holds for good (the
 * acknowledgement's transaction): closed and settled at once, so the reconciler never looks at
 * them again.
 */
export const keepIntentsOfFlow = (
  db: Db,
  flowId: string,
  serials: readonly string[],
  at: Instant,
): Promise<number> => runPending(db, keepIntentsOfFlowPending(db, flowId, serials, at));

/** keepIntentsOfFlow, to be sent with other statements (see runPending). */
export const keepIntentsOfFlowPending = (
  db: Db,
  flowId: string,
  serials: readonly string[],
  at: Instant,
): Pending<number> =>
  serials.length === 0
    ? pendingValue(0)
    : {
        queries: [
          db
            .updateTable('issuance_intents')
            .set((eb) => ({
              closed_at: eb.fn.coalesce('closed_at', eb.val(at)),
              settled_at: at,
              outcome: 'kept',
            }))
            .where('flow_id', '=', flowId)
            .where('serial', 'in', [...serials])
            .where('settled_at', 'is', null)
            .compile(),
        ],
        answer: ([result]) => Number(result?.numAffectedRows ?? 0),
      };

/** Where a page of intents ended: the next page starts after it. */
export interface IntentCursor {
  readonly createdAt: Instant;
  readonly id: string;
}

/**
 * Intents not yet settled that were created at or before `createdUpTo`, oldest first, a page at a
 * time after `after` (intents of live flows stay unsettled and must not hide the ones behind them).
 */
export async function listUnsettledIntents(
  db: Db,
  createdUpTo: Instant,
  limit: number,
  after: IntentCursor | null = null,
): Promise<StoredIssuanceIntent[]> {
  let select = db
    .selectFrom('issuance_intents')
    .selectAll()
    .where('settled_at', 'is', null)
    .where('created_at', '<=', createdUpTo);
  if (after !== null) {
    select = select.where((eb) =>
      eb.or([
        eb('created_at', '>', after.createdAt),
        eb.and([eb('created_at', '=', after.createdAt), eb('id', '>', after.id)]),
      ]),
    );
  }
  const rows = await select.orderBy('created_at').orderBy('id').limit(limit).execute();
  return rows.map(toIntent);
}
