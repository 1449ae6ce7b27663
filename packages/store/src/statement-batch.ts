/// <reference path="./pg-utils.d.ts" />
import pg from 'pg';
import pgUtils from 'pg/lib/utils.js';

/** A statement to run: by name when it is prepared on the connection already, else unnamed. */
export interface BatchStatement {
  readonly text: string;
  readonly values: readonly unknown[];
  /** Set only for a statement this connection has prepared: a batch never prepares a name. */
  readonly name?: string;
}

/** The part of pg's connection a batch writes its messages to. */
interface ProtocolWriter {
  parse(message: { text: string; name: string }): void;
  bind(message: { portal: string; statement: string; values: unknown[] }): void;
  describe(message: { type: 'P'; name: string }): void;
  execute(message: { portal: string }): void;
  sync(): void;
}

/**
 * The values as pg writes them in Bind, mapped before anything is written: a value pg cannot send
 * then fails the query without a message of it on the wire (pg itself maps them while writing).
 */
const mappedValues = (values: readonly unknown[]): unknown[] =>
  values.map((value) => pgUtils.prepareValue(value));

/**
 * A query for pg that sends several statements with a single Sync. PostgreSQL then runs them as one
 * unit: once one fails, it skips the rest until the Sync (and outside a transaction block it rolls
 * back what ran). That is what makes it safe to send a transaction's BEGIN with the statements
 * after it: should BEGIN fail, nothing behind it runs, where with a Sync after each statement each
 * would run, and commit, on its own.
 *
 * It is pg's own Query with its message writing replaced, so the client queues it, pipelines it and
 * hands it the answers like any query, and the answers are read into results by pg's code: one
 * result per statement, in order. pg prepares named statements itself and records which are
 * prepared; a batch only runs names prepared already and parses the rest unnamed, so that record
 * stays true whatever the batch's fate.
 */
class StatementBatch extends pg.Query {
  private readonly statements: readonly { text: string; name: string; values: unknown[] }[];

  constructor(
    statements: readonly BatchStatement[],
    callback: (error: Error | undefined, answer: unknown) => void,
  ) {
    super(statements[0]?.text ?? '', callback);
    this.statements = statements.map((s) => ({
      text: s.text,
      name: s.name ?? '',
      values: mappedValues(s.values),
    }));
  }

  requiresPreparation(): boolean {
    return true;
  }

  // pg calls this from submit, with the socket corked: the whole batch is one write.
  prepare(connection: ProtocolWriter): void {
    for (const statement of this.statements) {
      if (statement.name === '') connection.parse({ text: statement.text, name: '' });
      connection.bind({ portal: '', statement: statement.name, values: statement.values });
      connection.describe({ type: 'P', name: '' });
      connection.execute({ portal: '' });
    }
    connection.sync();
  }
}

/**
 * Runs the statements with one Sync on a client; their results in order. On a failure the error
 * carries `failedAt`: the statements before it ran, the ones after it did not.
 */
export const runBatch = (
  client: pg.ClientBase,
  statements: readonly BatchStatement[],
): Promise<pg.QueryResult[]> =>
  new Promise((resolve, reject) => {
    let batch: StatementBatch;
    try {
      batch = new StatementBatch(statements, (error, answer) => {
        if (error !== null && error !== undefined) {
          reject(withFailedAt(error, finishedIn(batch)));
          return;
        }
        const results = (
          Array.isArray(answer) ? answer : answer === undefined ? [] : [answer]
        ) as pg.QueryResult[];
        if (results.length !== statements.length) {
          reject(
            new Error(
              `A batch of ${statements.length} statements was answered with ${results.length} results`,
            ),
          );
          return;
        }
        resolve(results);
      });
    } catch (error) {
      reject(withFailedAt(error, 0));
      return;
    }
    client.query(batch);
  });

/** How many of a batch's statements completed: pg starts a new result at each statement's answer. */
const finishedIn = (batch: StatementBatch): number => {
  const { _results: results } = batch as unknown as { _results: pg.QueryResult | pg.QueryResult[] };
  const all = Array.isArray(results) ? results : [results];
  return all.filter((result) => typeof result.command === 'string' && result.command !== '').length;
};

const withFailedAt = (error: unknown, failedAt: number): Error & { failedAt: number } => {
  const failure = (error instanceof Error ? error : new Error(String(error))) as Error & { failedAt: number };
  failure.failedAt = failedAt;
  return failure;
};

/**
 * What a prepared statement's rows look like on one connection, as pg read them from its first
 * answer's RowDescription: the fields, a parser for each, and the empty row pg copies for each row.
 * A named statement's result columns never change on its connection (PostgreSQL refuses to run it
 * with "cached plan must not change result type" instead), so they need not be described again.
 */
export interface RowShape {
  readonly fields: unknown;
  readonly parsers: unknown;
  readonly empty: unknown;
}

/** The parts of pg's Result and Query a known shape is set on. */
interface ResultInternals {
  fields: unknown;
  _parsers: unknown;
  _prebuiltEmptyResultObject: unknown;
}

const prepareNamed = (pg.Query.prototype as unknown as { prepare(connection: ProtocolWriter): void }).prepare;

/**
 * A named statement that pg runs as usual, except that once its rows' shape is known on the
 * connection it is not described again: Bind, Execute and Sync only, and its rows are read with the
 * shape learnt from the first answer. Parsing the RowDescription and building the fields' parsers
 * at every execution was the driver's largest cost per statement.
 */
class NamedExecution extends pg.Query {
  private readonly mapped: unknown[] | undefined;

  constructor(
    text: string,
    values: unknown[],
    name: string,
    private readonly shape: RowShape | undefined,
    callback: (error: Error | undefined, result: unknown) => void,
  ) {
    super(text, values, callback);
    (this as unknown as { name: string }).name = name;
    if (shape === undefined) return;
    this.mapped = mappedValues(values);
    const result = (this as unknown as { _result: ResultInternals })._result;
    result.fields = shape.fields;
    result._parsers = shape.parsers;
    result._prebuiltEmptyResultObject = shape.empty;
    // pg decides this when the RowDescription comes, which it will not.
    (this as unknown as { _accumulateRows: boolean })._accumulateRows = true;
  }

  prepare(connection: ProtocolWriter): void {
    if (this.shape === undefined || this.mapped === undefined) {
      prepareNamed.call(this, connection);
      return;
    }
    const name = (this as unknown as { name: string }).name;
    connection.bind({ portal: '', statement: name, values: this.mapped });
    connection.execute({ portal: '' });
    connection.sync();
  }
}

/**
 * Runs one named statement, as `client.query({ name, text, values })` does, without pg copying the
 * query's configuration object through its property descriptors first (a cost on every query).
 * With the statement's shape on this connection (`shape`, from an earlier answer), it is not
 * described again; without it, `learn` is given the shape of this answer.
 */
export const runNamed = (
  client: pg.ClientBase,
  name: string,
  text: string,
  values: unknown[],
  shape?: RowShape,
  learn?: (shape: RowShape) => void,
): Promise<pg.QueryResult> =>
  new Promise((resolve, reject) => {
    let query: NamedExecution;
    try {
      query = new NamedExecution(text, values, name, shape, (error, result) => {
        if (error !== null && error !== undefined) {
          reject(error);
          return;
        }
        if (shape === undefined && learn !== undefined && !Array.isArray(result)) {
          const internals = result as unknown as ResultInternals;
          learn({
            fields: internals.fields,
            parsers: internals._parsers,
            empty: internals._prebuiltEmptyResultObject,
          });
        }
        resolve(result as pg.QueryResult);
      });
    } catch (error) {
      reject(error);
      return;
    }
    client.query(query);
  });
