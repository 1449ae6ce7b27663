import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RowShape, runBatch, runNamed } from './statement-batch.js';
import { createTestStore } from './test-support/test-stores.js';

describe('statements sent with one Sync on PostgreSQL', () => {
  let dispose: () => Promise<void>;
  let client: pg.Client;
  let other: pg.Client;
  beforeAll(async () => {
    const store = await createTestStore('postgres');
    dispose = () => store.dispose();
    client = new pg.Client({ connectionString: store.url, pipeline: true });
    other = new pg.Client({ connectionString: store.url });
    await client.connect();
    await other.connect();
    await other.query('create table kept (a int primary key, at timestamptz, doc jsonb)');
  });
  afterAll(async () => {
    await client?.end();
    await other?.end();
    await dispose?.();
  });

  const kept = async (): Promise<number[]> =>
    (await other.query('select a from kept order by a')).rows.map((r) => r.a as number);

  it('answers each statement with its own result, in order, named and unnamed alike', async () => {
    const insert = 'insert into kept (a, at, doc) values ($1, $2, $3) returning a, doc';
    await runNamed(client, 'kept_insert', insert, [1, new Date(0), { x: 1 }]);
    const results = await runBatch(client, [
      { text: 'select $1::int + 1 as two', values: [1] },
      { text: insert, values: [2, new Date(0), { x: [2] }], name: 'kept_insert' },
      { text: 'update kept set a = a where a < 0', values: [] },
      { text: 'select a from kept order by a', values: [] },
    ]);
    expect(results.map((r) => r.command)).toEqual(['SELECT', 'INSERT', 'UPDATE', 'SELECT']);
    expect(results[0]?.rows).toEqual([{ two: 2 }]);
    expect(results[1]?.rows).toEqual([{ a: 2, doc: { x: [2] } }]);
    expect(results[2]?.rowCount).toBe(0);
    expect(results[3]?.rows).toEqual([{ a: 1 }, { a: 2 }]);
    await other.query('delete from kept');
  });

  it('runs nothing after a statement that fails, and outside a transaction keeps nothing before it either', async () => {
    const failure = runBatch(client, [
      { text: 'insert into kept (a) values ($1)', values: [10] },
      { text: 'select 1 / $1::int', values: [0] },
      { text: 'insert into kept (a) values ($1)', values: [11] },
    ]);
    await expect(failure).rejects.toThrow(/division by zero/);
    await expect(failure).rejects.toMatchObject({ failedAt: 1 });
    expect(await kept()).toEqual([]);
    // A failing first statement (as a BEGIN that failed would be): nothing behind it runs.
    const first = runBatch(client, [
      { text: 'select 1 / $1::int', values: [0] },
      { text: 'insert into kept (a) values ($1)', values: [12] },
    ]);
    await expect(first).rejects.toMatchObject({ failedAt: 0 });
    expect(await kept()).toEqual([]);
    // The connection goes on.
    expect((await runBatch(client, [{ text: 'select 1 as one', values: [] }]))[0]?.rows).toEqual([
      { one: 1 },
    ]);
  });

  it('with a BEGIN first, leaves the transaction open for the statements after the batch', async () => {
    const results = await runBatch(client, [
      { text: 'begin', values: [] },
      { text: 'insert into kept (a) values ($1)', values: [20] },
    ]);
    expect(results.map((r) => r.command)).toEqual(['BEGIN', 'INSERT']);
    expect(await kept()).toEqual([]);
    await client.query('commit');
    expect(await kept()).toEqual([20]);
    await other.query('delete from kept');
  });

  it('refuses a value pg cannot send before writing anything, and the connection goes on', async () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(
      runBatch(client, [
        { text: 'insert into kept (a) values ($1)', values: [30] },
        { text: 'insert into kept (a, doc) values ($1, $2)', values: [31, circular] },
      ]),
    ).rejects.toMatchObject({ failedAt: 0 });
    expect(await kept()).toEqual([]);
    expect((await runNamed(client, 'one', 'select $1::int as one', [1])).rows).toEqual([{ one: 1 }]);
  });

  it('runs a named statement again without describing it, and reads the same rows with the shape learnt', async () => {
    await other.query(
      `insert into kept (a, at, doc) values (60, '2026-12-06T10:00:00Z', '{"x":[1,"y"]}'), (61, null, null)`,
    );
    const text = `select a, a::int8 as big, at, doc, decode('00ff', 'hex') as raw, 'å' as word, null::text as nothing
      from kept where a >= $1 order by a`;
    const connection = (client as unknown as { connection: { describe: (...args: unknown[]) => void } })
      .connection;
    const describe = connection.describe.bind(connection);
    let described = 0;
    connection.describe = (...args: unknown[]) => {
      described += 1;
      describe(...args);
    };
    try {
      let shape: RowShape | undefined;
      const first = await runNamed(client, 'kept_rows', text, [60], undefined, (learnt) => {
        shape = learnt;
      });
      expect(described).toBe(1);
      expect(shape).toBeDefined();
      const again = await runNamed(client, 'kept_rows', text, [60], shape);
      const fewer = await runNamed(client, 'kept_rows', text, [61], shape);
      const none = await runNamed(client, 'kept_rows', text, [62], shape);
      expect(described).toBe(1);
      expect(first.rows).toEqual([
        {
          a: 60,
          big: '60',
          at: new Date('2026-12-06T10:00:00Z'),
          doc: { x: [1, 'y'] },
          raw: Buffer.from([0, 255]),
          word: 'å',
          nothing: null,
        },
        { a: 61, big: '61', at: null, doc: null, raw: Buffer.from([0, 255]), word: 'å', nothing: null },
      ]);
      expect(again.rows).toEqual(first.rows);
      expect(again.rowCount).toBe(2);
      expect(fewer.rows).toEqual(first.rows.slice(1));
      expect(none.rows).toEqual([]);
      expect(none.rowCount).toBe(0);

      // A statement without rows: its shape is that it has none.
      let writeShape: RowShape | undefined;
      const update = 'update kept set a = a where a = $1';
      const changed = await runNamed(client, 'kept_update', update, [60], undefined, (learnt) => {
        writeShape = learnt;
      });
      const changedAgain = await runNamed(client, 'kept_update', update, [61], writeShape);
      expect([changed.command, changed.rowCount, changed.rows]).toEqual(['UPDATE', 1, []]);
      expect([changedAgain.command, changedAgain.rowCount, changedAgain.rows]).toEqual(['UPDATE', 1, []]);
      expect(described).toBe(2);
    } finally {
      connection.describe = describe;
      await other.query('delete from kept');
    }
  });
});
