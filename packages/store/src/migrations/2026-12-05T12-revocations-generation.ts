import { type Kysely, sql } from 'kysely';

// One row counting the revocations, raised in each revocation's own transaction, so that an OCSP
// responder in another process can ask whether any status changed in one primary-key read. Counting
// the revocations themselves, as before, reads the whole table at every poll: several times a second
// on every server, tens of milliseconds once a few hundred thousand certificates have been revoked.
// The count starts at the revocations already stored, as the old count would have read.

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('revocations_generation')
    .addColumn('id', 'integer', (c) => c.primaryKey().check(sql`id = 1`))
    .addColumn('generation', 'bigint', (c) => c.notNull())
    .execute();
  await sql`insert into revocations_generation (id, generation) select 1, count(*) from revocations`.execute(
    db,
  );
}

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('revocations_generation').execute();
}
