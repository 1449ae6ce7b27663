import type { CompiledQuery, Kysely, QueryResult, Transaction } from 'kysely';
import type { Database } from './database.js';
import { runTogether } from './run-together.js';

/**
 * Statements not yet sent, and the value their answers make. A request that needs several values
 * none of which depends on another's answer sends them together (`runPending`): on PostgreSQL one
 * round trip instead of one each. The single-value repository functions run the same statements.
 */
export interface Pending<T> {
  readonly queries: readonly CompiledQuery[];
  readonly answer: (results: readonly QueryResult<unknown>[]) => T;
}

/** One statement, and the value its rows make. */
export const pendingRows = <R, T>(
  query: CompiledQuery<R>,
  answer: (rows: readonly R[]) => T,
): Pending<T> => ({
  queries: [query],
  answer: ([result]) => answer((result?.rows ?? []) as R[]),
});

/** A value known already: no statement to send (for a read that turns out not to be needed). */
export const pendingValue = <T>(value: T): Pending<T> => ({ queries: [], answer: () => value });

type Answers<P extends readonly Pending<unknown>[]> = {
  -readonly [K in keyof P]: P[K] extends Pending<infer T> ? T : never;
};

/** Several pending values as one: their answers in the order given. */
export const pendingAll = <P extends readonly Pending<unknown>[]>(...parts: P): Pending<Answers<P>> => ({
  queries: parts.flatMap((part) => part.queries),
  answer: (results) => {
    let at = 0;
    return parts.map((part) => {
      const own = results.slice(at, at + part.queries.length);
      at += part.queries.length;
      return part.answer(own);
    }) as Answers<P>;
  },
});

/**
 * Sends the statements together (see runTogether) and makes their value. Outside a transaction each
 * statement stands on its own, as when sent one by one: a write among them (using up a challenge)
 * is kept even if a read beside it fails.
 */
export const runPending = async <T>(
  db: Kysely<Database> | Transaction<Database>,
  pending: Pending<T>,
): Promise<T> => pending.answer(pending.queries.length === 0 ? [] : await runTogether(db, pending.queries));
