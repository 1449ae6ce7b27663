import type { Kysely } from 'kysely';

// Who a session is for: an administrator (and the service desk) in the admin and issuance portals,
// or a reserve card's holder on their own pages. A holder's session never opens an administrator's
// route, however its card certificate reads. Every session stored before was an administrator's.

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('sessions')
    .addColumn('role', 'text', (c) => c.notNull().defaultTo('admin'))
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sessions').dropColumn('role').execute();
}
