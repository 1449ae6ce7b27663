import { type Kysely, PostgresAdapter, sql } from 'kysely';

// What a flow keeps of its card station's signed statements: the nonce the next statement must
// carry (rotated with every accepted one), the login card's insertion counter at the start, and
// the two public keys the reserve card vouched for. Existing flows get a nonce of their own.

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const int64 = postgres ? 'bigint' : 'integer';
  await db.schema.alterTable('flows').addColumn('station_nonce', 'text').execute();
  await db.schema.alterTable('flows').addColumn('login_insertions', int64).execute();
  await db.schema.alterTable('flows').addColumn('auth_spki', 'text').execute();
  await db.schema.alterTable('flows').addColumn('sign_spki', 'text').execute();
  // 32 lowercase hex characters, as newStationNonce makes them.
  const random = postgres
    ? sql`md5(random()::text || clock_timestamp()::text || id)`
    : sql`lower(hex(randomblob(16)))`;
  await sql`update flows set station_nonce = ${random} where station_nonce is null`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function down(db: Kysely<any>): Promise<void> {
  for (const column of ['sign_spki', 'auth_spki', 'login_insertions', 'station_nonce'])
    await db.schema.alterTable('flows').dropColumn(column).execute();
}
