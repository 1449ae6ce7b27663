import { type Kysely, PostgresAdapter, sql } from 'kysely';

// Registered card stations: the card agents whose signed statements the server believes. A flow is
// bound to the station it starts on (null for flows from before stations). A snapshot like the
// earlier migrations: it repeats the value lists it checks.

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function up(db: Kysely<any>): Promise<void> {
  const int64 = db.getExecutor().adapter instanceof PostgresAdapter ? 'bigint' : 'integer';
  await db.schema
    .createTable('stations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('branch_id', 'text', (c) => c.notNull().references('branches.id'))
    .addColumn('certificate_serial', 'text', (c) => c.notNull().references('certificates.serial'))
    .addColumn('spki', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('registered_by', 'text', (c) => c.notNull())
    .addColumn('registered_at', int64, (c) => c.notNull())
    .addColumn('last_seq', int64, (c) => c.notNull().defaultTo(0))
    .addCheckConstraint('stations_status', sql`status in ('active', 'revoked')`)
    .addCheckConstraint('stations_last_seq', sql`last_seq >= 0`)
    .execute();
  // One active station per key: registering the same key again renews that station.
  await db.schema
    .createIndex('stations_active_spki_idx')
    .on('stations')
    .column('spki')
    .unique()
    .where(sql.ref('status'), '=', sql.lit('active'))
    .execute();
  await db.schema
    .alterTable('flows')
    .addColumn('station_id', 'text', (c) => c.references('stations.id'))
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('flows').dropColumn('station_id').execute();
  await db.schema.dropTable('stations').execute();
}
