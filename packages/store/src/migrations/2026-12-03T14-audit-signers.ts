import { type Kysely, PostgresAdapter, sql } from 'kysely';

// The key that signs audit checkpoints: certified by the root CA, kept apart from the CAs (it
// issues nothing) and found here by every server. One row per key; only the newest one signs.

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function up(db: Kysely<any>): Promise<void> {
  const int64 = db.getExecutor().adapter instanceof PostgresAdapter ? 'bigint' : 'integer';
  await db.schema
    .createTable('audit_signers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('certificate_serial', 'text', (c) => c.notNull().references('certificates.serial'))
    .addColumn('certificate_pem', 'text', (c) => c.notNull())
    .addColumn('key_kind', 'text', (c) => c.notNull())
    .addColumn('key_ref', 'text', (c) => c.notNull())
    .addColumn('created_at', int64, (c) => c.notNull())
    .addCheckConstraint('audit_signers_key_kind', sql`key_kind in ('file', 'pkcs11')`)
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('audit_signers').execute();
}
