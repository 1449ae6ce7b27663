// Fresh, isolated databases for tests, one per call, on either dialect. Other packages import this
// file by relative path, so it depends on nothing outside this package.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { type Database, type Dialect, migrateToLatest, openStore, type Store } from '../database.js';
import { namedStatementPool, StatementNames } from '../named-statements.js';

export const DIALECTS: Dialect[] = ['sqlite', 'postgres'];

/** The server where test databases are created; the database in the URL is only used to connect. */
export const TEST_PG_URL =
  process.env.RESERVKORT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestStore extends Store {
  /** Open a second store on the same database with `openStore({ url })`, e.g. to test concurrency. */
  readonly url: string;
  /** Closes the store and deletes the database. */
  dispose(): Promise<void>;
}

export interface TestStoreOptions {
  /** Apply the migrations (default true); false gives an empty database. */
  readonly migrate?: boolean;
}

const withoutPassword = (url: string): string => {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
};

const withAdminClient = async <T>(use: (client: pg.Client) => Promise<T>): Promise<T> => {
  const client = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (error) {
    const reason = error instanceof Error && error.message !== '' ? error.message : String(error);
    throw new Error(
      `PostgreSQL is required for the store tests at ${withoutPassword(TEST_PG_URL)} ` +
        `(set RESERVKORT_TEST_PG_URL to use another server): ${reason}`,
      { cause: error },
    );
  }
  try {
    return await use(client);
  } finally {
    await client.end();
  }
};

const createPostgresDatabase = async (): Promise<{ url: string; drop: () => Promise<void> }> => {
  // Random hex only, so the name is safe to write into the statements.
  const name = `reservkort_test_${randomBytes(8).toString('hex')}`;
  await withAdminClient((client) => client.query(`create database ${name}`));
  const url = new URL(TEST_PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await withAdminClient((client) => client.query(`drop database if exists ${name} with (force)`));
    },
  };
};

const createSqliteFile = async (): Promise<{ url: string; drop: () => Promise<void> }> => {
  const folder = await mkdtemp(join(tmpdir(), 'reservkort-test-'));
  return { url: join(folder, 'store.db'), drop: () => rm(folder, { recursive: true, force: true }) };
};

/** A store on a new, empty database of the dialect, migrated unless told otherwise. */
export async function createTestStore(dialect: Dialect, options: TestStoreOptions = {}): Promise<TestStore> {
  const database = dialect === 'postgres' ? await createPostgresDatabase() : await createSqliteFile();
  const store = await openStore({ url: database.url }).catch(async (error: unknown) => {
    await database.drop();
    throw error;
  });
  if (options.migrate ?? true) {
    await migrateToLatest(store.db).catch(async (error: unknown) => {
      await store.close();
      await database.drop();
      throw error;
    });
  }
  return {
    db: store.db,
    dialect: store.dialect,
    url: database.url,
    close: () => store.close(),
    dispose: async () => {
      await store.close();
      await database.drop();
    },
  };
}

/**
 * The PostgreSQL backends whose statement starting with `prefix` waits on a lock, once there is at
 * least one (polled for up to 5 s). Read by a client in no transaction, where the activity view is
 * not a snapshot.
 */
export async function backendsWaitingOnLock(client: pg.Client, prefix: string): Promise<number[]> {
  for (let i = 0; i < 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    const { rows } = await client.query<{ pid: number }>(
      "select pid from pg_stat_activity where wait_event_type = 'Lock' and starts_with(query, $1)",
      [prefix],
    );
    if (rows.length > 0) return rows.map((row) => row.pid);
  }
  return [];
}

/**
 * A Kysely on one pipelined connection to `url`, through the named-statement client as the store
 * opens it, counting the writes to its socket: each write is one round trip's request.
 */
export const countingWrites = async <T>(
  url: string,
  use: (db: Kysely<Database>, writes: () => number) => Promise<T>,
): Promise<T> => {
  const pool = new pg.Pool({ connectionString: url, max: 1, pipeline: true });
  let count = 0;
  pool.on('connect', (client) => {
    const stream = (client as unknown as { connection: { stream: Writable } }).connection.stream;
    const write = stream.write.bind(stream);
    // Corked writes reach the socket together, in one write, when it is uncorked.
    stream.write = ((...args: Parameters<Writable['write']>) => {
      if (stream.writableCorked === 0) count += 1;
      return write(...args);
    }) as Writable['write'];
    const uncork = stream.uncork.bind(stream);
    stream.uncork = () => {
      if (stream.writableCorked === 1 && stream.writableLength > 0) count += 1;
      uncork();
    };
  });
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: namedStatementPool(pool, new StatementNames()) }),
  });
  try {
    await sql`select 1`.execute(db);
    return await use(db, () => count);
  } finally {
    await db.destroy();
  }
};
