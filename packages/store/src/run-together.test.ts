import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTogether } from './run-together.js';
import { createTestStore, type TestStore } from './test-support/test-stores.js';

describe('runTogether on SQLite', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore('sqlite');
    await sql`create table held (a integer primary key)`.execute(store.db);
  });
  afterAll(() => store?.dispose());

  it('runs the statements in turn, their results in order, and refuses to commit with them', async () => {
    const insert = (a: number) => sql`insert into held (a) values (${a}) returning a`;
    const results = await store.db
      .transaction()
      .execute((trx) => runTogether(trx, [insert(1).compile(trx), insert(2).compile(trx)]));
    expect(results.map((r) => r.rows)).toEqual([[{ a: 1 }], [{ a: 2 }]]);
    // SQLite's transaction ends only when Kysely ends it: the statements do not run, nothing is kept.
    await expect(
      store.db.transaction().execute((trx) => runTogether(trx, [insert(3).compile(trx)], { commit: true })),
    ).rejects.toThrow(/only a PostgreSQL transaction/);
    const { rows } = await sql<{ a: number }>`select a from held order by a`.execute(store.db);
    expect(rows).toEqual([{ a: 1 }, { a: 2 }]);
  });
});
