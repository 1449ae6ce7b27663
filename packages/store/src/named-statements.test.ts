import type { Writable } from 'node:stream';
import { Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Database, runMigrations } from './database.js';
import { MIGRATIONS } from './migrations/migration.provider.js';
import { namedStatementPool, StatementNames } from './named-statements.js';
import { runTogether } from './run-together.js';
import {
  backendsWaitingOnLock,
  countingWrites,
  createTestStore,
  type TestStore,
} from './test-support/test-stores.js';

describe('statement names', () => {
  it('gives one name a text, another to another text, and none once the budget is spent', () => {
    const names = new StatementNames(2);
    const first = names.nameOf('select 1 where $1');
    expect(first).toBeDefined();
    expect(names.nameOf('select 1 where $1')).toBe(first);
    const second = names.nameOf('select 2 where $1');
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    expect(names.nameOf('select 3 where $1')).toBeUndefined();
    // Texts named before the budget ran out keep their names.
    expect(names.nameOf('select 2 where $1')).toBe(second);
  });

  it('renewed, names every text again under a name never given before', () => {
    const names = new StatementNames(1);
    const before = names.nameOf('select 1 where $1');
    expect(names.nameOf('select 2 where $1')).toBeUndefined();
    names.renew();
    const after = names.nameOf('select 1 where $1');
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
    expect(names.nameOf('select 2 where $1')).toBeUndefined();
  });
});

/** The statements prepared on the connection this runs on: each text's newest name. */
const prepared = async (db: Kysely<Database>): Promise<Map<string, string>> => {
  const { rows } = await sql<{ name: string; statement: string }>`
    select name, statement from pg_prepared_statements order by prepare_time`.execute(db);
  return new Map(rows.map((r) => [r.statement, r.name]));
};

const backendPid = async (db: Kysely<Database>): Promise<number> =>
  (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db)).rows[0]?.pid ?? 0;

/** A statement on the table `t` that another session changes the shape of. */
const everyColumn = (db: Kysely<Database>, a: number) =>
  sql<Record<string, unknown>>`select * from t where a = ${a}`.execute(db);

describe('named statements on PostgreSQL', () => {
  let store: TestStore;
  let other: pg.Client;
  beforeAll(async () => {
    store = await createTestStore('postgres');
    other = new pg.Client({ connectionString: store.url });
    await other.connect();
  });
  afterAll(async () => {
    await other?.end();
    await store?.dispose();
  });

  it('prepares a parameterised statement once per connection and runs it again by name', async () => {
    await store.db.connection().execute(async (db) => {
      const read = () => db.selectFrom('flows').select('id').where('id', '=', 'no such flow').execute();
      await read();
      await read();
      const compiled = db.selectFrom('flows').select('id').where('id', '=', 'x').compile().sql;
      expect((await prepared(db)).get(compiled)).toMatch(/^rk\d+_\d+$/);
      // Both runs went through the one prepared statement: PostgreSQL counts its plans' uses.
      const { rows } = await sql<{ runs: number }>`
        select (generic_plans + custom_plans)::int as runs from pg_prepared_statements
        where statement = ${compiled}`.execute(db);
      expect(rows).toEqual([{ runs: 2 }]);
      // Statements without parameters (BEGIN, COMMIT, this one) are not prepared.
      expect([...(await prepared(db)).keys()].some((text) => !text.includes('$1'))).toBe(false);
    });
  });

  it('hands Kysely one client object per connection, and a new one only for a new connection', async () => {
    const pool = new pg.Pool({ connectionString: store.url, max: 1 });
    try {
      const named = namedStatementPool(pool, new StatementNames());
      const first = await named.connect();
      first.release();
      const again = await named.connect();
      again.release(true);
      const next = await named.connect();
      next.release();
      // Kysely keys its connection objects by this client: the same connection, the same object.
      expect(again).toBe(first);
      expect(next).not.toBe(first);
    } finally {
      await pool.end();
    }
  });

  it('runs a statement whose table another session changed: the error stands in a transaction, out of one it runs unnamed', async () => {
    await other.query('create table t (a int)');
    await other.query('insert into t values (1)');
    let stalePid = 0;
    await store.db.connection().execute(async (db) => {
      stalePid = await backendPid(db);
      expect((await everyColumn(db, 1)).rows).toEqual([{ a: 1 }]);
      await other.query('alter table t add column b int default 2');
      // Inside a transaction the error stands: the transaction is aborted, and rolls back.
      await expect(
        db.transaction().execute(async (trx) => {
          await sql`insert into t (a) values (${9})`.execute(trx);
          return everyColumn(trx, 1);
        }),
      ).rejects.toThrow(/cached plan must not change result type/);
      // Out of a transaction the statement runs again unnamed.
      expect((await everyColumn(db, 1)).rows).toEqual([{ a: 1, b: 2 }]);
    });
    expect((await other.query('select count(*)::int as n from t where a = 9')).rows[0]).toEqual({ n: 0 });
    // The connection holding the stale statement is closed, so no later request meets it.
    const alive = async () =>
      (await other.query('select count(*)::int as n from pg_stat_activity where pid = $1', [stalePid]))
        .rows[0]?.n as number;
    for (let i = 0; i < 50 && (await alive()) > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await alive()).toBe(0);
    const fresh = await store.db.transaction().execute((trx) => everyColumn(trx, 1));
    expect(fresh.rows).toEqual([{ a: 1, b: 2 }]);
  });

  it('after this process migrates, prepares each statement again, so none planned on the old schema runs', async () => {
    const byId = (db: Kysely<Database>) =>
      db.selectFrom('stations').selectAll().where('id', '=', 'no such station').execute();
    const text = store.db.selectFrom('stations').selectAll().where('id', '=', 'x').compile().sql;
    // Prepared on the connection a transaction takes (the pool hands out the one last released).
    const before = await store.db.transaction().execute(async (trx) => {
      await byId(trx);
      return { pid: await backendPid(trx), name: (await prepared(trx)).get(text) };
    });
    expect(before.name).toBeDefined();
    // The migrator holds its own transaction, so it runs on the store, not on a held connection.
    await runMigrations(store.db, {
      ...MIGRATIONS,
      '9999-test-a-column': {
        up: (m: Kysely<unknown>) => m.schema.alterTable('stations').addColumn('extra', 'text').execute(),
      },
    });
    // In transactions, where a stale plan could not be run again unnamed.
    for (let i = 0; i < 5; i++) {
      const after = await store.db.transaction().execute(async (trx) => {
        await expect(byId(trx)).resolves.toEqual([]);
        return { pid: await backendPid(trx), name: (await prepared(trx)).get(text) };
      });
      expect(after.name).toBeDefined();
      expect(after.name).not.toBe(before.name);
      if (i === 0) expect(after.pid).toBe(before.pid);
    }
  });
});

describe('round trips on a pipelined PostgreSQL connection', () => {
  let url: string;
  let dispose: () => Promise<void>;
  let other: pg.Client;
  beforeAll(async () => {
    const store = await createTestStore('postgres');
    url = store.url;
    dispose = () => store.dispose();
    other = new pg.Client({ connectionString: url });
    await other.connect();
    await other.query('create table held (a int primary key)');
  });
  afterAll(async () => {
    await other?.end();
    await dispose?.();
  });

  /** A Kysely on `pool` through the named-statement client, as the store opens it. */
  const kyselyOn = (pool: pg.Pool) =>
    new Kysely<Database>({
      dialect: new PostgresDialect({ pool: namedStatementPool(pool, new StatementNames()) }),
    });

  /** A Kysely on one pipelined connection, as the store opens it, counting the writes to its socket. */
  const counted = <T>(use: (db: Kysely<Database>, writes: () => number) => Promise<T>): Promise<T> =>
    countingWrites(url, use);

  const rows = async (): Promise<number[]> =>
    (await other.query('select a from held order by a')).rows.map((r) => r.a as number);

  it("sends a transaction's BEGIN alone, answered, before a statement this connection has not prepared yet", async () => {
    await counted(async (db, writes) => {
      const before = writes();
      await db.transaction().execute(async (trx) => {
        await sql`insert into held (a) values (${1})`.execute(trx);
        // Not committed: another session does not see it, so it ran inside the transaction.
        expect(await rows()).toEqual([]);
        // BEGIN, then the insert (pg prepares it): should BEGIN fail alone, nothing may run behind it.
        expect(writes() - before).toBe(2);
        await sql`insert into held (a) values (${2})`.execute(trx);
      });
      expect(writes() - before).toBe(4);
    });
    expect(await rows()).toEqual([1, 2]);
    await other.query('delete from held');
  });

  it("sends a transaction's BEGIN with its first statements in one write once they are prepared, inside the transaction", async () => {
    await counted(async (db, writes) => {
      const insert = (a: number) => sql`insert into held (a) values (${a}) returning a`;
      // Prepares the insert on the connection.
      await db.transaction().execute((trx) => insert(30).execute(trx));
      const before = writes();
      const answers = await db.transaction().execute(async (trx) => {
        const first = await insert(31).execute(trx);
        expect(writes() - before).toBe(1);
        // Inside the transaction: another session does not see it before the commit.
        expect(await rows()).toEqual([30]);
        const together = await runTogether(trx, [insert(32).compile(trx), insert(33).compile(trx)]);
        return [first.rows, ...together.map((r) => r.rows)];
      });
      // BEGIN with the first insert, the two inserts together, COMMIT.
      expect(writes() - before).toBe(3);
      expect(answers).toEqual([[{ a: 31 }], [{ a: 32 }], [{ a: 33 }]]);
      expect(await rows()).toEqual([30, 31, 32, 33]);

      // Statements run together as a transaction's first go out with its BEGIN, all in one write.
      const start = writes();
      await db.transaction().execute((trx) =>
        runTogether(
          trx,
          [34, 35].map((a) => insert(a).compile(trx)),
        ),
      );
      expect(writes() - start).toBe(2);
      // A transaction that runs nothing sends nothing: no BEGIN, no COMMIT.
      const idle = writes();
      await db.transaction().execute(async () => undefined);
      expect(writes() - idle).toBe(0);
    });
    expect(await rows()).toEqual([30, 31, 32, 33, 34, 35]);
    await other.query('delete from held');
  });

  it('rolls back a transaction whose first statements, sent with BEGIN, fail: none of them stays, and the connection goes on', async () => {
    await counted(async (db, writes) => {
      const insert = (a: number) => sql`insert into held (a) values (${a})`;
      await db.transaction().execute((trx) => insert(40).execute(trx));
      const before = writes();
      await expect(
        db
          .transaction()
          .execute((trx) =>
            runTogether(trx, [insert(41).compile(trx), insert(40).compile(trx), insert(42).compile(trx)]),
          ),
      ).rejects.toThrow(/duplicate key/);
      // BEGIN with the three inserts, then ROLLBACK.
      expect(writes() - before).toBe(2);
      expect(await rows()).toEqual([40]);
      await db.transaction().execute((trx) => insert(43).execute(trx));
      expect(await rows()).toEqual([40, 43]);
    });
    await other.query('delete from held');
  });

  it('holds a statement issued while BEGIN and the first statements are unanswered until they are', async () => {
    const blocker = new pg.Client({ connectionString: url });
    await blocker.connect();
    try {
      await counted(async (db, writes) => {
        const touch = sql`update held set a = a where a = ${1}`;
        const insert = (a: number) => sql`insert into held (a) values (${a})`;
        await other.query('insert into held (a) values (1)');
        // Prepares both on the connection.
        await db.transaction().execute(async (trx) => {
          await touch.execute(trx);
          await insert(50).execute(trx);
        });
        // Another session holds row 1: the update sent with BEGIN waits, and so does their answer.
        await blocker.query('begin');
        await blocker.query('update held set a = a where a = 1');
        const before = writes();
        await db.transaction().execute((trx) =>
          trx.getExecutor().provideConnection(async (connection) => {
            const first = connection.executeQuery(touch.compile(trx));
            // Issued a turn later, so not gathered with BEGIN: it waits for BEGIN's answer.
            await Promise.resolve();
            await Promise.resolve();
            const second = connection.executeQuery(insert(51).compile(trx));
            await vi.waitFor(async () =>
              expect(await backendsWaitingOnLock(other, 'update held')).toHaveLength(1),
            );
            expect(writes() - before).toBe(1);
            await blocker.query('rollback');
            await first;
            await second;
            expect(writes() - before).toBe(2);
          }),
        );
      });
      expect(await rows()).toEqual([1, 50, 51]);
    } finally {
      await blocker.query('rollback');
      await blocker.end();
      await other.query('delete from held');
    }
  });

  it('rolls back everything the transaction ran when a later statement fails', async () => {
    await counted(async (db) => {
      await expect(
        db.transaction().execute(async (trx) => {
          await sql`insert into held (a) values (${3})`.execute(trx);
          await sql`insert into held (a) values (${3})`.execute(trx);
        }),
      ).rejects.toThrow(/duplicate key/);
      expect(await rows()).toEqual([]);
    });
  });

  it('reports a failing first statement as its own error, and the connection runs the next transaction', async () => {
    await counted(async (db) => {
      await expect(
        db.transaction().execute(async (trx) => {
          await sql`insert into held (a) values (${1}::int / ${0}::int)`.execute(trx);
        }),
      ).rejects.toThrow(/division by zero/);
      // Nothing is left open on the connection: the next transaction begins and commits.
      await db.transaction().execute(async (trx) => {
        await sql`insert into held (a) values (${4})`.execute(trx);
      });
      expect(await rows()).toEqual([4]);
    });
    await other.query('delete from held');
  });

  it('writes statements run together in one go, and reports the first that fails', async () => {
    await counted(async (db, writes) => {
      const before = writes();
      const inserted = await db.transaction().execute((trx) =>
        runTogether(
          trx,
          [6, 7, 8].map((a) => sql`insert into held (a) values (${a}) returning a`.compile(trx)),
        ),
      );
      expect(inserted.map((r) => r.rows)).toEqual([[{ a: 6 }], [{ a: 7 }], [{ a: 8 }]]);
      // BEGIN, the three inserts (pg prepares the insert), COMMIT.
      expect(writes() - before).toBe(3);
      await expect(
        db.transaction().execute((trx) =>
          runTogether(
            trx,
            [9, 6, 10].map((a) => sql`insert into held (a) values (${a})`.compile(trx)),
          ),
        ),
      ).rejects.toThrow(/duplicate key/);
      expect(await rows()).toEqual([6, 7, 8]);
    });
    await other.query('delete from held');
  });

  it("commits a transaction with its last statements: after BEGIN at first, with it once prepared, and Kysely's COMMIT sends nothing", async () => {
    const insert = (a: number) => sql`insert into held (a) values (${a})`;
    try {
      await counted(async (db, writes) => {
        let before = writes();
        await db.transaction().execute(async (trx) => {
          await runTogether(trx, [insert(40).compile(trx), insert(41).compile(trx)], { commit: true });
          // Committed already: another session sees both rows before the callback ends.
          expect(await rows()).toEqual([40, 41]);
        });
        // BEGIN alone (the insert is not prepared yet), then the inserts with the COMMIT.
        expect(writes() - before).toBe(2);
        before = writes();
        await db
          .transaction()
          .execute((trx) => runTogether(trx, [insert(42).compile(trx)], { commit: true }));
        // BEGIN, the insert and the COMMIT: one write.
        expect(writes() - before).toBe(1);
        expect(await rows()).toEqual([40, 41, 42]);
      });
    } finally {
      await other.query('delete from held');
    }
  });

  it('commits nothing when a statement before the COMMIT fails, sent after BEGIN or with it, and the connection goes on', async () => {
    const insert = (a: number) => sql`insert into held (a) values (${a})`;
    try {
      await counted(async (db, writes) => {
        const failing = () =>
          db
            .transaction()
            .execute((trx) =>
              runTogether(trx, [insert(50).compile(trx), insert(50).compile(trx)], { commit: true }),
            );
        // After BEGIN, a Sync each: the COMMIT behind the failure rolls back, nothing more is sent.
        let before = writes();
        await expect(failing()).rejects.toThrow(/duplicate key/);
        expect(writes() - before).toBe(2);
        expect(await rows()).toEqual([]);
        // With BEGIN, one Sync: the COMMIT is skipped, so Kysely's ROLLBACK ends the transaction.
        before = writes();
        await expect(failing()).rejects.toThrow(/duplicate key/);
        expect(writes() - before).toBe(2);
        expect(await rows()).toEqual([]);
        await db
          .transaction()
          .execute((trx) => runTogether(trx, [insert(51).compile(trx)], { commit: true }));
        expect(await rows()).toEqual([51]);
      });
    } finally {
      await other.query('delete from held');
    }
  });

  // pg fails a batch's statements on PostgreSQL's error message, before the ready message after it
  // has told it the transaction's state: in CI the two once arrived apart, and a ROLLBACK judged
  // from the state pg reported last was not sent, leaving the connection in an aborted transaction.
  it('ends a transaction whose batch failed before its COMMIT, however the answers arrive', async () => {
    const pool = new pg.Pool({ connectionString: url, max: 1, pipeline: true });
    pool.on('connect', (client) => {
      // Hands pg the backend's messages one per turn of the event loop, as a slow network would.
      const stream = (client as unknown as { connection: { stream: Writable } }).connection.stream;
      const emit = stream.emit.bind(stream);
      let pending = Buffer.alloc(0);
      let queue: Buffer[] = [];
      const next = () => {
        const message = queue.shift();
        if (message === undefined) return;
        emit('data', message);
        setImmediate(next);
      };
      stream.emit = ((event: string, ...args: unknown[]) => {
        if (event !== 'data') return emit(event, ...args);
        pending = Buffer.concat([pending, args[0] as Buffer]);
        const idle = queue.length === 0;
        while (pending.length >= 5 && pending.length >= 1 + pending.readUInt32BE(1)) {
          const end = 1 + pending.readUInt32BE(1);
          queue = [...queue, pending.subarray(0, end)];
          pending = pending.subarray(end);
        }
        if (idle) setImmediate(next);
        return true;
      }) as Writable['emit'];
    });
    const db = kyselyOn(pool);
    const insert = (a: number) => sql`insert into held (a) values (${a})`;
    const twice = (a: number) => (trx: Transaction<Database>) =>
      runTogether(trx, [insert(a).compile(trx), insert(a).compile(trx)], { commit: true });
    try {
      // The first prepares the insert: sent after BEGIN. The second goes with BEGIN, one Sync.
      for (const a of [80, 81]) await expect(db.transaction().execute(twice(a))).rejects.toThrow(/duplicate/);
      await db.transaction().execute((trx) => runTogether(trx, [insert(82).compile(trx)], { commit: true }));
      expect(await rows()).toEqual([82]);
    } finally {
      await db.destroy();
      await other.query('delete from held');
    }
  });

  it('refuses a statement after the COMMIT that went with the last ones; what they wrote stands', async () => {
    const insert = (a: number) => sql`insert into held (a) values (${a})`;
    try {
      await counted(async (db) => {
        await expect(
          db.transaction().execute(async (trx) => {
            await runTogether(trx, [insert(60).compile(trx)], { commit: true });
            await insert(61).execute(trx);
          }),
        ).rejects.toThrow(/committed with its last writes/);
        expect(await rows()).toEqual([60]);
        await db.transaction().execute((trx) => insert(62).execute(trx));
        expect(await rows()).toEqual([60, 62]);
      });
    } finally {
      await other.query('delete from held');
    }
  });

  it('keeps parallel transactions apart on a pipelined pool', async () => {
    const pool = new pg.Pool({ connectionString: url, max: 3, pipeline: true });
    const db = kyselyOn(pool);
    try {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 24 }, (_, i) =>
          db.transaction().execute(async (trx) => {
            await sql`insert into held (a) values (${100 + i})`.execute(trx);
            // Every third one fails after its insert: that insert must not stay.
            if (i % 3 === 0) await sql`insert into held (a) values (${100 + i})`.execute(trx);
          }),
        ),
      );
      expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(8);
      expect(await rows()).toEqual(
        Array.from({ length: 24 }, (_, i) => 100 + i).filter((a) => (a - 100) % 3 !== 0),
      );
    } finally {
      await db.destroy();
      await other.query('delete from held');
    }
  });

  /**
   * A Kysely on one pipelined connection while another session holds row 1 of `held`, so a
   * statement touching that row waits until `kill` terminates its backend.
   */
  const withRowHeld = async (use: (db: Kysely<Database>, kill: () => Promise<void>) => Promise<void>) => {
    const pool = new pg.Pool({ connectionString: url, max: 1, pipeline: true });
    // As the store does: a client lost while idle is dropped, not an uncaught error.
    pool.on('error', () => undefined);
    const db = kyselyOn(pool);
    const blocker = new pg.Client({ connectionString: url });
    await blocker.connect();
    const kill = async () => {
      const pids = await backendsWaitingOnLock(other, 'update held');
      expect(pids).toHaveLength(1);
      await other.query('select pg_terminate_backend($1)', [pids[0]]);
    };
    try {
      await other.query('insert into held (a) values (1)');
      await blocker.query('begin');
      await blocker.query('update held set a = a where a = 1');
      await use(db, kill);
    } finally {
      await blocker.query('rollback');
      await blocker.end();
      await db.destroy();
      await other.query('delete from held');
    }
  };

  // Vitest fails the run on an uncaught error: before the client listened for its own errors, the
  // killed connection's 'error' event ended the process, as it would end a server's.
  it('loses nothing half-written when its connection is killed in the middle of statements run together, and goes on', () =>
    withRowHeld(async (db, kill) => {
      const batch = db.transaction().execute(async (trx) => {
        await sql`insert into held (a) values (${20})`.execute(trx);
        return runTogether(trx, [
          sql`update held set a = ${2} where a = ${1}`.compile(trx),
          sql`insert into held (a) values (${21})`.compile(trx),
        ]);
      });
      await kill();
      await expect(batch).rejects.toThrow();
      // Neither the insert before the batch nor anything in it was kept.
      expect(await rows()).toEqual([1]);
      // The pool replaces the dead connection: the next transaction runs and commits.
      await db
        .transaction()
        .execute((trx) => runTogether(trx, [sql`insert into held (a) values (${22})`.compile(trx)]));
      expect(await rows()).toEqual([1, 22]);
    }));

  it('loses nothing when its connection is killed while BEGIN and the first statements, sent together, wait', () =>
    withRowHeld(async (db, kill) => {
      const insert = (a: number) => sql`insert into held (a) values (${a})`;
      const move = (to: number, from: number) => sql`update held set a = ${to} where a = ${from}`;
      // Prepares both on the connection, keeping nothing (no row 99 to move; the insert rolled back).
      await expect(
        db.transaction().execute(async (trx) => {
          await move(98, 99).execute(trx);
          await insert(30).execute(trx);
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      // Sent with BEGIN in one batch; the update waits on the row another session holds.
      const batch = db
        .transaction()
        .execute((trx) => runTogether(trx, [insert(31).compile(trx), move(2, 1).compile(trx)]));
      await kill();
      await expect(batch).rejects.toThrow();
      expect(await rows()).toEqual([1]);
      // The pool replaces the dead connection: the next transaction, its statements unprepared
      // there, runs and commits.
      await db.transaction().execute((trx) => insert(32).execute(trx));
      expect(await rows()).toEqual([1, 32]);
    }));

  it('loses nothing when its connection is killed while BEGIN, the statements and the COMMIT, sent together, wait', () =>
    withRowHeld(async (db, kill) => {
      const insert = (a: number) => sql`insert into held (a) values (${a})`;
      const move = (to: number, from: number) => sql`update held set a = ${to} where a = ${from}`;
      const together = (trx: Transaction<Database>, a: number, from: number) =>
        runTogether(trx, [insert(a).compile(trx), move(2, from).compile(trx)], { commit: true });
      // Prepares both on the connection (no row 99 to move); the insert commits.
      await db.transaction().execute((trx) => together(trx, 70, 99));
      expect(await rows()).toEqual([1, 70]);
      // Sent in one batch; the update waits on the row another session holds, the COMMIT behind it.
      const batch = db.transaction().execute((trx) => together(trx, 71, 1));
      await kill();
      await expect(batch).rejects.toThrow();
      expect(await rows()).toEqual([1, 70]);
      // The pool replaces the dead connection, and the next transaction commits.
      await db.transaction().execute((trx) => together(trx, 72, 98));
      expect(await rows()).toEqual([1, 70, 72]);
    }));

  // The backend's FATAL message fails the query before its socket closes. A client released in
  // between used to go back to the pool as idle, and the next request, checking it out at once,
  // failed on a connection already gone.
  it('does not hand out again a connection whose backend was terminated, even before its socket closes', () =>
    withRowHeld(async (db, kill) => {
      // The next query starts in the same turn as the failure is seen, before the socket's end.
      const next = sql`update held set a = ${2} where a = ${1}`.execute(db).then(
        () => 'no failure',
        () => sql<{ one: number }>`select ${1}::int as one`.execute(db),
      );
      await kill();
      const answered = await next;
      expect(answered).not.toBe('no failure');
      expect(typeof answered === 'string' ? [] : answered.rows).toEqual([{ one: 1 }]);
    }));
});
