import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { type DialectAdapter, Kysely, type Migration, Migrator, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { AdminsTable, RoleGrantsTable } from './admin/admin.table.js';
import type { StaffRolesTable } from './admin/staff.table.js';
import { databaseHashesAsWeDo } from './audit/audit.repository.js';
import type { AuditLogTable } from './audit/audit.table.js';
import type { AuditSignersTable } from './audit/audit-signer.table.js';
import type { CasTable } from './ca/ca.table.js';
import type { StockCardsTable } from './card-stock/card-stock.table.js';
import type {
  CertificatesTable,
  RevocationsGenerationTable,
  RevocationsTable,
} from './certificate/certificate.table.js';
import type { CrlsTable } from './crl/crl.table.js';
import type { Dialect } from './dialect.js';
import type { ExtensionsTable } from './extension/extension.table.js';
import type { FlowCodesTable, FlowsTable } from './flow/flow.table.js';
import { ImmediateSqliteDialect } from './immediate-sqlite.dialect.js';
import type { IssuanceIntentsTable } from './issuance/issuance-intent.table.js';
import { MIGRATIONS, staticMigrationProvider } from './migrations/migration.provider.js';
import { namedStatementPool, StatementNames } from './named-statements.js';
import type { OrdersTable } from './order/order.table.js';
import type { BranchesGenerationTable, BranchesTable } from './organisation/organisation.table.js';
import type { PersonsTable } from './person/person.table.js';
import type { LoginChallengesTable, SessionsTable } from './session/session.table.js';
import { type Checkpointer, startCheckpointer } from './sqlite-checkpointer.js';
import type { StationsTable } from './station/station.table.js';
import { StoreError } from './store-error.js';
import type { CaseCommentsTable, SupportCasesTable } from './support/support-case.table.js';

export type { Dialect } from './dialect.js';

export interface Database {
  branches: BranchesTable;
  branches_generation: BranchesGenerationTable;
  persons: PersonsTable;
  admins: AdminsTable;
  role_grants: RoleGrantsTable;
  orders: OrdersTable;
  cas: CasTable;
  certificates: CertificatesTable;
  revocations: RevocationsTable;
  revocations_generation: RevocationsGenerationTable;
  audit_log: AuditLogTable;
  crls: CrlsTable;
  flows: FlowsTable;
  flow_codes: FlowCodesTable;
  sessions: SessionsTable;
  login_challenges: LoginChallengesTable;
  staff_roles: StaffRolesTable;
  support_cases: SupportCasesTable;
  case_comments: CaseCommentsTable;
  issuance_intents: IssuanceIntentsTable;
  audit_signers: AuditSignersTable;
  stations: StationsTable;
  stock_cards: StockCardsTable;
  extensions: ExtensionsTable;
}

export interface StoreConfig {
  /** `postgres://…` or `postgresql://…` for PostgreSQL; `sqlite:PATH`, a file path or `:memory:` for SQLite. */
  readonly url: string;
  /**
   * SQLite: copy the WAL into the database file from a worker thread instead of inside whichever
   * commit crosses the automatic checkpoint's threshold. For a long-running server; a short
   * command keeps SQLite's own checkpoints. Ignored for PostgreSQL and in memory.
   */
  readonly backgroundCheckpoints?: boolean;
}

export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  /** Closes the connections; calling it again waits for the same close. */
  close(): Promise<void>;
}

const POSTGRES_URL = /^postgres(?:ql)?:\/\//i;
const SQLITE_SCHEME = 'sqlite:';
const PG_INT8_OID = 20;
const PG_NUMERIC_OID = 1700;
const PG_CONNECT_TIMEOUT_MS = 10_000;
const SQLITE_BUSY_TIMEOUT_MS = 5000;

/** The first line of an error's message, with a secret blanked out. */
const reasonOf = (error: unknown, secrets: readonly string[] = []): string => {
  let text =
    error instanceof AggregateError && error.message === ''
      ? // Node reports a refused connection to every address of a host as one AggregateError.
        error.errors.map((e: unknown) => reasonOf(e)).join('; ')
      : error instanceof Error
        ? error.message
        : String(error);
  for (const secret of secrets) if (secret !== '') text = text.replaceAll(secret, '***');
  return text.split('\n')[0] || 'unknown error';
};

const sqlitePath = (url: string): string => {
  if (!url.startsWith(SQLITE_SCHEME)) return url;
  const rest = url.slice(SQLITE_SCHEME.length);
  // `sqlite:///abs/path` reads like a URL; `sqlite:path` is the short form.
  return rest.startsWith('//') ? rest.slice(2) : rest;
};

const storeOf = (db: Kysely<Database>, dialect: Dialect, checkpointer?: Checkpointer): Store => {
  let closing: Promise<void> | undefined;
  return {
    db,
    dialect,
    close: () => {
      // The checkpointer first: the application's connection, closing last, checkpoints what is left.
      closing ??= (checkpointer?.stop() ?? Promise.resolve()).then(() => db.destroy());
      return closing;
    },
  };
};

/** Creates an empty file 0600 unless it exists; an existing file is left as it is. */
const createPrivately = (path: string): void => {
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
};

/**
 * One store per file and process: better-sqlite3 is synchronous, so a second connection in the same
 * process waiting for the write lock would block the thread that holds it.
 */
const openSqlite = async (path: string, backgroundCheckpoints: boolean): Promise<Store> => {
  if (path === '') throw new StoreError('DATABASE_UNAVAILABLE', 'No SQLite database path configured');
  let sqlite: SqliteDatabase.Database | undefined;
  try {
    if (path !== ':memory:') {
      // For the owner only: SQLite gives the -wal and -shm files the database file's permissions.
      mkdirSync(dirname(resolve(path)), { recursive: true, mode: 0o700 });
      createPrivately(path);
    }
    sqlite = new SqliteDatabase(path);
    sqlite.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    sqlite.pragma('journal_mode = WAL');
    // In WAL mode NORMAL still survives an application crash; only a power cut can lose the last
    // commits. It saves an fsync per transaction, which otherwise bounds issuance at disk speed.
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
  } catch (error) {
    sqlite?.close();
    const message = `Cannot open the SQLite database ${path}: ${reasonOf(error)}`;
    throw new StoreError('DATABASE_UNAVAILABLE', message, { cause: error });
  }
  const checkpointer =
    backgroundCheckpoints && path !== ':memory:' ? await backgroundCheckpointsOf(sqlite, path) : undefined;
  const dialect = new ImmediateSqliteDialect({ database: sqlite });
  return storeOf(new Kysely<Database>({ dialect }), 'sqlite', checkpointer);
};

/** SQLite's default threshold of the automatic checkpoint, in WAL pages. */
const AUTOCHECKPOINT_PAGES = 1000;

/**
 * Hands the checkpoints to a worker thread and turns the connection's own off; they come back on
 * if the worker cannot start or ends, so the WAL never grows without bound. Crash safety is
 * SQLite's either way: a checkpoint only copies committed frames, whichever connection runs it.
 */
const backgroundCheckpointsOf = async (
  sqlite: SqliteDatabase.Database,
  path: string,
): Promise<Checkpointer | undefined> => {
  try {
    const checkpointer = await startCheckpointer(path, () => {
      if (sqlite.open) sqlite.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
    });
    sqlite.pragma('wal_autocheckpoint = 0');
    return checkpointer;
  } catch {
    return undefined;
  }
};

/** Where a PostgreSQL URL points, for messages: host, port and database, never the credentials. */
const describePostgresUrl = (url: string): { where: string; secrets: string[] } => {
  try {
    const parsed = new URL(url);
    const secrets = [parsed.password, decodeURIComponent(parsed.password)];
    return { where: `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}${parsed.pathname}`, secrets };
  } catch {
    return { where: 'the configured host', secrets: [] };
  }
};

/**
 * The prepared statements' names of each PostgreSQL store, renewed when this process migrates it;
 * by the dialect's adapter, which its transactions and held connections share.
 */
const statementNames = new WeakMap<DialectAdapter, StatementNames>();

const openPostgres = async (url: string): Promise<Store> => {
  // Per pool rather than pg.types.setTypeParser, which would change every pg user in the process.
  // Our int8 values (timestamps in ms, sequence numbers) stay far below 2^53.
  const types = new pg.TypeOverrides();
  types.setTypeParser(PG_INT8_OID, Number);
  types.setTypeParser(PG_NUMERIC_OID, Number);
  // Pipelined: a query is written without waiting for the answer to the one before. Kysely awaits
  // each of its queries; only statements run together (runTogether) go out at once.
  const pool = new pg.Pool({
    connectionString: url,
    types,
    connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS,
    pipeline: true,
  });
  // An idle client lost to a server restart is dropped by the pool and the next query reconnects;
  // without a listener Node would treat the 'error' event as fatal.
  pool.on('error', () => undefined);
  const names = new StatementNames();
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: namedStatementPool(pool, names) }),
  });
  statementNames.set(db.getExecutor().adapter, names);
  let hashesAsWeDo: boolean;
  try {
    hashesAsWeDo = await databaseHashesAsWeDo(db);
  } catch (error) {
    await db.destroy().catch(() => undefined);
    const { where, secrets } = describePostgresUrl(url);
    throw new StoreError(
      'DATABASE_UNAVAILABLE',
      `Cannot connect to PostgreSQL at ${where}: ${reasonOf(error, secrets)}`,
      { cause: error },
    );
  }
  if (!hashesAsWeDo) {
    await db.destroy().catch(() => undefined);
    throw new StoreError(
      'DATABASE_UNAVAILABLE',
      `PostgreSQL at ${describePostgresUrl(url).where} hashes text differently from the server: ` +
        'the audit log needs a database in the UTF8 encoding',
    );
  }
  return storeOf(db, 'postgres');
};

/** Opens (and for SQLite creates) the database. Does not migrate: see migrateToLatest. */
export async function openStore(config: StoreConfig): Promise<Store> {
  return POSTGRES_URL.test(config.url)
    ? openPostgres(config.url)
    : openSqlite(sqlitePath(config.url), config.backgroundCheckpoints === true);
}

/**
 * Applies the given migrations that have not run yet, all in one transaction on both dialects, so
 * a failure leaves the schema as it was. Exposed for tests; the application uses migrateToLatest.
 */
export async function runMigrations(
  db: Kysely<Database>,
  migrations: Readonly<Record<string, Migration>>,
): Promise<{ applied: string[] }> {
  const migrator = new Migrator({ db, provider: staticMigrationProvider(migrations) });
  const { error, results = [] } = await migrator.migrateToLatest();
  // Statements prepared against the old schema are not run again: their names are retired.
  if (results.some((r) => r.status === 'Success')) statementNames.get(db.getExecutor().adapter)?.renew();
  if (error !== undefined) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName;
    const what = failed === undefined ? 'The migration run' : `Migration ${failed}`;
    throw new StoreError('MIGRATION_FAILED', `${what} failed, nothing was applied: ${reasonOf(error)}`, {
      cause: error,
    });
  }
  return { applied: results.filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}

/** Brings the schema up to date; returns the names of the migrations it applied. */
export async function migrateToLatest(db: Kysely<Database>): Promise<{ applied: string[] }> {
  return runMigrations(db, MIGRATIONS);
}
