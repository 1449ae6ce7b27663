import { CompiledQuery, PostgresAdapter, type QueryExecutor, type QueryResult } from 'kysely';

/**
 * The COMMIT a transaction's last writes carry on PostgreSQL (see runTogether's `commit`). Its text
 * tells the connection (see namedStatementClient) that the transaction ends here: Kysely's own
 * COMMIT or ROLLBACK after it then has nothing left to end, and nothing else may run in it.
 */
export const COMMIT_WITH_LAST_WRITES = 'commit /* with the last writes */';

export interface RunTogetherOptions {
  /**
   * PostgreSQL only: the statements are the transaction's last, and its COMMIT goes out with them,
   * a round trip fewer. PostgreSQL commits only if every one of them succeeded (a COMMIT after a
   * failure rolls back), so a condition the transaction depends on must fail as an SQL error here,
   * not be judged from an answer afterwards. The caller runs nothing more in the transaction.
   */
  readonly commit?: boolean;
}

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
  options: RunTogetherOptions = {},
): Promise<QueryResult<unknown>[]> => {
  const executor = trx.getExecutor();
  if (options.commit === true && !(executor.adapter instanceof PostgresAdapter))
    return Promise.reject(
      new Error('runTogether: only a PostgreSQL transaction commits with its last statements'),
    );
  const all = options.commit === true ? [...queries, CompiledQuery.raw(COMMIT_WITH_LAST_WRITES)] : queries;
  return executor.provideConnection(async (connection) => {
    const settled = await Promise.allSettled(all.map((query) => connection.executeQuery(query)));
    const failed = settled.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    return settled
      .slice(0, queries.length)
      .map((result) => (result as PromiseFulfilledResult<QueryResult<unknown>>).value);
  });
};
