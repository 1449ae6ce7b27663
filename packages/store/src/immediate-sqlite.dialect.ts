import {
  CompiledQuery,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  type QueryCompiler,
  SqliteAdapter,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
  SqliteQueryCompiler,
} from 'kysely';

type SqliteDatabase = Extract<SqliteDialectConfig['database'], { prepare: unknown }>;
type SqliteStatement = ReturnType<SqliteDatabase['prepare']>;

/** Enough for every distinct query the application sends; a longer tail is prepared again. */
const STATEMENTS_MAX = 500;

/**
 * Prepares each distinct SQL text once per connection: Kysely asks for a new statement at every
 * query, and preparing costs more than running most of ours. A statement still iterating (a
 * streamed query) is not handed out twice: that query gets one of its own.
 */
export const withStatementCache = (database: SqliteDatabase): SqliteDatabase => {
  const statements = new Map<string, SqliteStatement>();
  return {
    close: () => {
      statements.clear();
      database.close();
    },
    prepare: (sql) => {
      const known = statements.get(sql);
      if (known !== undefined && !(known as { busy?: boolean }).busy) {
        // Most recently used last, so the oldest goes first when full.
        statements.delete(sql);
        statements.set(sql, known);
        return known;
      }
      const statement = database.prepare(sql);
      if (known === undefined) {
        if (statements.size >= STATEMENTS_MAX) statements.delete(statements.keys().next().value ?? '');
        statements.set(sql, statement);
      }
      return statement;
    },
  };
};

/**
 * Every transaction starts with BEGIN IMMEDIATE, taking the write lock up front: a transaction that
 * reads and then writes (the audit chain's head, a version check) cannot be overtaken by another
 * connection between the two, and cannot fail with SQLITE_BUSY when upgrading from read to write.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/** SQLite's DDL is transactional: let the migrator run all pending migrations as one transaction. */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

/**
 * Every parameter written `+?` (unary plus: the same value, no affinity, as a bare `?` has none).
 * SQLite marks a statement that joins tables, or takes its LIMIT as a parameter, to be prepared
 * again whenever a bare parameter is bound, so such a statement was parsed and planned at every
 * run (and better-sqlite3 compiled a new row constructor for it), several times the cost of
 * running it. SQLite plans `+?` as it plans `?`, indexes included, and prepares it once. (A LIKE
 * on an indexed column would lose its index, since SQLite needs the pattern when planning; no
 * query of ours has one.)
 */
export class PlannedOnceSqliteQueryCompiler extends SqliteQueryCompiler {
  protected override getCurrentParameterPlaceholder(): string {
    return '+?';
  }
}

/**
 * Kysely's better-sqlite3 dialect with immediate transactions, transactional migrations, and each
 * statement prepared once.
 */
export class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(config: SqliteDialectConfig) {
    const { database } = config;
    const cached: SqliteDialectConfig = {
      ...config,
      database:
        typeof database === 'function'
          ? async () => withStatementCache(await database())
          : withStatementCache(database),
    };
    super(cached);
    this.#config = cached;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }

  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }

  override createQueryCompiler(): QueryCompiler {
    return new PlannedOnceSqliteQueryCompiler();
  }
}
