import type { Kysely } from 'kysely';

// The directory's optional names of a person, carried into the subjectAltName of their card
// certificates: the Windows user principal name and the e-mail address. Null where the directory
// has none, as for every person imported before.

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('persons').addColumn('upn', 'text').execute();
  await db.schema.alterTable('persons').addColumn('email', 'text').execute();
}

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('persons').dropColumn('email').execute();
  await db.schema.alterTable('persons').dropColumn('upn').execute();
}
