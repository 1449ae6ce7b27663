import type { Writable } from 'node:stream';
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import type pg from 'pg';
import { COMMIT_WITH_LAST_WRITES } from './run-together.js';
import { type BatchStatement, type RowShape, runBatch, runNamed } from './statement-batch.js';

/**
 * Most distinct statement texts one process prepares by name: PostgreSQL keeps each one, with its
 * plans, on every connection that ran it. The server's steady traffic takes a few dozen; texts
 * that vary with their arguments (an IN list of any length) run unnamed once the budget is spent.
 */
export const NAMED_STATEMENTS_MAX = 256;

/** SQLSTATE 0A000 with this text: a prepared SELECT * whose table changed shape under it. */
const STALE_PLAN = 'cached plan must not change result type';

/**
 * Whether the connection a query failed on is finished: the server ended the session (a FATAL
 * error: the backend terminated, the server shutting down) or the failure was the connection's own
 * (no SQLSTATE). The backend's FATAL message arrives before its socket closes, so the client still
 * looks usable when it is released.
 */
const endsConnection = (error: unknown): boolean => {
  const { code, severity } = (error ?? {}) as { code?: unknown; severity?: unknown };
  return severity === 'FATAL' || severity === 'PANIC' || typeof code !== 'string' || code.length !== 5;
};

const isStalePlan = (error: unknown): boolean =>
  error instanceof Error &&
  (error as { code?: unknown }).code === '0A000' &&
  error.message.includes(STALE_PLAN);

/**
 * The name each statement text is prepared under. Names carry an epoch that a schema change in
 * this process moves on (see `renew`), so no statement planned against the old schema is used
 * again; they are never reused for another text, which PostgreSQL would refuse.
 */
export class StatementNames {
  private readonly names = new Map<string, string>();
  private epoch = 0;

  constructor(private readonly max = NAMED_STATEMENTS_MAX) {}

  /** The name for this text, or undefined when it is to run unnamed (the budget is spent). */
  nameOf(text: string): string | undefined {
    const known = this.names.get(text);
    if (known !== undefined || this.names.size >= this.max) return known;
    const name = `rk${this.epoch}_${this.names.size}`;
    this.names.set(text, name);
    return name;
  }

  /** After migrations: every text is prepared again under a new name, and counts again. */
  renew(): void {
    this.names.clear();
    this.epoch += 1;
  }
}

/**
 * A pool whose clients run each parameterised statement as a named prepared statement, so that
 * PostgreSQL parses and plans a text once per connection instead of at every execution: for the
 * indexed lookups and single-row writes that make up a request, parsing and planning cost more
 * than running them. Statements without parameters (BEGIN, COMMIT, DDL) run as before.
 *
 * Another process migrating the schema can leave a connection's prepared `SELECT *` stale; that
 * statement is then run unnamed at once when outside a transaction, and the error stands inside
 * one (the transaction is already aborted). Either way the connection is closed on release, so the
 * next checkout prepares afresh. A connection the server ended (see `endsConnection`) is closed on
 * release too, so the next checkout does not find it idle in the pool before its socket has closed.
 *
 * Each pg client keeps one wrapper for its life: Kysely keys its connection objects by the client
 * it is handed, so a new wrapper at every checkout would make it build and track a new connection
 * for each request.
 */
export const namedStatementPool = (pool: pg.Pool, names: StatementNames): PostgresPool => {
  const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      let wrapper = wrappers.get(client);
      if (wrapper === undefined) {
        wrapper = namedStatementClient(client, names);
        wrappers.set(client, wrapper);
        // A connection lost while checked out (PostgreSQL restarted, the backend terminated) fails
        // the queries waiting on it, and the pool drops it on release; the pool listens only while
        // it is idle, and an 'error' event nobody listens to would end the process.
        client.on('error', () => undefined);
      }
      return wrapper;
    },
    end: () => pool.end(),
  };
};

/** Kysely's transaction start without settings, the only one held back (see namedStatementClient). */
const BEGIN = 'begin';
const ENDS = new Set(['commit', 'rollback']);

/** A statement gathered behind a held BEGIN, with its caller's promise. */
interface Gathered {
  readonly statement: BatchStatement;
  readonly resolve: (result: pg.QueryResult) => void;
  readonly reject: (error: unknown) => void;
}

const namedStatementClient = (client: pg.PoolClient, names: StatementNames): PostgresPoolClient => {
  // Once set, the client is closed on release and never checked out again.
  let stale = false;
  let ended = false;
  // The names this connection has prepared, each with the shape of its rows learnt from its first
  // answer: it is not described again, and a batch runs only these names.
  const shapes = new Map<string, RowShape>();
  // Statements issued in one go (see runTogether) reach the socket in one write: it is corked until
  // the code issuing them has run.
  const stream = (client as unknown as { connection?: { stream?: Partial<Writable> } }).connection?.stream;
  let corked = false;
  const gather = () => {
    if (corked || stream?.cork === undefined || stream.uncork === undefined) return;
    corked = true;
    stream.cork();
    queueMicrotask(() => {
      corked = false;
      stream.uncork?.();
    });
  };
  // A transaction's BEGIN is held back and goes out with the statements issued first in it, in one
  // batch with one Sync (a round trip fewer per transaction): should BEGIN fail, none of them runs.
  // Statements issued while that batch is unanswered wait for it, so none can run without BEGIN.
  let heldBegin = false;
  let gathered: Gathered[] | null = null;
  let beginAnswered: Promise<unknown> | null = null;
  // Set when a transaction's COMMIT went out with its last writes (see runTogether): whether it was
  // answered. Nothing else may run in the transaction after it, and Kysely's COMMIT or ROLLBACK then
  // has nothing left to end, unless the COMMIT was never run.
  let commitWithWrites: Promise<boolean> | null = null;

  const single = async <R>(text: string, values: unknown[]) => {
    const name = values.length === 0 ? undefined : names.nameOf(text);
    gather();
    try {
      if (name === undefined) return (await client.query(text, values)) as unknown as PostgresQueryResult<R>;
      try {
        return (await runNamed(client, name, text, values, shapes.get(name), (shape) =>
          shapes.set(name, shape),
        )) as unknown as PostgresQueryResult<R>;
      } catch (error) {
        if (!isStalePlan(error)) throw error;
        stale = true;
        if (client.getTransactionStatus() !== 'I') throw error;
        return (await client.query(text, values)) as unknown as PostgresQueryResult<R>;
      }
    } catch (error) {
      if (endsConnection(error)) ended = true;
      throw error;
    }
  };

  /** BEGIN and the statements in one batch; settles once BEGIN is answered, failing if BEGIN failed. */
  const sendWithBegin = async (statements: readonly Gathered[]) => {
    try {
      const results = await runBatch(client, [
        { text: BEGIN, values: [] },
        ...statements.map((g) => g.statement),
      ]);
      for (const [i, g] of statements.entries()) g.resolve(results[i + 1] as pg.QueryResult);
    } catch (error) {
      if (endsConnection(error)) ended = true;
      if (isStalePlan(error)) stale = true;
      for (const g of statements) g.reject(error);
      if ((error as { failedAt?: unknown }).failedAt === 0) throw error;
    }
  };

  /** BEGIN alone, answered, then the statements: one not prepared here yet is prepared by pg. */
  const sendAfterBegin = async (statements: readonly Gathered[]) => {
    try {
      await single(BEGIN, []);
    } catch (error) {
      for (const g of statements) g.reject(error);
      throw error;
    }
    for (const g of statements)
      single(g.statement.text, [...g.statement.values]).then(
        (result) => g.resolve(result as unknown as pg.QueryResult),
        g.reject,
      );
  };

  const sendGathered = async () => {
    const statements = gathered ?? [];
    gathered = null;
    const batchable = statements.every((g) => g.statement.name === undefined || shapes.has(g.statement.name));
    const sent = batchable ? sendWithBegin(statements) : sendAfterBegin(statements);
    beginAnswered = sent;
    try {
      await sent;
    } catch {
      // Each statement was failed with the error; the ones waiting on BEGIN see it as well.
    } finally {
      if (beginAnswered === sent) beginAnswered = null;
    }
  };

  const query = async <R>(
    text: string,
    parameters: ReadonlyArray<unknown>,
  ): Promise<PostgresQueryResult<R>> => {
    const values = [...parameters];
    if (commitWithWrites !== null) {
      const answered = commitWithWrites;
      if (values.length !== 0 || !ENDS.has(text))
        throw new Error('The transaction committed with its last writes: nothing more runs in it');
      commitWithWrites = null;
      // Answered: the transaction has ended, committed or rolled back behind a failed statement.
      // Not answered: a failure before it in the same batch skipped it, and the transaction is still
      // open (aborted), to be ended here. The answer, not the connection's last reported status,
      // which pg has not yet updated when it fails a batch's statements.
      if (await answered)
        return { command: text.toUpperCase(), rowCount: 0, rows: [] } as unknown as PostgresQueryResult<R>;
    }
    const answer = dispatch<R>(text, values);
    if (values.length === 0 && text === COMMIT_WITH_LAST_WRITES)
      commitWithWrites = answer.then(
        () => true,
        () => false,
      );
    return answer;
  };

  const dispatch = async <R>(text: string, values: unknown[]): Promise<PostgresQueryResult<R>> => {
    if (values.length === 0 && !heldBegin && gathered === null && text === BEGIN) {
      heldBegin = true;
      return { command: 'BEGIN', rowCount: 0, rows: [] } as unknown as PostgresQueryResult<R>;
    }
    if (heldBegin) {
      heldBegin = false;
      // A transaction that issued nothing: there is nothing to begin, commit or roll back.
      if (values.length === 0 && ENDS.has(text))
        return { command: text.toUpperCase(), rowCount: 0, rows: [] } as unknown as PostgresQueryResult<R>;
      gathered = [];
      queueMicrotask(() => void sendGathered());
    }
    if (gathered !== null) {
      const name = values.length === 0 ? undefined : names.nameOf(text);
      return new Promise((resolve, reject) =>
        gathered?.push({
          statement: { text, values, ...(name !== undefined && { name }) },
          resolve: resolve as (result: pg.QueryResult) => void,
          reject,
        }),
      );
    }
    if (beginAnswered !== null) await beginAnswered;
    return single<R>(text, values);
  };
  return {
    query: query as PostgresPoolClient['query'],
    release: (destroy?: boolean) => {
      heldBegin = false;
      commitWithWrites = null;
      client.release(destroy === true || stale || ended);
    },
  };
};
