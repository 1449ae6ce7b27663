import type { CompiledQuery, QueryExecutor, QueryResult } from 'kysely';

/**
 * Runs statements on one connection without waiting for one's answer before sending the next: on
 * PostgreSQL, whose connections are pipelined, they go out together and cost one round trip; on
 * SQLite they run in turn. Only for statements none of which is built from another's answer. The
 * first failure is the error; in a transaction it is then to be rolled back: a later statement may
 * have run (on SQLite) or been refused as part of an aborted transaction (on PostgreSQL). Outside
 * one, each statement stands on its own: for reads.
 */
export const runTogether = (
  trx: { getExecutor(): QueryExecutor },
  queries: readonly CompiledQuery[],
): Promise<QueryResult<unknown>[]> =>
  trx.getExecutor().provideConnection(async (connection) => {
    const settled = await Promise.allSettled(queries.map((query) => connection.executeQuery(query)));
    const failed = settled.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    return settled.map((result) => (result as PromiseFulfilledResult<QueryResult<unknown>>).value);
  });
