import { type Kysely, PostgresAdapter, sql } from 'kysely';

// A session logged in at a card station records which station saw the login card, in which reader,
// and that reader's insertion counter then: an order signature later checks the same station still
// shows the same insertion. A support case records the station whose signed statements it holds.
// All null for sessions and cases without a station.

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function up(db: Kysely<any>): Promise<void> {
  const int64 = db.getExecutor().adapter instanceof PostgresAdapter ? 'bigint' : 'integer';
  await db.schema
    .alterTable('sessions')
    .addColumn('station_id', 'text', (c) => c.references('stations.id'))
    .execute();
  await db.schema
    .alterTable('sessions')
    .addColumn('login_reader', 'integer', (c) => c.check(sql`login_reader in (1, 2)`))
    .execute();
  await db.schema
    .alterTable('sessions')
    .addColumn('login_insertions', int64, (c) => c.check(sql`login_insertions >= 0`))
    .execute();
  await db.schema
    .alterTable('support_cases')
    .addColumn('station_id', 'text', (c) => c.references('stations.id'))
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('support_cases').dropColumn('station_id').execute();
  for (const column of ['login_insertions', 'login_reader', 'station_id'])
    await db.schema.alterTable('sessions').dropColumn(column).execute();
}
