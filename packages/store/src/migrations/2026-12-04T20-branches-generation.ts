import { type Kysely, sql } from 'kysely';

// One row counting the writes to the branches, so that a server holding the organisation tree can
// ask cheaply whether it changed (a directory import runs in another process) instead of reading
// every branch again. The count starts at zero for the branches already stored.

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('branches_generation')
    .addColumn('id', 'integer', (c) => c.primaryKey().check(sql`id = 1`))
    .addColumn('generation', 'integer', (c) => c.notNull())
    .execute();
  await db.insertInto('branches_generation').values({ id: 1, generation: 0 }).execute();
}

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('branches_generation').execute();
}
