import { type Kysely, PostgresAdapter } from 'kysely';

export type Dialect = 'sqlite' | 'postgres';

/** The dialect behind a Kysely instance or transaction, for the few statements that differ. */
export const dialectOf = <DB>(db: Kysely<DB>): Dialect =>
  db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
