import { type Kysely, PostgresAdapter } from 'kysely';

// The published CRL of each issuing CA, kept in the database so every server serves the same one.

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function up(db: Kysely<any>): Promise<void> {
  const int64 = db.getExecutor().adapter instanceof PostgresAdapter ? 'bigint' : 'integer';
  await db.schema
    .createTable('crls')
    .addColumn('ca_id', 'text', (c) => c.primaryKey().references('cas.id'))
    .addColumn('crl_number', int64, (c) => c.notNull())
    .addColumn('this_update', int64, (c) => c.notNull())
    .addColumn('next_update', int64, (c) => c.notNull())
    .addColumn('der_base64', 'text', (c) => c.notNull())
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('crls').execute();
}
