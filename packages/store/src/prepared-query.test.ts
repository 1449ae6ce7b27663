import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from './database.js';
import { preparedQuery } from './prepared-query.js';
import { seedOrganisation } from './test-support/store-fixtures.js';
import { createTestStore, DIALECTS, type TestStore } from './test-support/test-stores.js';

const branchesUnder = preparedQuery((db: Kysely<Database>, parentId: string, name: string) =>
  db
    .selectFrom('branches')
    .select(['id', 'name'])
    .where('parent_id', '=', parentId)
    .where('name', '<>', name)
    .orderBy('id'),
);

describe.each(DIALECTS)('a prepared query on %s', (dialect) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore(dialect);
    await seedOrganisation(store.db);
  });
  afterAll(() => store?.dispose());

  it('answers as the query built at each call, with each call’s arguments, in and out of a transaction', async () => {
    const parents = await store.db.selectFrom('branches').select('id').orderBy('id').execute();
    expect(parents.length).toBeGreaterThan(1);
    for (const { id } of parents) {
      for (const name of ['', 'no such name']) {
        const built = await store.db
          .selectFrom('branches')
          .select(['id', 'name'])
          .where('parent_id', '=', id)
          .where('name', '<>', name)
          .orderBy('id')
          .execute();
        expect((await branchesUnder(store.db, id, name)).rows).toEqual(built);
        const inTransaction = await store.db
          .transaction()
          .execute(async (trx) => (await branchesUnder(trx, id, name)).rows);
        expect(inTransaction).toEqual(built);
      }
    }
  });

  it('takes raw SQL too, each argument a parameter of it', async () => {
    const named = preparedQuery(
      (_db: Kysely<Database>, id: string, suffix: string) =>
        sql<{
          id: string;
          label: string;
        }>`select id, name || ${suffix} as label from branches where id = ${id}`,
    );
    const { id, name } = await store.db
      .selectFrom('branches')
      .select(['id', 'name'])
      .orderBy('id')
      .executeTakeFirstOrThrow();
    expect((await named(store.db, id, ' (a)')).rows).toEqual([{ id, label: `${name} (a)` }]);
    expect((await named(store.db, id, ' (b)')).rows).toEqual([{ id, label: `${name} (b)` }]);
    expect((await named(store.db, 'no such branch', '')).rows).toEqual([]);
  });

  it('refuses a query whose shape depends on an argument', async () => {
    const shaped = preparedQuery((db: Kysely<Database>, _column: string) =>
      db.selectFrom('branches').select('id').where('id', '=', 'x'),
    );
    await expect(shaped(store.db, 'id')).rejects.toThrow(/every argument/);
  });
});
