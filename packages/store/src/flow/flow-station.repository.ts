import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../database.js';

type Db = Kysely<Database> | Transaction<Database>;

/** The flow's current station nonce; null if the flow is unknown or has none (from before stations). */
export async function getFlowStationNonce(db: Db, flowId: string): Promise<string | null> {
  const row = await db
    .selectFrom('flows')
    .select('station_nonce')
    .where('id', '=', flowId)
    .executeTakeFirst();
  return row?.station_nonce ?? null;
}

/**
 * Replaces the flow's station nonce, in the transaction that accepted a statement carrying the old
 * one, so that statement can never be accepted again. False if the flow does not exist.
 */
export async function rotateFlowStationNonce(db: Db, flowId: string, next: string): Promise<boolean> {
  const result = await db
    .updateTable('flows')
    .set({ station_nonce: next })
    .where('id', '=', flowId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
