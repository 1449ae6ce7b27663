import type { Kysely } from 'kysely';

// The station nonce of a flow: what the station's next statement about the flow must carry. Set
// when the flow starts and replaced with every statement the server accepts for it; an ended flow
// keeps its last one. Null for flows from before stations.

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function up(db: Kysely<any>): Promise<void> {
  // The flow-station-facts migration (run before this one) may have added the column already.
  const flows = (await db.introspection.getTables()).find((t) => t.name === 'flows');
  if (flows?.columns.some((c) => c.name === 'station_nonce')) return;
  await db.schema.alterTable('flows').addColumn('station_nonce', 'text').execute();
}

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function down(db: Kysely<any>): Promise<void> {
  // The column stays when the flow-station-facts migration made it: its own down drops it.
  const migrations = (await db.introspection.getTables({ withInternalKyselyTables: true })).find(
    (t) => t.name === 'kysely_migration',
  );
  if (migrations !== undefined) {
    const facts = await db
      .selectFrom('kysely_migration')
      .select('name')
      .where('name', '=', '2026-12-04T00-flow-station-facts')
      .executeTakeFirst();
    if (facts !== undefined) return;
  }
  await db.schema.alterTable('flows').dropColumn('station_nonce').execute();
}
